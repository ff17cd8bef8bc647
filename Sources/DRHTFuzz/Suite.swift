// The fuzz suite: cases for each file format and for REPL lines, run in parallel, summarised
// as a table of cases, handled, and failure classes with reproducers.
import DRHTEngine
import DRHTREPL
import Foundation

public enum FuzzSuite {
    /// `count` mutated files of `format`, each checked through `drht info` (under 256 MB for a
    /// file under 1 MB) and, every eighth, `drht correct` (images) or `drht correct --weights`
    /// (safetensors; under 512 MB).
    public static func fileCases(_ format: FuzzFormat, count: Int, seed: UInt64) -> [FuzzCase] {
        let seeds = FuzzSeeds.seeds(format)
        let name = "input." + format.fileExtension
        let picture = try! FuzzSeeds.pngPicture()
        return (0..<count).map { i in
            var rng = SeededRandom(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(i) &* 31 &+ UInt64(format.rawValue.hashValueStable))
            let base = seeds[Int(rng.next() % UInt64(seeds.count))]
            let (bytes, what) = Mutator.mutate(base, format: format, rng: &rng)
            let small = bytes.count < 1 << 20
            if i % 8 == 7 {
                let limit = small ? 512 : nil
                if format == .safetensors {
                    return FuzzCase(id: "\(format.rawValue)-\(i)", files: [(name, bytes), ("p.png", picture)],
                                    arguments: ["correct", "p.png", "--weights", name, "-o", "out.png", "--quiet"], stdin: nil,
                                    outputs: ["out.png"], memoryLimitMB: limit, what: what.joined(separator: ", "))
                }
                return FuzzCase(id: "\(format.rawValue)-\(i)", files: [(name, bytes)],
                                arguments: ["correct", name, "-o", "out.png", "--hdr", "out.hdr", "--quiet"], stdin: nil,
                                outputs: ["out.png", "out.hdr"], memoryLimitMB: limit, what: what.joined(separator: ", "))
            }
            // `drht info` of a file under 1 MB must peak under 256 MB (issue 31).
            return FuzzCase(id: "\(format.rawValue)-\(i)", files: [(name, bytes)], arguments: ["info", name], stdin: nil,
                            outputs: [], memoryLimitMB: small ? 256 : nil, what: what.joined(separator: ", "))
        }
    }

    /// Tokens a careless or hostile user might type.
    static let tokens: [String] = [
        "a", "b", "a.target", "b.hdr_gt", "hdr.enc1", "ldr.dec5", "hdr.latent", "nothing", "0", "-1", "1e308", "-1e308",
        "nan", "inf", "-inf", "-0", "99999999999999999999", "3.5", "1x3x32x32", "ünïcödé", "🙂", "\u{202E}abc", "\"quoted text\"",
        "\"", "'", "((((((", "/dev/zero", "/dev/null", "/nonexistent/x.png", ".", "/", "out.png", "out.hdr", "out.npy", "x.drht",
        "--", "as", "all", "direct", "gain", "to", "on", "off", "channel", "layer", "global", "\\", "$HOME", "~", "%s%n",
        String(repeating: "x", count: 100_000), String(repeating: "(", count: 5_000) + "1" + String(repeating: ")", count: 5_000),
        String(repeating: "-", count: 3_000) + "1",
    ]

    /// `count` REPL lines: a command with random arguments and options, run after a small setup.
    public static func replCases(count: Int, seed: UInt64) -> [FuzzCase] {
        let commands = Registry.commands.filter { !["train", "lesson", "pause"].contains($0.name) }
        let setup = "synth --size 32 as a\nsynth --size 32 --ev -2 as b\n"
        return (0..<count).map { i in
            var rng = SeededRandom(seed: seed &* 0xBF58_476D_1CE4_E5B9 &+ UInt64(i))
            func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
            var line: String
            if rng.next() % 10 == 0 {
                line = pick(tokens) + " " + pick(tokens)                       // not a command at all
            } else {
                let c = pick(commands)
                line = c.name
                for _ in 0..<Int(rng.next() % 4) { line += " " + pick(tokens) }
                if !c.options.isEmpty, rng.next() % 2 == 0 {
                    let o = pick(c.options)
                    line += " " + o.name + o.values.map { _ in " " + pick(tokens) }.joined()
                }
                if c.name == "expect" {
                    line = "expect " + (0..<(1 + Int(rng.next() % 5))).map { _ in pick(tokens) + " " + pick(["+", "-", "*", "/", "<", "==", ">=", "(", ")", ","]) }.joined(separator: " ") + " " + pick(tokens)
                }
                if c.namesResult, rng.next() % 3 == 0 { line += " as " + pick(["c", "a", "2bad", "x.y", "ü", String(repeating: "n", count: 300)]) }
            }
            return FuzzCase(id: "repl-\(i)", files: [], arguments: ["repl", "--keep-going"], stdin: setup + line + "\nvars\n", outputs: ["*"],
                            memoryLimitMB: nil, what: String(line.prefix(160)))
        }
    }

    /// A session's standard input: the setup, the lines, then `vars` (is the session still alive?).
    static func session(_ setup: [String], _ lines: [String]) -> String {
        (setup + lines + ["vars"]).joined(separator: "\n") + "\n"
    }

