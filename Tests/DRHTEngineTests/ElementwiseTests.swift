import XCTest
import DRHTTestSupport
@testable import DRHTEngine

final class ElementwiseTests: XCTestCase {
    func testELUValues() {
        let y = ELU.forward(Tensor(shape: [4], values: [-1, 0, 0.5, 2]))
        assertClose(y.array, [exp(-1) - 1, 0, 0.5, 2], "elu")
    }

    func testSkipFusionValues() {
        let s = SkipFusion.forward(decoder: Tensor(shape: [2], values: [2, -1]), encoder: Tensor(shape: [2], values: [3, 0.5]))
        assertClose(s.array, [2 + 3 + 6, -1 + 0.5 - 0.5], "skip")
    }

    func testPowLogClampValues() {
        let x = Tensor(shape: [3], values: [-0.5, 0.25, 4])
        assertClose(Pow.forward(x, exponent: 2.2).array, [0, powf(0.25, 2.2), powf(4, 2.2)], "tau_inv")
        assertClose(Pow.forward(x, exponent: 0.5, scale: 2).array, [0, 1, 4], "scaled pow")
        assertClose(Log.forward(Tensor(shape: [2], values: [0, 1]), epsilon: 1.0 / 255).array,
                    [log(1.0 / 255), log(1 + 1.0 / 255)], "log")
        assertClose(Clamp.forward(x, min: 0, max: 1).array, [0, 0.25, 1], "clamp")
    }

    func testMSEValue() {
        let l = MSELoss.forward(prediction: Tensor(shape: [2, 2], values: [1, 2, 3, 4]),
                                target: Tensor(shape: [2, 2], values: [1, 0, 3, 0]))
        XCTAssertEqual(l, 5, accuracy: 1e-6) // (0 + 4 + 0 + 16) / 4
    }

    func testWeightedMSEValue() {
        // (N, C, H, W) = (1, 2, 1, 2); the weight (1, 1, 1, 2) is shared by both channels.
        let p = Tensor(shape: [1, 2, 1, 2], values: [1, 2, 3, 4]), t = Tensor(shape: [1, 2, 1, 2], values: [0, 0, 0, 0])
        let w = Tensor(shape: [1, 1, 1, 2], values: [3, 1])
        XCTAssertEqual(MSELoss.forward(prediction: p, target: t, weight: w), 12.5, accuracy: 1e-9) // (3*1 + 1*4 + 3*9 + 1*16) / 4
        assertClose(MSELoss.backward(prediction: p, target: t, weight: w).array, [1.5, 1, 4.5, 2], "weighted mse'") // 2 w d / 4
        // A weight of 1 everywhere is the plain loss.
        let q = randomTensor([2, 3, 4, 4], seed: 14), u = randomTensor([2, 3, 4, 4], seed: 15)
        let ones = Tensor(shape: [2, 1, 4, 4], repeating: 1)
        XCTAssertEqual(MSELoss.forward(prediction: q, target: u, weight: ones), MSELoss.forward(prediction: q, target: u), accuracy: 1e-12)
        assertClose(MSELoss.backward(prediction: q, target: u, weight: ones).array, MSELoss.backward(prediction: q, target: u).array, "ones")
    }

