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
        XCTAssertEqual(words("", "s"), ["synth", "show", "step", "set"])
        XCTAssertEqual(words("", "zz"), [])
        XCTAssertEqual(words("help ", "ma"), ["maps"])
    }

    func testVariablesAndLayers() {
        XCTAssertEqual(words("show ", "sc"), ["scene", "scene.hdr_gt", "scene.target"])
        XCTAssertEqual(words("compare scene ", "da"), ["dark", "dark.hdr_gt", "dark.target"])
        XCTAssertEqual(words("step to ", "hdr.e"), ["hdr.enc1", "hdr.enc2", "hdr.enc3", "hdr.enc4", "hdr.enc5"])
        XCTAssertEqual(words("maps ", "ldr.l"), ["ldr.latent"])
        XCTAssertEqual(words("step ", "t"), ["to"])
    }

    func testOptionsAndTheirValues() {
        XCTAssertEqual(words("maps hdr.enc1 ", "--sc"), ["--scale"])
        XCTAssertEqual(words("maps hdr.enc1 --scale ", ""), ["channel", "layer", "global"])
        XCTAssertEqual(words("latent --net ", "l"), ["ldr"])
        XCTAssertEqual(words("synth ", "--"), ["--seed", "--ev", "--size"])
        XCTAssertEqual(words("set display ", "k"), ["kitty"])
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
