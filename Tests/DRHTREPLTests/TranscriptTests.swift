// Transcript tests: each file in Transcripts/ is a session — `> command` lines followed by the
// output they must print. Numbers are compared with a relative tolerance of 1% (so a different
// BLAS kernel cannot fail a test by a last digit) and times are ignored; pictures drawn with the
// ASCII ramp may differ by one shade in a few cells (a value on a shade's edge, on another CPU);
// every other word must match exactly. DRHT_UPDATE_TRANSCRIPTS=1 rewrites the files from the
// current output (then read the diff before committing).
@testable import DRHTREPL
import DRHTTasks
import Foundation
import XCTest
import DRHTTestSupport

final class TranscriptTests: XCTestCase {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Transcripts")

    func testEveryTranscript() throws {
        // Memory refusals name the limit: a fixed one, so a transcript reads the same on any machine.
        let budget = MemoryGuard.budget
        MemoryGuard.budget = 14e9
        defer { MemoryGuard.budget = budget }
        let files = try FileManager.default.contentsOfDirectory(atPath: Self.folder.path).filter { $0.hasSuffix(".txt") }.sorted()
        XCTAssertGreaterThanOrEqual(files.count, 6)
        var covered = Set<String>()
        for file in files {
            let url = Self.folder.appendingPathComponent(file)
            let expected = try String(contentsOf: url, encoding: .utf8)
            let commands = expected.split(separator: "\n", omittingEmptySubsequences: false)
                .filter { $0.hasPrefix("> ") }.map { String($0.dropFirst(2)) }
            for c in commands { covered.insert(String(c.split(separator: " ").first ?? "")) }
            let actual = try inTemporaryDirectory { runTranscript(commands) }
            if ProcessInfo.processInfo.environment["DRHT_UPDATE_TRANSCRIPTS"] == "1" {
                try actual.write(to: url, atomically: true, encoding: .utf8)
                continue
            }
            if let difference = Transcript.firstDifference(expected: expected, actual: actual) {
                XCTFail("\(file): \(difference)\n--- actual output ---\n\(actual)")
            }
        }
        // Every command of the registry appears in some transcript.
        let missing = Registry.commands.map(\.name).filter { !covered.contains($0) }
        XCTAssertEqual(missing, [], "commands without a transcript")
    }

    /// The comparison itself must catch a changed word, a changed number and a missing line.
    func testTranscriptComparisonCatchesDifferences() {
        let base = "> synth\nscene: LDR photo 64x64, mean 0.5266\n"
        XCTAssertNil(Transcript.firstDifference(expected: base, actual: "> synth\nscene: LDR photo 64x64, mean 0.5270\n"))
        XCTAssertNotNil(Transcript.firstDifference(expected: base, actual: "> synth\nscene: LDR photo 64x64, mean 0.5400\n"))
        XCTAssertNotNil(Transcript.firstDifference(expected: base, actual: "> synth\nscene: HDR photo 64x64, mean 0.5266\n"))
        XCTAssertNotNil(Transcript.firstDifference(expected: base, actual: "> synth\n"))
        XCTAssertNil(Transcript.firstDifference(expected: "took 12.5 ms (0.3 s)\n", actual: "took 99.1 ms (4.0 s)\n"))
        // Pictures: one shade in a few cells passes; two shades, many cells or another length do not.
        let picture = "%%==****##++##%%##%%**--++++##==++**##****##****####@@@@%%%%**=="
        XCTAssertNil(Transcript.firstDifference(expected: picture, actual: picture.replacingOccurrences(of: "####@@", with: "##%%@@")))
        XCTAssertNotNil(Transcript.firstDifference(expected: picture, actual: picture.replacingOccurrences(of: "####@@", with: "##++@@")))
        XCTAssertNotNil(Transcript.firstDifference(expected: picture, actual: picture.replacingOccurrences(of: "#", with: "%")))
        XCTAssertNotNil(Transcript.firstDifference(expected: picture, actual: picture + "@@"))
    }
}

