// `drht calibrate`: measure BatchNorm's running statistics again at the size the network will
// run at (CalibrateTask), the weights untouched; writes a new weights file.
import ArgumentParser
import DRHTEngine
import DRHTModel
import DRHTTasks
import DRHTTraining
import Foundation

struct CalibrateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "calibrate",
        abstract: "Measure BatchNorm's running statistics again at the size the network runs at (the weights stay).",
        discussion: """
        Example: drht calibrate Weights/drht.safetensors -o calibrated.safetensors
        At inference every BatchNorm layer normalises with the running mean and variance it kept \
        during training: a moving average of the last few batches, or, after `drht average`, the \
        average of several checkpoints' statistics, which no single network produced. This runs \
        the network in training mode on --batches batches of training samples at --size and keeps \
        the plain mean of their statistics; nothing else changes. By default --size is the size \
        the file was trained at (its `size` note), which measured better than the 256-px working \
        size (Weights/HISTORY.md). Compare with `drht evaluate` before using the result.
        """
    )

    @Argument(help: "The weights file to read.", completion: .file(extensions: ["safetensors"]))
    var input: String
    @Option(name: .shortAndLong, help: "The weights file to write.", completion: .file(extensions: ["safetensors"]))
    var output: String
    @Option(help: "Samples to measure on, in drht train's forms (default: photos:data/photos/train from `make photos`).")
    var data: String?
    @Option(help: "Sample size, a multiple of 32 from 32 to 1024 (default: the size the file was trained at, else \(CorrectionMode.defaultWorkSize)).")
    var size: Int?
    @Option(help: "whole or crop, as in drht train.") var framing: Framing = .whole
    @Option(help: "Batches measured, 1 to 10000.") var batches: Int = 32
    @Option(help: "Samples per batch, 1 to 64.") var batch: Int = 8
    @Option(help: "Seed of the samples drawn.") var seed: UInt64 = 1
    @Flag(help: "Store F16 (as Weights/ does).") var f16 = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    var request: CalibrateRequest {
        var r = CalibrateRequest()
        r.data = data; r.size = size; r.framing = framing; r.batches = batches; r.batchSize = batch; r.seed = seed
        return r
    }

    func validate() throws {
        if URL(fileURLWithPath: output).standardizedFileURL.path == URL(fileURLWithPath: input).standardizedFileURL.path {
            throw ValidationError("-o \(output) is the input; write the calibrated weights to a new file")
        }
        do { try CalibrateTask.check(request) } catch let e as TaskError { throw ValidationError(e.description) }
    }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        let model = try DRHT.load(input)
        let r = request
        let size = CalibrateTask.size(r, model: model)
        note("calibrating \(input): \(r.batches) batch\(r.batches == 1 ? "" : "es") of \(r.batchSize) at \(size) px")
        do {
            try CalibrateTask.run(r, model: model, monitor: .standardError())
        } catch let stop as TaskStopped {
            throw TaskError("\(stop.description); nothing written")
        }
        try model.save(to: output, dtype: f16 ? .f16 : .f32)
        let n = r.batches * r.batchSize
        print("wrote \(output) (\(f16 ? "F16" : "F32")): BatchNorm statistics of \(n) sample\(n == 1 ? "" : "s") at \(size) px, weights as in \(input)")
    }
}
