// Every lesson runs end to end (non-interactively), each `expect` holding, and leaves the PNGs
// it promises; a lesson run saved as a notebook parses back.
import DRHTEngine
import DRHTImageIO
import DRHTModel
@testable import DRHTREPL
import Foundation
import XCTest
import DRHTTestSupport

final class LessonTests: XCTestCase {
    func testThereAreNineLessonsInOrder() {
        let lessons = LessonLibrary.lessons()
        XCTAssertGreaterThanOrEqual(lessons.count, 9)
        XCTAssertEqual(lessons.prefix(9).map(\.number), Array(1...9))
        let topics = ["ldr-vs-hdr", "gamma-and-log", "encoder", "latent", "decoder-skips", "transform-ldr", "inference-metrics", "training",
                      "any-size"]
        for (l, topic) in zip(lessons, topics) { XCTAssertTrue(l.name.hasSuffix(topic), l.name) }
        for l in lessons { XCTAssertFalse(l.title.isEmpty, "\(l.name) has no title") }
    }

    /// `lesson` takes a number 1...N, or a unique prefix of a name with or without its number:
    /// every word Tab offers, and nothing else silently.
    func testLessonLookup() throws {
        let all = LessonLibrary.lessons()
        XCTAssertEqual(try LessonLibrary.find("1").number, 1)
        XCTAssertEqual(try LessonLibrary.find("02").number, 2)
        XCTAssertEqual(try LessonLibrary.find("gamma").number, 2)
        XCTAssertEqual(try LessonLibrary.find("ldr").number, 1, "ldr-vs-hdr starts with ldr; transform-ldr only ends with it")
        XCTAssertEqual(try LessonLibrary.find("08-tr").number, 8)
        XCTAssertEqual(try LessonLibrary.find("latent").number, 4, "an exact topic wins over skips-and-latent")
        for bad in ["0", "\(all.count + 1)", "zebra", ""] {
            XCTAssertThrowsError(try LessonLibrary.find(bad), bad) { error in
                let text = "\(error)"
                XCTAssert(text.contains("1 ldr-vs-hdr") && text.contains("\(all.count) "), text)
            }
        }
        XCTAssertThrowsError(try LessonLibrary.find("t")) { XCTAssert("\($0)".contains("several lessons"), "\($0)") }
        let offered = Completion.complete(before: "lesson ", word: "", session: Session(console: Console { _ in }))
        guard case .words(let words) = offered else { return XCTFail("lesson offers words") }
        for word in words where word != "list" {
            XCTAssertNoThrow(try LessonLibrary.find(word), "Tab offers \(word)")
        }
    }

    /// Claims about what the trained network does, by lesson: each must FAIL when the lessons
    /// run with untrained weights (`drht init --seed 1`), so the expects that check them have
    /// teeth (claims about the architecture or arithmetic hold either way and are not listed).
    static let trainedClaims: [Int: [String]] = [
        4: ["cosine(under, over) < 0"],
        5: ["psnr(hdr.head, tauH) > psnr(photo, tauH) + 1", "ssim(photo.ablated, photo.target) < ssim(photo.intact, photo.target) - 0.05"],
        6: ["psnr(ldr.head, dark.target) > psnr(dark, dark.target) + 3", "psnr(ldr.head, bright.target) > psnr(hdr.head, bright.target) + 1"],
        7: ["psnr(fixed, dark.target) > psnr(dark, dark.target) + 2.5",
            "ssim(fixed_garden, garden_bright.target) > ssim(garden_bright.autoexp, garden_bright.target)",
            "grid_peak(fixed_bright) > grid_peak(bright) + 1"],
        8: ["psnr(shipped, dark.target) > psnr(dark, dark.target) + 3"],
        9: ["gain.gain.max < 0", "psnr(gain, bright.target) > psnr(bright, bright.target) + 5"],
        10: ["region.max < 0.01", "region.min > -0.01"],
        11: ["mean(swapped) < mean(dark)", "similarity(hdr.head, -3) > 0.9", "similarity(ldr.head, 3) > 0.9",
             "mean(no_dec4) > mean(dark.intact) + 0.05"],
        12: ["psnr(fixed, bright.target) > psnr(bright.autoexp, bright.target)",
             "stops_clipped(curve2, sunset.hdr_gt, sunset) < stops_clipped(fixed2.hdr, sunset.hdr_gt, sunset)"],
    ]

