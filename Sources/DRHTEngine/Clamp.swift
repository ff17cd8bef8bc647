// Clamp: y = min(max(x, lo), hi); with lo = 0, hi = +inf it is max(x, 0).

public enum Clamp {
    /// y = min(max(x, lo), hi); any shape.
    public static func forward(_ x: Tensor, min lo: Float, max hi: Float) -> Tensor {
        mapElements(x) { v in Swift.min(Swift.max(v, lo), hi) }
    }

    /// dx = dy where lo < x < hi, 0 where the clamp held x at a bound.
    public static func backward(dOutput dy: Tensor, input x: Tensor, min lo: Float, max hi: Float) -> Tensor {
        zipElements(dy, x) { g, v in (v > lo && v < hi) ? g : 0 }
    }

    /// max(x, 0)
    public static func relu(_ x: Tensor) -> Tensor { forward(x, min: 0, max: .infinity) }
}
