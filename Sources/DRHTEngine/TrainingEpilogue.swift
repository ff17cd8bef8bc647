// What follows a block's convolution when the block will be differentiated (training, and the
// look-inside commands' backward passes), fused: the same arithmetic as the separate ops
// (BatchNorm2D.forward/backward, + base, ELU, SkipFusion — the readable reference, which the
// tests compare this file against; equal but for the order of float sums), in two passes over
// a channel's planes instead of seven in the forward and three instead of eight in the
// backward, vectorised.
//
// Forward, per channel c (statistics from the batch in training mode, the running ones in
// inference mode; in training the running ones are updated as BatchNorm2D does):
//   pass 1   mean, variance of z[:, c]
//   pass 2   a = ELU(scale z + shift (+ base))      scale = gamma rstd, shift = beta - mean scale
//            s = a + e + a e                        decoders, e the encoder output
// Backward, given ds = dL/ds (or dL/da without a skip) and `extra` (more dL/da, from skips
// that read a):
//   pass 1   da = ds (1 + e) + extra;  de = ds (1 + a);  dn = da ELU'(a)
//            with sums of dn and of dn xhat (xhat = (z - mean) rstd), for dGamma, dBeta
//   pass 2   dz = gamma rstd (dn - mean(dn) - xhat mean(dn xhat))   (training)
//            dz = gamma rstd dn                                      (inference)
// Sums are taken in 16 float lanes, folded into doubles every 1,024 elements (BN's statistics
// around a pivot, the channel's first value, so a flat channel keeps its variance).

public enum TrainingEpilogue {
    typealias V = SIMD16<Float>
    static let width = V.scalarCount
    /// Elements summed in float lanes before the lanes are added to the double totals.
    static let block = 1024

    /// The block's activation a, its skip sum s (decoders; nil otherwise) and BN's cache.
    /// z, base, encoder (N, C, H, W). In training mode `bn`'s running statistics are updated.
    public static func forward(_ z: Tensor, batchNorm bn: BatchNorm2D, mode: Mode, base: Tensor?, encoder: Tensor?)
        -> (activation: Tensor, sum: Tensor?, cache: BatchNorm2D.Cache) {
        precondition(z.shape.count == 4 && z.c == bn.channels, "batch norm expects (N, \(bn.channels), H, W), got \(z.shapeString)")
        if let base { checkSameShape(z, base, "head base") }
        if let encoder { checkSameShape(z, encoder, "skip fusion") }
        let nb = z.n, c = z.c, plane = z.h * z.w, count = nb * plane
        let a = Tensor(uninitialized: z.shape), s = encoder.map { Tensor(uninitialized: $0.shape) }
        let mean = Tensor(zeros: [c]), rstd = Tensor(zeros: [c])
        let eps = bn.epsilon
        let pz = z.data, pa = a.data, ps = s?.data, pb = base?.data, pe = encoder?.data
        parallelFor(c) { ch in
            var mu: Float, variance: Float
            switch mode {
            case .training:
                // Sums around a pivot K, then those of the values themselves, in doubles:
                // sum x = S1 + n K, sum x^2 = S2 + 2 K S1 + n K^2.
                let pivot = pz[ch * plane].isFinite ? pz[ch * plane] : 0
                var s1 = 0.0, s2 = 0.0
                for b in 0..<nb {
                    let (t1, t2) = sums(pz + (b * c + ch) * plane, count: plane, pivot: pivot)
                    s1 += t1; s2 += t2
                }
                let k = Double(pivot), n = Double(count)
                (mu, variance) = bn.batchStatistics(channel: ch, sum: s1 + n * k, squares: s2 + 2 * k * s1 + n * k * k, count: count)
            case .inference:
                (mu, variance) = (bn.runningMean.data[ch], bn.runningVar.data[ch])
            }
            mean.data[ch] = mu; rstd.data[ch] = 1 / (variance + eps).squareRoot()
            let (scale, shift) = bn.scaleShift(channel: ch, mean: mu, variance: variance)
            for b in 0..<nb {
                let o = (b * c + ch) * plane
                activate(pz + o, into: pa + o, sum: ps.map { $0 + o }, base: pb.map { $0 + o }, encoder: pe.map { $0 + o },
                         count: plane, scale: scale, shift: shift)
            }
        }
        return (a, s, BatchNorm2D.Cache(mean: mean, rstd: rstd, mode: mode))
    }

