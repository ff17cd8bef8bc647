// Log: y = log(x + eps), the logarithmic step of the DRHT transform (eps = 1/255 there).
import Foundation

public enum Log {
    /// y = log(x + eps); any shape. x + eps must be positive.
    public static func forward(_ x: Tensor, epsilon: Float) -> Tensor {
        mapElements(x) { v in logf(v + epsilon) }
    }

    /// dx = dy / (x + eps)
    public static func backward(dOutput dy: Tensor, input x: Tensor, epsilon: Float) -> Tensor {
        zipElements(dy, x) { g, v in g / (v + epsilon) }
    }
}