    /// Claims a lesson says an untrained network meets too: they must HOLD untrained.
    static let untrainedClaims: [Int: [String]] = [
        11: ["similarity(hdr.dec3) < similarity(hdr.latent)"],
        12: ["psnr_clipped(fixed, bright.target, bright) > psnr_clipped(bright.autoexp, bright.target, bright)",
             "stops_clipped(fixed.hdr, bright.hdr_gt, bright) < stops_clipped(curve, bright.hdr_gt, bright)"],
    ]

    func testTrainedClaimsFailWithAnUntrainedModel() throws {
        try inTemporaryDirectory {
            let untrained = FileManager.default.currentDirectoryPath + "/untrained.safetensors"
            try DRHT.initialized(seed: 1).save(to: untrained, dtype: .f16)
            for lesson in LessonLibrary.lessons() {
                guard let claims = LessonTests.trainedClaims[lesson.number] else { continue }
                var output = ""
                let session = Session(console: Console(width: 80) { output += $0 })
                session.defaultWeightsPath = untrained
                session.expectFailures = []
                XCTAssertNoThrow(try LessonRunner(session: session).run(file: lesson.path, title: lesson.title),
                                 "\(lesson.name) did not run to its end untrained; output:\n\(output.suffix(3000))")
                let failed = Set((session.expectFailures ?? []).map { $0.components(separatedBy: "  (")[0] })
                for claim in claims {
                    XCTAssert(failed.contains(claim), "\(lesson.name): `expect \(claim)` holds even untrained (or is not in the lesson)")
                }
                for claim in LessonTests.untrainedClaims[lesson.number] ?? [] {
                    XCTAssertFalse(failed.contains(claim), "\(lesson.name): `expect \(claim)` fails untrained, but the lesson says it holds")
                    XCTAssertTrue(try String(contentsOfFile: lesson.path, encoding: .utf8).contains("expect " + claim), "\(lesson.name) has no `expect \(claim)`")
                }
            }
        }
    }

    /// `model default` goes back to the session's starting weights; when they cannot be loaded
    /// the current model stays.
    func testModelDefaultKeepsTheModelWhenItFails() throws {
        let session = Session(console: Console { _ in })
        session.defaultWeightsPath = "/nonexistent/weights.safetensors"
        try session.execute("model init --seed 3")
        let before = session.modelSource
        XCTAssertThrowsError(try session.execute("model default"))
        XCTAssertEqual(session.modelSource, before)
        XCTAssertEqual(try session.model().notes, DRHT.initialized(seed: 3).notes)
    }

    func testEveryLessonRunsEndToEnd() throws {
        for lesson in LessonLibrary.lessons() {
            let text = try String(contentsOfFile: lesson.path, encoding: .utf8)
            let commands = LessonRunner.parse(text).compactMap { item -> String? in
                if case .command(let c, _) = item { return c } else { return nil }
            }
            XCTAssertTrue(commands.contains { $0.hasPrefix("expect ") }, "\(lesson.name) checks nothing")
            let exports = commands.filter { $0.hasPrefix("export ") }
            XCTAssertFalse(exports.isEmpty, "\(lesson.name) exports no picture")
            try inTemporaryDirectory {
                var output = ""
                let session = Session(console: Console(width: 80) { output += $0 })
                XCTAssertNoThrow(try LessonRunner(session: session).run(file: lesson.path, title: lesson.title),
                                 "\(lesson.name) failed; output:\n\(output)")
                XCTAssertFalse(output.contains("error:"), lesson.name)
                XCTAssertFalse(output.contains("\u{1B}"), "escape codes without a terminal in \(lesson.name)")
                // `lesson` keeps the session, and the next lesson counts on the shipped weights
                // and gain mode: a lesson that changes either changes it back.
                XCTAssertFalse(session.settings.directMode, "\(lesson.name) leaves `set mode direct` to the next lesson")
                XCTAssertEqual(session.settings.workSize, Settings().workSize, "\(lesson.name) leaves another work size")
                XCTAssert(session.modelSource.isEmpty || session.modelSource == session.startingWeights,
                          "\(lesson.name) leaves another model than the shipped weights: \(session.modelSource)")
                // Every PNG the lesson exports exists and decodes.
                for e in exports {
                    let words = try Arguments.words(e)
                    if let i = words.firstIndex(of: "--each") {
                        let dir = words[i + 1]
                        let files = try FileManager.default.contentsOfDirectory(atPath: dir).filter { $0.hasSuffix(".png") }
                        XCTAssertFalse(files.isEmpty, "\(lesson.name): \(e)")
                        for f in files { XCTAssertNoThrow(try ImageIO.read(dir + "/" + f)) }
                    } else if words[2].hasSuffix(".png") {
                        let image = try ImageIO.read(words[2])
                        XCTAssertGreaterThan(image.width, 0)
                    } else {
                        XCTAssertTrue(FileManager.default.fileExists(atPath: words[2]), "\(lesson.name): \(words[2])")
                    }
                }
            }
        }
    }

