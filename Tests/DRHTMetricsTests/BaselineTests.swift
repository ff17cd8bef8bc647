// The classic baselines do what they say, and an evaluation scores every method.
import DRHTEngine
@testable import DRHTEvaluation
import DRHTModel
import DRHTTraining
import Foundation
import XCTest
import DRHTTestSupport

final class BaselineTests: XCTestCase {
    func ramp(_ size: Int = 32, scale: Float = 0.3) -> Tensor {
        let t = Tensor(zeros: [1, 3, size, size])
        let plane = size * size
        for i in 0..<plane { for c in 0..<3 { t.data[c * plane + i] = scale * Float(i) / Float(plane) * (1 + 0.1 * Float(c)) } }
        return t
    }

    func testIdentityIsTheInput() {
        let t = ramp()
        XCTAssertEqual(Baseline.identity.apply(t).array, t.array)
    }

    func testAutoExposureBringsMeanLinearLuminanceTo018() {
        let out = Baseline.autoExposure.apply(ramp(scale: 0.2))
        let lin = Baseline.linearise(out), plane = out.h * out.w
        let mean = (0..<plane).reduce(0.0) { $0 + Double(SyntheticScenes.luminance(lin, $1, plane: plane)) } / Double(plane)
        XCTAssertEqual(mean, 0.18, accuracy: 0.01)     // nothing clips for this dark ramp
    }

    func testHistogramEqualisationFlattensLuminance() {
        let out = Baseline.histogramEqualisation.apply(ramp(scale: 0.25))
        let plane = out.h * out.w
        let ys = (0..<plane).map { SyntheticScenes.luminance(out, $0, plane: plane) }.sorted()
        // A uniform distribution's quartiles: 0.25, 0.5, 0.75.
        XCTAssertEqual(ys[plane / 4], 0.25, accuracy: 0.02)
        XCTAssertEqual(ys[plane / 2], 0.5, accuracy: 0.02)
        XCTAssertEqual(ys[3 * plane / 4], 0.75, accuracy: 0.02)
    }

    /// Issue 31: equalisation traps no more on NaN luminance (Float -> Int of a histogram bin).
    func testEqualisationOfNonFiniteValuesDoesNotTrap() {
        let t = ramp(scale: 1)
        t.data[0] = .nan; t.data[1] = .infinity; t.data[2] = -.infinity
        let out = Baseline.histogramEqualisation.apply(t)
        XCTAssertEqual(out.shape, t.shape)
        let allNaN = Tensor(shape: t.shape, repeating: .nan)
        XCTAssertEqual(Baseline.histogramEqualisation.apply(allNaN).shape, t.shape)
    }

    func testReinhardOperatorThenSRGB() {
        // A grey pixel of luminance 0.18 in an image whose brightest luminance is 1:
        // L_d = 0.18 (1 + 0.18) / 1.18 = 0.18, sRGB(0.18) = 0.4614.
        let hdr = Tensor(shape: [1, 3, 1, 2], values: [0.18, 1, 0.18, 1, 0.18, 1])
        let t = Baseline.reinhardOperator(hdr)
        XCTAssertEqual(t[0], 1.055 * powf(0.18, 1 / 2.4) - 0.055, accuracy: 1e-5)
        XCTAssertEqual(t[1], 1, accuracy: 1e-6, "L = L_white maps to 1")
    }

    /// Reinhard on the linearised input of a perfectly exposed, unclipped sRGB camera equals
    /// Reinhard's operator on the true radiance (exposure cancels in the key normalisation).
    func testReinhardOfAnIdealCameraIsReinhardOfTheRadiance() {
        let t = SyntheticScenes.triplet(seed: 3, size: 32)
        let hdr = t.hdr.copy()
        var white: Float = 0
        for i in 0..<hdr.count { white = max(white, hdr.data[i]) }
        for i in 0..<hdr.count { hdr.data[i] /= white }                 // fits in [0, 1]: no clipping
        let ideal = Tensor(zeros: hdr.shape)
        for i in 0..<hdr.count { ideal.data[i] = SRGB.encode(hdr.data[i]) }
        let out = Baseline.reinhard.apply(ideal)
        let normalised = hdr.copy(); SyntheticScenes.normalise(normalised)
        let target = Baseline.reinhardOperator(normalised)
        var worst: Float = 0
        for i in 0..<out.count { worst = max(worst, abs(out.data[i] - target.data[i])) }
        XCTAssertLessThan(worst, 2e-3)
    }

