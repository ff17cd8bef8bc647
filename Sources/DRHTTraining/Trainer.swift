// The training loop: batches -> joint loss and gradients -> Adam, with held-out validation,
// a CSV log, a loss-curve picture, and atomic checkpoints that --resume continues exactly.
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation

/// Hyper-parameters and schedule of a run; each default says where it comes from. The one
/// place defaults are written: `drht train` and the REPL's `train` start from `defaults`.
public struct TrainingConfig {
    public static let defaults = TrainingConfig()

    /// The REPL's `train`: 40 steps of 4 samples, so a run at the prompt (and lesson 8) ends in
    /// well under a minute on two cores while the loss still visibly falls.
    public static let interactive: TrainingConfig = {
        var c = TrainingConfig()
        c.steps = 40
        c.batch = 4
        return c
    }()

    /// Total steps (the run stops after this step). 200: a first run that visibly lowers the
    /// loss in a few minutes on two cores (docs/TRAINING.md).
    public var steps = 200
    /// Triplets per batch. 8 at 64x64: the best steps-per-second of the sizes measured for
    /// `drht bench train`; the paper does not state its batch size.
    public var batch = 8
    /// Sample size S (a multiple of 32: the latent is S/32). 64: fast steps; the shipped weights
    /// fine-tune at 128, gain mode's working size.
    public var size = 64
    /// Adam's learning rate. The paper uses 1e-2. Measured here (docs/TRAINING.md; 200 steps,
    /// batch 8, 64x64, synth): both 1e-2 and 1e-3 reach the same training loss, but with 1e-2
    /// the held-out loss (BN running statistics) spiked to 6.8e5 at step 20; 1e-3 never did.
    public var learningRate: Float = 1e-3
    /// L2 weight decay added to gradients (PyTorch Adam's weight_decay); off as in docs/MODEL.md.
    public var weightDecay: Float = 0
    /// Seed of the initialisation and of the training samples' order.
    public var seed: UInt64 = 1
    /// Held-out loss every 20 steps: about 5% of a step's cost with 16 validation triplets.
    public var validateEvery = 20
    /// A checkpoint every 100 steps: at most a few minutes of work lost to a crash.
    public var saveEvery = 100
    /// Held-out triplets for the validation loss (validation seeds, disjoint from training's).
    public var validationCount = 16
    public var data: DataSource = .synthetic
    /// Where the held-out triplets come from: procedural scenes by default (a fixed yardstick
    /// across runs on any data); the training source itself (other views, other cameras) or a
    /// folder of held-out photos work too.
    public var validationData: DataSource = .synthetic
    /// Whole images reduced to `size` (what gain-mode inference shows the network, the
    /// default since gain mode became `drht correct`'s), or windows cut at the images' scale.
    public var framing: Framing = .whole
    /// Also keep every checkpoint as `<out>.step<N>.safetensors` (for `drht average`).
    public var keepCheckpoints = false
    /// After every step, balance the transposed convolutions' output phases
    /// (`DRHT.balanceDeconvPhases`): a projected gradient step that keeps a flat input's output
    /// flat (no 32-pixel lattice). Off by default: an option, documented in docs/TRAINING.md.
    public var balancePhases = false
    /// Weight c of the pixels the input clipped in the LDR term of the loss (each weighs 1 + c;
    /// `DRHT.lossAndGradients(clipWeight:)`). 0, docs/MODEL.md's loss, by default: a deviation,
    /// an option documented in docs/TRAINING.md. The held-out loss is weighted the same way.
    public var clipWeight: Float = 0
    /// Where a photo's own pixels are clipped, its H_gt (the photo made linear) counts as a lower
    /// bound in the HDR term (`DRHT.lossAndGradients(hdrBound:)`). Off, docs/MODEL.md's loss, by
    /// default: a deviation, an option documented in docs/TRAINING.md. The held-out loss (procedural
    /// scenes unless --val-data names photos) is computed the same way.
    public var hdrBound = false
    /// Which clipped channels `hdrBound` takes as bounds: the photo's (`.photo`, the first runs'
    /// rule) or only those the input clipped too (`.input`: under-exposed samples keep
    /// MODEL.md's term).
    public var hdrBoundScope: HDRBoundScope = .photo
    /// BatchNorm normalises with its running statistics while training too, as inference does,
    /// and leaves them as they are (PyTorch: the BN modules in `eval()` mode during training).
    /// Fine-tuning a file whose statistics were measured (`drht calibrate`) then trains with the
    /// statistics inference uses. Off (docs/MODEL.md's training: batch statistics) by default; an
    /// option documented in docs/TRAINING.md.
    public var freezeBatchNorm = false
    /// BN's mode in a training step.
    public var batchNormMode: Mode { freezeBatchNorm ? .inference : .training }

