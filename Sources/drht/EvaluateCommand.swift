// `drht evaluate`: DRHT against classic baselines on held-out data, with PSNR, SSIM and FSIM.
import ArgumentParser
import DRHTEngine
import DRHTEvaluation
import DRHTImageIO
import DRHTModel
import DRHTREPL
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score DRHT and classic baselines (PSNR, SSIM, FSIM) on held-out triplets.",
        discussion: """
        Examples: drht evaluate --count 64
                  drht evaluate --data triplets/ --html report.html
        Rows: the input itself, auto-exposure + gamma, histogram equalisation, Reinhard 2002 on the \
        linearised input, DRHT's stage-1 HDR estimate (RMS error in the log domain) and DRHT's output.
        """
    )

    @Option(help: "synth (held-out procedural scenes), photos:DIR (held-out photos, e.g. data/photos/eval from `make photos`) or a folder written by `drht synth`.") var data = "synth"
    @Option(help: "How many procedural scenes.") var count = 64
    @Option(help: "Size of the procedural scenes.") var size = 256
    @Option(help: "First evaluation seed (scenes use seeds never used for training or validation).") var seed = 0
    @Option(help: "Weights to evaluate (default: $DRHT_WEIGHTS, else Weights/drht.safetensors).",
            completion: .file(extensions: ["safetensors"]))
    var weights: String?
    @Option(help: "Also write an HTML report with every image side by side.", completion: .file(extensions: ["html"]))
    var html: String?
    @Flag(help: "Print the results as JSON.") var json = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func validate() throws {
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1...10000 (got \(count))") }
        guard (32...2048).contains(size) else { throw ValidationError("--size must be 32...2048 (got \(size))") }
        guard seed >= 0 else { throw ValidationError("--seed must be >= 0") }
    }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        let (model, path) = try WeightsLocator.load(weights)
        let source: EvaluationData
        if data == "synth" {
            source = .synthetic(count: count, size: size, seed: seed)
        } else if data.hasPrefix("photos:") {
            source = try EvaluationData.photoFolder(String(data.dropFirst("photos:".count)), count: count, size: size)
        } else {
            source = try EvaluationData.folder(data)
        }
        let e = Evaluation(data: source, model: model)
        e.keepImages = html != nil
        Interrupt.catchSIGINT(secondExits: true)
        let tty = isatty(2) != 0
        FileHandle.standardError.write(Data("evaluating \(path) on \(source.description)\n".utf8))
        try e.run(progress: { done, total in
            if tty { FileHandle.standardError.write(Data("\r\u{1B}[2K[\(String(repeating: "#", count: done * 24 / total))\(String(repeating: ".", count: 24 - done * 24 / total))] \(done)/\(total)".utf8)) }
        }, shouldStop: { Interrupt.isRequested })
        if tty { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        if Interrupt.isRequested { FileHandle.standardError.write(Data("stopped (Ctrl-C): results for the images done so far\n".utf8)) }
        if json {
            print(e.json())
        } else {
            for line in e.table() { print(line) }
            let behind = e.methodsNotBeaten()
            print(behind.isEmpty ? "DRHT is ahead of every baseline in mean PSNR and SSIM."
                                 : "DRHT does not beat: \(behind.joined(separator: ", ")) (in mean PSNR or SSIM).")
        }
        if let html {
            try AtomicFile.write(Array(EvaluationReport.html(e, title: "drht evaluate").utf8), to: html)
            FileHandle.standardError.write(Data("wrote \(html)\n".utf8))
        }
    }
}
