// Scoring DRHT against the baselines: the job behind `drht evaluate`. The request is typed
// (the data as written, counts, exposures, modes, the gain map's options); the result is one
// `Evaluation` per exposure, in order, and whether a stop request cut it short.
import DRHTEvaluation
import DRHTModel
import DRHTTraining

public struct EvaluateRequest {
    /// synth, photos:DIR, panorama:DIR, panorama-photo:DIR or a triplet folder (`DataSource`).
    public var data = "synth"
    /// How many images; nil: 64 procedural scenes, every panorama view, every triplet, each
    /// photo four times (random exposures) or once per exposure.
    public var count: Int?
    /// Scenes and panorama views: their size (default 256). Photos: the long side they are
    /// reduced to (default 512, about what a screen shows of a photo).
    public var size: Int?
    /// First evaluation seed (evaluation seeds never meet training or validation).
    public var seed = 0
    /// Exposures scored one at a time (EV); nil: a random exposure per image.
    public var exposures: [Float]?
    public var modes: [CorrectionMode] = [.direct, .gain(workSize: CorrectionMode.defaultWorkSize)]
    public var options = GainOptions()
    /// Keep every image for an HTML report.
    public var keepImages = false
    public init() {}
}

public struct EvaluateResult {
    /// One evaluation per exposure (a single one with a nil exposure without --ev).
    public var evaluations: [(ev: Float?, evaluation: Evaluation)]
    /// A stop request ended it: the last evaluation holds the images done so far.
    public var stopped: Bool
}

public enum EvaluateTask {
    /// The data the request names, with each kind's default count and size.
    /// Exposures are EV between -8 and 8 (beyond, a photo is all black or all white).
    public static func checkExposures(_ ev: [Float]) throws {
        if let bad = ev.first(where: { !$0.isFinite || abs($0) > 8 }) {
            throw TaskError("--ev takes exposures in EV between -8 and 8, comma-separated, e.g. -2,-1,1,1.5 (got \(bad))")
        }
    }

    public static func data(_ r: EvaluateRequest) throws -> [(ev: Float?, data: EvaluationData)] {
        if let ev = r.exposures { try checkExposures(ev) }
        let parsed = try DataSource.parse(r.data)
        if r.exposures != nil && parsed.source.fixedExposure {
            throw TaskError("--ev needs synth, photos:DIR or panorama:DIR data; a triplet folder's exposures are fixed")
        }
        let defaults = parsed.source.defaultPass(exposures: r.exposures != nil)
        let source = EvaluationData(source: parsed, count: r.count ?? defaults.count, size: r.size ?? defaults.size, first: r.seed)
        return r.exposures.map { $0.map { ($0, source.exposed($0)) } } ?? [(nil, source)]
    }

    /// Scores every exposure in turn; `starting` is told each one's description before it runs.
    public static func run(_ r: EvaluateRequest, model: DRHT, monitor: TaskMonitor,
                           starting: (EvaluationData) -> Void = { _ in }) throws -> EvaluateResult {
        var result = EvaluateResult(evaluations: [], stopped: false)
        for (ev, data) in try data(r) {
            let e = Evaluation(data: data, model: model, modes: r.modes, options: r.options)
            e.keepImages = r.keepImages
            starting(data)
            defer { monitor.clear() }
            try e.run(progress: { done, total in monitor.show(done, total, "") }, shouldStop: monitor.shouldStop)
            result.evaluations.append((ev, e))
            if monitor.shouldStop() { result.stopped = true; break }
        }
        return result
    }
}