    public init() {}
}

extension DRHT {
    /// The notes on BatchNorm's statistics after a training run (`drht train` and the REPL's
    /// `train`): measured statistics stay measured only when the run froze them.
    public func noteStatistics(afterTraining frozen: Bool) {
        if !frozen { notes["bn_calibrated"] = nil }            // training moved the statistics again
        notes["bn_frozen"] = frozen ? "running statistics used and kept while training (--freeze-bn)" : nil
    }
}

/// One row of the CSV log: step, total loss, one column per term of `Losses.terms`
/// (`loss_hdr`, `loss_ldr`), held-out loss, seconds.
public struct LogRow {
    public var step: Int
    public var loss: Double
    /// The terms' values, in `Losses.terms` order.
    public var terms: [Double]
    public var validation: Double?
    public var seconds: Double

    var csv: String {
        ([String(step), String(loss)] + terms.map { String($0) }
         + [validation.map { String($0) } ?? "", String(format: "%.3f", seconds)]).joined(separator: ",")
    }
    static let header = (["step", "loss"] + Losses.terms.map { "loss_\($0.name)" } + ["val_loss", "seconds"])
        .joined(separator: ",")

    init(step: Int, losses: Losses, validation: Double?, seconds: Double) {
        self.step = step; loss = losses.total; terms = losses.values
        self.validation = validation; self.seconds = seconds
    }

    init?(csv line: Substring) {
        let f = line.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        let n = Losses.terms.count
        guard f.count == n + 4, let s = Int(f[0]), let l = Double(f[1]), let t = Double(f[n + 3]) else { return nil }
        let terms = f[2..<(2 + n)].compactMap(Double.init)
        guard terms.count == n else { return nil }
        step = s; loss = l; self.terms = terms; validation = Double(f[n + 2]); seconds = t
    }
}

public final class Trainer {
    public let model: DRHT
    public let adam: Adam
    public let config: TrainingConfig
    /// The weights file; the optimizer state goes beside it (`adamPath`), and the log and
    /// loss curve beside it too (`.csv`, `.svg`).
    public let output: String
    /// The last step already taken (0 for a fresh run).
    public private(set) var step: Int
    public private(set) var log: [LogRow] = []
    /// false: train in memory only (the REPL's `train`), writing no checkpoint, CSV or curve.
    public var writesFiles = true
    private let validation: Batch
    private var elapsed: Double

    public static func adamPath(_ weights: String) -> String { base(weights) + ".adam.safetensors" }
    /// The optimizer state of the checkpoint before, kept until the new weights are in place.
    public static func previousAdamPath(_ weights: String) -> String { base(weights) + ".adam.prev.safetensors" }
    public static func csvPath(_ weights: String) -> String { base(weights) + ".csv" }
    public static func curvePath(_ weights: String) -> String { base(weights) + ".svg" }
    /// Where `keepCheckpoints` puts the weights of step `step`.
    public static func keptPath(_ weights: String, step: Int) -> String { base(weights) + ".step\(step).safetensors" }
    static func base(_ path: String) -> String {
        path.hasSuffix(".safetensors") ? String(path.dropLast(".safetensors".count)) : path
    }

