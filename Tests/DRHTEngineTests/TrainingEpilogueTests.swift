import XCTest
import DRHTTestSupport
@testable import DRHTEngine

/// The fused block epilogue against the separate ops it replaces (BatchNorm2D, + base, ELU,
/// SkipFusion, forward and backward), on planes whose size is and is not a multiple of the
/// 16 lanes, with and without base, skip and extra gradient, in both BN modes.
final class TrainingEpilogueTests: XCTestCase {
    func bn(_ c: Int, seed: UInt64) -> BatchNorm2D {
        BatchNorm2D(weight: randomTensor([c], seed: seed, 0.5, 1.5), bias: randomTensor([c], seed: seed + 1),
                    runningMean: randomTensor([c], seed: seed + 2), runningVar: randomTensor([c], seed: seed + 3, 0.5, 2))
    }

    func testMatchesTheSeparateOps() {
        for shape in [[2, 3, 5, 7], [3, 4, 8, 8], [1, 2, 33, 40]] {
            for mode in [Mode.training, .inference] {
                for (withBase, withSkip, withExtra) in [(false, false, false), (true, false, false), (false, true, false),
                                                        (false, true, true), (false, false, true)] {
                    let what = "\(shape) \(mode) base \(withBase) skip \(withSkip) extra \(withExtra)"
                    let z = randomTensor(shape, seed: 1, -3, 3)
                    let base = withBase ? randomTensor(shape, seed: 2) : nil
                    let e = withSkip ? randomTensor(shape, seed: 3, -0.9, 2) : nil
                    let ds = randomTensor(shape, seed: 4), extra = withExtra ? randomTensor(shape, seed: 5) : nil
                    let reference = bn(shape[1], seed: 10), fused = bn(shape[1], seed: 10)

                    // The reference: the separate ops, as Block ran them before.
                    let (n, refCache) = reference.forward(z, mode: mode)
                    if let base { for i in 0..<n.count { n.data[i] += base.data[i] } }
                    let a = ELU.forward(n)
                    let s = e.map { SkipFusion.forward(decoder: a, encoder: $0) }
                    var da = ds, dE: Tensor? = nil
                    if let e { let r = SkipFusion.backward(dOutput: ds, decoder: a, encoder: e); da = r.dDecoder; dE = r.dEncoder }
                    if let extra { da = da.copy(); for i in 0..<da.count { da.data[i] += extra.data[i] } }
                    let dn = ELU.backward(dOutput: da, output: a)
                    let (dz, dGamma, dBeta) = reference.backward(dOutput: dn, input: z, cache: refCache)

                    let f = TrainingEpilogue.forward(z, batchNorm: fused, mode: mode, base: base, encoder: e)
                    assertClose(f.activation, a, rtol: 1e-5, atol: 1e-5, "a, \(what)")
                    XCTAssertEqual(f.sum == nil, s == nil, what)
                    if let fs = f.sum, let s { assertClose(fs, s, rtol: 1e-5, atol: 1e-5, "s, \(what)") }
                    assertClose(f.cache.mean, refCache.mean, rtol: 1e-5, atol: 1e-6, "mean, \(what)")
                    assertClose(f.cache.rstd, refCache.rstd, rtol: 1e-5, atol: 1e-6, "rstd, \(what)")
                    assertClose(fused.runningMean, reference.runningMean, rtol: 1e-5, atol: 1e-6, "running mean, \(what)")
                    assertClose(fused.runningVar, reference.runningVar, rtol: 1e-5, atol: 1e-6, "running var, \(what)")

                    for keep in [true, false] {
                        let g = TrainingEpilogue.backward(dOutput: ds, extra: extra, activation: f.activation, encoder: e,
                                                          convOutput: z, batchNorm: fused, cache: f.cache, keepActivationGradient: keep)
                        assertClose(g.dConv, dz, rtol: 1e-4, atol: 1e-5, "dz, \(what)")
                        assertClose(g.dGamma, dGamma, rtol: 1e-4, atol: 1e-4, "dGamma, \(what)")
                        assertClose(g.dBeta, dBeta, rtol: 1e-4, atol: 1e-4, "dBeta, \(what)")
                        XCTAssertEqual(g.dActivation == nil, !keep, what)
                        if let d = g.dActivation { assertClose(d, dn, rtol: 1e-5, atol: 1e-6, "dn, \(what)") }
                        XCTAssertEqual(g.dEncoder == nil, dE == nil, what)
                        if let d = g.dEncoder, let dE { assertClose(d, dE, rtol: 1e-5, atol: 1e-6, "de, \(what)") }
                    }
                }
            }
        }
    }