    /// The whole command × odd-input matrix, one session per odd image (every image line, then
    /// `vars`), and one session for the odd option values: what `make test` runs.
    public static func matrixCases() -> [FuzzCase] {
        let images = OddImages.all.map { image in
            FuzzCase(id: "matrix-\(image.name)", files: [(image.file, image.bytes)], arguments: ["repl", "--keep-going"],
                     stdin: session(CommandMatrix.setup(file: image.file), CommandMatrix.imageLines),
                     outputs: ["*"], memoryLimitMB: 512, what: "\(image.file): every command on it")
        }
        let one = OddImages.all[0]
        let options = FuzzCase(id: "matrix-options", files: [(one.file, one.bytes)], arguments: ["repl", "--keep-going"],
                               stdin: session(CommandMatrix.setup(file: one.file, use: CommandMatrix.normal), CommandMatrix.optionLines),
                               outputs: ["*"], memoryLimitMB: 768, what: "every option and numeric argument with odd values")
        return images + [options]
    }

    /// `count` random pairs from the matrix, each in its own process: an odd image, one to three
    /// lines from the image lines and the odd option values (`make fuzz`'s third family).
    public static func oddImageCases(count: Int, seed: UInt64) -> [FuzzCase] {
        let lines = CommandMatrix.imageLines + CommandMatrix.optionLines
        return (0..<count).map { i in
            var rng = SeededRandom(seed: seed &* 0x94D0_49BB_1331_11EB &+ UInt64(i) &+ 7)
            func pick<T>(_ a: [T]) -> T { a[Int(rng.next() % UInt64(a.count))] }
            let image = pick(OddImages.all)
            let chosen = (0..<(1 + Int(rng.next() % 3))).map { _ in pick(lines) }
            let training = chosen.contains { $0.hasPrefix("train") }
            return FuzzCase(id: "odd-\(i)", files: [(image.file, image.bytes)], arguments: ["repl", "--keep-going"],
                            stdin: session(CommandMatrix.setup(file: image.file), chosen),
                            outputs: ["*"], memoryLimitMB: training ? 768 : 512,
                            what: image.file + ": " + chosen.joined(separator: "; ").prefix(200))
        }
    }

    public struct Group {
        public var name: String
        public var cases = 0, handled = 0
        public var failures: [String: [String]] = [:]     // class -> reproducer paths
        public var peakMB = 0
    }

    /// Runs the cases with `workers` processes at a time; saves every failing case's input and
    /// command under `outDir` and returns the groups in order.
    public static func run(_ groups: [(String, [FuzzCase])], runner: FuzzRunner, workers: Int, outDir: String,
                           progress: ((Int, Int) -> Void)? = nil) -> [Group] {
        let all = groups.flatMap { g in g.1.map { (g.0, $0) } }
        var results = [FuzzOutcome?](repeating: nil, count: all.count)
        let lock = NSLock()
        var next = 0, done = 0
        DispatchQueue.concurrentPerform(iterations: max(1, workers)) { _ in
            while true {
                lock.lock(); let i = next; next += 1; lock.unlock()
                if i >= all.count { return }
                let outcome = runner.run(all[i].1, index: i)
                lock.lock(); results[i] = outcome; done += 1; let d = done; lock.unlock()
                progress?(d, all.count)
            }
        }
        var out: [Group] = groups.map { Group(name: $0.0) }
        for (i, (groupName, c)) in all.enumerated() {
            let g = out.firstIndex { $0.name == groupName }!
            let r = results[i]!
            out[g].cases += 1
            out[g].peakMB = max(out[g].peakMB, r.peakMB)
            guard let failure = r.failure else { out[g].handled += 1; continue }
            let folder = outDir + "/" + c.id
            try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            for (name, bytes) in c.files { FileManager.default.createFile(atPath: folder + "/" + name, contents: Data(bytes)) }
            let command = (c.stdin.map { "printf %s \($0.debugDescription) | " } ?? "") + "drht " + c.arguments.joined(separator: " ")
            let note = "\(failure): \(r.detail)\nmutations: \(c.what)\nrun in this folder: \(command)\n"
            FileManager.default.createFile(atPath: folder + "/README.txt", contents: Data(note.utf8))
            out[g].failures[failure, default: []].append(folder)
        }
        return out
    }

    /// The table `drht fuzz` prints.
    public static func table(_ groups: [Group]) -> String {
        var s = "| input | cases | handled | peak MB* | failures |\n|---|---|---|---|---|\n"
        for g in groups {
            let f = g.failures.isEmpty ? "none" : g.failures.sorted { $0.key < $1.key }
                .map { "\($0.key): \($0.value.count) (e.g. \($0.value[0]))" }.joined(separator: "; ")
            s += "| \(g.name) | \(g.cases) | \(g.handled) | \(g.peakMB) | \(f) |\n"
        }
        s += "* the highest peak resident memory (VmHWM) of any case's process, as drht reports it at exit\n"
        return s
    }
}

extension FuzzSeeds {
    /// A valid PNG for `correct --weights` cases.
    static func pngPicture() throws -> [UInt8] { seeds(.png)[0] }
}

extension String {
    /// A hash that is the same in every run (Swift's hashValue is seeded per process).
    var hashValueStable: UInt64 { utf8.reduce(1469598103934665603) { ($0 ^ UInt64($1)) &* 1099511628211 } }
}
