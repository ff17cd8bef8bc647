// A small training run inside the session: a live progress bar, the loss curve at the end, and
// the session's model keeps what it learned (also when stopped with Ctrl-C).
import DRHTEngine
import DRHTModel
import DRHTTraining
import Foundation
import DRHTTasks

enum TrainCommands {
    static let all: [Command] = [train, calibrate]

    /// The REPL's run: `TrainingConfig.interactive`.
    static let defaults = TrainingConfig.interactive

    // The options, declared once: help, usage and parsing all read these.
    static let steps = Options.int("--steps", "N", "optimizer steps", default: defaults.steps, range: 1...100_000)
    static let batch = Options.int("--batch", "B", "triplets per step", default: defaults.batch, range: 1...64)
    static let size = Options.int("--size", "S", "sample size, a multiple of 32", default: defaults.size, range: 32...512)
    static let framing = Options.choice("--framing", "whole: whole images reduced to S, as gain-mode inference shows the network; crop: S-pixel windows at the images' scale",
                                        default: defaults.framing)
    static let lr = Options.number("--lr", "LR", "Adam learning rate", default: Double(defaults.learningRate), range: 1e-7...0.5)
    static let seed = Options.int("--seed", "N", "order of training scenes", default: Int(defaults.seed), range: 0...Int(Int32.max))
    static let data = Options.text("--data", "D", "synth, synth-under, photos:DIR, panorama:DIR, panorama-photo:DIR or a triplet folder (mix with +)", default: "synth", completion: .path)
    static let valData = Options.text("--val-data", "D", "held-out data for the validation loss, as --data", default: "synth", completion: .path)
    static let save = Options.text("--save", "FILE", "write the trained weights here afterwards", completion: .path)
    static let freezeBN = Options.flag("--freeze-bn", "BatchNorm normalises with its running statistics while training too and keeps them (train with the statistics inference uses, e.g. after `calibrate`)")

    /// "1 step", "40 steps".
    static func stepCount(_ n: Int) -> String { n == 1 ? "1 step" : "\(n) steps" }

    static let train = Command(
        "train", summary: "Train the session's model for a few steps and watch the loss fall.",
        example: "train --steps 40 --batch 4 --size 64",
        details: "Joint end-to-end training of both networks with Adam on procedural scenes (or --data photos:DIR / panorama:DIR / panorama-photo:DIR / a triplet folder). "
            + "It starts from the session's current model and changes it in place; Ctrl-C stops after the current step and keeps what was learned. "
            + "A held-out set (scenes never trained on) is measured before and during training. "
            + "For long runs use `drht train` outside the REPL, which checkpoints.",
        options: [steps, batch, size, framing, lr, seed, data, valData, freezeBN, save]
    ) { s, a in
        try a.expectAtMost(0)
        var settings = TrainSettings()
        settings.steps = try a.value(steps)
        settings.batch = try a.value(batch)
        settings.size = try a.value(size)
        settings.framing = try a.value(framing)
        settings.learningRate = Float(try a.value(lr))
        settings.seed = UInt64(try a.value(seed))
        settings.data = try a.value(data)
        settings.validationData = try a.value(valData)
        settings.freezeBatchNorm = try a.value(freezeBN)
        // A held-out loss eight times a run, on 8 triplets: a visible curve at little cost.
        var base = defaults
        base.validateEvery = max(1, settings.steps! / 8)
        base.validationCount = 8
        let model = try s.model()
        let trainer = try TrainTask.prepare(TrainRequest(start: .model(model), settings: settings, output: nil, base: base))
        let config = trainer.config
        let before = trainer.validationLoss()
        s.console.line("""
            training \(stepCount(config.steps)), batch \(config.batch), \(config.size)x\(config.size) \
            (\(config.framing.rawValue)), lr \(formatNumber(Double(config.learningRate))), data \
            \(config.data.description)\(config.freezeBatchNorm ? ", BatchNorm statistics frozen" : "")
            """)
        s.console.line("held-out loss before: \(formatNumber(before))")
        try TrainTask.run(trainer, monitor: s.monitor, number: { formatNumber($0) }) { p, validation in
            guard !s.console.isTTY, p.row.validation != nil else { return }
            s.console.line("step \(p.row.step)/\(p.total): loss \(formatNumber(p.row.loss)) (\(Losses.describe(p.row.terms) { formatNumber($0) })), held-out \(formatNumber(validation ?? before))")
        }
        let log = trainer.log
        model.noteStatistics(afterTraining: config.freezeBatchNorm)
        s.setModel(model, source: s.modelSource.contains("trained in this session") ? s.modelSource
                   : s.modelSource + ", trained in this session")
        guard !log.isEmpty else { s.console.line("stopped before the first step; the model is unchanged"); return }
        if trainer.step < config.steps { s.console.line(s.console.yellow("stopped at step \(trainer.step) (Ctrl-C); the model keeps what it learned")) }
        let after = log.last(where: { $0.validation != nil })?.validation ?? trainer.validationLoss()
        s.last.training = (before, after)
        s.console.line("training loss per step (\(stepCount(log.count))):")
        for line in Charts.curve(log.map(\.loss), width: min(60, s.console.width - 12), height: 6) { s.console.line("  " + line) }
        // The same curve as a picture, for notebooks and Jupyter (a terminal has the lines above).
        s.console.picture(terminal: "", raster: Charts.curveRaster(log.map(\.loss), firstStep: log[0].step),
                          caption: "training loss per step, steps \(log[0].step)-\(log.last!.step)")
        let k = max(1, min(10, log.count / 4))
        let first = log.prefix(k).map(\.loss).reduce(0, +) / Double(k), last = log.suffix(k).map(\.loss).reduce(0, +) / Double(k)
        s.console.line("mean of the first \(stepCount(k)) \(formatNumber(first)) -> last \(k) \(formatNumber(last)); held-out \(formatNumber(before)) -> \(formatNumber(after))"
                       + String(format: " (%.1f s)", log.last!.seconds))
        if let path = try a.value(save) {
            try model.save(to: (path as NSString).expandingTildeInPath)
            s.console.line("saved \(path)")
        }
    }