    /// A failing `expect` stops the lesson with the file and line in the message.
    func testAFailingExpectationStopsTheLesson() throws {
        try inTemporaryDirectory {
            try "# A broken lesson\nsynth --size 32\nexpect scene.max > 5\nsynth --size 32 as never\n".write(toFile: "broken.drht", atomically: true, encoding: .utf8)
            let session = Session(console: Console { _ in })
            XCTAssertThrowsError(try LessonRunner(session: session).run(file: "broken.drht", title: nil)) { error in
                XCTAssertTrue("\(error)".contains("broken.drht:3"), "\(error)")
                XCTAssertTrue("\(error)".contains("expectation failed"), "\(error)")
            }
            XCTAssertNil(session.variables["never"])
        }
    }

    /// A command file reads its own relative paths from beside itself when the working directory
    /// lacks them (how lesson 7 finds Lessons/photos/garden.jpg); the working directory comes first.
    func testRelativePathsAreFoundBesideTheCommandFile() throws {
        try inTemporaryDirectory {
            try FileManager.default.createDirectory(atPath: "lesson/photos", withIntermediateDirectories: true)
            let session = Session(console: Console { _ in })
            try session.execute("synth --size 32 as a")
            try session.execute("export a lesson/photos/p.png")
            try "load photos/p.png as beside\nrun inner.drht\n".write(toFile: "lesson/l.drht", atomically: true, encoding: .utf8)
            try "load photos/p.png as inner\n".write(toFile: "lesson/inner.drht", atomically: true, encoding: .utf8)
            try LessonRunner(session: session).run(file: "lesson/l.drht", title: nil)
            XCTAssertEqual(session.variables["beside"]?.tensor.shape, [1, 3, 32, 32])
            XCTAssertNotNil(session.variables["inner"])
            XCTAssertTrue(session.scriptDirectories.isEmpty)
            // Outside a command file the same relative path is an error naming the path.
            XCTAssertThrowsError(try session.execute("load photos/p.png as outside")) { XCTAssertTrue("\($0)".contains("photos/p.png"), "\($0)") }
            // The working directory wins over the file's folder.
            try FileManager.default.createDirectory(atPath: "photos", withIntermediateDirectories: true)
            try session.execute("synth --size 64 as b")
            try session.execute("export b photos/p.png")
            try LessonRunner(session: session).run(file: "lesson/l.drht", title: nil)
            XCTAssertEqual(session.variables["beside"]?.tensor.shape, [1, 3, 64, 64])
        }
    }

    func testNarrationParagraphs() {
        let items = LessonRunner.parse("# Title\n#\n# one\n# two\nshow x\n\n# three\n")
        XCTAssertEqual(items, [.narration(["Title", "one two"]), .command("show x", line: 5), .narration(["three"])])
    }

    func testPauseWaitsOnlyWhenSomeoneCanPressEnter() throws {
        try inTemporaryDirectory {
            try "pause\nsynth --size 32\npause\n".write(toFile: "p.drht", atomically: true, encoding: .utf8)
            let session = Session(console: Console { _ in })
            try LessonRunner(session: session).run(file: "p.drht", title: nil)       // no one to wait for: skipped
            var waits = 0
            session.waitForEnter = { waits += 1; return .goOn }
            try LessonRunner(session: session).run(file: "p.drht", title: nil)
            XCTAssertEqual(waits, 2)
            session.settings.pauses = false
            try LessonRunner(session: session).run(file: "p.drht", title: nil)
            XCTAssertEqual(waits, 2)
        }
    }

