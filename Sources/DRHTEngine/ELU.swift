// ELU (alpha 1): y = x for x > 0, exp(x) - 1 otherwise.

public enum ELU {
    /// y = ELU(x); any shape.
    public static func forward(_ x: Tensor) -> Tensor {
        let y = Tensor(uninitialized: x.shape)
        let src = x.data, dst = y.data
        parallelChunks(x.count, minChunk: 1 << 15) { r in
            for i in r { dst[i] = elu(src[i]) }
        }
        return y
    }

    /// x <- ELU(x), in place (inference).
    public static func applyInPlace(_ x: Tensor) {
        let p = x.data
        parallelChunks(x.count, minChunk: 1 << 15) { r in
            for i in r { p[i] = elu(p[i]) }
        }
    }

    /// dx = dy * ELU'(x), written with the saved output: ELU'(x) = 1 for y > 0, y + 1 otherwise.
    public static func backward(dOutput dy: Tensor, output y: Tensor) -> Tensor {
        precondition(dy.shape == y.shape)
        let dx = Tensor(uninitialized: y.shape)
        let g = dy.data, out = y.data, d = dx.data
        parallelChunks(y.count, minChunk: 1 << 15) { r in
            for i in r { let v = out[i]; d[i] = v > 0 ? g[i] : g[i] * (v + 1) }
        }
        return dx
    }
}

/// ELU of one value, branch-free so loops over it vectorise.
@inline(__always)
func elu(_ v: Float) -> Float {
    let negative = fastExp(min(v, 0)) - 1
    return v > 0 ? v : negative
}

/// exp(x) for x <= 88, within about 2 ulp, in plain arithmetic the compiler can vectorise
/// (libm's expf is a call per element). Cody-Waite reduction x = n ln2 + r, |r| <= ln2/2,
/// then the Cephes polynomial for exp(r); inputs below -87 give about 2^-126.
@inline(__always)
public func fastExp(_ x: Float) -> Float {
    let x = max(x, -87)
    // n = round(x / ln2) with the 1.5 * 2^23 trick: t's low mantissa bits hold n itself.
    let t = x * 1.442_695_04 + 12_582_912
    let n = t - 12_582_912
    let r = x - n * 0.693_359_375 + n * 2.121_944_4e-4
    let e = expPolynomial(r) * r * r + r + 1
    let twoToN = Float(bitPattern: (t.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
    return e * twoToN
}

/// The Cephes polynomial of `fastExp`, on one value or on 16 lanes (TrainingEpilogue's ELU),
/// written once so both compute the same bits.
@inline(__always)
func expPolynomial<T: FastExpArithmetic>(_ r: T) -> T {
    var p = T(broadcast: 1.987_569_15e-4)
    p = p * r + 1.398_199_95e-3
    p = p * r + 8.333_451_9e-3
    p = p * r + 4.166_579_59e-2
    p = p * r + 1.666_666_55e-1
    p = p * r + 5.000_000_12e-1
    return p
}

/// What `expPolynomial` needs: a Float, or Float lanes.
protocol FastExpArithmetic {
    static func * (a: Self, b: Self) -> Self
    static func + (a: Self, b: Float) -> Self
    init(broadcast value: Float)
}

extension Float: FastExpArithmetic {
    init(broadcast value: Float) { self = value }
}

extension SIMD16: FastExpArithmetic where Scalar == Float {
    init(broadcast value: Float) { self.init(repeating: value) }
}
