import DRHTEngine
import DRHTEvaluation
import DRHTImageIO
import DRHTMetrics
import DRHTModel
import DRHTTraining
import Foundation
import XCTest

/// The HDR estimate's error in stops, on clipped pixels and on the rest (`HDRStops`).
final class HDRStopsTests: XCTestCase {
    func grey(_ values: [Float], w: Int) -> Tensor {
        let t = Tensor(zeros: [1, 3, values.count / w, w])
        for c in 0..<3 { for (i, v) in values.enumerated() { t.data[c * values.count + i] = v } }
        return t
    }

    func testHandComputedStops() throws {
        // 4 x 4 grey: 12 pixels at 1, the 4 clipped ones at 16 (truth) or 4 (estimate: 2 stops short).
        // Log-averages: truth 16^(4/16) = 2, estimate 4^(4/16) = sqrt 2. Scaled to 0.18: truth
        // 0.09 and 1.44, estimate 0.1273 and 0.5091: the rest is half a stop too bright, the
        // clipped pixels 1.5 stops too dark.
        var truth = [Float](repeating: 1, count: 16), estimate = truth
        var mask = [Bool](repeating: false, count: 16)
        for i in [5, 6, 9, 10] { truth[i] = 16; estimate[i] = 4; mask[i] = true }
        let e = try HDRStops.error(grey(estimate, w: 4), grey(truth, w: 4), clippedMask: mask)
        let eps = Double(HDRStops.epsilon)
        let s2 = 0.18 / 2.0.squareRoot()
        XCTAssertEqual(try XCTUnwrap(e.clipped), abs(log2((4 * s2 + eps) / (1.44 + eps))), accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(e.clipped), 1.5, accuracy: 0.01)
        XCTAssertEqual(try XCTUnwrap(e.rest), abs(log2((s2 + eps) / (0.09 + eps))), accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(e.rest), 0.5, accuracy: 0.02)
        // The same shape at another brightness scores 0: only the shape counts.
        let same = try HDRStops.error(grey(truth.map { $0 * 7 }, w: 4), grey(truth, w: 4), clippedMask: mask)
        XCTAssertEqual(try XCTUnwrap(same.clipped), 0, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(same.rest), 0, accuracy: 1e-5)
        // No clipped pixels: n/a.
        XCTAssertNil(try HDRStops.error(grey(truth, w: 4), grey(truth, w: 4), clippedMask: [Bool](repeating: false, count: 16)).clipped)
    }

    func testInverseCurveUndoesSRGB() {
        let t = grey([0, 0.5, 1, 0.25], w: 2)
        let l = HDRStops.inverseCurve(t)
        for i in 0..<4 { XCTAssertEqual(l.data[i], SRGB.decode(t.data[i]), accuracy: 1e-7) }
        XCTAssertEqual(l.data[1], 0.214, accuracy: 1e-3)
    }

    /// Views of real radiance get the HDR table; photos (their H_gt is the photo itself) do not.
    func testPanoramaEvaluationScoresTheHDREstimate() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-stops-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // A sky with a sun 12 stops above the ground: over-exposed views clip it.
        let p = Tensor(zeros: [1, 3, 64, 128])
        for c in 0..<3 { for y in 0..<64 { for x in 0..<128 {
            p[0, c, y, x] = y < 32 ? (abs(x - 64) < 6 && abs(y - 26) < 6 ? 4096 : 2) : 0.3 + Float(c) * 0.1
        }}}
        try ImageIO.write(p, to: dir + "/sky.hdr")
        let source = try DataSource.parse("panorama:" + dir)
        let data = EvaluationData(source: source, count: 2, size: 64).exposed(2)
        let e = Evaluation(data: data, model: DRHT.initialized(seed: 1), modes: [.direct])
        try e.run()
        let curve = try XCTUnwrap(e.hdrStops[Evaluation.inverseCurveRow])
        XCTAssertEqual(curve.rest.count, 2)
        XCTAssertFalse(curve.clipped.isEmpty, "+2 EV clips the sky")
        XCTAssertGreaterThan(Scores.meanStd(curve.clipped).mean, 1, "the inverse curve cannot bring back the sun")
        XCTAssertNotNil(e.hdrStops["DRHT stage 1 (direct)"])
        let table = e.hdrStopsTable()
        XCTAssertTrue(table[0].hasPrefix("HDR estimate against the real radiance"))
        XCTAssertTrue(table.contains { $0.hasPrefix(Evaluation.inverseCurveRow) })
        let json = try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as! [String: Any]
        XCTAssertEqual((json["hdr_stops"] as? [[String: Any]])?.count, 2)
    }
}
