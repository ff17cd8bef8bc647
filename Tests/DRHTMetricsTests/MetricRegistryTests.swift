import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTModel
import DRHTMetrics
import DRHTEvaluation

/// The registry's promise, as a worked example: a metric declared in one place (here, in this
/// test file) becomes a column of `drht evaluate`'s table, members of its JSON, a line of its
/// HTML report, with nothing else edited.
final class MetricRegistryTests: XCTestCase {
    /// Mean absolute error, the whole declaration.
    static let meanAbsoluteError = ImageMetric(
        name: "mae", label: "MAE", header: "MAE (std)", reads: .target, better: .lower,
        about: "mean absolute difference on [0, 1] values (0 = identical)",
        compute: { c in
            let t = try c.requireTarget()
            return zip(c.output.array, t.array).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(t.count)
        },
        format: { String(format: "%.4f", $0) })

    func testAMetricDeclaredOnceShowsInTheTableTheJSONAndTheReport() throws {
        let e = Evaluation(data: .synthetic(count: 2, size: 64, seed: 0), model: DRHT.initialized(seed: 1),
                           modes: [.gain(workSize: 32)], metrics: ImageMetric.all + [Self.meanAbsoluteError])
        e.keepImages = true
        try e.run()
        let table = e.table()
        XCTAssertTrue(table[0].contains("MAE (std)"), table[0])
        // The input row's MAE, by hand, from the images the evaluation kept.
        let byHand = e.images.map { im in zip(im.input.array, im.target.array).map { Double(abs($0 - $1)) }.reduce(0, +) / Double(im.input.count) }
        let mean = byHand.reduce(0, +) / 2
        XCTAssertEqual(e.scores["input"]?.values["mae"]?.count, 2)
        XCTAssertEqual(try XCTUnwrap(e.scores["input"]?.values["mae"]).reduce(0, +) / 2, mean, accuracy: 1e-12)
        XCTAssertTrue(table[2].contains(String(format: "%.4f", mean)), table[2])

        let json = try JSONSerialization.jsonObject(with: Data(e.json().utf8)) as! [String: Any]
        let input = (json["results"] as! [[String: Any]]).first { $0["method"] as? String == "input" }!
        XCTAssertEqual(try XCTUnwrap(input["mae"] as? Double), mean, accuracy: 1e-12)
        XCTAssertNotNil(input["mae_std"] as? Double)

        let html = EvaluationReport.html(e, title: "t")
        XCTAssertTrue(html.contains("MAE " + String(format: "%.4f", byHand[0])), "the report shows each image's value")
    }

    func testTheRegistryIsWhatTheColumnsAre() {
        XCTAssertEqual(ImageMetric.all.map(\.name), ["psnr", "ssim", "fsim", "grid", "grid_peak", "psnr_clipped", "ev_error"])
        XCTAssertEqual(ImageMetric.named("psnr_clipped")?.reads, .photo)
        XCTAssertNil(ImageMetric.named("nope"))
        // Cells: PSNR mean (std), clipped mean (n) or n/a, grid with its peak.
        XCTAssertEqual(ImageMetric.psnr.cell([20, 22], [:]), "21.00 (1.00)")
        XCTAssertEqual(ImageMetric.psnrClipped.cell([], [:]), "n/a")
        XCTAssertEqual(ImageMetric.psnrClipped.cell([18, 20], [:]), "19.00 (2)")
        XCTAssertEqual(ImageMetric.grid.cell([1, 1.1], ["grid_peak": [4, 6]]), "1.05 (5.0)")
        XCTAssertEqual(ImageMetric.psnrClipped.json([]).map(\.0), ["psnr_clipped", "clipped_images"])
        XCTAssertNil(ImageMetric.psnrClipped.json([])[0].1)
    }

    /// Shared work is done once per case: the grid metric and its peak read one computation.
    func testACaseComputesTheGridOnce() throws {
        let image = randomTensor([1, 3, 64, 64], seed: 1, 0, 1)
        let c = MetricCase(output: image, target: nil)
        let r = try GridScore.compute(image)
        XCTAssertEqual(try ImageMetric.grid.compute(c), r.score)
        XCTAssertEqual(try ImageMetric.gridPeak.compute(c), r.peak)
        XCTAssertThrowsError(try ImageMetric.psnr.compute(c), "psnr needs a target")
    }
}
