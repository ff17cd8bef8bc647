// A stride-2 transposed convolution answers a constant input with a pattern that repeats every
// 2 pixels unless its four output phases have equal DC gains; five of them stack into the
// 32-pixel lattice on flat white. `balancePhases` equalises the gains by shifting each phase's taps by a constant.
import DRHTEngine
import XCTest
import DRHTTestSupport

final class PhaseBalanceTests: XCTestCase {
    func layer(_ k: Int, seed: UInt64 = 3) -> TransposedConv2D {
        var rng = SeededRandom(seed: seed)
        return TransposedConv2D(weight: Tensor.normal([3, 4, k, k], std: 0.3, rng: &rng), bias: Tensor.normal([4], std: 0.1, rng: &rng))
    }

    /// Per output channel: the spread of the output over the interior (away from the borders,
    /// where the zero padding differs).
    func interiorSpread(_ y: Tensor, border: Int) -> Float {
        var worst: Float = 0
        for c in 0..<y.c {
            var lo = Float.infinity, hi = -Float.infinity
            for r in border..<(y.h - border) { for x in border..<(y.w - border) { lo = min(lo, y[0, c, r, x]); hi = max(hi, y[0, c, r, x]) } }
            worst = max(worst, hi - lo)
        }
        return worst
    }

    func testAConstantInputGivesAConstantOutputOnceBalanced() {
        for k in [3, 5, 9] {
            let t = layer(k)
            let flat = Tensor(shape: [1, 3, 12, 12], repeating: 0.7)
            XCTAssertGreaterThan(interiorSpread(t.forward(flat), border: k), 0.05, "k \(k): unbalanced, the phases differ")
            XCTAssertGreaterThan(t.phaseImbalance(), 0.05)
            t.balancePhases()
            XCTAssertLessThan(t.phaseImbalance(), 1e-5)
            XCTAssertLessThan(interiorSpread(t.forward(flat), border: k), 1e-5, "k \(k): balanced, flat")
        }
    }

    /// Tap k of a kernel with padding p lands on output parity (k - p) mod 2 (o = 2i - p + k), and
    /// each phase keeps its shape, shifted by a constant.
    func testPhasesOfTheTapsAndEachPhaseShiftedByAConstant() {
        let t = layer(5)
        XCTAssertEqual((0..<5).map(t.phase(ofTap:)), [0, 1, 0, 1, 0])      // padding 2
        XCTAssertEqual((0..<3).map(layer(3).phase(ofTap:)), [1, 0, 1])     // padding 1
        let before = t.weight.copy()
        t.balancePhases()
        // Within one phase of one (in, out) pair every tap moved by the same amount.
        for pair in 0..<12 {
            var shift: [Int: Float] = [:]
            for ky in 0..<5 { for kx in 0..<5 {
                let i = pair * 25 + ky * 5 + kx, g = t.phase(ofTap: ky) * 2 + t.phase(ofTap: kx)
                let d = t.weight.data[i] - before.data[i]
                if let s = shift[g] { XCTAssertEqual(d, s, accuracy: 1e-6) } else { shift[g] = d }
            }}
        }
    }
}