    /// The gradients of `forward`: dL/dz, dL/dn (= dL/dbase for the head), dL/de, dGamma, dBeta.
    /// `dOutput` is dL/ds for decoders, dL/da otherwise; `extra` more dL/da (nil: none).
    /// With `keepActivationGradient` false, dz is written over dn's memory and dn is not returned.
    public static func backward(dOutput ds: Tensor, extra: Tensor?, activation a: Tensor, encoder e: Tensor?,
                                convOutput z: Tensor, batchNorm bn: BatchNorm2D, cache: BatchNorm2D.Cache,
                                keepActivationGradient: Bool)
        -> (dConv: Tensor, dActivation: Tensor?, dEncoder: Tensor?, dGamma: Tensor, dBeta: Tensor) {
        checkSameShape(ds, a, "block backward"); checkSameShape(z, a, "block backward")
        if let extra { checkSameShape(extra, a, "block backward") }
        if let e { checkSameShape(e, a, "skip fusion") }
        let nb = a.n, c = a.c, plane = a.h * a.w, n = Float(nb * plane)
        let dn = Tensor(uninitialized: a.shape)
        let dz = keepActivationGradient ? Tensor(uninitialized: a.shape) : dn
        let de = e.map { Tensor(uninitialized: $0.shape) }
        let dGamma = Tensor(zeros: [c]), dBeta = Tensor(zeros: [c])
        let pg = ds.data, px = extra?.data, pa = a.data, pe = e?.data, pz = z.data
        let pdn = dn.data, pdz = dz.data, pde = de?.data, gamma = bn.weight.data
        parallelFor(c) { ch in
            let mu = cache.mean.data[ch], r = cache.rstd.data[ch]
            var sumDn = 0.0, sumDnXhat = 0.0
            for b in 0..<nb {
                let o = (b * c + ch) * plane
                let (s1, s2) = activationGradient(pg + o, extra: px.map { $0 + o }, activation: pa + o, encoder: pe.map { $0 + o },
                                                  convOutput: pz + o, into: pdn + o, encoderGradient: pde.map { $0 + o },
                                                  count: plane, mean: mu, rstd: r)
                sumDn += s1; sumDnXhat += s2
            }
            dBeta.data[ch] = Float(sumDn); dGamma.data[ch] = Float(sumDnXhat)
            let gr = gamma[ch] * r
            let (meanDn, meanDnXhat) = (Float(sumDn) / n, Float(sumDnXhat) / n)
            for b in 0..<nb {
                let o = (b * c + ch) * plane
                if cache.mode == .training {
                    convGradient(pdn + o, convOutput: pz + o, into: pdz + o, count: plane, mean: mu, rstd: r, gr: gr,
                                 meanDn: meanDn, meanDnXhat: meanDnXhat)
                } else {
                    // Running statistics are constants: dz = gamma rstd dn.
                    for j in 0..<plane { pdz[o + j] = pdn[o + j] * gr }
                }
            }
        }
        return (dz, keepActivationGradient ? dn : nil, de, dGamma, dBeta)
    }

    // MARK: the loops (one plane each)

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// Sum and sum of squares of p[0 ..< count] - pivot. Taken around a pivot near the mean (the
    /// channel's first value), float lanes keep the variance of a flat channel far from 0 (mean
    /// 100, std 0.01 would lose it all: x^2 ~ 1e4 carries ~1e-3 of float rounding).
    static func sums(_ p: UnsafePointer<Float>, count: Int, pivot: Float) -> (Double, Double) {
        var total = 0.0, squares = 0.0, i = 0
        while i + width <= count {
            var s = V.zero, q = V.zero
            let end = min(count, i + block) - width
            while i <= end { let v = load(p + i) - pivot; s += v; q += v * v; i += width }
            total += Double(s.sum()); squares += Double(q.sum())
        }
        for j in i..<count { let v = Double(p[j]) - Double(pivot); total += v; squares += v * v }
        return (total, squares)
    }

    /// a = ELU(scale z + shift (+ base)), s = a + e + a e.
    static func activate(_ z: UnsafePointer<Float>, into a: UnsafeMutablePointer<Float>, sum s: UnsafeMutablePointer<Float>?,
                         base: UnsafePointer<Float>?, encoder e: UnsafePointer<Float>?, count: Int, scale: Float, shift: Float) {
        var i = 0
        while i + width <= count {
            var n = load(z + i) * scale + shift
            if let base { n += load(base + i) }
            let av = elu(n)
            store(av, a + i)
            if let s, let e { let ev = load(e + i); store(av + ev + av * ev, s + i) }
            i += width
        }
        for j in i..<count {
            let av = DRHTEngine.elu(z[j] * scale + shift + (base?[j] ?? 0))
            a[j] = av
            if let s, let e { s[j] = av + e[j] + av * e[j] }
        }
    }

