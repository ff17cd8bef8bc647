// Log: y = log(x + eps), the logarithmic step of the DRHT transform (eps = 1/255 there).
import Foundation

public enum Log {
    /// y = log(x + eps); any shape. x + eps must be positive.
    public static func forward(_ x: Tensor, epsilon: Float) -> Tensor {
        let y = elementwiseOutput(like: x)
        let src = x.data, dst = y.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r { dst[i] = logf(src[i] + epsilon) }
        }
        return y
    }

    /// dx = dy / (x + eps)
    public static func backward(dOutput dy: Tensor, input x: Tensor, epsilon: Float) -> Tensor {
        checkSameShape(dy, x, "log")
        let dx = elementwiseOutput(like: x)
        let g = dy.data, src = x.data, dst = dx.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r { dst[i] = g[i] / (src[i] + epsilon) }
        }
        return dx
    }
}
