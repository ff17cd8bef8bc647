// `drht train`: joint end-to-end training of both networks with Adam.
import ArgumentParser
import DRHTEngine
import DRHTModel
import DRHTTraining
import DRHTTasks
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

    // Each setting left out takes its default from TrainingConfig (written once, each with its
    // source) or, with --resume, the checkpoint's own value: a resumed run continues as it was.
    static let d = TrainingConfig.defaults
    @Option(help: "Training data: synth (procedural scenes), synth-under (the same, only under-exposed), photos:DIR, panorama:DIR (views of HDR panoramas, tone-mapped targets), panorama-photo:DIR (the same views, their 0 EV photo as target), or a triplet folder from drht synth; mix them with +. (default: synth; with --resume, the run's)")
    var data: String?
    @Option(name: .customLong("val-data"), help: "Held-out data for the validation loss, in --data's forms (validation seeds: other scenes, other cameras). (default: synth; with --resume, the run's)")
    var valData: String?
    @Option(help: "Train until this step. (default: \(d.steps))") var steps: Int?
    @Option(help: "Triplets per batch. (default: \(d.batch); with --resume, the run's)") var batch: Int?
    @Option(help: "Sample size (a multiple of 32): what each training image is reduced to (--framing whole) or cut to (crop). (default: \(d.size); with --resume, the run's)")
    var size: Int?
    @Option(help: """
        whole: each sample is a whole image (photos: their largest square) reduced to --size, as gain-mode \
        inference shows the network a reduced copy of the whole photo; crop: a --size window cut at the \
        image's own scale (procedural scenes 256 px, photos a shorter side of 400). (default: \(d.framing.rawValue); with --resume, the run's)
        """)
    var framing: Framing?
    @Option(help: "Adam learning rate (the paper's 1e-2 makes the held-out loss spike early; see docs/TRAINING.md). (default: \(d.learningRate); with --resume, the run's)")
    var lr: Float?
    @Option(help: "Start from these weights instead of a fresh initialisation.", completion: .file(extensions: ["safetensors"]))
    var weights: String?
    @Option(help: "Where to write the trained weights (default: drht-trained.safetensors; with --resume, the file resumed).", completion: .file(extensions: ["safetensors"]))
    var out: String?
    @Option(help: "Continue the run checkpointed in this weights file (and its .adam.safetensors), with its own settings unless given again.",
            completion: .file(extensions: ["safetensors"]))
    var resume: String?
    @Option(help: "Seed for initialisation and the order of training samples. (default: \(d.seed); with --resume, the run's)") var seed: UInt64?
    @Option(name: .customLong("deconv-init"), help: "A fresh model's transposed convolutions: icnr (four output phases identical at step 0: fewer grid dots, steadier start) or kaiming.")
    var deconvInit: DRHT.DeconvInit = .standard
    @Option(name: .customLong("val-every"), help: "Held-out validation every K steps. (default: \(d.validateEvery); with --resume, the run's)") var valEvery: Int?
    @Option(name: .customLong("save-every"), help: "Checkpoint every K steps. (default: \(d.saveEvery); with --resume, the run's)") var saveEvery: Int?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?
    @Flag(inversion: .prefixedNo, help: "Also keep every checkpoint as OUT.stepN.safetensors (to average them with drht average). (default: off; with --resume, the run's)")
    var keep: Bool?
    @Flag(inversion: .prefixedNo, help: "Balance the transposed convolutions' output phases after every step (flat inputs stay flat: no 32-pixel lattice); see docs/TRAINING.md. (default: off; with --resume, the run's)")
    var balancePhases: Bool?
    @Option(name: .customLong("clip-weight"), help: "Weigh the pixels the input clipped 1 + W in the LDR term of the loss (0: docs/MODEL.md's loss); see docs/TRAINING.md. (default: 0; with --resume, the run's)")
    var clipWeight: Float?
    @Flag(name: .customLong("hdr-bound"), inversion: .prefixedNo, help: "Where a photo's own pixels are clipped, its HDR truth counts as a lower bound: the HDR term of the loss counts only an estimate below it (off: docs/MODEL.md's loss); see docs/TRAINING.md. (default: off; with --resume, the run's)")
    var hdrBound: Bool?
    @Option(name: .customLong("hdr-bound-scope"), help: "With --hdr-bound, which clipped channels are bounds: photo (every channel the photo clipped) or input (only those the input clipped too: under-exposed samples keep docs/MODEL.md's term). (default: photo; with --resume, the run's)")
    var hdrBoundScope: HDRBoundScope?
    @Flag(inversion: .prefixedNo, help: "BatchNorm uses and keeps its running statistics while training, as inference does (fine-tune what drht calibrate measured; needs --weights or --resume); see docs/TRAINING.md. (default: off; with --resume, the run's)")
    var freezeBn: Bool?

    var request: TrainRequest {
        var s = TrainSettings()
        s.data = data; s.validationData = valData; s.steps = steps; s.batch = batch; s.size = size; s.framing = framing
        s.learningRate = lr; s.seed = seed; s.validateEvery = valEvery; s.saveEvery = saveEvery
        s.keepCheckpoints = keep; s.balancePhases = balancePhases; s.clipWeight = clipWeight
        s.freezeBatchNorm = freezeBn; s.hdrBound = hdrBound; s.hdrBoundScope = hdrBoundScope
        let start: TrainRequest.Start = resume.map { .resume($0) } ?? weights.map { .weights($0) } ?? .fresh(deconvInit)
        return TrainRequest(start: start, settings: s, output: out ?? resume ?? "drht-trained.safetensors")
    }

    func validate() throws {
        if weights != nil && resume != nil { throw ValidationError("use either --weights or --resume, not both") }
        // A fresh run is checked here, with the usage line; a resumed one once its checkpoint is read.
        if resume == nil {
            do { _ = try TrainTask.configuration(request, parse: false) } catch let e as TaskError { throw ValidationError(e.description) }
        }
    }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        let trainer = try TrainTask.prepare(request)
        let config = trainer.config, output = trainer.output
        note("training \(config.steps - trainer.step) steps (to step \(config.steps)), batch \(config.batch), "
             + "\(config.size)x\(config.size) (\(config.framing.rawValue)), lr \(config.learningRate), data \(config.data.spec ?? config.data.description)"
             + (config.balancePhases ? ", phases balanced" : "")
             + (config.clipWeight > 0 ? ", clipped pixels weigh \(1 + config.clipWeight)" : "")
             + (config.freezeBatchNorm ? ", BatchNorm statistics frozen" : "")
             + (config.hdrBound ? (config.hdrBoundScope == .input ? ", clipped input and photo pixels bound H_gt from below" : ", clipped photo pixels bound H_gt from below") : "") + " -> \(output)")
        let monitor = TaskMonitor.standardError()
        let live = isatty(2) != 0
        let (last, lastValidation) = try TrainTask.run(trainer, monitor: monitor) { p, validation in
            // Where no terminal watches (a log file), one line at each validation.
            if !live { note("step \(p.row.step)/\(p.total)  " + TrainTask.progressLabel(p, validation: validation) { String(format: "%.5f", $0) }) }
        }
        let stopped = Interrupt.isRequested && trainer.step < config.steps
        var summary = stopped ? "stopped at step \(trainer.step) (Ctrl-C); saved " : "saved "
        summary += "\(output), \(Trainer.adamPath(output)), log \(Trainer.csvPath(output)), curve \(Trainer.curvePath(output))"
        if let last { summary += String(format: "; final loss %.5f", last.loss) }
        if let v = lastValidation { summary += String(format: ", held-out %.5f", v) }
        print(summary)
        if stopped { print("continue with: drht train --resume \(output) --steps \(config.steps)") }
    }
}
