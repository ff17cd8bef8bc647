// MSELoss: L = mean((prediction - target)^2) over every element (PyTorch `F.mse_loss`).

public enum MSELoss {
    /// The loss, accumulated and returned in Double (finite differences of a Float32 network
    /// need the loss itself without Float rounding). prediction and target: same shape.
    public static func forward(prediction p: Tensor, target t: Tensor) -> Double {
        precondition(p.shape == t.shape, "mse: shapes differ \(p.shapeString) vs \(t.shapeString)")
        var s = 0.0
        for i in 0..<p.count { let d = Double(p.data[i] - t.data[i]); s += d * d }
        return s / Double(max(p.count, 1))
    }

    /// dL/dprediction = 2 (prediction - target) / count
    public static func backward(prediction p: Tensor, target t: Tensor) -> Tensor {
        checkSameShape(p, t, "mse")
        let scale = 2 / Float(max(p.count, 1))
        let g = elementwiseOutput(like: p)
        let pp = p.data, pt = t.data, pg = g.data
        parallelChunks(p.count, minChunk: elementwiseMinChunk) { r in
            for i in r { pg[i] = scale * (pp[i] - pt[i]) }
        }
        return g
    }
}
