// BatchNorm recalibration: the job behind `drht calibrate`. The weights stay as they are; every
// BatchNorm layer's running statistics are measured again on training samples at the size the
// network will run at (BatchNormCalibration), so inference normalises with what it will see.
import DRHTEngine
import DRHTModel
import DRHTTraining
import Foundation

public struct CalibrateRequest {
    /// Training data, in `drht train`'s forms; nil: the training photos of `make photos`.
    public var data: String?
    /// The side of each sample; nil: the size the weights were trained at (their `size` note),
    /// else gain mode's working size. Measured on stage 9 (Weights/HISTORY.md): statistics at the
    /// training size (128) scored better than at the working size (256).
    public var size: Int?
    public var framing: Framing = .whole
    /// Batches measured, and samples in each (the statistics are the mean of the batches').
    public var batches = 32
    public var batchSize = 8
    public var seed: UInt64 = 1
    public init() {}

    /// The default data: the training photos (`make photos`), found from the project root.
    public static let defaultPhotos = "data/photos/train"
}

public enum CalibrateTask {
    /// The data the request names, checked (one line on a bad spec or a missing folder).
    public static func data(_ r: CalibrateRequest) throws -> DataSource {
        let spec: String
        if let given = r.data {
            spec = given
        } else {
            let dir = ProjectPaths.root()?.appendingPathComponent(CalibrateRequest.defaultPhotos).path ?? CalibrateRequest.defaultPhotos
            guard FileManager.default.fileExists(atPath: dir) else {
                throw TaskError("no training photos at \(CalibrateRequest.defaultPhotos): run `make photos`, or give --data (e.g. synth)")
            }
            spec = "photos:" + dir
        }
        return DataSource(try DataSource.parse(spec).source, spec: DataSource.absolute(spec))
    }

    /// The sample size for `model`: the request's, else the model's training size, else 256.
    public static func size(_ r: CalibrateRequest, model: DRHT?) -> Int {
        r.size ?? model?.notes["size"].flatMap(Int.init).flatMap { $0 >= 32 && $0 <= 1024 && $0 % 32 == 0 ? $0 : nil }
            ?? CorrectionMode.defaultWorkSize
    }

    /// Checks the request (one line on anything wrong) and returns the size and data it names.
    @discardableResult
    public static func check(_ r: CalibrateRequest, model: DRHT? = nil) throws -> (size: Int, data: DataSource) {
        let size = size(r, model: model)
        guard size >= 32, size <= 1024, size % 32 == 0 else {
            throw TaskError("--size must be a multiple of 32 from 32 to 1024 (got \(size))")
        }
        guard (1...64).contains(r.batchSize) else { throw TaskError("--batch must be from 1 to 64 (got \(r.batchSize))") }
        guard (1...10_000).contains(r.batches) else { throw TaskError("--batches must be from 1 to 10000 (got \(r.batches))") }
        let need = MemoryGuard.estimate(.backward, height: size, width: size, batch: r.batchSize, fixed: TrainTask.modelBytes)
        try MemoryGuard.check(need, what: "calibrating at batch \(r.batchSize) and \(size)x\(size)",
                              advice: "use a smaller --batch (more --batches measure as much)")
        return (size, try data(r))
    }

    /// Re-measures `model`'s BatchNorm statistics in place, showing progress through `monitor`.
    /// A stop request throws `TaskStopped` and restores the statistics the model came with, so
    /// nothing half-measured is kept.
    /// Returns the size it measured at.
    @discardableResult
    public static func run(_ r: CalibrateRequest, model: DRHT, monitor: TaskMonitor) throws -> Int {
        let (size, source) = try check(r, model: model)
        let before = model.runningStatistics.map { ($0.1, $0.1.array) }
        do {
            try BatchNormCalibration.run(model, data: source, batches: r.batches, batchSize: r.batchSize, size: size,
                                         framing: r.framing, seed: r.seed) { t in
                if monitor.shouldStop() {
                    monitor.clear()
                    throw TaskStopped(done: t, total: r.batches, next: "batch \(t + 1)")
                }
                monitor.show(t, r.batches, "batch \(t + 1) of \(r.batchSize) samples at \(size) px")
            }
            monitor.clear()
        } catch {
            for (tensor, values) in before { for i in values.indices { tensor.data[i] = values[i] } }
            throw error
        }
        model.notes["bn_frozen"] = nil              // the statistics are new, not the ones a run kept
        model.notes["bn_calibrated"] = "\(r.batches) x \(r.batchSize) samples of \(source.spec ?? source.description), \(size) px (\(r.framing.rawValue)), seed \(r.seed)"
        return size
    }
}
