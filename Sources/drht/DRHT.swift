// drht — the executable: the one-shot commands of DRHTCLI beside the REPL's (`drht` alone
// starts it; `drht lesson`) and the hidden fuzzer. Each subcommand is a small struct in its own file.
import ArgumentParser
import DRHTCLI
import DRHTEngine
import DRHTREPL
import Foundation

@main
struct DRHTTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drht",
        abstract: "Learn how the DRHT network (CVPR 2018) corrects badly exposed photos.",
        discussion: """
        DRHT estimates the HDR image behind an LDR photo with one autoencoder, carries it into \
        the HDR domain with a gamma + log transform, and maps it back to a corrected LDR image \
        with a second autoencoder.
        """,
        subcommands: [ReplCommand.self, LessonCommand.self] + CLICommands.all + [KernelCommand.self, FuzzCommand.self],
        defaultSubcommand: ReplCommand.self
    )

    /// Errors the user can act on print as one line, `drht: <file>: <problem>; <what to do>`,
    /// and exit with status 1; argument mistakes get ArgumentParser's usage message.
    static func main() {
        // `drht fuzz` and the robustness tests learn each case's own peak memory this way: the
        // kernel's figure for a spawned process also counts its parent's peak at the spawn.
        if ProcessInfo.processInfo.environment["DRHT_PEAK_FILE"] != nil { atexit { writePeakMemory() } }
        checkTheCPU()
        BLASKernels.chooseOnce()    // before any thread starts: it sets an environment variable
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            guard let message = oneLine(error) else { exit(withError: error) }
            FileHandle.standardError.write(Data("drht: \(message)\n".utf8))
            Foundation.exit(1)
        }
    }

    /// The one-line text of the errors drht raises itself (nil for ArgumentParser's own).
    static func oneLine(_ error: Error) -> String? {
        if let e = error as? REPLError { return e.description }
        return CLICommands.oneLine(error)
    }
}

/// Writes this process's peak resident memory (VmHWM, kB) to $DRHT_PEAK_FILE at exit.
private func writePeakMemory() {
    guard let path = ProcessInfo.processInfo.environment["DRHT_PEAK_FILE"],
          let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
          let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }) else { return }
    // "VmHWM:\t  123456 kB" (the tab, and no space once the number has 8 digits).
    guard let kB = line.split(whereSeparator: { $0 == " " || $0 == "\t" }).compactMap({ Int($0) }).first else { return }
    FileManager.default.createFile(atPath: path, contents: Data("\(kB)\n".utf8))
}

/// The compute targets run instructions of the CPU they were compiled for (Package.swift): on a
/// machine without them drht would die on its first convolution. This file is compiled for the
/// baseline, so it can say so first, in one line.
func checkTheCPU() {
    #if DRHT_TARGET_CPU_skylake_avx512
    let needed = ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl", "avx2", "fma"], name = "AVX-512"
    #elseif DRHT_TARGET_CPU_haswell
    let needed = ["avx2", "fma", "bmi2", "f16c"], name = "AVX2"
    #else
    let needed: [String] = [], name = ""
    #endif
    guard !needed.isEmpty, let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return }
    let flags = Set(line.split(separator: " ").map(String.init))
    let missing = needed.filter { !flags.contains($0) }
    guard !missing.isEmpty else { return }
    FileHandle.standardError.write(Data("drht: this build is compiled for \(name) and this CPU lacks \(missing.joined(separator: ", ")); rebuild here with `make build` (or DRHT_TARGET_CPU=baseline make build)\n".utf8))
    Foundation.exit(1)
}
