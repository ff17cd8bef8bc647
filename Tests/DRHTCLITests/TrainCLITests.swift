import XCTest
import Foundation

/// drht synth and drht train as a user runs them, including Ctrl-C and kill -9.
final class TrainCLITests: CLITestCase {
    func testSynthWritesTripletsThatOpenAndReadBack() throws {
        let r = try drht("synth", "--count", "2", "--size", "48", "-o", dir + "/scenes")
        XCTAssertEqual(r.status, 0, r.err)
        let files = try FileManager.default.contentsOfDirectory(atPath: dir + "/scenes").sorted()
        XCTAssertEqual(files, ["000001.hdr", "000001.input.png", "000001.target.png",
                               "000002.hdr", "000002.input.png", "000002.target.png"])
        let hdr = try drht("info", dir + "/scenes/000001.hdr")
        XCTAssertTrue(hdr.out.contains("Radiance HDR, 48 x 48"), hdr.out)
        let png = try drht("info", dir + "/scenes/000002.input.png")
        XCTAssertTrue(png.out.contains("PNG, 48 x 48, 8-bit RGB"), png.out)
    }

    /// Starts drht in the background.
    func start(_ args: [String]) throws -> Process {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.standardOutput = FileHandle(forWritingAtPath: "/dev/null")
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        return p
    }

    /// Waits until the CSV log has `rows` data rows (or the timeout passes).
    func waitForLog(_ csv: String, rows: Int, timeout: Double = 120) {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            if let text = try? String(contentsOfFile: csv, encoding: .utf8), text.split(separator: "\n").count > rows { return }
            usleep(100_000)
        }
    }

    func testCtrlCFinishesTheStepSavesAndExits0() throws {
        let out = dir + "/run.safetensors"
        let args = ["train", "--steps", "500", "--batch", "2", "--size", "32", "--val-every", "1000", "--save-every", "1000", "--out", out]
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        let stdout = Pipe()
        p.standardOutput = stdout
        p.standardError = FileHandle(forWritingAtPath: "/dev/null")
        try p.run()
        waitForLog(dir + "/run.csv", rows: 2)
        kill(p.processIdentifier, SIGINT)
        let said = String(decoding: stdout.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        XCTAssertEqual(p.terminationStatus, 0, said)
        XCTAssertTrue(said.contains("stopped at step"), said)
        XCTAssertTrue(said.contains("drht train --resume \(out)"), said)
        let info = try drht("info", out)
        XCTAssertTrue(info.out.contains("a complete drht-1 DRHT model"), info.out)
        XCTAssertTrue(info.out.contains("steps = "), info.out)
    }

    func testKill9LeavesTheLastCheckpointLoadable() throws {
        let out = dir + "/run.safetensors"
        let p = try start(["train", "--steps", "500", "--batch", "2", "--size", "32", "--val-every", "1000",
                           "--save-every", "1", "--out", out])
        waitForLog(dir + "/run.csv", rows: 3)
        usleep(150_000)                              // somewhere inside a later step or save
        kill(p.processIdentifier, SIGKILL)
        p.waitUntilExit()
        let info = try drht("info", out)
        XCTAssertEqual(info.status, 0, info.err)
        XCTAssertTrue(info.out.contains("a complete drht-1 DRHT model"), info.out)
        let resume = try drht("train", "--resume", out, "--steps", "1")
        XCTAssertEqual(resume.status, 1, "the checkpoint is past step 1: \(resume.err)")
        XCTAssertTrue(resume.err.contains("already trained"), resume.err)
        // Wherever the kill landed (even between the optimizer state and the weights), the run
        // continues.
        let more = try drht("train", "--resume", out, "--steps", "40", "--batch", "2", "--size", "32", "--val-every", "1000")
        XCTAssertEqual(more.status, 0, more.err)
        let correct = try drht("correct", write("p.png", CLITestCase.tinyPNG), "--weights", out, "--quiet")
        XCTAssertEqual(correct.status, 0, correct.err)
    }

    func testTrainRefusesBadArguments() throws {
        let r = try drht("train", "--size", "40")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("multiple of 32"), r.err)
        let f = try drht("train", "--framing", "tiles")
        XCTAssertNotEqual(f.status, 0)
        XCTAssertTrue(f.err.contains("'tiles' is invalid for '--framing") && f.err.contains("'whole' and 'crop'"), f.err)
        let d = try drht("train", "--data", dir + "/none", "--steps", "1")
        XCTAssertEqual(d.status, 1)
        XCTAssertTrue(d.err.contains("no such folder"), d.err)
        let fresh = try drht("train", "--freeze-bn", "--steps", "1")
        XCTAssertNotEqual(fresh.status, 0)
        XCTAssertTrue(fresh.err.contains("--freeze-bn keeps the BatchNorm statistics") && fresh.err.contains("--weights or --resume"), fresh.err)
    }

    /// --freeze-bn as a user types it: the run says so and its file records it; --no-freeze-bn
    /// on resuming turns it off again.
    func testFreezeBNFromWeightsIsRecordedAndResumedRunsKeepIt() throws {
        let small = ["--batch", "1", "--size", "32", "--val-every", "1"]
        let start = dir + "/start.safetensors", out = dir + "/frozen.safetensors"
        XCTAssertEqual(try drht(arguments: ["train", "--steps", "1", "--out", start] + small).status, 0)
        let r = try drht(arguments: ["train", "--weights", start, "--freeze-bn", "--steps", "1", "--out", out] + small)
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue((r.out + r.err).contains("BatchNorm statistics frozen"), r.out + r.err)
        XCTAssertTrue(try drht("info", out).out.contains("bn_frozen"))
        XCTAssertEqual(try drht("train", "--resume", out, "--steps", "2").status, 0)
        XCTAssertTrue(try drht("info", out).out.contains("bn_frozen"), "a resumed run keeps the setting")
        XCTAssertEqual(try drht("train", "--resume", out, "--steps", "3", "--no-freeze-bn").status, 0)
        XCTAssertFalse(try drht("info", out).out.contains("bn_frozen"))
    }
}
