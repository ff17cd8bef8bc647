// Training: the job behind `drht train` and the REPL's `train`. A request says where the run
// starts (fresh, from weights, resuming a checkpoint, or the REPL's model in memory) and which
// settings the user chose; a resumed run takes every setting the user did not choose from its
// checkpoint, so `--resume FILE --steps N` continues the run it names, not a default one.
import DRHTEngine
import DRHTModel
import DRHTTraining
import Foundation

/// The settings a user may choose; nil: the checkpoint's when resuming, else `TrainRequest.base`.
public struct TrainSettings {
    public var data: String?
    public var validationData: String?
    public var steps: Int?
    public var batch: Int?
    public var size: Int?
    public var framing: Framing?
    public var learningRate: Float?
    public var seed: UInt64?
    public var validateEvery: Int?
    public var saveEvery: Int?
    public var keepCheckpoints: Bool?
    public var balancePhases: Bool?
    public var clipWeight: Float?
    public var hdrBound: Bool?
    public var hdrBoundScope: HDRBoundScope?
    public var freezeBatchNorm: Bool?
    public init() {}
}

public struct TrainRequest {
    public enum Start {
        /// A fresh initialisation (its seed is the run's seed).
        case fresh(DRHT.DeconvInit)
        /// The weights in this file, as the start of a new run.
        case weights(String)
        /// The run checkpointed in this file (with its optimizer state and log).
        case resume(String)
        /// A model in memory (the REPL's), trained in place.
        case model(DRHT)
    }
    public var start: Start
    public var settings: TrainSettings
    /// Where checkpoints go; nil trains in memory only, writing nothing (the REPL).
    public var output: String?
    /// The defaults of what `settings` leaves out: `TrainingConfig.defaults` for `drht train`,
    /// `.interactive` for the REPL's short runs.
    public var base: TrainingConfig

    public init(start: Start, settings: TrainSettings, output: String?, base: TrainingConfig = .defaults) {
        self.start = start; self.settings = settings; self.output = output; self.base = base
    }
}

public enum TrainTask {
    /// What a training step holds besides the batch's activations: the model, Adam's two
    /// moments, the gradients and the program (fitted to `/usr/bin/time` peaks of
    /// `drht bench train`: batch 8 at 64^2 482 MB, batch 8 at 128^2 947 MB, batch 2 at 256^2
    /// 961 MB, i.e. about 330 MB plus 4.7 KB per pixel; `Use.backward` rounds the slope up).
    public static let modelBytes = 330e6

    /// The settings a checkpoint records (`Trainer.save` writes them as notes) over `base`.
    /// A checkpoint from before the data were recorded must be told them (`given`).
    static func restored(_ base: TrainingConfig, from notes: [String: String], checkpoint: String, given: TrainSettings)
        throws -> (config: TrainingConfig, data: String?, validation: String?) {
        var c = base
        let missing = [("--data", notes["data_spec"] == nil && given.data == nil),
                       ("--val-data", notes["val_data_spec"] == nil && given.validationData == nil)].filter(\.1).map(\.0)
        if !missing.isEmpty {
            throw TaskError("\(checkpoint) does not record its \(missing.joined(separator: " and ")) (written before drht kept them); pass \(missing.joined(separator: " and ")) as the run had them")
        }
        if let v = notes["batch"].flatMap(Int.init) { c.batch = v }
        if let v = notes["size"].flatMap(Int.init) { c.size = v }
        if let v = notes["framing"].flatMap(Framing.init(rawValue:)) { c.framing = v }
        if let v = notes["learning_rate"].flatMap(Float.init) { c.learningRate = v }
        if let v = notes["seed"].flatMap(UInt64.init) { c.seed = v }
        if let v = notes["val_every"].flatMap(Int.init) { c.validateEvery = v }
        if let v = notes["save_every"].flatMap(Int.init) { c.saveEvery = v }
        if let v = notes["keep"] { c.keepCheckpoints = v == "true" }
        c.balancePhases = notes["phases"] != nil
        c.clipWeight = notes["clip_weight"].flatMap(Float.init) ?? 0
        c.hdrBound = notes["hdr_bound"] != nil
        c.hdrBoundScope = notes["hdr_bound_scope"].flatMap(HDRBoundScope.init(rawValue:)) ?? .photo
        c.freezeBatchNorm = notes["bn_frozen"] != nil
        return (c, notes["data_spec"], notes["val_data_spec"])
    }

    /// The run's configuration: the user's settings over the checkpoint's (resuming) or over
    /// `base`; then checked (sizes, memory) before anything is allocated.
    /// `parse: false` leaves the data sources unread (a check of the numbers alone).
    public static func configuration(_ r: TrainRequest, checkpointNotes: [String: String]? = nil, parse: Bool = true) throws -> TrainingConfig {
        var c = r.base
        var data = r.base.data.spec ?? "synth", validation = r.base.validationData.spec ?? "synth"
        if case .resume(let path) = r.start, let notes = checkpointNotes {
            let restored = try restored(r.base, from: notes, checkpoint: path, given: r.settings)
            c = restored.config
            data = restored.data ?? data; validation = restored.validation ?? validation
        }
        let s = r.settings
        if let v = s.data { data = v }
        if let v = s.validationData { validation = v }
        if let v = s.steps { c.steps = v }
        if let v = s.batch { c.batch = v }
        if let v = s.size { c.size = v }
        if let v = s.framing { c.framing = v }
        if let v = s.learningRate { c.learningRate = v }
        if let v = s.seed { c.seed = v }
        if let v = s.validateEvery { c.validateEvery = v }
        if let v = s.saveEvery { c.saveEvery = v }
        if let v = s.keepCheckpoints { c.keepCheckpoints = v }
        if let v = s.balancePhases { c.balancePhases = v }
        if let v = s.clipWeight { c.clipWeight = v }
        if let v = s.hdrBound { c.hdrBound = v }
        if let v = s.hdrBoundScope { c.hdrBoundScope = v }
        if let v = s.freezeBatchNorm { c.freezeBatchNorm = v }
        if s.hdrBoundScope != nil && !c.hdrBound {
            throw TaskError("--hdr-bound-scope says where --hdr-bound applies; add --hdr-bound (or leave the scope out)")
        }
        if case .fresh = r.start, c.freezeBatchNorm {
            throw TaskError("--freeze-bn keeps the BatchNorm statistics a file was trained or measured with; a fresh model has none (start from --weights or --resume)")
        }
        try check(c)
        guard parse else { return c }
        // Parsed as written (errors name the user's own paths); recorded with absolute
        // folders, so the checkpoint resumes from any directory.
        c.data = DataSource(try DataSource.parse(data).source, spec: DataSource.absolute(data))
        c.validationData = DataSource(try DataSource.parse(validation).source, spec: DataSource.absolute(validation))
        return c
    }