    /// Where the target is a lower bound, only a prediction below it counts (d = min(p - t, 0));
    /// elsewhere the plain squared difference.
    func testOneSidedMSEValue() {
        let p = Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]), t = Tensor(shape: [1, 1, 2, 2], values: [2, 0, 3.5, 3])
        let bound = Tensor(shape: [1, 1, 2, 2], values: [1, 1, 0, 1])
        // below its bound: (1-2)^2 = 1; above its bound: 0; not a bound: 0.25; above its bound: 0
        XCTAssertEqual(MSELoss.forward(prediction: p, target: t, lowerBound: bound), 1.25 / 4, accuracy: 1e-9)
        assertClose(MSELoss.backward(prediction: p, target: t, lowerBound: bound).array, [-0.5, 0, -0.25, 0], "one-sided mse'") // 2 d / 4
        // With the weight of --clip-weight on top: the weight multiplies what the bound leaves.
        let w = Tensor(shape: [1, 1, 2, 2], values: [3, 3, 2, 2])
        XCTAssertEqual(MSELoss.forward(prediction: p, target: t, weight: w, lowerBound: bound), (3 + 0.5) / 4, accuracy: 1e-9)
        // No bound anywhere: the plain loss.
        let q = randomTensor([2, 3, 4, 4], seed: 14), u = randomTensor([2, 3, 4, 4], seed: 15)
        let none = Tensor(zeros: [2, 3, 4, 4])
        XCTAssertEqual(MSELoss.forward(prediction: q, target: u, lowerBound: none), MSELoss.forward(prediction: q, target: u), accuracy: 1e-12)
    }

    func testOneSidedMSEGradient() {
        let p = randomTensor([2, 3, 4, 4], seed: 19), t = randomTensor([2, 3, 4, 4], seed: 20)
        // Away from the kink p = t, so central differences never straddle it.
        for i in 0..<p.count where abs(p[i] - t[i]) < 0.05 { p[i] = t[i] + 0.1 }
        let bound = randomTensor([2, 3, 4, 4], seed: 21, 0, 1)
        for i in 0..<bound.count { bound[i] = bound[i] < 0.5 ? 0 : 1 }
        let g = MSELoss.backward(prediction: p, target: t, lowerBound: bound)
        checkGradient("one-sided mse", param: p, analytic: g, atol: 1e-5) { MSELoss.forward(prediction: p, target: t, lowerBound: bound) }
    }

    func testWeightedMSEGradient() {
        let p = randomTensor([2, 3, 4, 4], seed: 16), t = randomTensor([2, 3, 4, 4], seed: 17)
        let w = randomTensor([2, 1, 4, 4], seed: 18, 1, 5)
        let g = MSELoss.backward(prediction: p, target: t, weight: w)
        checkGradient("weighted mse", param: p, analytic: g, atol: 1e-5) { MSELoss.forward(prediction: p, target: t, weight: w) }
    }

    /// Inputs kept away from the kinks (0 for ELU/pow, the bounds for clamp) so that central
    /// differences with h = 1e-2 never straddle one.
    func awayFromKinks(_ shape: [Int], seed: UInt64, kinks: [Float]) -> Tensor {
        let t = randomTensor(shape, seed: seed, -2, 2)
        for i in 0..<t.count { for k in kinks where abs(t[i] - k) < 0.05 { t[i] = k + 0.1 } }
        return t
    }

    func testELUGradient() {
        let x = awayFromKinks([2, 3, 4, 4], seed: 1, kinks: [0])
        let r = randomTensor(x.shape, seed: 2)
        let g = ELU.backward(dOutput: r, output: ELU.forward(x))
        checkGradient("elu", param: x, analytic: g) { dot(ELU.forward(x), r) }
    }

    func testSkipFusionGradient() {
        let d = randomTensor([2, 3, 4, 4], seed: 3), e = randomTensor([2, 3, 4, 4], seed: 4)
        let r = randomTensor(d.shape, seed: 5)
        let g = SkipFusion.backward(dOutput: r, decoder: d, encoder: e)
        let loss = { dot(SkipFusion.forward(decoder: d, encoder: e), r) }
        checkGradient("skip dDecoder", param: d, analytic: g.dDecoder, loss: loss)
        checkGradient("skip dEncoder", param: e, analytic: g.dEncoder, loss: loss)
    }

    func testPowGradient() {
        let x = awayFromKinks([64], seed: 6, kinks: [0])
        for i in 0..<x.count { x[i] = abs(x[i]) * (i % 4 == 0 ? -1 : 1) } // some negatives (zero grad)
        let r = randomTensor(x.shape, seed: 7)
        let g = Pow.backward(dOutput: r, input: x, exponent: 2.2, scale: 1.5)
        checkGradient("pow", param: x, analytic: g) { dot(Pow.forward(x, exponent: 2.2, scale: 1.5), r) }
    }

    func testLogGradient() {
        let x = randomTensor([64], seed: 8, 0.05, 3)
        let r = randomTensor(x.shape, seed: 9)
        let g = Log.backward(dOutput: r, input: x, epsilon: 1.0 / 255)
        checkGradient("log", param: x, analytic: g, h: 1e-3) { dot(Log.forward(x, epsilon: 1.0 / 255), r) }
    }

    func testMSEGradient() {
        let p = randomTensor([2, 3, 4, 4], seed: 12), t = randomTensor([2, 3, 4, 4], seed: 13)
        let g = MSELoss.backward(prediction: p, target: t)
        checkGradient("mse", param: p, analytic: g, atol: 1e-5) { MSELoss.forward(prediction: p, target: t) }
    }
}

