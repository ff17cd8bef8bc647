// Clamp: y = min(max(x, lo), hi); with lo = 0, hi = +inf it is max(x, 0).

public enum Clamp {
    /// y = min(max(x, lo), hi); any shape.
    public static func forward(_ x: Tensor, min lo: Float, max hi: Float) -> Tensor {
        let y = elementwiseOutput(like: x)
        let src = x.data, dst = y.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r { dst[i] = Swift.min(Swift.max(src[i], lo), hi) }
        }
        return y
    }

    /// dx = dy where lo < x < hi, 0 where the clamp held x at a bound.
    public static func backward(dOutput dy: Tensor, input x: Tensor, min lo: Float, max hi: Float) -> Tensor {
        checkSameShape(dy, x, "clamp")
        let dx = elementwiseOutput(like: x)
        let g = dy.data, src = x.data, dst = dx.data
        parallelChunks(x.count, minChunk: elementwiseMinChunk) { r in
            for i in r { let v = src[i]; dst[i] = (v > lo && v < hi) ? g[i] : 0 }
        }
        return dx
    }

    /// max(x, 0)
    public static func relu(_ x: Tensor) -> Tensor { forward(x, min: 0, max: .infinity) }
}
