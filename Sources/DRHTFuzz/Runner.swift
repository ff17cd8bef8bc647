// Runs fuzz cases against the drht executable, one process each, and checks what a user is
// promised: no signal, no hang, exit 0 or 1, one error line, no raw control characters, bounded
// memory, nothing left behind. Failures are grouped by class, each with a saved reproducer.
import DRHTEngine
import Foundation
import Glibc

public struct FuzzCase: Sendable {
    public let id: String
    /// Input files to place in the case's empty folder (name, bytes).
    public let files: [(String, [UInt8])]
    public let arguments: [String]
    public let stdin: String?
    /// Files the command may leave in the folder when it succeeds.
    public let outputs: [String]
    /// Peak resident memory allowed, in MB (nil: not checked).
    public let memoryLimitMB: Int?
    public let what: String
}

public struct FuzzOutcome: Sendable {
    public let failure: String?      // the failure class, nil when handled
    public let detail: String
    public let exitStatus: Int32
    public let peakMB: Int
}

public final class FuzzRunner: @unchecked Sendable {
    public let executable: String
    public let timeout: Double
    public let workRoot: String

    public init(executable: String, timeout: Double = 20, workRoot: String) {
        self.executable = executable; self.timeout = timeout; self.workRoot = workRoot
    }

    /// Runs one case in a fresh folder (removed afterwards) and judges it.
    public func run(_ c: FuzzCase, index: Int) -> FuzzOutcome {
        let dir = workRoot + "/case-\(index)", logs = workRoot + "/logs-\(index)"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        try? FileManager.default.createDirectory(atPath: logs, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir); try? FileManager.default.removeItem(atPath: logs) }
        for (name, bytes) in c.files { FileManager.default.createFile(atPath: dir + "/" + name, contents: Data(bytes)) }
        if let stdin = c.stdin { FileManager.default.createFile(atPath: logs + "/stdin", contents: Data(stdin.utf8)) }
        else { FileManager.default.createFile(atPath: logs + "/stdin", contents: Data()) }