    /// A fresh run from `model` (`TrainTask` checks user-given sizes and memory first).
    public init(model: DRHT, config: TrainingConfig, output: String) throws {
        self.model = model
        self.config = config
        self.output = output
        adam = Adam(learningRate: config.learningRate)
        adam.weightDecay = config.weightDecay
        step = 0
        elapsed = 0
        validation = stack(try (0..<config.validationCount).map {
            try config.validationData.sample(seed: Split.validation.seed($0), size: config.size, framing: config.framing)
        })
    }

    /// Continues the run checkpointed at `checkpoint` (weights + optimizer state + log).
    public convenience init(resuming checkpoint: String, config: TrainingConfig, output: String) throws {
        let model = try DRHT.load(checkpoint)
        guard let done = model.notes["steps"].flatMap(Int.init) else {
            throw TrainingError("\(checkpoint): no 'steps' in its metadata; --resume takes a checkpoint written by drht train")
        }
        // The optimizer state of the same step: the current file, or the previous generation
        // when a crash came between writing the new state and the new weights (see `save`).
        let candidates = [Trainer.adamPath(checkpoint), Trainer.previousAdamPath(checkpoint)]
            .filter { FileManager.default.fileExists(atPath: $0) }
        guard !candidates.isEmpty else {
            throw TrainingError("\(Trainer.adamPath(checkpoint)) is missing: --resume needs the optimizer state written beside the weights")
        }
        try self.init(model: model, config: config, output: output)
        var steps: [Int] = []
        var restored = false
        for adamFile in candidates {
            let state = try SafeTensorsFile.read(adamFile)
            let step = state.metadata["adam_step"].flatMap(Int.init) ?? -1
            steps.append(step)
            guard step == done else { continue }
            var tensors: [String: Tensor] = [:]
            for name in state.names { tensors[name] = try state.tensor(name, path: adamFile) }
            try adam.restore(tensors: tensors, metadata: state.metadata)
            restored = true
            break
        }
        guard restored else {
            throw TrainingError("\(Trainer.adamPath(checkpoint)) is from step \(steps.map(String.init).joined(separator: " / ")) but \(checkpoint) from step \(done); they do not belong together")
        }
        adam.learningRate = config.learningRate
        step = done
        if let text = try? String(contentsOfFile: Trainer.csvPath(checkpoint), encoding: .utf8) {
            log = text.split(separator: "\n").dropFirst().compactMap(LogRow.init(csv:)).filter { $0.step <= done }
        }
        elapsed = log.last?.seconds ?? 0
    }

    /// What the loop reports after each step.
    public struct Progress {
        public let row: LogRow
        public let total: Int
        public let stepsPerSecond: Double
    }

    /// Trains until `config.steps` or until `shouldStop()` says so (checked between steps),
    /// then writes a final checkpoint. Returns the last log row.
    @discardableResult
    public func run(report: (Progress) -> Void = { _ in }, shouldStop: () -> Bool = { false }) throws -> LogRow? {
        let start = Date()
        let startElapsed = elapsed
        let startStep = step
        if writesFiles { try writeCSV() }
        while step < config.steps && !shouldStop() {
            let batch = try config.data.batch(seed: config.seed, step: step + 1, count: config.batch, size: config.size, framing: config.framing)
            let (losses, grads) = model.lossAndGradients(batch, mode: config.batchNormMode, clipWeight: config.clipWeight,
                                                         hdrBound: config.hdrBound, hdrBoundScope: config.hdrBoundScope)
            guard losses.total.isFinite else {
                throw TrainingError("the loss became \(losses.total) at step \(step + 1); lower --lr (now \(config.learningRate))")
            }
            adam.update(model.parameters, gradients: grads)
            if config.balancePhases { model.balanceDeconvPhases() }
            step += 1
            elapsed = startElapsed + Date().timeIntervalSince(start)
            let validate = step % config.validateEvery == 0 || step == config.steps
            let row = LogRow(step: step, losses: losses, validation: validate ? validationLoss() : nil, seconds: elapsed)
            log.append(row)
            if writesFiles { try appendCSV(row) }
            report(Progress(row: row, total: config.steps, stepsPerSecond: Double(step - startStep) / max(elapsed - startElapsed, 1e-9)))
            if writesFiles && step % config.saveEvery == 0 && step < config.steps { try save() }
        }
        if writesFiles { try save() }
        return log.last
    }

