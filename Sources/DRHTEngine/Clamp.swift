// Clamp: y = min(max(x, lo), hi). Inference only: the corrected image is clamp(y2, 0, 1), and
// the loss is taken on y2 before the clamp (docs/MODEL.md), so nothing differentiates through it.

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

}