final class FastExpTests: XCTestCase {
    func testFastExpMatchesLibm() {
        var x: Float = -90
        while x < 80 {
            let want = expf(x), got = fastExp(x)
            if x > -87 {
                XCTAssertEqual(got, want, accuracy: want * 3e-7, "exp(\(x))")
            } else {
                XCTAssertLessThan(got, 1e-37)
            }
            x += 0.0137
        }
        XCTAssertEqual(fastExp(0), 1)
    }
}

final class InPlaceTests: XCTestCase {
    func testInPlaceVariantsEqualTheAllocatingOnes() {
        let x = randomTensor([2, 3, 4, 5], seed: 21, -2, 2)
        let b = x.copy(); ELU.applyInPlace(b)
        assertClose(b, ELU.forward(x), "elu in place")
    }

    /// The fused inference epilogue equals BN (running statistics), + base, ELU and the skip sum
    /// applied one after another, for each combination (plain block, head, decoder, both).
    func testBlockEpilogueEqualsTheSeparateOps() {
        // 2 x 3 x 128 x 160: planes large enough to be split into parts between workers.
        let shape = [2, 3, 128, 160]
        let z = randomTensor(shape, seed: 21, -2, 2), e = randomTensor(shape, seed: 22), base = randomTensor(shape, seed: 27)
        let bn = BatchNorm2D(weight: randomTensor([3], seed: 23), bias: randomTensor([3], seed: 24),
                             runningMean: randomTensor([3], seed: 25), runningVar: randomTensor([3], seed: 26, 0.5, 2))
        for (withBase, withEncoder) in [(false, false), (true, false), (false, true), (true, true)] {
            var expected = bn.forward(z, mode: .inference).output
            if withBase { expected = Tensor(shape: shape, values: zip(expected.array, base.array).map { $0 + $1 }) }
            expected = ELU.forward(expected)
            if withEncoder { expected = SkipFusion.forward(decoder: expected, encoder: e) }
            let got = z.copy()
            BlockEpilogue.applyInPlace(got, batchNorm: bn, base: withBase ? base : nil, encoder: withEncoder ? e : nil)
            assertClose(got, expected, rtol: 1e-6, atol: 1e-6, "base \(withBase) encoder \(withEncoder)")
        }
    }
}

/// Issue 31: conversions and statistics that cannot be thrown off by NaN or infinities.
final class NonFiniteTests: XCTestCase {
    func testSaturatingConversionsNeverTrap() {
        XCTAssertEqual(Int(saturating: Float.nan), 0)
        XCTAssertEqual(Int(saturating: Float.infinity), .max)
        XCTAssertEqual(Int(saturating: -Float.infinity), .min)
        XCTAssertEqual(Int(saturating: Float(1e30)), .max)
        XCTAssertEqual(Int(saturating: -2.7), -2)
        XCTAssertEqual(Int(clamping: Float.nan, to: 0...9), 0)
        XCTAssertEqual(Int(clamping: Float(1e30), to: 0...9), 9)
        XCTAssertEqual(Int(clamping: Float(-5), to: 0...9), 0)
        XCTAssertEqual(Int(clamping: Float(4.9), to: 0...9), 4)
        XCTAssertEqual(Float.nan.unitClamped, 0)
        XCTAssertEqual(Float.infinity.unitClamped, 1)
    }

    /// Hand-computed: the finite values 1, 2, 3, 6 (mean 3, population std sqrt(3.5)); two left out.
    func testStatisticsLeaveOutAndCountNonFiniteValues() {
        let t = Tensor(shape: [6], repeating: 0)
        for (i, v) in [Float(1), .nan, 2, .infinity, 3, 6].enumerated() { t.data[i] = v }
        let s = t.stats
        XCTAssertEqual(s.min, 1); XCTAssertEqual(s.max, 6); XCTAssertEqual(s.mean, 3)
        XCTAssertEqual(s.std, 3.5.squareRoot(), accuracy: 1e-12)
        XCTAssertEqual(s.nonFinite, 2)
        let none = Tensor(shape: [3], repeating: .nan).stats
        XCTAssertEqual(none.nonFinite, 3); XCTAssertEqual(none.min, 0); XCTAssertEqual(none.max, 0)
    }
}