    // `calibrate`'s options.
    static let calData = Options.text("--data", "D", "training samples, as train's --data (default: the training photos of `make photos`)", completion: .path)
    static let calSize = Options.int("--size", "S", "sample size, a multiple of 32 from 32 to 1024", absent: "the size the model was trained at, else 256")
    static let calBatches = Options.int("--batches", "N", "batches measured", default: 8, range: 1...10_000)
    static let calBatch = Options.int("--batch", "B", "samples per batch", default: 4, range: 1...64)

    static let calibrate = Command(
        "calibrate", summary: "Measure the model's BatchNorm statistics again at the size it runs at (the weights stay).",
        example: "calibrate --batches 8 --size 256",
        details: "At inference every BatchNorm layer normalises with the running mean and variance kept during training, at the training size. "
            + "This runs both networks in training mode on --batches batches of training samples at --size (by default the size the model was trained at, "
            + "which measured better than the 256-px working size) and keeps the plain mean of their statistics; "
            + "the weights do not change. It then shows, per layer, how far the variances moved (the median over channels of new / old). "
            + "Ctrl-C keeps the statistics as they were. `drht calibrate` does the same to a weights file.",
        options: [calData, calSize, calBatches, calBatch]
    ) { s, a in
        try a.expectAtMost(0)
        var r = CalibrateRequest()
        r.data = try a.value(calData)
        r.size = try a.value(calSize)
        r.batches = try a.value(calBatches)
        r.batchSize = try a.value(calBatch)
        let model = try s.model()
        let variances = { model.namedTensors.filter { $0.0.hasSuffix("running_var") }.map { ($0.0, $0.1.array) } }
        let before = variances()
        let size: Int
        do {
            size = try CalibrateTask.run(r, model: model, monitor: s.monitor)
        } catch is TaskStopped {
            s.console.line(s.console.yellow("stopped (Ctrl-C); the BatchNorm statistics are as they were"))
            return
        }
        let plain = s.modelSource.components(separatedBy: ", BatchNorm calibrated at ")[0]
        s.setModel(model, source: plain + ", BatchNorm calibrated at \(size) px")
        let n = r.batches * r.batchSize
        s.console.line("BatchNorm statistics measured on \(n) sample\(n == 1 ? "" : "s") at \(size) px; the weights are unchanged")
        s.console.line("variance new / old, median over channels:")
        let after = variances()
        for net in ["hdr", "ldr"] {
            let cells = zip(before, after).filter { $0.0.0.hasPrefix(net + ".") }.map { old, new -> String in
                let ratios = zip(new.1, old.1).map { Double($0) / Double(max($1, 1e-12)) }.sorted()
                let layer = old.0.split(separator: ".")[1]
                return "\(layer) " + String(format: "%.2f", ratios[ratios.count / 2])
            }
            s.console.line("  \(net): " + cells.joined(separator: "  "))
        }
    }
}
