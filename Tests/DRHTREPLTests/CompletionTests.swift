// Tab completion, as readline asks for it: the text before the word and the word itself.
import DRHTREPL
import XCTest

final class CompletionTests: XCTestCase {
    var session: Session!

    override func setUpWithError() throws {
        session = Session(console: Console { _ in })
        try session.execute("model init --seed 1")
        try session.execute("synth --size 32")
        try session.execute("synth --size 32 as dark")
    }

    func words(_ before: String, _ word: String) -> [String] {
        guard case .words(let w) = Completion.complete(before: before, word: word, session: session) else {
            XCTFail("expected words for \"\(before)\(word)\""); return []
        }
        return w
    }

    func testCommandNames() {
        XCTAssertEqual(words("", "sy"), ["synth"])
        XCTAssertEqual(words("", "s"), ["synth", "show", "step", "sweep", "saliency", "scale", "set"])
        XCTAssertEqual(words("", "zz"), [])
        XCTAssertEqual(words("help ", "ma"), ["maps"])
    }

    func testVariablesAndLayers() {
        XCTAssertEqual(words("show ", "sc"), ["scene", "scene.hdr_gt", "scene.target"])
        XCTAssertEqual(words("compare scene ", "da"), ["dark", "dark.hdr_gt", "dark.target"])
        XCTAssertEqual(words("step to ", "hdr.e"), ["hdr.enc1", "hdr.enc2", "hdr.enc3", "hdr.enc4", "hdr.enc5"])
        XCTAssertEqual(words("maps ", "ldr.l"), ["ldr.latent"])
        XCTAssertEqual(words("step ", "t"), ["to"])
        // saliency's targets: a layer and a colon, the output region, a score against a variable.
        XCTAssertEqual(words("saliency ", "hdr.la"), ["hdr.latent:"])
        XCTAssertEqual(words("saliency ", "o"), ["out", "out["])
        XCTAssertEqual(words("saliency ", "psnr:da"), ["psnr:dark", "psnr:dark.hdr_gt", "psnr:dark.target"])
        XCTAssertEqual(words("saliency hdr.latent:3 --method ", "g"), ["grad", "gradxinput"])
        XCTAssertEqual(words("rf ", "ldr.d"), ["ldr.dec1", "ldr.dec2", "ldr.dec3", "ldr.dec4", "ldr.dec5"])
        XCTAssertEqual(words("ablate ", "ldr.dec4"), ["ldr.dec4", "ldr.dec4.skip"])
        XCTAssertEqual(words("ablate ", "o"), ["off"])
        XCTAssertEqual(words("latent ", "s"), ["swap"])
        XCTAssertEqual(words("sweep ", "da"), ["dark", "dark.hdr_gt", "dark.target"])
    }

    func testOptionsAndTheirValues() {
        XCTAssertEqual(words("maps hdr.enc1 ", "--sc"), ["--scale"])
        XCTAssertEqual(words("maps hdr.enc1 --scale ", ""), ["channel", "layer", "global"])
        XCTAssertEqual(words("latent --net ", "l"), ["ldr"])
        XCTAssertEqual(words("synth ", "--"), ["--seed", "--ev", "--size", "--from"])
        XCTAssertEqual(words("synth --from ", "da"), ["dark", "dark.hdr_gt", "dark.target"], "--from offers variables")
        XCTAssertEqual(words("set display ", "k"), ["kitty"])
        // Each setting offers its own values only.
        XCTAssertEqual(words("set mode ", ""), ["gain", "direct"])
        XCTAssertEqual(words("set pauses ", ""), ["on", "off"])
        XCTAssertEqual(words("set threads ", ""), [])
        // After `as` comes a new name: nothing to complete.
        XCTAssertEqual(words("infer scene as ", "s"), [])
    }

    func testPathsAreLeftToReadline() {
        XCTAssertEqual(Completion.complete(before: "load ", word: "ph", session: session), .paths)
        XCTAssertEqual(Completion.complete(before: "export scene ", word: "out", session: session), .paths)
        XCTAssertEqual(Completion.complete(before: "train --save ", word: "", session: session), .paths)
        XCTAssertEqual(Completion.complete(before: "model load ", word: "W", session: session), .paths)
    }

    func testLessons() {
        let lessons = words("lesson ", "")
        XCTAssertTrue(lessons.contains("1"))
        XCTAssertTrue(lessons.contains("01-ldr-vs-hdr"))
        XCTAssertTrue(lessons.contains("list"))
        XCTAssertEqual(words("lesson ", "08"), ["08-training"])
    }
}
