// `drht` as the REPL when standard input is not a terminal (a pipe, a file, CI): commands are
// read and echoed, no prompt and no escape codes, the first failing command ends with status 1.
import XCTest

final class REPLCLITests: CLITestCase {
    func testPipedCommandsAreEchoedAndRun() throws {
        let r = try drht(arguments: [], stdin: "model init --seed 1\nsynth --size 32\n\n# a comment\nexpect scene.shape == 1x3x32x32\nvars\n",
                         directory: dir)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.hasPrefix("> model init --seed 1\nmodel: random weights (seed 1, ICNR deconvolutions)"), r.out)
        XCTAssertTrue(r.out.contains("> synth --size 32\nscene: LDR photo 32x32 of scene 1, exposure -0.638 EV from auto-exposure (the seed's own)\n"), r.out)
        XCTAssertTrue(r.out.contains("# a comment\n"))
        XCTAssertTrue(r.out.contains("✓ scene.shape == 1x3x32x32"))
        XCTAssertFalse(r.out.contains("drht>"), "no prompt without a terminal")
        XCTAssertFalse(r.out.contains("\u{1B}"), "no escape codes without a terminal")
    }

    func testTheFirstFailingCommandStopsWithStatus1() throws {
        let r = try drht(arguments: [], stdin: "synth --size 32\nshw scene\nsynth --size 32 as never\n", directory: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.out.contains("error: unknown command \"shw\"; did you mean show?"), r.out)
        XCTAssertFalse(r.out.contains("never"), "commands after the failure must not run")
    }

    func testEmptyInputEndsCleanly() throws {
        let r = try drht(arguments: [], stdin: "", directory: dir)
        XCTAssertEqual(r.status, 0)
        XCTAssertEqual(r.out, "")
    }

    func testColourNeverWithoutATerminalEvenWhenAsked() throws {
        let r = try drht(arguments: [], stdin: "set colour on\n", environment: ["COLORTERM": "truecolor"], directory: dir)
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.out.contains("colour needs a terminal"), r.out)
    }

    func testLessonSubcommandRunsALessonAndSavesTheNotebook() throws {
        let r = try drht(arguments: ["lesson", "2", "--notebook", "l2.html"], directory: dir)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("── Lesson 2: gamma and log"), r.out)
        XCTAssertTrue(r.out.contains("> gamma photo 2.2 as linear"))
        let html = try String(contentsOfFile: dir + "/l2.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<p class=\"narration\">Pixel values in a photo are not proportional to light."))
        XCTAssertTrue(html.contains("data:image/png;base64,"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/drht-lessons/02-log.png"))
    }

    func testLessonNotebookForJupyter() throws {
        let r = try drht(arguments: ["lesson", "10", "--notebook", "l10.ipynb"], directory: dir)
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("wrote l10.ipynb:"), r.out)
        let json = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: dir + "/l10.ipynb"))) as? [String: Any])
        let cells = try XCTUnwrap(json["cells"] as? [[String: Any]])
        XCTAssertTrue(r.out.contains("wrote l10.ipynb: \(cells.count) cells,"), "the count is the file's cells: \(r.out)")
        XCTAssertEqual((cells.first?["source"] as? [String])?.first, "# Lesson 10: what does a unit look at? Saliency and receptive fields")
        let code = cells.filter { $0["cell_type"] as? String == "code" }
        XCTAssertEqual(code.compactMap { $0["execution_count"] as? Int }, Array(1...code.count))
        XCTAssertTrue(code.contains { ($0["source"] as? [String]) == ["saliency hdr.latent:133"] })
        let pictures = code.flatMap { ($0["outputs"] as? [[String: Any]]) ?? [] }.filter { $0["output_type"] as? String == "display_data" }
        XCTAssertGreaterThanOrEqual(pictures.count, 6)
    }

    func testLessonListAndUnknownLesson() throws {
        let list = try drht(arguments: ["lesson", "list"], directory: dir)
        XCTAssertEqual(list.status, 0)
        XCTAssertTrue(list.out.contains("  1  Lesson 1: LDR and HDR"), list.out)
        XCTAssertTrue(list.out.contains("  8  Lesson 8: a small training run"), list.out)
        XCTAssertTrue(list.out.contains("  9  Lesson 9: a photo of any size"), list.out)
        XCTAssertTrue(list.out.contains(" 10  Lesson 10: what does a unit look at?"), list.out)
        XCTAssertTrue(list.out.contains(" 11  Lesson 11: what do the skips and the latent carry?"), list.out)
        XCTAssertTrue(list.out.contains(" 12  Lesson 12: highlights"), list.out)
        let missing = try drht(arguments: ["lesson", "42"], directory: dir)
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.hasPrefix("drht: no lesson 42; the lessons are 1 ldr-vs-hdr, 2 gamma-and-log, "), missing.err)
        XCTAssertTrue(missing.err.hasSuffix(", 12 highlights\n"), missing.err)
    }

    func testABrokenImageKeepsTheSessionGoingInteractivelyButStopsAPipe() throws {
        let bad = write("broken.png", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13])
        let r = try drht(arguments: [], stdin: "load \(bad)\n", directory: dir)
        XCTAssertEqual(r.status, 1)
        let errorLines = r.out.split(separator: "\n").filter { $0.hasPrefix("error:") }
        XCTAssertEqual(errorLines.count, 1)
        XCTAssertTrue(errorLines[0].contains("broken.png"), r.out)
    }
}