    /// `q` (or Ctrl-C, Ctrl-D) at a pause leaves the lesson, not the session: the commands after
    /// it do not run, the variables made before it stay, and no error is reported.
    func testLeavingALessonAtAPause() throws {
        try inTemporaryDirectory {
            try "synth --size 32 as before\npause\nsynth --size 32 as after\n".write(toFile: "p.drht", atomically: true, encoding: .utf8)
            try "run p.drht\nsynth --size 32 as outer\n".write(toFile: "outer.drht", atomically: true, encoding: .utf8)
            var lines: [String] = []
            let session = Session(console: Console { lines.append($0) })
            session.waitForEnter = { .leave }
            try LessonRunner(session: session).run(file: "outer.drht", title: nil)
            XCTAssertNotNil(session.variables["before"])
            XCTAssertNil(session.variables["after"])
            XCTAssertNil(session.variables["outer"], "leaving a nested file leaves the whole lesson")
            XCTAssert(lines.joined().contains("left outer.drht at line 1"), lines.joined())
            XCTAssertFalse(session.finished)
            XCTAssertEqual(PauseAnswer.from(""), .goOn)
            XCTAssertEqual(PauseAnswer.from(" Q "), .leave)
            XCTAssertEqual(PauseAnswer.from(nil), .leave)
        }
    }
}

final class NotebookTests: XCTestCase {
    func runSession() throws -> Session {
        let session = Session(console: Console { _ in })
        for line in ["model init --seed 1", "synth --size 64", "show scene", "use scene", "step", "maps hdr.enc1 --top 4", "compare scene scene.target"] {
            try session.execute(line)
        }
        session.notebook.narration("A paragraph with <html> & \"quotes\".")
        return session
    }