    /// The joint loss on the held-out set, BN with running statistics.
    public func validationLoss() -> Double {
        model.lossAndGradients(validation, mode: .inference, gradients: false, clipWeight: config.clipWeight,
                           hdrBound: config.hdrBound, hdrBoundScope: config.hdrBoundScope).0.total
    }

    /// Writes the optimizer state, then the weights (each atomically), then the loss curve.
    /// Both files carry the step, so a crash between the two renames is detected on resume.
    public func save() throws {
        // Order matters for a crash at any moment: keep the previous optimizer state, write the
        // new one, then the weights. Resume pairs the weights with whichever state has their step.
        let (tensors, meta) = adam.state
        let current = Trainer.adamPath(output), previous = Trainer.previousAdamPath(output)
        if FileManager.default.fileExists(atPath: current) {
            _ = rename(current, previous)
        }
        do { try AtomicFile.write(SafeTensorsFile.encode(tensors, metadata: meta), to: current) }
        catch let e as ImageIOError { throw TrainingError("\(e)") }
        let last = log.last
        model.notes["steps"] = "\(step)"
        model.notes["data"] = config.data.description
        // As the user wrote them, so a resumed run reads the same data (nil: made in code).
        model.notes["data_spec"] = config.data.spec
        model.notes["val_data_spec"] = config.validationData.spec
        model.notes["val_every"] = "\(config.validateEvery)"
        model.notes["save_every"] = "\(config.saveEvery)"
        model.notes["keep"] = "\(config.keepCheckpoints)"
        model.notes["seed"] = "\(config.seed)"
        model.notes["batch"] = "\(config.batch)"
        model.notes["size"] = "\(config.size)"
        model.notes["framing"] = config.framing.rawValue
        model.noteStatistics(afterTraining: config.freezeBatchNorm)
        model.notes["phases"] = config.balancePhases ? "balanced after every step (drht train --balance-phases)" : nil
        model.notes["clip_weight"] = config.clipWeight > 0 ? "\(config.clipWeight)" : nil
        model.notes["hdr_bound"] = config.hdrBound ? (config.hdrBoundScope == .input
            ? "a photo's clipped channels, where the input clipped too, bound H_gt from below (drht train --hdr-bound --hdr-bound-scope input)"
            : "a photo's clipped channels bound H_gt from below (drht train --hdr-bound)") : nil
        model.notes["hdr_bound_scope"] = config.hdrBound ? config.hdrBoundScope.rawValue : nil
        model.notes["learning_rate"] = "\(config.learningRate)"
        model.notes["date"] = ISO8601DateFormatter().string(from: Date())
        if let last {
            model.notes["loss"] = "\(last.loss)"
            for (term, value) in zip(Losses.terms, last.terms) { model.notes["loss_\(term.name)"] = "\(value)" }
        }
        if let v = log.last(where: { $0.validation != nil })?.validation { model.notes["val_loss"] = "\(v)" }
        try model.save(to: output)
        if config.keepCheckpoints { try model.save(to: Trainer.keptPath(output, step: step)) }
        try? AtomicFile.write(Array(LossCurve.svg(log).utf8), to: Trainer.curvePath(output))
    }

    private func writeCSV() throws {
        let text = ([LogRow.header] + log.map(\.csv)).joined(separator: "\n") + "\n"
        do { try AtomicFile.write(Array(text.utf8), to: Trainer.csvPath(output)) }
        catch let e as ImageIOError { throw TrainingError("\(e)") }
    }

    private func appendCSV(_ row: LogRow) throws {
        guard let handle = FileHandle(forWritingAtPath: Trainer.csvPath(output)) else { return try writeCSV() }
        defer { try? handle.close() }
        handle.seekToEndOfFile()
        handle.write(Data((row.csv + "\n").utf8))
    }
}