    /// dn = (ds (1 + e) + extra) ELU'(a), de = ds (1 + a); returns the sums of dn and dn xhat.
    static func activationGradient(_ ds: UnsafePointer<Float>, extra: UnsafePointer<Float>?, activation a: UnsafePointer<Float>,
                                   encoder e: UnsafePointer<Float>?, convOutput z: UnsafePointer<Float>,
                                   into dn: UnsafeMutablePointer<Float>, encoderGradient de: UnsafeMutablePointer<Float>?,
                                   count: Int, mean mu: Float, rstd r: Float) -> (Double, Double) {
        var total = 0.0, weighted = 0.0, i = 0
        while i + width <= count {
            var s = V.zero, w = V.zero
            let end = min(count, i + block) - width
            while i <= end {
                let g = load(ds + i), av = load(a + i)
                var da = g
                if let e, let de { let ev = load(e + i); da = g * (1 + ev); store(g * (1 + av), de + i) }
                if let extra { da += load(extra + i) }
                let d = da * eluSlope(av)
                store(d, dn + i)
                s += d; w += d * ((load(z + i) - mu) * r)
                i += width
            }
            total += Double(s.sum()); weighted += Double(w.sum())
        }
        for j in i..<count {
            let g = ds[j], av = a[j]
            var da = g
            if let e, let de { da = g * (1 + e[j]); de[j] = g * (1 + av) }
            if let extra { da += extra[j] }
            let d = av > 0 ? da : da * (av + 1)
            dn[j] = d
            total += Double(d); weighted += Double(d * ((z[j] - mu) * r))
        }
        return (total, weighted)
    }

    /// dz = gr (dn - meanDn - xhat meanDnXhat); dz may be dn itself.
    static func convGradient(_ dn: UnsafePointer<Float>, convOutput z: UnsafePointer<Float>, into dz: UnsafeMutablePointer<Float>,
                             count: Int, mean mu: Float, rstd r: Float, gr: Float, meanDn: Float, meanDnXhat: Float) {
        var i = 0
        while i + width <= count {
            let xhat = (load(z + i) - mu) * r
            store(gr * (load(dn + i) - meanDn - xhat * meanDnXhat), dz + i)
            i += width
        }
        for j in i..<count { dz[j] = gr * (dn[j] - meanDn - (z[j] - mu) * r * meanDnXhat) }
    }

    /// ELU on 16 lanes, bit for bit the scalar `elu` (fastExp's arithmetic, lane by lane).
    /// Swift's lane-wise min, max and select compile to scalar code, so the branches are
    /// integer masks on the bit patterns: `neg` is all ones in lanes whose sign bit is set and
    /// which hold a number (a NaN, whatever its sign bit, takes the v > 0 path and stays NaN, as
    /// in the scalar ELU: a diverging run must show as NaN, not as -1).
    @inline(__always)
    static func elu(_ v: V) -> V {
        let bits = unsafeBitCast(v, to: I.self)
        let neg = (bits &>> 31) & ~nanMask(bits)
        let xBits = bits & neg                                   // min(v, 0)
        let magnitude = xBits & 0x7fff_ffff
        let clamped = magnitude &- positivePart(magnitude &- I(repeating: 0x42AE_0000))   // |x| <= 87
        let x = unsafeBitCast(clamped | (xBits & I(repeating: Int32(bitPattern: 0x8000_0000))), to: V.self)
        let t = x * 1.442_695_04 + 12_582_912
        let nn = t - 12_582_912
        let rr = x - nn * 0.693_359_375 + nn * 2.121_944_4e-4
        let ex = expPolynomial(rr) * rr * rr + rr + 1
        let twoToN = unsafeBitCast((unsafeBitCast(t, to: I.self) &- 0x4B40_0000 &+ 127) &<< 23, to: V.self)
        // max(v, 0) + (exp(min(v, 0)) - 1): v where v > 0 (exp(0) - 1 is exactly 0), else exp(v) - 1
        return unsafeBitCast(bits & ~neg, to: V.self) + (ex * twoToN - 1)
    }

    /// ELU'(x) from a = ELU(x): 1 where a > 0, a + 1 elsewhere (a is -1 < a <= 0 there); NaN
    /// where a is NaN, as the scalar `a > 0 ? 1 : a + 1`.
    @inline(__always)
    static func eluSlope(_ a: V) -> V {
        let bits = unsafeBitCast(a, to: I.self)
        return 1 + unsafeBitCast(bits & ((bits &>> 31) | nanMask(bits)), to: V.self)
    }

    /// All ones in the lanes that hold a NaN (magnitude bits above infinity's).
    @inline(__always) static func nanMask(_ bits: I) -> I {
        (I(repeating: 0x7F80_0000) &- (bits & 0x7fff_ffff)) &>> 31
    }

    /// max(y, 0) for integers.
    @inline(__always) static func positivePart(_ y: I) -> I { y & ~(y &>> 31) }
    typealias I = SIMD16<Int32>
}
