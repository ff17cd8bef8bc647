// MSELoss: L = mean((prediction - target)^2) over every element (PyTorch `F.mse_loss`).

public enum MSELoss {
    /// The loss, accumulated in Double. prediction and target: same shape.
    public static func forward(prediction p: Tensor, target t: Tensor) -> Float {
        precondition(p.shape == t.shape, "mse: shapes differ \(p.shapeString) vs \(t.shapeString)")
        var s = 0.0
        for i in 0..<p.count { let d = Double(p.data[i] - t.data[i]); s += d * d }
        return Float(s / Double(max(p.count, 1)))
    }

    /// dL/dprediction = 2 (prediction - target) / count
    public static func backward(prediction p: Tensor, target t: Tensor) -> Tensor {
        let scale = 2 / Float(max(p.count, 1))
        return zipElements(p, t) { a, b in scale * (a - b) }
    }
}
