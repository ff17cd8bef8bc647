import XCTest
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
        XCTAssertEqual(Pipeline.reads("hdr.enc1"), ["input"])
        XCTAssertEqual(Pipeline.reads("hdr.dec1"), ["hdr.latent", "hdr.enc5"])
        XCTAssertEqual(Pipeline.reads("hdr.dec2"), ["hdr.dec1.skip", "hdr.enc4"])
        XCTAssertEqual(Pipeline.reads("hdr.head"), ["hdr.dec5.skip", "input"])
        XCTAssertEqual(Pipeline.reads("transform"), ["hdr.head"])
        XCTAssertEqual(Pipeline.reads("ldr.enc1"), ["transform"])
        XCTAssertEqual(Pipeline.reads("ldr.head"), ["ldr.dec5.skip", "hdr.head"])
        XCTAssertEqual(Pipeline.steps.count, 2 * Architecture.layers.count + 1)
        XCTAssertEqual(Pipeline.Step.block(.ldr, 6).name, "ldr.dec1")
    }
}
