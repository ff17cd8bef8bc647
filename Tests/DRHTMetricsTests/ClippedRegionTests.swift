// The clipped-region score: which pixels count (hand-computed mask and dilation), PSNR on them
// alone, n/a below the minimum share; and the photo evaluation's oracle row (the exact inverse
// exposure), which knows the exposure but cannot bring back what clipping lost.
import DRHTEngine
import DRHTImageIO
@testable import DRHTEvaluation
import DRHTMetrics
import DRHTModel
import DRHTTraining
import Foundation
import XCTest
import DRHTTestSupport

final class ClippedRegionTests: TempDirTestCase {
    func testMaskIsAnyChannelAt255DilatedBySquares() {
        let t = Tensor(zeros: [1, 3, 9, 9])
        t[0, 1, 4, 4] = 1                       // one pixel, green channel only
        t[0, 0, 0, 8] = 254 / 255               // 254 of 255: not clipped
        let m = ClippedRegion.mask(t)
        let on = (0..<81).filter { m[$0] }
        XCTAssertEqual(on.count, 25, "a 5x5 square around (4, 4)")
        XCTAssert(on.allSatisfy { abs($0 / 9 - 4) <= 2 && abs($0 % 9 - 4) <= 2 })
        XCTAssertEqual(ClippedRegion.mask(t, dilation: 0).filter { $0 }.count, 1)
    }

    func testPSNROverTheMaskAlone() throws {
        let a = Tensor(shape: [1, 3, 10, 10], repeating: 0.5), b = Tensor(shape: [1, 3, 10, 10], repeating: 0.5)
        var mask = [Bool](repeating: false, count: 100)
        for i in 0..<10 { mask[i] = true }                      // the first row: 10% of the image
        for c in 0..<3 { for x in 0..<10 { b[0, c, 0, x] = 0.6 } }   // differs by 0.1 there only
        b[0, 0, 5, 5] = 0                                       // outside the mask: not counted
        XCTAssertEqual(try XCTUnwrap(try ClippedRegion.psnr(a, b, mask: mask)), 20, accuracy: 1e-5)   // 10 log10(1 / 0.01), Float rounding aside
        var tiny = [Bool](repeating: false, count: 100)
        tiny[0] = false
        XCTAssertNil(try ClippedRegion.psnr(a, b, mask: tiny), "an empty region is n/a")
        let big = Tensor(zeros: [1, 3, 100, 100])
        var few = [Bool](repeating: false, count: 10_000)
        for i in 0..<49 { few[i] = true }                       // 0.49% < 0.5%
        XCTAssertNil(try ClippedRegion.psnr(big, big, mask: few))
        few[49] = true
        XCTAssertEqual(try ClippedRegion.psnr(big, big, mask: few), .infinity)
    }

    /// The oracle undoes the exposure exactly where nothing clipped (no S-curve, no noise: to 8
    /// bits), and leaves clipped pixels at the flat grey 2^-ev.
    func testOracleUndoesTheExposureButNotTheClipping() {
        let photo = Tensor(zeros: [1, 3, 4, 4])
        for i in 0..<photo.count { photo.data[i] = Float((i * 37) % 256) / 255 }
        let camera = Camera(ev: 1, gamma: 2, contrast: 0, noise: 0)
        var rng = SeededRandom(seed: 0)
        let taken = camera.reexpose(photo, rng: &rng)
        let back = camera.undo(taken)
        for i in 0..<photo.count {
            if taken.data[i] < 1 {
                XCTAssertEqual(back.data[i], photo.data[i], accuracy: 2.5 / 255, "pixel \(i)")
            } else {
                XCTAssertEqual(back.data[i], (0.5 as Float).squareRoot(), accuracy: 0.5 / 255, "clipped pixel \(i): linear 1/2")
            }
        }
    }

    /// Photos get the oracle row and a clipped-region column; procedural scenes have no oracle.
    func testPhotoEvaluationHasTheOracleAndTheClippedColumn() throws {
        let photo = Tensor(zeros: [1, 3, 64, 96])
        for y in 0..<64 { for x in 0..<96 { for c in 0..<3 { photo[0, c, y, x] = Float(x + y) / 160 + Float(c) * 0.05 } } }
        try ImageIO.write(photo, to: dir + "/ramp.png")
        let data = try EvaluationData.photoFolder(dir, count: nil, longSide: 96).exposed(1.5)
        let e = Evaluation(data: data, model: DRHT.initialized(seed: 1), modes: [.gain(workSize: 64)])
        try e.run()
        XCTAssertEqual(e.methods, ["input", "auto-exposure", "histeq", "reinhard", Evaluation.oracleRow,
                                   "DRHT stage 1 (gain, 64 px)", "DRHT (gain, 64 px)"])
        let oracle = try XCTUnwrap(e.scores[Evaluation.oracleRow])
        XCTAssertGreaterThan(Scores.meanStd(oracle.psnr).mean, Scores.meanStd(e.scores["input"]!.psnr).mean + 5)
        XCTAssertEqual(oracle.clippedPSNR.count, 1, "+1.5 EV clips the ramp's bright end")
        XCTAssertLessThan(oracle.clippedPSNR[0], Scores.meanStd(oracle.psnr).mean, "the oracle cannot restore clipped pixels")
        XCTAssertFalse(e.methodsNotBeaten().contains(Evaluation.oracleRow), "the oracle is no baseline")
        XCTAssert(e.table()[0].contains("clipped dB (n)"))
        // Exposure error: the input, 1.5 stops over (less where it clipped), is too bright; the
        // oracle, which undoes the exposure, is nearer 0 (only its clipped pixels stay dark).
        let inputEV = try XCTUnwrap(e.scores["input"]?.values["ev_error"]?.first)
        let oracleEV = try XCTUnwrap(oracle.values["ev_error"]?.first)
        XCTAssertGreaterThan(inputEV, 0.5)
        XCTAssertLessThan(inputEV, 1.6)
        XCTAssertLessThan(abs(oracleEV), inputEV / 2)
        XCTAssertLessThanOrEqual(oracleEV, 0, "clipped pixels can only lose light")
        let json = try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as! [String: Any]
        let rows = json["results"] as! [[String: Any]]
        XCTAssertNotNil(rows.first { $0["method"] as? String == Evaluation.oracleRow }?["psnr_clipped"] as? Double)
        let scenes = Evaluation(data: .synthetic(count: 1, size: 64, seed: 0), model: DRHT.initialized(seed: 1), modes: [.direct])
        try scenes.run()
        XCTAssertFalse(scenes.methods.contains(Evaluation.oracleRow))
    }
}
