// `drht train`: joint end-to-end training of both networks with Adam.
import ArgumentParser
import DRHTEngine
import DRHTModel
import DRHTTraining
import DRHTREPL
import Foundation

struct TrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train DRHT (both networks, jointly) with Adam and watch the loss fall.",
        discussion: """
        Examples: drht train --steps 200 --batch 8 --size 64 --out run.safetensors
                  drht train --resume run.safetensors --steps 400
        Beside the weights it writes the optimizer state (.adam.safetensors), a CSV log (.csv) and
        the loss curve (.svg). Ctrl-C finishes the current step, saves, and exits.
        """
    )

    @Option(help: "Training data: synth (procedural scenes), photos:DIR, panorama:DIR (views of HDR panoramas, tone-mapped targets), panorama-photo:DIR (the same views, their 0 EV photo as target), or a triplet folder from drht synth; mix them with +.")
    var data = "synth"
    @Option(name: .customLong("val-data"), help: "Held-out data for the validation loss, in --data's forms (validation seeds: other scenes, other cameras).")
    var valData = "synth"
    // Defaults come from TrainingConfig (written once, each with its source).
    @Option(help: "Train until this step.") var steps = TrainingConfig.defaults.steps
    @Option(help: "Triplets per batch.") var batch = TrainingConfig.defaults.batch
    @Option(help: "Sample size (a multiple of 32): what each training image is reduced to (--framing whole) or cut to (crop).")
    var size = TrainingConfig.defaults.size
    @Option(help: """
        whole: each sample is a whole image (photos: their largest square) reduced to --size, as gain-mode \
        inference shows the network a reduced copy of the whole photo; crop: a --size window cut at the \
        image's own scale (procedural scenes 256 px, photos a shorter side of 400).
        """)
    var framing = TrainingConfig.defaults.framing
    @Option(help: "Adam learning rate (the paper's 1e-2 makes the held-out loss spike early; see docs/TRAINING.md).")
    var lr = TrainingConfig.defaults.learningRate
    @Option(help: "Start from these weights instead of a fresh initialisation.", completion: .file(extensions: ["safetensors"]))
    var weights: String?
    @Option(help: "Where to write the trained weights.", completion: .file(extensions: ["safetensors"]))
    var out: String?
    @Option(help: "Continue the run checkpointed in this weights file (and its .adam.safetensors).",
            completion: .file(extensions: ["safetensors"]))
    var resume: String?
    @Option(help: "Seed for initialisation and the order of training samples.") var seed = TrainingConfig.defaults.seed
    @Option(name: .customLong("deconv-init"), help: "A fresh model's transposed convolutions: icnr (four output phases identical at step 0: fewer grid dots, steadier start) or kaiming.")
    var deconvInit: DRHT.DeconvInit = .standard
    @Option(name: .customLong("val-every"), help: "Held-out validation every K steps.") var valEvery = TrainingConfig.defaults.validateEvery
    @Option(name: .customLong("save-every"), help: "Checkpoint every K steps.") var saveEvery = TrainingConfig.defaults.saveEvery
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(help: "Also keep every checkpoint as OUT.stepN.safetensors (to average them with drht average).")
    var keep = false
    @Flag(help: "Balance the transposed convolutions' output phases after every step (flat inputs stay flat: no 32-pixel lattice); see docs/TRAINING.md.")
    var balancePhases = false

    func validate() throws {
        guard size >= 32, size % 32 == 0 else { throw ValidationError("--size must be a multiple of 32 (got \(size))") }
        guard steps >= 1, batch >= 1, valEvery >= 1, saveEvery >= 1 else {
            throw ValidationError("--steps, --batch, --val-every and --save-every must be at least 1")
        }
        guard lr > 0, lr < 1 else { throw ValidationError("--lr must be between 0 and 1 (got \(lr))") }
        if weights != nil && resume != nil { throw ValidationError("use either --weights or --resume, not both") }
        do { try TrainingConfig.checkMemory(batch: batch, size: size) } catch { throw ValidationError("\(error)") }
    }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        var config = TrainingConfig()
        config.steps = steps; config.batch = batch; config.size = size; config.learningRate = lr
        config.seed = seed; config.validateEvery = valEvery; config.saveEvery = saveEvery
        config.data = try DataSource.parse(data)
        config.validationData = try DataSource.parse(valData)
        config.keepCheckpoints = keep
        config.balancePhases = balancePhases
        config.framing = framing
        let output = out ?? resume ?? "drht-trained.safetensors"
        let trainer: Trainer
        if let resume {
            trainer = try Trainer(resuming: resume, config: config, output: output)
            if trainer.step >= steps {
                throw UserError("\(resume) has already trained \(trainer.step) steps; pass a larger --steps to continue")
            }
        } else {
            let model = try weights.map { try DRHT.load($0) } ?? DRHT.initialized(seed: seed, deconv: deconvInit)
            if let weights { model.startNewRun(from: weights) }
            trainer = try Trainer(model: model, config: config, output: output)
        }
        let tty = isatty(2) != 0
        FileHandle.standardError.write(Data(("training \(steps - trainer.step) steps (to step \(steps)), batch \(batch), "
            + "\(size)x\(size) (\(framing.rawValue)), lr \(lr), data \(config.data.description) -> \(output)\n").utf8))
        Interrupt.catchSIGINT(secondExits: true)
        var lastValidation: Double?
        let last = try trainer.run(report: { p in
            if let v = p.row.validation { lastValidation = v }
            let line = Self.progressLine(p, validation: lastValidation)
            if tty {
                FileHandle.standardError.write(Data("\r\u{1B}[2K\(line)".utf8))
            } else if p.row.validation != nil || p.row.step == p.total {
                FileHandle.standardError.write(Data((line + "\n").utf8))
            }
        }, shouldStop: { Interrupt.requested != 0 })
        if tty { FileHandle.standardError.write(Data("\n".utf8)) }
        let stopped = Interrupt.requested != 0 && trainer.step < steps
        var summary = stopped ? "stopped at step \(trainer.step) (Ctrl-C); saved " : "saved "
        summary += "\(output), \(Trainer.adamPath(output)), log \(Trainer.csvPath(output)), curve \(Trainer.curvePath(output))"
        if let last { summary += String(format: "; final loss %.5f", last.loss) }
        if let v = lastValidation { summary += String(format: ", held-out %.5f", v) }
        print(summary)
        if stopped { print("continue with: drht train --resume \(output) --steps \(steps)") }
    }

    static func progressLine(_ p: Trainer.Progress, validation: Double?) -> String {
        let width = 24
        let done = Int(Double(width) * Double(p.row.step) / Double(max(p.total, 1)))
        let bar = String(repeating: "#", count: done) + String(repeating: ".", count: width - done)
        let remaining = Double(p.total - p.row.step) / max(p.stepsPerSecond, 1e-9)
        let eta = String(format: "%d:%02d", Int(remaining) / 60, Int(remaining) % 60)
        var s = String(format: "[%@] step %d/%d  loss %.5f", bar, p.row.step, p.total, p.row.loss)
            + " (" + Losses.describe(p.row.terms) { String(format: "%.4f", $0) } + ")"
        if let validation { s += String(format: "  held-out %.5f", validation) }
        s += String(format: "  %.2f steps/s  ETA %@", p.stepsPerSecond, eta)
        return s
    }
}