    /// A flat channel far from 0 (mean 100, std ~0.01): the batch statistics keep its variance
    /// (the reference sums every value in doubles), so the normalised values match.
    func testFlatChannelFarFromZeroKeepsItsVariance() {
        let z = randomTensor([2, 3, 16, 16], seed: 21, -0.02, 0.02)
        for i in 0..<z.count { z.data[i] += 100 }
        let reference = bn(3, seed: 30), fused = bn(3, seed: 30)
        let (n, refCache) = reference.forward(z, mode: .training)
        let f = TrainingEpilogue.forward(z, batchNorm: fused, mode: .training, base: nil, encoder: nil)
        assertClose(f.cache.rstd, refCache.rstd, rtol: 1e-4, atol: 0, "rstd of a flat channel")
        assertClose(fused.runningVar, reference.runningVar, rtol: 1e-4, atol: 1e-9, "running var")
        assertClose(f.activation, ELU.forward(n), rtol: 1e-3, atol: 1e-3, "a")
    }

    /// A hand-computed case: one channel 1, 2, 3, 4 (mean 2.5, var 1.25), gamma 1, beta 0, no
    /// base or skip: a = ELU(xhat), so the two values below the mean come out as exp(xhat) - 1.
    func testHandComputedForward() {
        let norm = BatchNorm2D(channels: 1)
        let f = TrainingEpilogue.forward(Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]), batchNorm: norm, mode: .training,
                                         base: nil, encoder: nil)
        let r = 1 / (1.25 + 1e-5).squareRoot()
        let xhat = [-1.5, -0.5, 0.5, 1.5].map { $0 * r }
        assertClose(f.activation.array, xhat.map { Float($0 > 0 ? $0 : exp($0) - 1) }, "ELU(BN(x))")
        assertClose(norm.runningMean.array, [0.25], "running mean = 0.9 * 0 + 0.1 * 2.5")
    }

    /// The 16-lane ELU equals the scalar one the inference epilogue uses, bit for bit, across
    /// the range (large negative, the exp's reduction boundaries, zero, positive).
    func testVectorELUEqualsScalarELU() {
        var values: [Float] = [-100, -87.5, -87, -20, -1, -0.5, -1e-8, 0, 1e-8, 0.5, 3, 1e30, -0.0, .infinity, -.infinity,
                               .nan, -Float.nan, Float(bitPattern: 0xFFC0_0000), -1e-45]
        for i in 0..<(4 * 16 - values.count) { values.append(Float(i) * 0.37 - 12) }
        for start in stride(from: 0, to: values.count, by: 16) {
            let v = SIMD16<Float>(values[start..<start + 16])
            let out = TrainingEpilogue.elu(v)
            for l in 0..<16 {
                if v[l].isNaN {
                    XCTAssertTrue(out[l].isNaN, "ELU(NaN \(String(v[l].bitPattern, radix: 16))) must stay NaN, is \(out[l])")
                    XCTAssertTrue(TrainingEpilogue.eluSlope(SIMD16(repeating: v[l]))[0].isNaN, "ELU' of NaN")
                } else {
                    XCTAssertEqual(out[l].bitPattern, elu(v[l]).bitPattern, "ELU(\(v[l]))")
                    let slope = TrainingEpilogue.eluSlope(SIMD16(repeating: out[l]))[0]
                    XCTAssertEqual(slope, out[l] > 0 ? 1 : out[l] + 1, "ELU' at a = \(out[l])")
                }
            }
        }
    }
}
