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
