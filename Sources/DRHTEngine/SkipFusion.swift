// The DRHT skip fusion of a decoder output d with the encoder output e of the same size:
// s = d + e + d * e (elementwise).

public enum SkipFusion {
    /// s = d + e + d*e.  d, e, s: (N, C, H, W).
    public static func forward(decoder d: Tensor, encoder e: Tensor) -> Tensor {
        checkSameShape(d, e, "skip fusion")
        let s = elementwiseOutput(like: d)
        let pd = d.data, pe = e.data, ps = s.data
        parallelChunks(d.count, minChunk: elementwiseMinChunk) { r in
            for i in r { ps[i] = pd[i] + pe[i] + pd[i] * pe[i] }
        }
        return s
    }

    /// ds/dd = 1 + e and ds/de = 1 + d.
    public static func backward(dOutput ds: Tensor, decoder d: Tensor, encoder e: Tensor)
        -> (dDecoder: Tensor, dEncoder: Tensor) {
        checkSameShape(d, e, "skip fusion"); checkSameShape(ds, d, "skip fusion")
        let dD = elementwiseOutput(like: d), dE = elementwiseOutput(like: e)
        let g = ds.data, pd = d.data, pe = e.data, od = dD.data, oe = dE.data
        parallelChunks(d.count, minChunk: elementwiseMinChunk) { r in
            for i in r { od[i] = g[i] * (1 + pe[i]); oe[i] = g[i] * (1 + pd[i]) }
        }
        return (dD, dE)
    }
}
