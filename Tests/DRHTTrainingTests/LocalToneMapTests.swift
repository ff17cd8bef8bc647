// The procedural scenes' target operator: box means, the guided filter, and the tone mapping
// on images whose answer can be worked out by hand.
import DRHTEngine
import DRHTImageIO
@testable import DRHTTraining
import XCTest

final class LocalToneMapTests: XCTestCase {
    func testBoxMeanClipsTheWindowAtTheBorders() {
        // 3 x 3 image 1...9, radius 1: the corner averages its 2 x 2 window, the centre all nine.
        let m = LocalToneMap.boxMean((1...9).map(Double.init), height: 3, width: 3, radius: 1)
        XCTAssertEqual(m[0], (1 + 2 + 4 + 5) / 4, accuracy: 1e-12)
        XCTAssertEqual(m[4], 5, accuracy: 1e-12)
        XCTAssertEqual(m[5], (2 + 3 + 5 + 6 + 8 + 9) / 6, accuracy: 1e-12)
    }

    func testGuidedFilterKeepsStrongEdgesAndSmoothsFaintTexture() {
        // Left half 0, right half 3 (a strong edge, 3^2 >> eps), plus a faint +-0.05 checker.
        let h = 32, w = 32
        var p = [Double](repeating: 0, count: h * w)
        for y in 0..<h { for x in 0..<w { p[y * w + x] = (x < w / 2 ? 0 : 3) + ((x + y) % 2 == 0 ? 0.05 : -0.05) } }
        let q = LocalToneMap.guidedFilter(p, height: h, width: w, radius: 3, epsilon: 0.1)
        // Far from the edge the checker's variance (0.0025) is small against eps: smoothed away.
        XCTAssertEqual(q[16 * w + 4], 0, accuracy: 0.01)
        XCTAssertEqual(q[16 * w + 27], 3, accuracy: 0.01)
        // Across the edge the step survives: the pixels either side keep most of the 3.
        XCTAssertLessThan(q[16 * w + 15], 0.3)
        XCTAssertGreaterThan(q[16 * w + 16], 2.7)
        // A constant image is its own base.
        let flat = LocalToneMap.guidedFilter([Double](repeating: 0.7, count: 64), height: 8, width: 8, radius: 2, epsilon: 0.1)
        XCTAssertTrue(flat.allSatisfy { abs($0 - 0.7) < 1e-12 })
    }

    /// Linear luminance of pixel (y, x) of a tone-mapped (sRGB) grey image.
    func linear(_ t: Tensor, _ y: Int, _ x: Int) -> Float { SRGB.decode(t[y * t.w + x]) }

    func grey(_ left: Float, _ right: Float, size: Int = 64) -> Tensor {
        let t = Tensor(zeros: [1, 3, size, size])
        for c in 0..<3 { for y in 0..<size { for x in 0..<size { t[(c * size + y) * size + x] = x < size / 2 ? left : right } } }
        return t
    }

    func testUniformGreyAtTheKeyStaysAtTheKey() {
        let out = LocalToneMap.apply(grey(0.18, 0.18))
        for v in out.array { XCTAssertEqual(v, SRGB.encode(0.18), accuracy: 1e-4) }
    }

    func testContrastBelowTheLimitIsKeptAndLargerIsCompressedTo50To1() {
        // 10:1 (one decade) is under 50:1: kept, centred on the key in the log domain.
        let mild = LocalToneMap.apply(grey(0.1, 1))
        XCTAssertEqual(linear(mild, 32, 16), 0.18 / 10.0.squareRootF, accuracy: 2e-3)
        XCTAssertEqual(linear(mild, 32, 48) / linear(mild, 32, 16), 10, accuracy: 0.2)
        // 10^4:1 is compressed to 50:1 around the key: the dark side lands at 0.18 / sqrt(50)
        // (the bright side, 0.18 sqrt(50) = 1.27, clips to 1).
        let strong = LocalToneMap.apply(grey(0.001, 10))
        XCTAssertEqual(linear(strong, 32, 16), 0.18 / 50.0.squareRootF, accuracy: 1e-3)
        XCTAssertEqual(strong[32 * 64 + 48], 1, accuracy: 1e-6)
    }

    func testRadiusScalesWithTheImage() {
        XCTAssertEqual(LocalToneMap.radius(height: 256, width: 256), 16)
        XCTAssertEqual(LocalToneMap.radius(height: 64, width: 512), 4)
        XCTAssertEqual(LocalToneMap.radius(height: 8, width: 8), 1)
    }
}

private extension Double { var squareRootF: Float { Float(self.squareRoot()) } }