final class EvaluateCLITests: CLITestCase {
    func testEvaluatePrintsTheTableAndWritesTheReport() throws {
        let weights = dir + "/w.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "1", "-o", weights).status, 0)
        let r = try drht("evaluate", "--count", "2", "--size", "64", "--weights", weights, "--html", dir + "/r.html")
        XCTAssertEqual(r.status, 0, r.err)
        let lines = r.out.split(separator: "\n")
        XCTAssertTrue(lines[0].hasPrefix("method"))
        for m in ["input", "auto-exposure", "histeq", "reinhard", "DRHT stage 1 (direct)", "DRHT stage 1 (gain, 256 px)",
                  "DRHT (direct)", "DRHT (gain, 256 px)"] {
            XCTAssertTrue(lines.contains { $0.hasPrefix(m) }, "row \(m) missing:\n\(r.out)")
        }
        XCTAssertTrue(lines[0].contains("grid (peak)"), r.out)
        XCTAssertTrue(lines.contains { $0.hasPrefix("DRHT (gain, 256 px) ") && ($0.contains("does not beat:") || $0.contains("is ahead of every baseline")) }, "the verdict line:\n\(r.out)")
        let html = try String(contentsOfFile: dir + "/r.html", encoding: .utf8)
        XCTAssertTrue(html.contains("<h3>scene 0</h3>") && html.contains("<h3>scene 1</h3>"))
        let json = try drht("evaluate", "--count", "1", "--size", "32", "--weights", weights, "--json")
        XCTAssertEqual(json.status, 0)
        XCTAssertNotNil(try JSONSerialization.jsonObject(with: Data(json.out.utf8)))
    }