/// Runs `commands` in a fresh session with a plain-text console (as when piped), echoing each
/// command as `> command`, errors as `error: ...`. The model is always `model init --seed 1`
/// so the shipped weights do not change the transcripts.
func runTranscript(_ commands: [String], width: Int = 80) -> String {
    var output = ""
    let console = Console(isTTY: false, colour: false, width: width) { output += $0 }
    let session = Session(console: console)
    _ = try? session.execute("model init --seed 1")
    output = ""
    for c in commands {
        output += "> \(c)\n"
        session.executeReporting(c)
    }
    return output
}


enum Transcript {
    /// Words of a line; a "word" followed by a time unit is a time and matches any time.
    static func tokens(_ line: Substring) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in line {
            if ch.isLetter || ch.isNumber || ch == "." || ch == "-" || ch == "+" {
                current.append(ch)
            } else {
                if !current.isEmpty { out.append(current); current = "" }
                if ch != " " { out.append(String(ch)) }
            }
        }
        if !current.isEmpty { out.append(current) }
        // Mask times: "<number> ms" / "<number> s" / "steps/s" rates / "ETA n".
        for i in out.indices where i + 1 < out.count && Double(out[i]) != nil && ["ms", "s"].contains(out[i + 1]) { out[i] = "<time>" }
        for i in out.indices where i + 2 < out.count && Double(out[i]) != nil && out[i + 1] == "steps" && out[i + 2] == "/" { out[i] = "<rate>" }
        return out
    }

    static func sameToken(_ a: String, _ b: String) -> Bool {
        if a == b { return true }
        let trim: (String) -> String = { $0.hasSuffix(".") ? String($0.dropLast()) : $0 }
        guard let x = Double(trim(a)), let y = Double(trim(b)) else {
            // numbers glued to units, e.g. 127.4MFLOP
            let split: (String) -> (Double?, String) = { s in
                let num = s.prefix { $0.isNumber || $0 == "." || $0 == "-" || $0 == "e" }
                return (Double(num), String(s.dropFirst(num.count)))
            }
            let (nx, ux) = split(a), (ny, uy) = split(b)
            if let nx, let ny, ux == uy, !ux.isEmpty { return close(nx, ny) }
            return false
        }
        return close(x, y)
    }

    static func close(_ x: Double, _ y: Double) -> Bool {
        abs(x - y) <= 0.01 * max(abs(x), abs(y)) || abs(x - y) <= 2e-3
    }

    /// Two lines of an ASCII-ramp picture that differ by at most one shade, in at most 5% of
    /// their cells (and at least one cell may).
    static func samePicture(_ e: Substring, _ a: Substring) -> Bool {
        let ramp = TerminalPicture.ramp, ce = Array(e), ca = Array(a)
        guard ce.count == ca.count, ce.count >= 8, ce.allSatisfy(ramp.contains), ca.allSatisfy(ramp.contains) else { return false }
        var differing = 0
        for (x, y) in zip(ce, ca) where x != y {
            guard let i = ramp.firstIndex(of: x), let j = ramp.firstIndex(of: y), abs(i - j) == 1 else { return false }
            differing += 1
        }
        return differing <= max(1, ce.count / 20)
    }

    /// nil when the transcripts agree, else a description of the first difference.
    static func firstDifference(expected: String, actual: String) -> String? {
        let e = expected.split(separator: "\n", omittingEmptySubsequences: false)
        let a = actual.split(separator: "\n", omittingEmptySubsequences: false)
        for i in 0..<max(e.count, a.count) {
            guard i < e.count else { return "extra line \(i + 1): \(a[i])" }
            guard i < a.count else { return "missing line \(i + 1): \(e[i])" }
            if samePicture(e[i], a[i]) { continue }
            let te = tokens(e[i]), ta = tokens(a[i])
            if te.count != ta.count || !zip(te, ta).allSatisfy(sameToken) {
                return "line \(i + 1) differs\n  expected: \(e[i])\n  actual:   \(a[i])"
            }
        }
        return nil
    }
}
