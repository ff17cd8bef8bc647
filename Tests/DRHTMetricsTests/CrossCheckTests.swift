// Our PSNR, SSIM, FSIM and FSIMc against independent implementations, on fixture pairs
// (procedural photos and their targets at 96, 256 and 384 pixels: a non-power-of-two FFT size,
// the common case, and FSIM's 2x downsampling). Fixtures/reference.txt holds the values
// scikit-image (SSIM, ssim.m settings) and piq (FSIM, a port of FeatureSIM.m) computed;
// Fixtures/make-reference.py is how (development time only).
import DRHTImageIO
@testable import DRHTMetrics
import XCTest

final class CrossCheckTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testAgainstIndependentImplementations() throws {
        let text = try String(contentsOf: Self.folder.appendingPathComponent("reference.txt"), encoding: .utf8)
        var checked = 0
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let f = line.split(separator: " ").map(String.init)
            let a = try ImageIO.read(Self.folder.appendingPathComponent(f[0] + "-input.png").path).pixels
            let b = try ImageIO.read(Self.folder.appendingPathComponent(f[0] + "-target.png").path).pixels
            let (psnr, ssim, fsim, fsimc) = (Double(f[1])!, Double(f[2])!, Double(f[3])!, Double(f[4])!)
            XCTAssertEqual(try PSNR.compute(a, b), psnr, accuracy: 1e-4, f[0])
            if !ssim.isNaN { XCTAssertEqual(try SSIM.compute(a, b), ssim, accuracy: 1e-4, f[0]) }
            // piq downsamples with an F x F average pool, FeatureSIM.m with conv2 'same' (a one-pixel
            // shift): at F = 2 (s384) the two differ slightly, so the tolerance is wider there.
            let tolerance = a.h >= 384 ? 2e-3 : 2e-4
            let ours = try FSIM.compute(a, b)
            XCTAssertEqual(ours.fsim, fsim, accuracy: tolerance, f[0])
            XCTAssertEqual(ours.fsimc, fsimc, accuracy: tolerance, f[0])
            checked += 1
        }
        XCTAssertEqual(checked, 3)
    }

    func testFSIMOfIdenticalImagesIsOne() throws {
        let a = try ImageIO.read(Self.folder.appendingPathComponent("s96-input.png").path).pixels
        let r = try FSIM.compute(a, a)
        XCTAssertEqual(r.fsim, 1, accuracy: 1e-12)
        XCTAssertEqual(r.fsimc, 1, accuracy: 1e-12)
        let flat = Tensor(shape: [1, 3, 16, 16], repeating: 0.5)
        XCTAssertEqual(try FSIM.compute(flat, flat).fsim, 1)
    }

    /// The FFT against a direct DFT, for a power of two and for lengths Bluestein handles.
    func testFFTMatchesTheDefinition() {
        for n in [1, 2, 8, 12, 96, 97] {
            var rng = SeededRandom(seed: UInt64(n))
            let xr = (0..<n).map { _ in Double(rng.normal()) }, xi = (0..<n).map { _ in Double(rng.normal()) }
            var re = xr, im = xi
            FFT(n).transform(&re, &im, inverse: false)
            for k in 0..<n {
                var sr = 0.0, si = 0.0
                for j in 0..<n {
                    let t = -2 * Double.pi * Double(j * k) / Double(n)
                    sr += xr[j] * cos(t) - xi[j] * sin(t); si += xr[j] * sin(t) + xi[j] * cos(t)
                }
                XCTAssertEqual(re[k], sr, accuracy: 1e-9 * Double(n)); XCTAssertEqual(im[k], si, accuracy: 1e-9 * Double(n))
            }
            FFT(n).transform(&re, &im, inverse: true)
            for j in 0..<n { XCTAssertEqual(re[j], xr[j], accuracy: 1e-9); XCTAssertEqual(im[j], xi[j], accuracy: 1e-9) }
        }
    }

    /// FSIM's downsampling follows conv2 'same' (zero padding): F = 2 averages pixels i and i+1.
    func testFSIMDownsampling() {
        let img: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9]     // 3 x 3
        XCTAssertEqual(FSIM.downsample(img, height: 3, width: 3, factor: 2), [3, 2.25, 3.75, 2.25])
    }
}

import DRHTEngine