        let (status, signal, timedOut, spawnPeakKB) = spawn(c.arguments, in: dir, stdin: logs + "/stdin", stdout: logs + "/out", stderr: logs + "/err",
                                                            peakFile: logs + "/peak")
        // drht's own figure (it writes VmHWM at exit); the kernel's, which also counts this
        // process's peak at the spawn, only when it left none (a crash, a kill).
        let ownPeakKB = (try? String(contentsOfFile: logs + "/peak", encoding: .utf8)).flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let peakKB = ownPeakKB ?? spawnPeakKB
        let out = (try? Data(contentsOf: URL(fileURLWithPath: logs + "/out"))).map { [UInt8]($0) } ?? []
        let err = (try? Data(contentsOf: URL(fileURLWithPath: logs + "/err"))).map { [UInt8]($0) } ?? []
        let outText = String(decoding: out, as: UTF8.self)
        let peakMB = peakKB / 1024
        func outcome(_ failure: String?, _ detail: String = "") -> FuzzOutcome {
            FuzzOutcome(failure: failure, detail: detail, exitStatus: status, peakMB: peakMB)
        }
        /// For REPL input: the last line the session echoed before it ended.
        let last = c.stdin == nil ? "" : outText.split(separator: "\n")
            .last { $0.hasPrefix("> ") }.map { " after `\($0.dropFirst(2).prefix(160))`" } ?? ""
        if timedOut { return outcome("hang (no exit in \(String(format: "%g", timeout)) s)", last) }
        if signal != 0 {
            // Swift's runtime names the trap on a "Fatal error" line; otherwise the end of stderr.
            let text = String(decoding: err, as: UTF8.self)
            let reason = text.split(separator: "\n").first { $0.contains("Fatal error") || $0.contains("Crash") }.map(String.init)
            return outcome("crash (signal \(signal))", (reason ?? String(text.suffix(300))).prefix(300) + last)
        }
        if status != 0 && status != 1 { return outcome("exit status \(status)", String(decoding: err.prefix(200), as: UTF8.self)) }
        if let limit = c.memoryLimitMB, peakMB > limit { return outcome("memory over \(limit) MB", "\(peakMB) MB") }
        for (stream, bytes) in [("stdout", out), ("stderr", err)] {
            if let i = bytes.firstIndex(where: { ($0 < 0x20 && $0 != 0x0A) || $0 == 0x7F }) {
                return outcome("raw control character in \(stream)", "byte 0x\(String(bytes[i], radix: 16)) at \(i)")
            }
        }
        if c.stdin == nil, status == 1 {
            let lines = err.split(separator: 0x0A, omittingEmptySubsequences: true).count
            if lines != 1 { return outcome("\(lines)-line error", String(decoding: err.prefix(300), as: UTF8.self)) }
        }
        if c.stdin != nil {
            // The REPL echoes each line it reads as "> LINE": each echo starts a line's output.
            var segment = "", errors = 0
            for l in outText.split(separator: "\n") {
                if l.hasPrefix("> ") { segment = String(l.dropFirst(2)); errors = 0 }
                if l.hasPrefix("error:") { errors += 1 }
                if errors > 1 { return outcome("more than one error line for one REPL line", "after `\(segment.prefix(160))`") }
            }
            let lines = c.stdin?.split(separator: "\n") ?? []
            if let expected = lines.last, !lines.contains(where: { $0.hasPrefix("quit") }), !outText.contains("> " + expected) {
                return outcome("the session did not reach its last line", "last line run: `\(segment.prefix(160))`")
            }
        }
        let inputs = Set(c.files.map(\.0))
        let allowed = status == 0 ? Set(c.outputs) : []
        let anything = c.outputs == ["*"]        // REPL lines may export what they like; temporaries never
        let left = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter {
            anything ? $0.contains(".tmp-drht-") : (!inputs.contains($0) && !allowed.contains($0))
        }
        if !left.isEmpty { return outcome("files left behind", left.sorted().prefix(3).joined(separator: ", ")) }
        return outcome(nil)
    }

    /// posix_spawn with stdio redirected to files; polls for exit, SIGKILL after `timeout`.
    func spawn(_ args: [String], in dir: String, stdin: String, stdout: String, stderr: String, peakFile: String? = nil)
        -> (status: Int32, signal: Int32, timedOut: Bool, peakKB: Int) {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, stdin, O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdout, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_addopen(&actions, 2, stderr, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        // The case's folder as working directory: `env -C` (coreutils) changes to it and execs
        // drht in the same process, so wait4's resource usage is drht's own.
        let argv = (["env", "-C", dir, executable] + args).map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var env = ProcessInfo.processInfo.environment
        env["DRHT_HISTORY"] = "/dev/null"; env["NO_COLOR"] = "1"
        if let peakFile { env["DRHT_PEAK_FILE"] = peakFile }
        let envp = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { envp.forEach { free($0) } }
        var pid: pid_t = 0
        guard posix_spawn(&pid, "/usr/bin/env", &actions, nil, argv, envp) == 0 else { return (127, 0, false, 0) }
        let deadline = Date().addingTimeInterval(timeout)
        var status: Int32 = 0, usage = rusage(), timedOut = false
        while true {
            let r = wait4(pid, &status, WNOHANG, &usage)
            if r == pid { break }
            if r < 0 && errno != EINTR { break }
            if Date() > deadline {
                kill(pid, SIGKILL); timedOut = true
                _ = wait4(pid, &status, 0, &usage)
                break
            }
            usleep(2_000)
        }
        let signalled = (status & 0x7F) != 0 && (status & 0x7F) != 0x7F
        return (signalled ? 0 : (status >> 8) & 0xFF, signalled ? status & 0x7F : 0, timedOut, usage.ru_maxrss)
    }
}
