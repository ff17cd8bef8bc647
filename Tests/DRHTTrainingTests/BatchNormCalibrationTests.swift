// BatchNorm recalibration: one batch gives that batch's statistics (by hand, from the first
// convolution's output), two give the mean of each one's, the weights and momentum stay.
import DRHTEngine
import DRHTModel
@testable import DRHTTraining
import XCTest

final class BatchNormCalibrationTests: XCTestCase {
    func batch(_ step: Int) throws -> Batch {
        try DataSource.synthetic.batch(seed: 7, step: step, count: 2, size: 32, framing: .whole)
    }

    func statistics(_ m: DRHT) -> [(String, [Float])] {
        m.namedTensors.filter { $0.0.contains("running_") }.map { ($0.0, $0.1.array) }
    }

    func testOneBatchGivesExactlyThatBatchsStatistics() throws {
        let model = DRHT.initialized(seed: 1)
        let a = try batch(1)
        try BatchNormCalibration.run(model, batches: 1) { _ in a }
        // enc1's BN reads enc1's convolution of the input: its mean and unbiased variance per channel.
        let enc1 = model.hdr.blocks[0]
        let z = enc1.conv.forward(a.input, workspace: .shared)
        let (n, c, plane) = (z.n, z.c, z.h * z.w)
        for ch in [0, 17, c - 1] {
            var s: Double = 0, ss: Double = 0
            for i in 0..<n {
                for p in 0..<plane {
                    let v = Double(z.data[(i * c + ch) * plane + p])
                    s += v; ss += v * v
                }
            }
            let count = Double(n * plane)
            let mean: Double = s / count
            let biased: Double = ss / count - mean * mean
            let unbiased: Double = biased * count / (count - 1)
            XCTAssertEqual(Double(enc1.bn.runningMean[ch]), mean, accuracy: 1e-4 * max(1, abs(mean)), "channel \(ch)")
            XCTAssertEqual(Double(enc1.bn.runningVar[ch]), unbiased, accuracy: 1e-3 * unbiased, "channel \(ch)")
        }
    }

    func testTwoBatchesGiveTheMeanOfEachAndTheWeightsStay() throws {
        let (a, b) = (try batch(1), try batch(2))
        let onlyA = DRHT.initialized(seed: 1), onlyB = DRHT.initialized(seed: 1), both = DRHT.initialized(seed: 1)
        let untouched = DRHT.initialized(seed: 1)
        try BatchNormCalibration.run(onlyA, batches: 1) { _ in a }
        try BatchNormCalibration.run(onlyB, batches: 1) { _ in b }
        try BatchNormCalibration.run(both, batches: 2) { [a, b][$0] }
        let (sa, sb, sab) = (statistics(onlyA), statistics(onlyB), statistics(both))
        XCTAssertEqual(sab.count, 48, "mean and variance of 24 BatchNorm layers")
        for i in sab.indices {
            for j in sab[i].1.indices {
                let want = (sa[i].1[j] + sb[i].1[j]) / 2
                XCTAssertEqual(sab[i].1[j], want, accuracy: 1e-4 * max(1, abs(want)), "\(sab[i].0)[\(j)]")
            }
        }
        XCTAssertNotEqual(sab[0].1, statistics(untouched)[0].1, "the statistics moved")
        for ((name, t), (_, u)) in zip(both.namedTensors, untouched.namedTensors) where !name.contains("running_") {
            XCTAssertEqual(t.array, u.array, name)
        }
        XCTAssertTrue(both.hdr.blocks.allSatisfy { $0.bn.momentum == 0.1 } && both.ldr.blocks.allSatisfy { $0.bn.momentum == 0.1 },
                      "training's momentum is back")
        XCTAssertEqual(BatchNormCalibration.momentum(batch: 0), 1)
        // Old statistics that are not numbers do not survive (batch 0 replaces them).
        let broken = DRHT.initialized(seed: 1)
        broken.hdr.blocks[3].bn.runningVar[0] = .nan
        broken.ldr.blocks[0].bn.runningMean[1] = .infinity
        try BatchNormCalibration.run(broken, batches: 1) { _ in a }
        XCTAssertEqual(statistics(broken).map(\.1), sa.map(\.1))
        XCTAssertEqual(BatchNormCalibration.momentum(batch: 3), 0.25)
    }
}