    /// A failed command's cell keeps its error (Jupyter: an `error` output), and a picture larger
    /// than the display size goes in reduced, with its full-resolution copy beside the notebook
    /// only with --full.
    func testFailedCellsKeepTheirErrorAndPicturesGoInAtDisplaySize() throws {
        try inTemporaryDirectory {
            let session = Session(console: Console { _ in })
            try session.execute("synth --size 1024 as big")
            try session.execute("show big")
            XCTAssertThrowsError(try session.execute("show nothing"))
            XCTAssertThrowsError(try session.execute("frobnicate"))
            try session.execute("notebook save nb.ipynb")
            let json = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "nb.ipynb"))) as! [String: Any]
            let code = (json["cells"] as! [[String: Any]]).filter { $0["cell_type"] as? String == "code" }
            XCTAssertEqual(code.count, 4)
            let errors = code.compactMap { ($0["outputs"] as! [[String: Any]]).first { $0["output_type"] as? String == "error" } }
            XCTAssertEqual(errors.count, 2)
            XCTAssert((errors[0]["evalue"] as! String).contains("nothing"), "\(errors[0])")
            XCTAssert((errors[1]["evalue"] as! String).contains("unknown command"), "\(errors[1])")
            let shown = (code[1]["outputs"] as! [[String: Any]]).first { $0["output_type"] as? String == "display_data" }!
            let png = try PNG.decode([UInt8](Data(base64Encoded: (shown["data"] as! [String: Any])["image/png"] as! String)!), path: "show big")
            XCTAssertEqual(max(png.width, png.height), NotebookRecorder.displaySide)
            XCTAssertFalse(FileManager.default.fileExists(atPath: "nb_files"))
            try session.execute("notebook save full.html --full")
            let full = try ImageIO.read("full_files/full-001.png")
            XCTAssertEqual([full.width, full.height], [1024, 1024])
            XCTAssert(try String(contentsOfFile: "full.html", encoding: .utf8).contains("full_files/full-001.png"))
        }
    }

    func testHTMLIsSelfContainedAndParsesBack() throws {
        try inTemporaryDirectory {
            let session = try runSession()
            try session.execute("notebook save nb.html")
            let html = try String(contentsOfFile: "nb.html", encoding: .utf8)
            XCTAssertTrue(html.hasPrefix("<!DOCTYPE html>"))
            XCTAssertTrue(html.hasSuffix("</body></html>\n"))
            // One section per command (the `notebook save` itself excluded).
            XCTAssertEqual(html.components(separatedBy: "<section class=\"cell\">").count - 1, 7)
            XCTAssertTrue(html.contains("drht&gt; compare scene scene.target"))
            XCTAssertTrue(html.contains("A paragraph with &lt;html&gt; &amp; &quot;quotes&quot;."))
            XCTAssertFalse(html.contains("src=\"http"), "the page must not load anything")
            // The pictures are PNG data URIs that decode.
            let uris = html.components(separatedBy: "src=\"data:image/png;base64,").dropFirst().map { String($0.prefix { $0 != "\"" }) }
            XCTAssertEqual(uris.count, 2)   // show scene, maps
            for b64 in uris {
                let data = try XCTUnwrap(Data(base64Encoded: b64))
                let image = try PNG.decode([UInt8](data), path: "notebook image")
                XCTAssertGreaterThan(image.width, 0)
            }
            let shown = try PNG.decode([UInt8](Data(base64Encoded: uris[0])!), path: "show scene")
            XCTAssertEqual([shown.width, shown.height], [64, 64])
        }
    }

    /// nbformat 4.5's required fields (what its JSON schema checks: `make test-torch` runs the
    /// schema itself on lesson notebooks), counts in order, and every picture decodes.
    func testJupyterNotebookHasNbformatsFieldsAndDecodableImages() throws {
        try inTemporaryDirectory {
            let session = try runSession()
            try session.execute("notebook save nb.ipynb")
            let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "nb.ipynb"))) as? [String: Any])
            XCTAssertEqual(json["nbformat"] as? Int, 4)
            XCTAssertEqual(json["nbformat_minor"] as? Int, 5)
            let metadata = try XCTUnwrap(json["metadata"] as? [String: Any])
            XCTAssertEqual((metadata["language_info"] as? [String: Any])?["name"] as? String, "drht")
            let cells = try XCTUnwrap(json["cells"] as? [[String: Any]])
            XCTAssertEqual(cells.map { $0["cell_type"] as? String }, ["markdown"] + Array(repeating: "code", count: 7) + ["markdown"])
            let ids = cells.compactMap { $0["id"] as? String }
            XCTAssertEqual(Set(ids).count, cells.count, "unique ids")
            for id in ids { XCTAssertNotNil(id.range(of: "^[a-zA-Z0-9_-]{1,64}$", options: .regularExpression), id) }
            var images = 0
            for (i, cell) in cells.enumerated() {
                XCTAssertNotNil(cell["metadata"] as? [String: Any])
                let source = try XCTUnwrap(cell["source"] as? [String])
                guard cell["cell_type"] as? String == "code" else { continue }
                XCTAssertEqual(cell["execution_count"] as? Int, i, "counts 1, 2, ... after the title cell")
                XCTAssertEqual(source.count, 1)
                for output in try XCTUnwrap(cell["outputs"] as? [[String: Any]]) {
                    switch output["output_type"] as? String {
                    case "stream":
                        XCTAssertEqual(output["name"] as? String, "stdout")
                        let text = try XCTUnwrap(output["text"] as? [String])
                        XCTAssertTrue(text.dropLast().allSatisfy { $0.hasSuffix("\n") })
                    case "display_data":
                        let data = try XCTUnwrap(output["data"] as? [String: Any])
                        let png = try XCTUnwrap(Data(base64Encoded: try XCTUnwrap(data["image/png"] as? String)))
                        XCTAssertGreaterThan(try PNG.decode([UInt8](png), path: "notebook image").width, 0)
                        XCTAssertNotNil(data["text/plain"] as? [String])
                        XCTAssertNotNil(output["metadata"] as? [String: Any])
                        images += 1
                    default: XCTFail("unexpected output \(output)")
                    }
                }
            }
            XCTAssertEqual(images, 2)       // show scene, maps
            XCTAssertEqual((cells[1]["source"] as? [String]), ["model init --seed 1"])
            XCTAssertEqual((cells[2]["source"] as? [String]), ["synth --size 64"])
            XCTAssertEqual((cells.last?["source"] as? [String]), ["A paragraph with <html> & \"quotes\"."])
            // Consecutive paragraphs (one narration block of a lesson) make one markdown cell.
            session.notebook.narration("A second paragraph.")
            try session.execute("notebook save two.ipynb")
            let two = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "two.ipynb"))) as? [String: Any])
            let last = try XCTUnwrap((two["cells"] as? [[String: Any]])?.last)
            XCTAssertEqual(last["source"] as? [String], ["A paragraph with <html> & \"quotes\".\n", "\n", "A second paragraph."])
        }
    }

    func testMarkdownWritesPicturesBesideIt() throws {
        try inTemporaryDirectory {
            let session = try runSession()
            try session.execute("notebook save session.md")
            let md = try String(contentsOfFile: "session.md", encoding: .utf8)
            XCTAssertTrue(md.contains("```\ndrht> synth --size 64\n"))
            let links = md.components(separatedBy: "](").dropFirst().map { String($0.prefix { $0 != ")" }) }
            XCTAssertEqual(links, ["session_files/001.png", "session_files/002.png"])
            for l in links { XCTAssertNoThrow(try ImageIO.read(l)) }
        }
    }
}
