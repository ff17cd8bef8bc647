// PSNR and SSIM: identical images, hand-checkable cases, and the ssim.m details (luma weights,
// 'valid' window, automatic downsampling).
import DRHTEngine
@testable import DRHTMetrics
import XCTest

final class MetricsTests: XCTestCase {
    func constant(_ v: Float, size: Int = 32, channels: Int = 3) -> Tensor { Tensor(shape: [1, channels, size, size], repeating: v) }

    func testPSNR() throws {
        XCTAssertEqual(try PSNR.compute(constant(0.3), constant(0.3)), .infinity)
        // MSE 0.01 -> 20 dB; 0.001 -> 30 dB.
        XCTAssertEqual(try PSNR.compute(constant(0.2), constant(0.3)), 20, accuracy: 1e-4)
        XCTAssertEqual(try PSNR.compute(constant(0.5), constant(0.5 + 0.031_622_78)), 30, accuracy: 1e-3)
        // Values outside [0, 1] are clamped: 1.5 reads as 1.
        XCTAssertEqual(try PSNR.compute(constant(1.5), constant(1)), .infinity)
        XCTAssertThrowsError(try PSNR.compute(constant(0, size: 32), constant(0, size: 16)))
    }

    func testSSIMOfIdenticalImagesIsOne() throws {
        var rng = SeededRandom(seed: 4)
        let t = Tensor.uniform([1, 3, 40, 40], 0, 1, rng: &rng)
        XCTAssertEqual(try SSIM.compute(t, t), 1, accuracy: 1e-12)
    }

    /// Two constant images: the variances are 0, so SSIM = (2 m1 m2 + C1) / (m1^2 + m2^2 + C1)
    /// on the 0-255 luma scale.
    func testSSIMOfConstantImagesByHand() throws {
        let a = constant(0.2), b = constant(0.6)
        let m1 = 0.2 * 255.0, m2 = 0.6 * 255.0, c1 = (0.01 * 255) * (0.01 * 255)
        // Float32 0.2 / 0.6 are not exactly 0.2 / 0.6: compare with a small tolerance.
        XCTAssertEqual(try SSIM.compute(a, b), (2 * m1 * m2 + c1) / (m1 * m1 + m2 * m2 + c1), accuracy: 1e-6)
    }

    func testSSIMUsesLumaWeights() throws {
        // Pure red 1 vs black: luma 0.299 * 255; a gray of that luma must score 1 against red.
        let red = Tensor(zeros: [1, 3, 16, 16]); for i in 0..<256 { red.data[i] = 1 }
        let gray = constant(0.299, size: 16)
        XCTAssertEqual(try SSIM.compute(red, gray), 1, accuracy: 1e-6)
    }

    func testSSIMNeedsElevenPixels() {
        XCTAssertThrowsError(try SSIM.compute(constant(0, size: 8), constant(0, size: 8))) { e in
            XCTAssertEqual("\(e)", "SSIM needs images of at least 11x11 (got 8x8); use a larger image")
        }
    }

    /// 'valid' filtering: an 11x11 image gives a single window; its value by hand.
    func testSingleWindowByHand() {
        var x = [Double](repeating: 0, count: 121), y = [Double](repeating: 0, count: 121)
        for i in 0..<121 { x[i] = Double(i % 11) * 10; y[i] = Double(i / 11) * 10 }
        let k = SSIM.kernel1D
        var w = [Double](repeating: 0, count: 121)
        for r in 0..<11 { for c in 0..<11 { w[r * 11 + c] = k[r] * k[c] } }
        func wsum(_ f: (Int) -> Double) -> Double { (0..<121).reduce(0) { $0 + w[$1] * f($1) } }
        let m1 = wsum { x[$0] }, m2 = wsum { y[$0] }
        let s1 = wsum { x[$0] * x[$0] } - m1 * m1, s2 = wsum { y[$0] * y[$0] } - m2 * m2, s12 = wsum { x[$0] * y[$0] } - m1 * m2
        let c1 = 6.5025, c2 = 58.5225
        let expected = (2 * m1 * m2 + c1) * (2 * s12 + c2) / ((m1 * m1 + m2 * m2 + c1) * (s1 + s2 + c2))
        XCTAssertEqual(SSIM.meanMap(x, y, height: 11, width: 11), expected, accuracy: 1e-12)
        XCTAssertEqual(k.reduce(0, +), 1, accuracy: 1e-12)
        XCTAssertEqual(k[5] / k[4], exp(1 / (2 * 1.5 * 1.5)), accuracy: 1e-12)
    }

    /// f = round(min(H, W) / 256): 512 -> 2, averaging 2x2 blocks (MATLAB's even-kernel centre).
    func testDownsampling() {
        let img: [Double] = [1, 2, 3, 4,
                             5, 6, 7, 8,
                             9, 10, 11, 12,
                             13, 14, 15, 16]
        let (d, h, w) = SSIM.downsample(img, height: 4, width: 4, factor: 2)
        XCTAssertEqual([h, w], [2, 2])
        XCTAssertEqual(d, [3.5, 5.5, 11.5, 13.5])
        // f = 3 centres the 3x3 box, mirroring at the edge: the first output averages rows -1..1.
        let (d3, h3, _) = SSIM.downsample(img, height: 4, width: 4, factor: 3)
        XCTAssertEqual(h3, 2)
        XCTAssertEqual(d3[0], (1 + 1 + 2 + 1 + 1 + 2 + 5 + 5 + 6) / 9, accuracy: 1e-12)
    }

    func testSSIMFallsWithNoise() throws {
        var rng = SeededRandom(seed: 9)
        let clean = Tensor.uniform([1, 3, 48, 48], 0.2, 0.8, rng: &rng)
        func noisy(_ s: Float) -> Tensor {
            let t = clean.copy()
            for i in 0..<t.count { t.data[i] += s * rng.normal() }
            return t
        }
        let a = try SSIM.compute(clean, noisy(0.02)), b = try SSIM.compute(clean, noisy(0.1))
        XCTAssertGreaterThan(a, b)
        XCTAssertLessThan(a, 1)
    }
}
