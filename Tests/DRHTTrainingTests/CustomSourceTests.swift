import XCTest
import Foundation
import DRHTTestSupport
import DRHTEngine
import DRHTModel
@testable import DRHTTraining

/// The data-source protocol's promise, as a worked example: a source declared in one place
/// (here, in this test file) trains, validates and mixes like the built-in ones, with nothing
/// else edited. (Naming it for `--data` is one more line, in `DataSource.kinds`.)
final class CustomSourceTests: XCTestCase {
    /// Flat grey scenes: the input `level` everywhere, the target mid-grey.
    struct FlatSource: TripletSource {
        let level: Float
        var description: String { "flat (\(level))" }
        var itemCount: Int? { 3 }
        func flat(_ size: Int, _ v: Float) -> Tensor {
            let t = Tensor(zeros: [1, 3, size, size])
            for i in 0..<t.count { t.data[i] = v }
            return t
        }
        func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
            Triplet(input: flat(size, level), hdr: flat(size, 0.18), target: flat(size, 0.46))
        }
        func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
            ("flat \(i)", try sample(seed: 0, size: size, framing: .whole))
        }
        func describePass(count: Int, size: Int, first: Int, exposure: String) -> String { "\(count) flat images" }
        func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (3, 32) }
    }

    func testANewSourceTrainsValidatesAndMixes() throws {
        var config = TrainingConfig()
        config.data = DataSource(FlatSource(level: 0.1))
        config.validationData = DataSource(FlatSource(level: 0.9))
        config.size = 32; config.batch = 2; config.steps = 1; config.validationCount = 2
        let trainer = try Trainer(model: DRHT.initialized(seed: 1), config: config, output: "")
        trainer.writesFiles = false
        let row = try XCTUnwrap(try trainer.run())
        XCTAssertTrue(row.loss.isFinite)
        XCTAssertTrue(trainer.validationLoss().isFinite)

        // Mixed with a built-in source: samples alternate by seed, items by index.
        let mix = DataSource(MixedSource(parts: [FlatSource(level: 0.1), SyntheticSource()]))
        XCTAssertEqual(mix.description, "flat (0.1) + synth")
        XCTAssertNil(mix.itemCount, "procedural scenes have no end, so neither has the mix")
        XCTAssertEqual(try mix.sample(seed: 4, size: 32, framing: .whole).input.array.first, 0.1)
        XCTAssertEqual(try mix.item(2, size: 32).id, "flat 1")
        XCTAssertEqual(try mix.item(1, size: 32).id, "scene 0")
    }

    func testSpecsAreMadeAbsoluteFolderByFolder() {
        let cwd = FileManager.default.currentDirectoryPath
        XCTAssertEqual(DataSource.absolute("synth"), "synth")
        XCTAssertEqual(DataSource.absolute("photos:/abs/p+synth"), "photos:/abs/p+synth")
        XCTAssertEqual(DataSource.absolute("photos:rel/p+panorama-photo:q"), "photos:\(cwd)/rel/p+panorama-photo:\(cwd)/q")
        XCTAssertEqual(DataSource.absolute("trip"), "\(cwd)/trip")
        XCTAssertEqual(DataSource.absolute("photos:"), "photos:", "an empty folder stays empty: parse says it names none")
    }

    func testTheParserKnowsEveryKindAndSaysSoInOneLine() {
        XCTAssertEqual(DataSource.kinds.map(\.syntax), ["synth", "synth-under", "photos:DIR", "panorama:DIR", "panorama-photo:DIR", "a triplet folder"])
        XCTAssertTrue(try DataSource.parse("synth").source is SyntheticSource)
        XCTAssertThrowsError(try DataSource.parse("/nowhere")) {
            XCTAssertEqual("\($0)", "/nowhere: no such folder; --data takes synth, synth-under, photos:DIR, panorama:DIR, panorama-photo:DIR or a triplet folder")
        }
    }
}
