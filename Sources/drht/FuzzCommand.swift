// `drht fuzz` (hidden, for developers): mutated files of every format and random REPL lines,
// each run through this very executable in its own process and judged (DRHTFuzz).
import ArgumentParser
import DRHTFuzz
import Foundation

struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Developer check: run drht on mutated files, random REPL lines and odd images, report every failure class.",
        discussion: """
            Each case runs `drht info FILE`, `drht correct FILE` or the REPL in a fresh folder (random lines, or \
            an odd image loaded and given to one to three commands), checked for: no signal, no hang, exit 0 or \
            1, one error line per command, the session reaching its last line, no raw control characters, peak \
            memory (the process's own VmHWM) <= 256 MB for `info` of inputs under 1 MB, <= 512 MB for `correct` of \
            inputs under 1 MB and for odd-image sessions (768 MB with `train`), nothing left behind. Failing inputs are saved under --out with a README. Exit \
            status 1 when anything failed.
            """,
        shouldDisplay: false
    )

    @Option(help: "Mutated files per format.") var cases = 2000
    @Option(help: "Random REPL lines.") var lines = 2000
    @Option(help: "Random odd image x command pairs (the matrix of `make test`, sampled).") var odd = 2000
    @Flag(help: "Also run the whole odd-image matrix (every image-taking command on every odd image, one session per image).")
    var matrix = false
    @Option(help: "Seed: the same seed gives the same cases.") var seed: UInt64 = 1
    @Option(help: "Processes at a time (default: the number of cores).") var workers: Int?
    @Option(help: "Seconds before a case counts as hung.") var timeout: Double = 20
    @Option(help: "Folder for the reproducers of failing cases.") var out = "fuzz-failures"

    func run() throws {
        guard cases >= 0, lines >= 0, odd >= 0, timeout > 0 else { throw ValidationError("--cases, --lines, --odd and --timeout must not be negative") }
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let work = FileManager.default.temporaryDirectory.appendingPathComponent("drht-fuzz-\(getpid())").path
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        var groups: [(String, [FuzzCase])] = FuzzFormat.allCases.map { ($0.rawValue, FuzzSuite.fileCases($0, count: cases, seed: seed)) }
        groups.append(("REPL lines", FuzzSuite.replCases(count: lines, seed: seed)))
        groups.append(("odd images x commands", FuzzSuite.oddImageCases(count: odd, seed: seed)))
        if matrix { groups.append(("odd-image matrix (one session per image)", FuzzSuite.matrixCases())) }
        let runner = FuzzRunner(executable: exe, timeout: timeout, workRoot: work)
        let started = Date()
        let tty = isatty(2) != 0
        let results = FuzzSuite.run(groups, runner: runner, workers: workers ?? ProcessInfo.processInfo.activeProcessorCount,
                                    outDir: out) { done, total in
            if tty && (done % 20 == 0 || done == total) {
                FileHandle.standardError.write(Data("\r\u{1B}[2Kfuzz: \(done)/\(total) cases".utf8))
            }
        }
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        print(FuzzSuite.table(results), terminator: "")
        let failed = results.reduce(0) { $0 + $1.cases - $1.handled }
        print(String(format: "%d cases in %.0f s, seed %llu; %@", results.reduce(0) { $0 + $1.cases }, Date().timeIntervalSince(started),
                     seed, failed == 0 ? "every one handled" : "\(failed) failed: reproducers in \(out)/"))
        if failed > 0 { throw ExitCode(1) }
    }
}
