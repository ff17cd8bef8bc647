// The DRHT skip fusion of a decoder output d with the encoder output e of the same size:
// s = d + e + d * e (elementwise).

public enum SkipFusion {
    /// s = d + e + d*e.  d, e, s: (N, C, H, W).
    public static func forward(decoder d: Tensor, encoder e: Tensor) -> Tensor {
        zipElements(d, e) { a, b in a + b + a * b }
    }

    /// ds/dd = 1 + e and ds/de = 1 + d.
    public static func backward(dOutput ds: Tensor, decoder d: Tensor, encoder e: Tensor)
        -> (dDecoder: Tensor, dEncoder: Tensor) {
        (zipElements(ds, e) { g, b in g * (1 + b) }, zipElements(ds, d) { g, a in g * (1 + a) })
    }
}
