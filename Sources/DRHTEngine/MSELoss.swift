// MSELoss: L = mean((prediction - target)^2) over every element (PyTorch `F.mse_loss`);
// optionally weighted per pixel: L = mean(w * (prediction - target)^2), w (N, 1, H, W) shared
// by the channels, still divided by the element count (w = 1 everywhere is the plain loss);
// optionally one-sided where the target is only a lower bound (`lowerBound`, same shape, 1
// there): the difference counts only when the prediction is below the target, d = min(p - t, 0)
// (what a clipped photo says of the light behind it: at least this bright).

public enum MSELoss {
    /// The loss, accumulated and returned in Double (finite differences of a Float32 network
    /// need the loss itself without Float rounding). prediction and target: same shape;
    /// weight: (N, 1, H, W) of that shape, or nil.
    public static func forward(prediction p: Tensor, target t: Tensor, weight w: Tensor? = nil, lowerBound: Tensor? = nil) -> Double {
        precondition(p.shape == t.shape, "mse: shapes differ \(p.shapeString) vs \(t.shapeString)")
        if let lowerBound { return forward(prediction: p, target: bounded(p, t, lowerBound), weight: w) }
        var s = 0.0
        if let w {
            checkWeight(w, p)
            let plane = p.h * p.w
            for n in 0..<p.n { for c in 0..<p.c {
                let o = (n * p.c + c) * plane, ow = n * plane
                for i in 0..<plane { let d = Double(p.data[o + i] - t.data[o + i]); s += Double(w.data[ow + i]) * d * d }
            }}
        } else {
            for i in 0..<p.count { let d = Double(p.data[i] - t.data[i]); s += d * d }
        }
        return s / Double(max(p.count, 1))
    }

    /// dL/dprediction = 2 w (prediction - target) / count (w = 1 without a weight)
    public static func backward(prediction p: Tensor, target t: Tensor, weight w: Tensor? = nil, lowerBound: Tensor? = nil) -> Tensor {
        checkSameShape(p, t, "mse")
        if let lowerBound { return backward(prediction: p, target: bounded(p, t, lowerBound), weight: w) }
        let scale = 2 / Float(max(p.count, 1))
        let g = elementwiseOutput(like: p)
        let pp = p.data, pt = t.data, pg = g.data
        if let w {
            checkWeight(w, p)
            let pw = w.data, plane = p.h * p.w, channels = p.c
            parallelChunks(p.n * channels, minChunk: max(1, elementwiseMinChunk / max(plane, 1))) { r in
                for nc in r {
                    let o = nc * plane, ow = (nc / channels) * plane
                    for i in 0..<plane { pg[o + i] = scale * pw[ow + i] * (pp[o + i] - pt[o + i]) }
                }
            }
        } else {
            parallelChunks(p.count, minChunk: elementwiseMinChunk) { r in
                for i in r { pg[i] = scale * (pp[i] - pt[i]) }
            }
        }
        return g
    }

    /// The target the one-sided loss compares with: t, except where t is a lower bound
    /// (`lowerBound` != 0) and the prediction is above it, where the prediction itself (d = 0).
    static func bounded(_ p: Tensor, _ t: Tensor, _ lowerBound: Tensor) -> Tensor {
        checkSameShape(p, lowerBound, "mse lower bound")
        let out = elementwiseOutput(like: t)
        let pp = p.data, pt = t.data, pb = lowerBound.data, po = out.data
        parallelChunks(p.count, minChunk: elementwiseMinChunk) { r in
            for i in r { po[i] = pb[i] != 0 && pp[i] > pt[i] ? pp[i] : pt[i] }
        }
        return out
    }

    private static func checkWeight(_ w: Tensor, _ p: Tensor) {
        precondition(w.n == p.n && w.c == 1 && w.h == p.h && w.w == p.w,
                     "mse: the weight is \(w.shapeString), not (\(p.n), 1, \(p.h), \(p.w))")
    }
}