    func testEvaluateOneBlockPerExposure() throws {
        let weights = dir + "/w.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "1", "-o", weights).status, 0)
        let r = try drht("evaluate", "--count", "1", "--size", "64", "--ev", "-2,1.5", "--mode", "direct,gain", "--work-size", "32,64",
                         "--weights", weights)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("exposure -2 EV (1 images)") && r.out.contains("exposure +1.5 EV (1 images)"), r.out)
        let lines = r.out.split(separator: "\n")
        XCTAssertEqual(lines.filter { $0.hasPrefix("DRHT (gain, 32 px) ") && !$0.contains("beat") }.count, 2, r.out)
        XCTAssertEqual(lines.filter { $0.hasPrefix("DRHT (gain, 64 px) ") }.count, 2, r.out)
        XCTAssertEqual(lines.filter { $0.hasPrefix("DRHT (direct) ") }.count, 2, r.out)
        let json = try drht("evaluate", "--count", "1", "--size", "64", "--ev", "-2,1.5", "--mode", "gain", "--weights", weights, "--json")
        XCTAssertEqual(json.status, 0, json.err)
        let object = try JSONSerialization.jsonObject(with: Data(json.out.utf8)) as! [String: Any]
        let blocks = object["exposures"] as! [[String: Any]]
        XCTAssertEqual(blocks.map { $0["ev"] as! Double }, [-2, 1.5])
        let rows = blocks[0]["results"] as! [[String: Any]]
        XCTAssertEqual(rows.map { $0["method"] as! String }, ["input", "auto-exposure", "histeq", "reinhard", "DRHT stage 1 (gain, 256 px)", "DRHT (gain, 256 px)"])
        XCTAssertNotNil(rows[5]["grid"] as? Double)
        for bad in [["--ev", "-2,x"], ["--ev", "20"], ["--mode", "bilateral"], ["--work-size", "8"], ["--mode", "direct", "--work-size", "64,x"]] {
            let e = try drht(arguments: ["evaluate", "--weights", weights] + bad)
            XCTAssertNotEqual(e.status, 0, bad.joined(separator: " "))
            XCTAssertFalse(e.err.isEmpty)
        }
    }

    func testEvaluateNeedsATripletFolder() throws {
        let r = try drht("evaluate", "--data", dir, "--weights", dir + "/none.safetensors")
        XCTAssertEqual(r.status, 1)
        XCTAssertEqual(r.err.split(separator: "\n").count, 1, r.err)
    }
}

/// `drht` at a terminal (a pseudo-terminal made by util-linux `script`): prompt, readline,
/// colour pictures — and no colour with NO_COLOR or TERM=dumb.
final class TerminalREPLTests: CLITestCase {
    func atTerminal(_ input: String, environment: [String: String]) throws -> String {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/script") else { throw XCTSkip("util-linux script is not installed") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/script")
        p.arguments = ["-qec", CLITestCase.binary.path, "/dev/null"]
        // The test runner may itself set NO_COLOR for its children: start from an environment without it.
        var base = ProcessInfo.processInfo.environment
        base["NO_COLOR"] = nil
        p.environment = base.merging(environment.merging(["DRHT_HISTORY": dir + "/history"]) { $1 }) { $1 }
        p.currentDirectoryURL = URL(fileURLWithPath: dir)
        let inPipe = Pipe(), outPipe = Pipe()
        p.standardInput = inPipe; p.standardOutput = outPipe; p.standardError = outPipe
        try p.run()
        inPipe.fileHandleForWriting.write(Data(input.utf8))
        try inPipe.fileHandleForWriting.close()
        let out = outPipe.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return String(decoding: out, as: UTF8.self)
    }

    func testPromptColourAndHistory() throws {
        let out = try atTerminal("synth --size 32\nshow scene\nquit\n", environment: ["COLORTERM": "truecolor", "TERM": "xterm-256color"])
        XCTAssertTrue(out.contains("drht>"), out)
        XCTAssertTrue(out.contains("\u{1B}[38;2;"), "24-bit colour half blocks at a terminal")
        XCTAssertTrue(out.contains("▀"))
        let history = try String(contentsOfFile: dir + "/history", encoding: .utf8)
        XCTAssertEqual(history, "synth --size 32\nshow scene\nquit\n")
    }

    func testPaletteFallbackAndNoColour() throws {
        let palette = try atTerminal("synth --size 32\nshow scene\nquit\n", environment: ["COLORTERM": "", "TERM": "xterm-256color"])
        XCTAssertTrue(palette.contains("\u{1B}[38;5;"), "256-colour palette without COLORTERM=truecolor")
        XCTAssertFalse(palette.contains("\u{1B}[38;2;"))
        for env in [["NO_COLOR": "1", "TERM": "xterm-256color"], ["TERM": "dumb"]] {
            let plain = try atTerminal("synth --size 32\nshow scene\nquit\n", environment: env.merging(["COLORTERM": "truecolor"]) { $1 })
            XCTAssertFalse(plain.contains("\u{1B}[38;"), "colour despite \(env)")
            XCTAssertTrue(plain.contains("scene: LDR image 32x32"), plain)
        }
    }
}
