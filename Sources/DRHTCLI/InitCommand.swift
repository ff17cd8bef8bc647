// `drht init`: a freshly initialised (untrained) model, written as safetensors.
import ArgumentParser
import DRHTModel
import Foundation

struct InitCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "init",
        abstract: "Write a freshly initialised (untrained) DRHT model to a weights file.",
        discussion: "Example: drht init --seed 7 -o Weights/drht.safetensors"
    )

    @Option(help: "Random seed; the same seed gives the same weights.")
    var seed: UInt64 = 1

    @Option(name: .shortAndLong, help: "The weights file to write (.safetensors).", completion: .file(extensions: ["safetensors"]))
    var output: String

    @Flag(help: "Store F16 instead of F32 (half the size).")
    var f16 = false

    @Option(help: """
        How the transposed convolutions start: icnr (their four output phases identical: no grid of dots at \
        step 0, and fewer after training; see docs/TRAINING.md) or kaiming (like every other conv).
        """)
    var deconv: DRHT.DeconvInit = .standard

    func run() throws {
        let model = DRHT.initialized(seed: seed, deconv: deconv)
        try model.save(to: output, dtype: f16 ? .f16 : .f32)
        let count = model.parameterCount.formatted(.number.grouping(.automatic))
        print("wrote \(output): DRHT weights, \(count) parameters, \(model.notes["init"] ?? "") (untrained)")
    }
}

extension DRHT.DeconvInit: ExpressibleByArgument {}
