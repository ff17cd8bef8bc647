// Correcting a photo: the job behind `drht correct`, the REPL's `infer`, and every look-inside
// job that runs the whole network (sweep, ablate, latent swap). The request is typed; the run
// steps the pipeline with the monitor's progress and stop checks.
import DRHTEngine
import DRHTModel

/// What to correct with: the mode, the gain map's options, interventions, what to keep.
public struct CorrectRequest {
    /// gain at the working size (the default since it won the validation photos;
    /// docs/CORRECTION-MODES.md) or direct.
    public var mode: CorrectionMode = .gain(workSize: CorrectionMode.defaultWorkSize)
    public var options = GainOptions()
    /// Ablations and latent edits applied while it runs (`ablate`, `latent swap`).
    public var interventions: [Intervention] = []
    /// Which activations outlive the step that reads them (`.everything` for differences).
    public var retention: Pipeline.Retention = .needed

    public init(mode: CorrectionMode = .gain(workSize: CorrectionMode.defaultWorkSize), options: GainOptions = GainOptions(),
                interventions: [Intervention] = [], retention: Pipeline.Retention = .needed) {
        self.mode = mode; self.options = options; self.interventions = interventions; self.retention = retention
    }

    /// Peak bytes of the network's run on a `height` x `width` photo. Gain mode runs it on the
    /// working copy, a few hundred MB at most, so only direct mode is estimated.
    public func memoryNeed(height: Int, width: Int) -> Double {
        guard mode == .direct else { return 0 }
        return MemoryGuard.estimate(retention == .everything ? .keepingEverything : .inference,
                                    height: height, width: width, margin: options.margin ?? CorrectionMode.direct.defaultMargin)
    }
}

public enum CorrectTask {
    /// Refuses, before anything is allocated, a run that would not fit in memory; `what` names
    /// the job for the message, `advice` says what to do instead.
    public static func checkMemory(_ request: CorrectRequest, height: Int, width: Int, what: String, advice: String) throws {
        try MemoryGuard.check(request.memoryNeed(height: height, width: width),
                              what: "\(what) in direct mode on a \(width)x\(height) photo", advice: advice)
    }

    /// Runs the network on `photo` (1, 3, H, W) step by step. `place` puts this run inside a
    /// longer job (run `done` of `total`) for the progress line; `label` prefixes each step's
    /// name; `afterStep` sees each step and the pipeline. Throws `TaskStopped` at a stop
    /// request (nothing is kept).
    public static func run(_ request: CorrectRequest, model: DRHT, photo: Tensor, monitor: TaskMonitor,
                           place: (done: Int, total: Int)? = nil, label: String = "",
                           afterStep: ((Pipeline.Step, Pipeline) -> Void)? = nil) throws -> Correction {
        // Callers check first with their own words (`checkMemory`); this is the backstop.
        try checkMemory(request, height: photo.h, width: photo.w, what: "a correction", advice: "use gain mode")
        let c = Correction(model: model, photo: photo, mode: request.mode, options: request.options,
                           retention: request.retention, interventions: request.interventions)
        let p = c.pipeline
        let steps = Pipeline.stepNames.count
        let (before, total) = place.map { ($0.done * steps, $0.total * steps) } ?? (0, steps)
        try monitor.steps(steps - p.position, offset: before + p.position, total: total, label: { _ in label + (p.nextStepName ?? "") }) { _ in
            let record = p.step()
            afterStep?(record.step, p)
        }
        return c
    }
}
