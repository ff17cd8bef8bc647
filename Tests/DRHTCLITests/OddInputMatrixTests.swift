// Issue 31: every command that takes an image or a variable, against every odd image, and every
// option with odd values, through the real executable: a result or one error line per command,
// the session alive to its last line (`vars`), never a signal, a hang or a runaway allocation.
@testable import DRHTFuzz
import DRHTEngine
import DRHTImageIO
@testable import DRHTREPL
import Foundation
import XCTest

final class OddInputMatrixTests: CLITestCase {
    /// The generated lines cover every image-taking command of the registry and every option.
    func testTheMatrixIsGeneratedFromTheRegistry() {
        let commands = CommandMatrix.commands.map(\.name)
        for expected in ["show", "info", "hist", "maps", "infer", "baseline", "grid", "saliency", "sweep", "export", "expect", "ablate"] {
            XCTAssertTrue(commands.contains(expected), expected)
        }
        let lines = CommandMatrix.imageLines
        for c in CommandMatrix.commands {
            XCTAssertTrue(lines.contains { $0 == c.name || $0.hasPrefix(c.name + " ") }, "\(c.name) has no line")
        }
        XCTAssertTrue(lines.contains("baseline s histeq"))
        XCTAssertTrue(lines.contains("maps s"))
        XCTAssertTrue(lines.contains("grid s"))
        let options = CommandMatrix.optionLines
        for c in Registry.commands where !["lesson", "run", "pause", "quit", "help"].contains(c.name) {
            for o in c.options where !o.values.isEmpty {
                XCTAssertTrue(options.contains { $0.hasPrefix(c.name) && $0.contains(o.name + " nan") }, "\(c.name) \(o.name)")
            }
        }
        XCTAssertTrue(options.contains("gamma ok nan"))
        XCTAssertTrue(options.contains("rf hdr.enc1 1e30 1"))
        XCTAssertEqual(OddImages.all.count, 18)
        // Every function `expect` lists is one it knows.
        let s = Session(console: Console(width: 80) { _ in })
        for f in Expectation.functions {
            XCTAssertThrowsError(try s.execute("expect \(f.name)(\((0..<max(1, f.variables)).map { _ in "nothing" }.joined(separator: ", "))) > 0")) {
                XCTAssertFalse(Session.describe($0).contains("unknown function"), Session.describe($0))
            }
        }
    }

    /// Issue 31: `drht info` of the 1-KB PNG that declares 10000 x 10000 RGBA 16-bit peaked at
    /// ~790 MB; a file under 1 MB must stay under 256 MB. One error line, in its own process.
    func testInfoOfADeclaredHugePNGStaysUnder256MB() {
        let huge = OddImages.all.first { $0.name == "declared-huge" }!
        XCTAssertLessThan(huge.bytes.count, 1024)
        let runner = FuzzRunner(executable: Self.binary.path, timeout: 30, workRoot: dir)
        let outcome = runner.run(FuzzCase(id: "huge", files: [(huge.file, huge.bytes)], arguments: ["info", huge.file], stdin: nil,
                                          outputs: [], memoryLimitMB: 256, what: "declared-huge"), index: 1)
        XCTAssertNil(outcome.failure, outcome.detail)
        XCTAssertEqual(outcome.exitStatus, 1)
    }

    /// A valid PNG of ~100 KB holding a flat 10000 x 10000 gray image (1.2 GB as floats): `drht
    /// info` reads it row by row and stays under 256 MB.
    func testInfoOfAFlatHundredMegapixelPNGStaysUnder256MB() throws {
        // Made in a scope of its own so that the 400-MB tensor is freed before drht is spawned (a
        // spawned process's peak counts the memory its parent holds at that moment).
        let bytes = try { () throws -> [UInt8] in try PNG.encode(Tensor(shape: [10_000, 10_000], repeating: 0.5)) }()
        XCTAssertLessThan(bytes.count, 1 << 20)
        let runner = FuzzRunner(executable: Self.binary.path, timeout: 60, workRoot: dir)
        let outcome = runner.run(FuzzCase(id: "flat", files: [("flat.png", bytes)], arguments: ["info", "flat.png"], stdin: nil,
                                          outputs: [], memoryLimitMB: 256, what: "flat 100 MP"), index: 2)
        XCTAssertNil(outcome.failure, outcome.detail)
        XCTAssertEqual(outcome.exitStatus, 0)
    }

    /// `drht repl --keep-going` runs every piped line after a failing one and ends with status 1;
    /// without it the first failure ends the run.
    func testKeepGoingRunsEveryPipedLine() throws {
        let lines = "synth --size 32 as a\nshow nothing\ninfo a\n"
        let kept = try drht(arguments: ["repl", "--keep-going"], stdin: lines)
        XCTAssertEqual(kept.status, 1)
        XCTAssertTrue(kept.out.contains("> info a"), kept.out)
        let stopped = try drht(arguments: ["repl"], stdin: lines)
        XCTAssertEqual(stopped.status, 1)
        XCTAssertFalse(stopped.out.contains("> info a"), stopped.out)
    }

    /// The whole matrix: one session per odd image (18) plus one for the option values.
    func testEveryCommandSurvivesEveryOddImage() {
        let runner = FuzzRunner(executable: Self.binary.path, timeout: 120, workRoot: dir + "/work")
        let groups = FuzzSuite.run([("matrix", FuzzSuite.matrixCases())], runner: runner, workers: 2, outDir: dir + "/failures")
        XCTAssertEqual(groups[0].cases, OddImages.all.count + 1)
        let failures = groups[0].failures.flatMap { failure, folders in
            folders.map { "\(failure): " + ((try? String(contentsOfFile: $0 + "/README.txt", encoding: .utf8)) ?? "").prefix(400) }
        }
        XCTAssertEqual(groups[0].handled, groups[0].cases, failures.joined(separator: "\n"))
    }
}
