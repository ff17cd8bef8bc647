// SIGKILL at random moments (issue 13): a destination is the old complete file, the new
// complete file, or absent, never partial; `correct` never leaves an image paired with an HDR
// estimate of another run; a killed run's temporaries are removed by the next write there.
import DRHTEngine
import DRHTImageIO
import Foundation
import XCTest

final class KillTests: CLITestCase {
    /// Starts drht, kills it with SIGKILL after `delay` seconds (or lets it finish first).
    func killed(_ args: [String], after delay: Double) throws {
        let p = Process()
        p.executableURL = CLITestCase.binary
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        Thread.sleep(forTimeInterval: delay)
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
    }

    func temporaries() -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.contains(".tmp-drht-") }
    }

    func testKilledCorrectLeavesOldOrNewCompleteFilesAndNoStalePair() throws {
        // A 320 x 240 photo; two differently exposed versions so "old" and "new" outputs differ.
        func photo(_ gain: Float) -> Tensor {
            let t = Tensor(zeros: [1, 3, 240, 320])
            for c in 0..<3 { for y in 0..<240 { for x in 0..<320 { t[0, c, y, x] = gain * Float((x + 2 * y + 40 * c) % 256) / 255 } } }
            return t
        }
        let a = dir + "/a.png", b = dir + "/b.png", out = dir + "/out.png", hdr = dir + "/out.hdr"
        try ImageIO.write(photo(0.3), to: a)
        try ImageIO.write(photo(0.9), to: b)
        let base = ["correct", "--mode", "direct", "-o", out, "--hdr", hdr, "--quiet"]
        XCTAssertEqual(try drht(arguments: base + [a]).status, 0)
        let oldImage = try ImageIO.read(out).pixels.array, oldHDR = try ImageIO.read(hdr).pixels.array
        let started = Date()
        XCTAssertEqual(try drht(arguments: base + [b]).status, 0)
        let full = Date().timeIntervalSince(started)          // kills land across the whole run, writes included
        let newImage = try ImageIO.read(out).pixels.array, newHDR = try ImageIO.read(hdr).pixels.array
        XCTAssertNotEqual(oldImage, newImage)
        var seen = Set<String>()
        var rng = SeededRandom(seed: 13)
        for i in 0..<8 {
            // Start from the old pair, then kill a run that would write the new pair.
            XCTAssertEqual(try drht(arguments: base + [a]).status, 0)
            try killed(base + [b], after: full * (0.4 + 0.7 * Double(rng.next() % 1000) / 1000))
            let image = FileManager.default.fileExists(atPath: out) ? try ImageIO.read(out).pixels.array : nil
            let estimate = FileManager.default.fileExists(atPath: hdr) ? try ImageIO.read(hdr).pixels.array : nil
            let state: String
            switch (image, estimate) {
            case (oldImage?, oldHDR?): state = "old pair"
            case (newImage?, newHDR?): state = "new pair"
            case (oldImage?, nil): state = "old image, estimate removed"
            case (newImage?, nil): state = "new image, no estimate yet"
            default: state = "inconsistent"; XCTFail("kill \(i): image and estimate from different runs, or a partial file")
            }
            seen.insert(state)
        }
        XCTAssertFalse(seen.contains("inconsistent"))
        print("kill states seen: \(seen.sorted())")
        // Whatever the kills left behind, the next write into the folder clears it.
        XCTAssertEqual(try drht(arguments: base + [a]).status, 0)
        XCTAssertEqual(temporaries(), [], "temporaries left behind")
    }

    /// Kills `args` (which rewrites `path`, holding `old` before) at moments spread over its
    /// run time; each time `path` must be `old` or `new` exactly, never partial, never missing.
    func killRepeatedly(_ args: [String], stdin: String? = nil, path: String, kills: Int, seed: UInt64,
                        restore: () throws -> Void, identify: (String) throws -> String?) throws {
        try restore()
        let old = try identify(path)
        let started = Date()
        if let stdin { XCTAssertEqual(try drht(arguments: args, stdin: stdin, directory: dir).status, 0) }
        else { XCTAssertEqual(try drht(arguments: args).status, 0) }
        let full = Date().timeIntervalSince(started)
        let new = try identify(path)
        XCTAssertNotNil(old); XCTAssertNotNil(new); XCTAssertNotEqual(old, new)
        var rng = SeededRandom(seed: seed)
        var seen = Set<String>()
        for i in 0..<kills {
            try restore()
            if let stdin {
                let p = Process()
                p.executableURL = CLITestCase.binary
                p.arguments = args
                p.currentDirectoryURL = URL(fileURLWithPath: dir)
                let input = Pipe()
                p.standardInput = input; p.standardOutput = FileHandle.nullDevice; p.standardError = FileHandle.nullDevice
                try p.run()
                input.fileHandleForWriting.write(Data(stdin.utf8)); try? input.fileHandleForWriting.close()
                Thread.sleep(forTimeInterval: full * (0.3 + 0.8 * Double(rng.next() % 1000) / 1000))
                if p.isRunning { kill(p.processIdentifier, SIGKILL) }
                p.waitUntilExit()
            } else {
                try killed(args, after: full * (0.3 + 0.8 * Double(rng.next() % 1000) / 1000))
            }
            let now = try identify(path)
            XCTAssertTrue(now == old || now == new, "kill \(i) of \(args.first ?? ""): \(path) is neither the old nor the new file")
            seen.insert(now == old ? "old" : "new")
        }
        print("\(args.first ?? "") kills: \(seen.sorted())")
    }

    func testKilledInitConvertAndNotebookSaveLeaveOldOrNewFiles() throws {
        let w = dir + "/w.safetensors"
        // A weights file is identified by one of its tensors (seed 1 or seed 2 weights).
        let weights = { (p: String) throws -> String? in
            let r = try self.drht("info", p)
            guard r.status == 0, r.out.contains("a complete drht-1 DRHT model") else { return nil }
            return r.out.contains("seed 2") ? "seed 2" : r.out.contains("seed 1") ? "seed 1" : nil
        }
        try killRepeatedly(["init", "--seed", "2", "-o", w], path: w, kills: 4, seed: 1,
                           restore: { XCTAssertEqual(try self.drht("init", "--seed", "1", "-o", w).status, 0) }, identify: weights)
        let f16 = dir + "/h.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "2", "-o", dir + "/src2.safetensors").status, 0)
        try killRepeatedly(["convert", dir + "/src2.safetensors", "-o", f16, "--f16"], path: f16, kills: 4, seed: 2,
                           restore: { XCTAssertEqual(try self.drht("init", "--seed", "1", "-o", f16).status, 0) }, identify: weights)
        // notebook save: the page ends with </html> when complete; old and new differ in a command.
        let page = dir + "/nb.html"
        try killRepeatedly([], stdin: "synth --size 256 as big\nshow big\nnotebook save nb.html\n", path: page, kills: 4, seed: 3,
                           restore: { XCTAssertEqual(try self.drht(arguments: [], stdin: "synth --size 32 as small\nnotebook save nb.html\n", directory: self.dir).status, 0) },
                           identify: { p in
                               guard let text = try? String(contentsOfFile: p, encoding: .utf8), text.hasSuffix("</html>\n") || text.hasSuffix("</html>") else { return nil }
                               return text.contains("synth --size 256") ? "new" : "old"
                           })
        // The temporaries the kills left are gone after the next write into the folder.
        XCTAssertEqual(try drht("init", "--seed", "3", "-o", dir + "/after.safetensors").status, 0)
        XCTAssertEqual(temporaries(), [])
    }

    /// Training checkpoints every step; a kill at any moment leaves a checkpoint that loads and
    /// that `--resume` continues (weights and optimizer state of the same step).
    func testKilledTrainingAlwaysLeavesAResumableCheckpoint() throws {
        let out = dir + "/t.safetensors"
        let args = ["train", "--steps", "40", "--batch", "1", "--size", "32", "--save-every", "1", "--val-every", "1000",
                    "--threads", "1", "--out", out]
        var rng = SeededRandom(seed: 21)
        for i in 0..<4 {
            try? FileManager.default.removeItem(atPath: dir + "/t.safetensors")
            try killed(args, after: 1.0 + Double(rng.next() % 1000) / 1000 * 2.0)
            guard FileManager.default.fileExists(atPath: out) else { continue }       // killed before the first save
            let info = try drht("info", out)
            XCTAssertTrue(info.out.contains("a complete drht-1 DRHT model"), "kill \(i): \(info.out)")
            // One step more than the checkpoint holds: resuming works and continues from there.
            guard let line = info.out.split(separator: "\n").first(where: { $0.contains("steps = ") }),
                  let step = Int(line.split(separator: "=").last!.trimmingCharacters(in: .whitespaces)) else {
                XCTFail("kill \(i): no step in \(info.out)"); continue
            }
            let resumed = try drht("train", "--resume", out, "--steps", "\(step + 1)", "--threads", "1", "--val-every", "1000")
            XCTAssertEqual(resumed.status, 0, "kill \(i): resume failed: \(resumed.err)")
        }
        XCTAssertEqual(temporaries(), [])
    }

    func testStaleTemporariesOfDeadProcessesAreRemovedByTheNextWrite() throws {
        let dead = Process()
        dead.executableURL = URL(fileURLWithPath: "/bin/true")
        try dead.run(); dead.waitUntilExit()
        let stale = ".w.safetensors.tmp-drht-\(dead.processIdentifier)-12345"
        let alive = ".x.png.tmp-drht-\(getpid())-678"           // this process: still running
        let foreign = ".y.png.tmp-other-1-2"
        for name in [stale, alive, foreign] { _ = FileManager.default.createFile(atPath: dir + "/" + name, contents: Data([1, 2, 3])) }
        XCTAssertEqual(try drht("init", "--seed", "1", "-o", dir + "/w.safetensors").status, 0)
        let left = Set(try FileManager.default.contentsOfDirectory(atPath: dir))
        XCTAssertFalse(left.contains(stale))
        XCTAssertTrue(left.contains(alive))
        XCTAssertTrue(left.contains(foreign))
    }
}
