// Checkpoint averaging (Polyak averaging of the weights along the end of a run, as in stochastic
// weight averaging): the element-wise mean of every tensor of several checkpoints of the same
// run. Adam with a constant learning rate keeps the weights jittering around a minimum; their
// mean sits nearer its centre than any one checkpoint. BN running statistics are averaged too
// (an approximation: the statistics of the averaged network itself are not re-measured).
import DRHTEngine
import DRHTModel
import Foundation

public enum WeightAveraging {
    /// The element-wise mean of `models` (at least one). Constants and notes come from the last,
    /// except the two notes about the statistics (`bn_calibrated`, `bn_frozen`), kept only when
    /// every model has the same statistics.
    public static func average(_ models: [DRHT]) -> DRHT {
        precondition(!models.isEmpty)
        let last = models[models.count - 1]
        let out = DRHT(constants: last.constants, notes: last.notes)
        // Averaged statistics are measured by no one, unless every file has the same ones (runs
        // trained with --freeze-bn from one calibrated file): those are copied as they are.
        let same = sameStatistics(models)
        // Both notes describe the statistics (measured; kept by a frozen run): true of the mean
        // only when it copies them.
        for note in ["bn_calibrated", "bn_frozen"] {
            out.notes[note] = same ? models.lazy.compactMap { $0.notes[note] }.first : nil
        }
        let scale = 1 / Float(models.count)
        let sources = models.map { $0.namedTensors.map(\.1) }
        for (i, (name, target)) in out.namedTensors.enumerated() {
            if same && DRHT.isRunningStatistic(name) { target.data.update(from: sources[0][i].data, count: target.count); continue }
            target.zero()
            for s in sources {
                let src = s[i]
                for j in 0..<target.count { target.data[j] += src.data[j] }
            }
            for j in 0..<target.count { target.data[j] *= scale }
        }
        return out
    }

    /// Whether every model's BN running statistics equal the first's, element for element.
    static func sameStatistics(_ models: [DRHT]) -> Bool {
        let first = models[0].runningStatistics.map(\.1)
        return models.dropFirst().allSatisfy { m in
            zip(first, m.runningStatistics.map(\.1)).allSatisfy { a, b in a.count == b.count && (0..<a.count).allSatisfy { a.data[$0] == b.data[$0] } }
        }
    }
}