    func testEvaluationScoresEveryMethod() throws {
        let modes: [CorrectionMode] = [.direct, .gain(workSize: 32)]
        let e = Evaluation(data: .synthetic(count: 2, size: 64, seed: 0), model: DRHT.initialized(seed: 1), modes: modes)
        e.keepImages = true
        var calls = 0
        try e.run(progress: { _, _ in calls += 1 })
        XCTAssertEqual(calls, 2)
        XCTAssertEqual(e.methods, ["input", "auto-exposure", "histeq", "reinhard", "DRHT stage 1 (direct)", "DRHT stage 1 (gain, 32 px)",
                                   "DRHT (direct)", "DRHT (gain, 32 px)"])
        XCTAssertEqual(e.primary, "DRHT (gain, 32 px)")
        // The verdict is about the default correction whenever it is among the modes, wherever listed.
        let both = Evaluation(data: .synthetic(count: 1, size: 64, seed: 0), model: DRHT.initialized(seed: 1),
                              modes: [.gain(workSize: 128), .default, .direct])
        XCTAssertEqual(both.primary, "DRHT (gain, \(CorrectionMode.defaultWorkSize) px)")
        let other = Evaluation(data: .synthetic(count: 1, size: 64, seed: 0), model: DRHT.initialized(seed: 1),
                               modes: [.direct, .gain(workSize: 128)])
        XCTAssertEqual(other.primary, "DRHT (gain, 128 px)")
        for m in e.methods where !m.contains("stage 1") {
            XCTAssertEqual(e.scores[m]?.psnr.count, 2, m)
            XCTAssertEqual(e.scores[m]?.grid.count, 2, m)
            XCTAssertTrue(e.scores[m]!.grid.allSatisfy { $0.isFinite && $0 >= 0 }, m)
        }
        for mode in modes { XCTAssertEqual(e.scores[Evaluation.stage1Label(mode)]?.logError.count, 2) }
        let table = e.table()
        XCTAssertEqual(table.count, 2 + 8)
        XCTAssertTrue(table[0].contains("grid (peak)"))
        XCTAssertTrue(table[2].hasPrefix("input"))
        XCTAssertTrue(table.contains { $0.hasPrefix("DRHT (gain, 32 px)") })
        XCTAssertTrue(table.contains { $0.contains("log-domain RMSE") })
        let json = try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as! [String: Any]
        XCTAssertEqual(json["images"] as? Int, 2)
        let results = json["results"] as! [[String: Any]]
        XCTAssertEqual(results.count, 8)
        XCTAssertNotNil(results[0]["grid"] as? Double)
        XCTAssertNotNil(results[0]["grid_peak"] as? Double)
        // The verdict compares the primary row with every baseline, in mean PSNR and SSIM.
        let mean = { (v: [Double]) in Scores.meanStd(v).mean }
        let p = e.scores[e.primary]!
        let behind = Evaluation.baselineRows.filter { m in
            mean(e.scores[m]!.psnr) >= mean(p.psnr) || mean(e.scores[m]!.ssim) >= mean(p.ssim)
        }
        XCTAssertEqual(e.methodsNotBeaten(), behind)
        XCTAssertTrue(e.verdict().hasPrefix(behind.isEmpty ? "DRHT (gain, 32 px) is ahead" : "DRHT (gain, 32 px) does not beat: " + behind.joined(separator: ", ")))
        let html = EvaluationReport.html(e, title: "t")
        XCTAssertEqual(html.components(separatedBy: "data:image/jpeg;base64,").count - 1, 2 * 7)   // 4 baselines (with the input), 2 modes, target
        // Held-out scenes are not training or validation scenes.
        XCTAssertGreaterThan(Split.evaluation.seed(0), Split.validation.seed(1_000_000))
    }
}

final class PhotoEvaluationTests: TempDirTestCase {
    func testHeldOutPhotosBecomeTriplets() throws {
        var rng = SeededRandom(seed: 2)
        try ImageIO.write(Tensor.uniform([1, 3, 90, 120], 0.1, 0.9, rng: &rng), to: dir + "/a.png")
        let data = try EvaluationData.photoFolder(dir, count: 3, longSide: 64)
        XCTAssertEqual(data.count, 3)
        let (id, t) = try data.triplet(2)
        XCTAssertEqual(id, "a #3")
        XCTAssertEqual(t.input.shape, [1, 3, 48, 64], "the whole photo, long side 64")
        XCTAssertEqual(t.target.shape, [1, 3, 48, 64])
        XCTAssertNotEqual(try data.triplet(0).1.input.array, t.input.array)   // a different camera each time
        XCTAssertEqual(try EvaluationData.photoFolder(dir, count: nil, longSide: 64).count, 1, "each photo once by default")
        XCTAssertThrowsError(try EvaluationData.photoFolder(dir + "/missing", count: 1, longSide: 64))
        // A fixed exposure: +2 EV is brighter than -2 EV of the same photo and camera.
        let bright = try data.exposed(2).triplet(0).1.input.stats.mean, dark = try data.exposed(-2).triplet(0).1.input.stats.mean
        XCTAssertGreaterThan(bright, dark + 0.1)
    }
}

import DRHTImageIO