    /// Sizes and memory, in one line each.
    public static func check(_ c: TrainingConfig) throws {
        guard c.size >= 32, c.size % 32 == 0 else { throw TaskError("--size must be a multiple of 32 (got \(c.size))") }
        guard c.steps >= 1, c.batch >= 1, c.validateEvery >= 1, c.saveEvery >= 1 else {
            throw TaskError("--steps, --batch, --val-every and --save-every must be at least 1")
        }
        guard c.clipWeight >= 0, c.clipWeight <= 100 else { throw TaskError("--clip-weight must be between 0 and 100 (got \(c.clipWeight))") }
        guard c.learningRate > 0, c.learningRate < 1 else { throw TaskError("--lr must be between 0 and 1 (got \(c.learningRate))") }
        try checkMemory(batch: c.batch, size: c.size, what: "training")
    }

    /// Whether training steps of `batch` samples of `size` x `size` fit the memory guard (for
    /// `drht train`, `train` in the REPL and `drht bench train` alike).
    public static func checkMemory(batch: Int, size: Int, what: String) throws {
        let need = MemoryGuard.estimate(.backward, height: size, width: size, batch: batch, fixed: modelBytes)
        let room = (MemoryGuard.budget - modelBytes) / MemoryGuard.Use.backward.rawValue / 1e6
        try MemoryGuard.check(need, what: "\(what) at batch \(batch) and \(size)x\(size)",
                              advice: String(format: "use a smaller --batch or --size (batch x size^2 up to about %.1f million pixels)", max(0, room)))
    }

    /// The trainer, ready to run: the configuration resolved and checked, the model loaded or
    /// made, the checkpoint's optimizer state restored when resuming.
    public static func prepare(_ r: TrainRequest) throws -> Trainer {
        let output = r.output ?? ""
        switch r.start {
        case .resume(let path):
            let notes = try DRHT.load(path).notes
            let config = try configuration(r, checkpointNotes: notes)
            let trainer = try Trainer(resuming: path, config: config, output: r.output ?? path)
            if trainer.step >= config.steps {
                throw TaskError("\(path) has already trained \(trainer.step) steps; pass a larger --steps to continue")
            }
            return trainer
        case .fresh(let deconv):
            let config = try configuration(r)
            return try Trainer(model: DRHT.initialized(seed: config.seed, deconv: deconv), config: config, output: output)
        case .weights(let path):
            let config = try configuration(r)
            let model = try DRHT.load(path)
            let measured = model.notes["bn_calibrated"]
            model.startNewRun(from: path)
            // Frozen statistics stay the ones measured, and so does the note that says so.
            if config.freezeBatchNorm { model.notes["bn_calibrated"] = measured }
            return try Trainer(model: model, config: config, output: output)
        case .model(let model):
            let config = try configuration(r)
            let trainer = try Trainer(model: model, config: config, output: output)
            trainer.writesFiles = r.output != nil
            return trainer
        }
    }

    /// The progress line's label: loss, its terms, the last held-out loss, speed and time left.
    public static func progressLabel(_ p: Trainer.Progress, validation: Double?, number: (Double) -> String) -> String {
        let remaining = Double(p.total - p.row.step) / max(p.stepsPerSecond, 1e-9)
        var s = "loss \(number(p.row.loss)) (" + Losses.describe(p.row.terms) { number($0) } + ")"
        if let validation { s += "  held-out \(number(validation))" }
        s += String(format: "  %.2f steps/s  ETA %d:%02d", p.stepsPerSecond, Int(remaining) / 60, Int(remaining) % 60)
        return s
    }

    /// Runs to the configured step or a stop request, drawing progress through `monitor` and
    /// calling `logLine` at each validation (for logs where no terminal watches). Returns the
    /// last log row and the last held-out loss.
    @discardableResult
    public static func run(_ trainer: Trainer, monitor: TaskMonitor, number: @escaping (Double) -> String = { String(format: "%.5f", $0) },
                           logLine: (Trainer.Progress, Double?) -> Void = { _, _ in }) throws -> (last: LogRow?, validation: Double?) {
        var lastValidation: Double?
        defer { monitor.clear() }
        let last = try trainer.run(report: { p in
            if let v = p.row.validation { lastValidation = v }
            monitor.show(p.row.step, p.total, progressLabel(p, validation: lastValidation, number: number))
            if p.row.validation != nil || p.row.step == p.total { logLine(p, lastValidation) }
        }, shouldStop: monitor.shouldStop)
        return (last, lastValidation)
    }
}
