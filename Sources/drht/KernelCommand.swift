// `drht kernel`: the machine protocol (Sources/DRHTREPL/Kernel) on standard input and output,
// for the Jupyter kernel (jupyter/drht_kernel.py). Not for people: hidden from `drht --help`.
import ArgumentParser
import DRHTEngine
import DRHTREPL
import Foundation

struct KernelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernel",
        abstract: "Serve the machine protocol the Jupyter kernel speaks (JSON lines on stdin/stdout).",
        shouldDisplay: false
    )

    @Option(help: "Weights to load (default: $DRHT_WEIGHTS, else the project's Weights/drht.safetensors).") var weights: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Option(help: "Text width in columns.") var width = 90

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        let server = KernelServer(width: width) { line in FileHandle.standardOutput.write(Data((line + "\n").utf8)) }
        if let weights {
            server.session.defaultWeightsPath = (weights as NSString).expandingTildeInPath
            try server.session.loadModel(weights, recording: true)
        }
        server.serve()
    }
}
