// ELU (alpha 1): y = x for x > 0, exp(x) - 1 otherwise.
import Foundation

public enum ELU {
    /// y = ELU(x); any shape.
    public static func forward(_ x: Tensor) -> Tensor {
        mapElements(x) { v in v > 0 ? v : expm1f(v) }
    }

    /// dx = dy * ELU'(x), written with the saved output: ELU'(x) = 1 for y > 0, y + 1 otherwise.
    public static func backward(dOutput dy: Tensor, output y: Tensor) -> Tensor {
        zipElements(dy, y) { g, v in v > 0 ? g : g * (v + 1) }
    }
}
