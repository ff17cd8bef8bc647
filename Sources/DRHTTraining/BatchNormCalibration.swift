// BatchNorm recalibration: re-measure every BatchNorm layer's running statistics (the mean and
// variance it normalises with at inference) on fresh batches, the weights untouched.
//
// Why: training keeps the running statistics as a moving average of the batches it saw, at the
// training size. Gain-mode inference shows the network a 256-px copy of the whole photo; a model
// trained at 128 px normalises those with statistics of 128-px images, whose deepest layers are
// 4 x 4 cells (mostly border, zero padding) where the 256-px copy has 8 x 8. Averaged checkpoints
// (`drht average`) also carry averaged statistics that no single network produced. Here each
// layer's statistics become the equal-weighted mean of `batches` batches' statistics (PyTorch's
// `momentum=None`, as `torch.optim.swa_utils.update_bn` does): momentum 1/(t+1) at batch t.
import DRHTEngine
import DRHTModel
import Foundation

public enum BatchNormCalibration {
    /// The momentum that makes a running statistic the plain mean of batches 0...t.
    public static func momentum(batch t: Int) -> Float { 1 / Float(t + 1) }

    /// Every BatchNorm layer of both networks (hdr first), as (network, block index).
    static func layers(_ model: DRHT) -> [(Autoencoder, Int)] {
        [model.hdr, model.ldr].flatMap { net in net.blocks.indices.map { (net, $0) } }
    }

    /// Re-measures `model`'s running statistics in place from `batches` batches of `batchSize`
    /// samples of `data` (`size`, `framing`; sample seeds from `seed`, as training draws them).
    /// `each(t)` runs before batch t and may throw to stop: the statistics are then a mean of
    /// the batches done so far (the caller decides whether to keep them). Momentum is restored.
    public static func run(_ model: DRHT, data: DataSource, batches: Int, batchSize: Int, size: Int,
                           framing: Framing, seed: UInt64, each: (Int) throws -> Void = { _ in }) throws {
        precondition(batchSize > 0)
        try run(model, batches: batches) { t in
            try each(t)
            return try data.batch(seed: seed, step: t + 1, count: batchSize, size: size, framing: framing)
        }
    }

    /// The same with the batches given: `batch(t)` for t in 0..<batches.
    public static func run(_ model: DRHT, batches: Int, batch: (Int) throws -> Batch) throws {
        precondition(batches > 0)
        let layers = layers(model)
        let saved = layers.map { $0.0.blocks[$0.1].bn.momentum }
        defer { for (i, (net, b)) in layers.enumerated() { net.blocks[b].bn.momentum = saved[i] } }
        // Batch 0's momentum 1 replaces the old statistics; zeroing them first keeps a NaN or an
        // infinity in the old ones from surviving as 0 * NaN.
        for (net, b) in layers { net.blocks[b].bn.runningMean.zero(); net.blocks[b].bn.runningVar.zero() }
        for t in 0..<batches {
            let b = try batch(t)
            for (net, k) in layers { net.blocks[k].bn.momentum = momentum(batch: t) }
            _ = model.lossAndGradients(b, mode: .training, gradients: false)
        }
    }
}
