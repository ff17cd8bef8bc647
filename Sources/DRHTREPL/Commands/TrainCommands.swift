// A small training run inside the session: a live progress bar, the loss curve at the end, and
// the session's model keeps what it learned (also when stopped with Ctrl-C).
import DRHTEngine
import DRHTModel
import DRHTTraining
import Foundation
import DRHTTasks

enum TrainCommands {
    static let all: [Command] = [train]

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

    static let train = Command(
        "train", summary: "Train the session's model for a few steps and watch the loss fall.",
        example: "train --steps 40 --batch 4 --size 64",
        details: "Joint end-to-end training of both networks with Adam on procedural scenes (or --data photos:DIR / panorama:DIR / panorama-photo:DIR / a triplet folder). "
            + "It starts from the session's current model and changes it in place; Ctrl-C stops after the current step and keeps what was learned. "
            + "A held-out set (scenes never trained on) is measured before and during training. "
            + "For long runs use `drht train` outside the REPL, which checkpoints.",
        options: [steps, batch, size, framing, lr, seed, data, valData, save]
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
        // A held-out loss eight times a run, on 8 triplets: a visible curve at little cost.
        var base = defaults
        base.validateEvery = max(1, settings.steps! / 8)
        base.validationCount = 8
        let model = try s.model()
        let trainer = try TrainTask.prepare(TrainRequest(start: .model(model), settings: settings, output: nil, base: base))
        let config = trainer.config
        let before = trainer.validationLoss()
        s.console.line("""
            training \(config.steps) steps, batch \(config.batch), \(config.size)x\(config.size) \
            (\(config.framing.rawValue)), lr \(formatNumber(Double(config.learningRate))), data \
            \(config.data.description)
            """)
        s.console.line("held-out loss before: \(formatNumber(before))")
        try TrainTask.run(trainer, monitor: s.monitor, number: { formatNumber($0) }) { p, validation in
            guard !s.console.isTTY, p.row.validation != nil else { return }
            s.console.line("step \(p.row.step)/\(p.total): loss \(formatNumber(p.row.loss)) (\(Losses.describe(p.row.terms) { formatNumber($0) })), held-out \(formatNumber(validation ?? before))")
        }
        let log = trainer.log
        s.setModel(model, source: s.modelSource.contains("trained in this session") ? s.modelSource
                   : s.modelSource + ", trained in this session")
        guard !log.isEmpty else { s.console.line("stopped before the first step; the model is unchanged"); return }
        if trainer.step < config.steps { s.console.line(s.console.yellow("stopped at step \(trainer.step) (Ctrl-C); the model keeps what it learned")) }
        let after = log.last(where: { $0.validation != nil })?.validation ?? trainer.validationLoss()
        s.last.training = (before, after)
        s.console.line("training loss per step (\(log.count) steps):")
        for line in Charts.curve(log.map(\.loss), width: min(60, s.console.width - 12), height: 6) { s.console.line("  " + line) }
        // The same curve as a picture, for notebooks and Jupyter (a terminal has the lines above).
        s.console.picture(terminal: "", raster: Charts.curveRaster(log.map(\.loss), firstStep: log[0].step),
                          caption: "training loss per step, steps \(log[0].step)-\(log.last!.step)")
        let k = max(1, min(10, log.count / 4))
        let first = log.prefix(k).map(\.loss).reduce(0, +) / Double(k), last = log.suffix(k).map(\.loss).reduce(0, +) / Double(k)
        s.console.line("mean of the first \(k) steps \(formatNumber(first)) -> last \(k) \(formatNumber(last)); held-out \(formatNumber(before)) -> \(formatNumber(after))"
                       + String(format: " (%.1f s)", log.last!.seconds))
        if let path = try a.value(save) {
            try model.save(to: (path as NSString).expandingTildeInPath)
            s.console.line("saved \(path)")
        }
    }
}
