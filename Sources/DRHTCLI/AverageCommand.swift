// `drht average`: the element-wise mean of several checkpoints of one run (WeightAveraging).
import ArgumentParser
import DRHTModel
import DRHTTraining
import Foundation

struct AverageCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "average",
        abstract: "Average the weights of several checkpoints of one training run.",
        discussion: """
        Example: drht average ckpt/run-1900.safetensors ckpt/run-1950.safetensors ckpt/run-2000.safetensors -o avg.safetensors
        Checkpoints from late in one run, at a constant learning rate, average into a model that \
        is usually smoother and scores better than any one of them; compare with `drht evaluate`.
        """
    )

    @Argument(help: "Checkpoints of the same run (two or more).", completion: .file(extensions: ["safetensors"]))
    var inputs: [String]
    @Option(name: .shortAndLong, help: "The weights file to write.", completion: .file(extensions: ["safetensors"]))
    var output: String
    @Flag(help: "Store F16 (as Weights/ does).") var f16 = false

    func validate() throws {
        guard inputs.count >= 2 else { throw ValidationError("give at least two checkpoints to average") }
        if inputs.contains(output) { throw ValidationError("-o \(output) is one of the inputs; write the average to a new file") }
    }

    func run() throws {
        let models = try inputs.map { try DRHT.load($0) }
        let mean = WeightAveraging.average(models)
        let steps = models.compactMap { $0.notes["steps"].flatMap(Int.init) }
        mean.notes["averaged"] = "mean of \(models.count) checkpoints"
            + (steps.isEmpty ? "" : ", steps \(steps.min()!)–\(steps.max()!)")
        try mean.save(to: output, dtype: f16 ? .f16 : .f32)
        print("wrote \(output) (\(f16 ? "F16" : "F32")): the mean of \(models.count) checkpoints")
    }
}
