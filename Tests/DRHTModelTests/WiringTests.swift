import XCTest
import DRHTEngine
@testable import DRHTModel

/// The one wiring description (`Architecture.wiring`) that training, the Pipeline and the
/// receptive fields follow, checked against docs/MODEL.md's table by hand.
final class WiringTests: XCTestCase {
    func testTheWiringIsTheTables() {
        let names = Architecture.layers.map(\.name)
        func index(_ n: String) -> Int { names.firstIndex(of: n)! }
        let w = Architecture.wiring
        XCTAssertNil(w[0].input, "enc1 reads the autoencoder's input")
        for i in 1..<w.count { XCTAssertEqual(w[i].input, i - 1, names[i]) }
        let skips = Dictionary(uniqueKeysWithValues: w.indices.compactMap { i in w[i].skip.map { (names[i], names[$0]) } })
        XCTAssertEqual(skips, ["dec1": "enc5", "dec2": "enc4", "dec3": "enc3", "dec4": "enc2", "dec5": "enc1"])
        XCTAssertEqual(w.indices.filter { w[$0].addsBase }, [index("head")])
    }

    func testThePipelineReadsWhatTheWiringSays() {
        func reads(_ step: String) -> [String] { Pipeline.Step(name: step)!.reads.map(\.name) }
        XCTAssertEqual(reads("hdr.enc1"), ["input"])
        XCTAssertEqual(reads("hdr.dec1"), ["hdr.latent", "hdr.enc5"])
        XCTAssertEqual(reads("hdr.dec2"), ["hdr.dec1.skip", "hdr.enc4"])
        XCTAssertEqual(reads("hdr.head"), ["hdr.dec5.skip", "input"])
        XCTAssertEqual(reads("transform"), ["hdr.head"])
        XCTAssertEqual(reads("ldr.enc1"), ["transform"])
        XCTAssertEqual(reads("ldr.head"), ["ldr.dec5.skip", "hdr.head"])
        XCTAssertEqual(Pipeline.steps.count, 2 * Architecture.layers.count + 1)
        XCTAssertEqual(Pipeline.Step.block(.ldr, 6).name, "ldr.dec1")
    }

    /// Outputs are typed by block; their printed names are the REPL's variable names and come
    /// back to the same output.
    func testOutputsAreTypedByBlockAndNamedOnce() throws {
        let names = Pipeline.Output.all.map(\.name)
        XCTAssertEqual(Set(names).count, names.count, "no two outputs share a name")
        XCTAssertEqual(names.count, 1 + 2 * (Architecture.layers.count + 5) + 2, "input, every block, 5 skip sums per network, H and log H")
        for o in Pipeline.Output.all { XCTAssertEqual(Pipeline.Output(name: o.name), o) }
        XCTAssertEqual(Pipeline.Output.of(.hdr, "dec3").name, "hdr.dec3")
        XCTAssertEqual(Pipeline.Output.skipSum(.ldr, 8).name, "ldr.dec3.skip")
        XCTAssertEqual(Pipeline.Output(name: "transform.H"), .radiance)
        XCTAssertEqual(Pipeline.Output(name: "ldr.dec3.skip")?.writer, .block(.ldr, 8))
        XCTAssertEqual(Pipeline.Output.radiance.writer, .transform)
        XCTAssertNil(Pipeline.Output.input.writer)
        XCTAssertNil(Pipeline.Output(name: "hdr.enc1.skip"), "encoders have no skip sum")
        XCTAssertNil(Pipeline.Step(name: "hdr.enc9"))
    }

    /// After a full run kept whole, every output is there; with `.needed` only what the last
    /// step wrote that nothing reads later remains, and asking for a freed one says so.
    func testEveryOutputIsWrittenAndFreedOutputsAreReported() throws {
        let m = DRHT()
        let x = Tensor(shape: [1, 3, 32, 32], repeating: 0.5)
        let kept = Pipeline(model: m, image: x, retention: .everything)
        kept.runAll()
        for o in Pipeline.Output.all { XCTAssertNotNil(kept[o], o.name) }
        let lean = Pipeline(model: m, image: x, retention: .needed)
        lean.runAll()
        XCTAssertNotNil(lean[.of(.ldr, "head")])
        XCTAssertNil(lean[.of(.hdr, "enc1")])
        XCTAssertThrowsError(try lean.tensor(.of(.hdr, "enc1"))) { e in
            XCTAssertEqual((e as? PipelineError)?.description, "hdr.enc1 has not been computed yet; `step to hdr.enc1` computes it")
        }
        XCTAssertEqual(lean.paddedInput.shape, [1, 3, 32, 32], "the padded input is kept whatever the retention")
    }
}
