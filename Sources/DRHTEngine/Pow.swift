// Pow: y = scale * max(x, 0) ** p, the gamma curves of the DRHT transform:
// tau(H) = (H / k) ** (1/g) and tau_inv(y) = k * max(y, 0) ** g.
import Foundation

public enum Pow {
    /// y = scale * max(x, 0) ** exponent; any shape.
    public static func forward(_ x: Tensor, exponent: Float, scale: Float = 1) -> Tensor {
        let y = elementwiseOutput(like: x)
        let src = x.data, dst = y.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r { let v = src[i]; dst[i] = v > 0 ? scale * powf(v, exponent) : 0 }
        }
        return y
    }

    /// dx = dy * scale * exponent * x ** (exponent - 1) for x > 0, 0 otherwise
    /// (the clamp at 0 passes no gradient).
    public static func backward(dOutput dy: Tensor, input x: Tensor, exponent: Float,
                                scale: Float = 1) -> Tensor {
        checkSameShape(dy, x, "pow")
        let dx = elementwiseOutput(like: x)
        let g = dy.data, src = x.data, dst = dx.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r {
                let v = src[i]
                dst[i] = v > 0 ? g[i] * scale * exponent * powf(v, exponent - 1) : 0
            }
        }
        return dx
    }
}
