// The grid score: a hand-computable case, noise (about 1), a planted 32-pixel grid (far above).
import DRHTEngine
@testable import DRHTMetrics
import XCTest

final class GridScoreTests: XCTestCase {
    func noise(_ h: Int, _ w: Int, seed: UInt64) -> Tensor {
        var rng = SeededRandom(seed: seed)
        return Tensor.uniform([1, 3, h, w], 0.3, 0.7, rng: &rng)
    }

    func testOneBlockIsItsOwnTile() throws {
        // With a single 32 x 32 block the folded tile is the detail itself: RMS(T) = RMS(D),
        // chance = RMS(D) / sqrt(1), so the score is exactly 1 and the peak max|D| / RMS(D).
        let t = noise(32, 32, seed: 1)
        let r = try GridScore.compute(t)
        XCTAssertEqual(r.score, 1, accuracy: 1e-9)
        let rms = (r.tile.reduce(0) { $0 + $1 * $1 } / 1024).squareRoot()
        XCTAssertEqual(r.peak, r.tile.map(abs).max()! / rms, accuracy: 1e-9)
    }

    func testHighPassByHand() {
        // A single bright pixel on black: the detail there is 1 - w0^2 (the 2-D Gaussian's
        // centre weight is the product of the 1-D centre weights), and its neighbours are
        // minus their weights.
        var y = [Double](repeating: 0, count: 11 * 11)
        y[5 * 11 + 5] = 1
        let d = GridScore.highPass(y, height: 11, width: 11)
        let k = (-3...3).map { exp(-Double($0 * $0) / 2) }, total = k.reduce(0, +)
        let w0 = k[3] / total, w1 = k[4] / total
        XCTAssertEqual(d[5 * 11 + 5], 1 - w0 * w0, accuracy: 1e-12)
        XCTAssertEqual(d[5 * 11 + 6], -w0 * w1, accuracy: 1e-12)
        XCTAssertEqual(d[0], 0, accuracy: 1e-12)
    }

    func testNoiseScoresAboutOne() throws {
        let r = try GridScore.compute(noise(256, 384, seed: 2))
        XCTAssertEqual(r.score, 1, accuracy: 0.15)
        XCTAssertLessThan(r.peak, 5)
    }

    func testAPlantedGridStandsOut() throws {
        // 2 x 2 dots every 32 pixels on noise, as the deconvolutions print them.
        func dotted(_ size: Int, every period: Int) -> Tensor {
            let t = noise(size, size, seed: 3)
            for c in 0..<3 { for y in stride(from: 7, to: size - 1, by: period) { for x in stride(from: 13, to: size - 1, by: period) {
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] { t[0, c, y + dy, x + dx] += 0.25 }
            } } }
            return t
        }
        let r = try GridScore.compute(dotted(256, every: 32))
        XCTAssertGreaterThan(r.score, 1.3)
        XCTAssertGreaterThan(r.peak, 8)
        let peakIndex = r.tile.indices.max { abs(r.tile[$0]) < abs(r.tile[$1]) }!
        XCTAssertTrue([7, 8].contains(peakIndex / 32) && [13, 14].contains(peakIndex % 32), "the peak sits where the dots are")
        // The same dots every 24 pixels do not repeat every 32: they fold into four places.
        XCTAssertLessThan(try GridScore.compute(dotted(240, every: 24)).score, r.score)
    }

    func testFlatImagesAndBadShapes() throws {
        XCTAssertEqual(try GridScore.compute(Tensor(shape: [1, 3, 64, 64], repeating: 0.5)).score, 0)
        XCTAssertThrowsError(try GridScore.compute(Tensor(zeros: [1, 3, 16, 64])))
        XCTAssertThrowsError(try GridScore.compute(Tensor(zeros: [1, 5, 64, 64])))
    }
}
