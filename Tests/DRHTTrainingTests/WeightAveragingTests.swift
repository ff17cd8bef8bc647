import DRHTEngine
import DRHTModel
@testable import DRHTTraining
import XCTest

final class WeightAveragingTests: XCTestCase {
    func testEveryTensorIsTheElementwiseMean() {
        let a = DRHT.initialized(seed: 1), b = DRHT.initialized(seed: 2), c = DRHT.initialized(seed: 3)
        // Running statistics too: give them distinct values.
        a.hdr.blocks[0].bn.runningVar[0] = 1; b.hdr.blocks[0].bn.runningVar[0] = 4; c.hdr.blocks[0].bn.runningVar[0] = 7
        c.notes["steps"] = "300"
        c.notes["bn_calibrated"] = "32 x 8 samples"
        c.notes["bn_frozen"] = "kept while training"
        let mean = WeightAveraging.average([a, b, c])
        XCTAssertNil(mean.notes["bn_calibrated"], "averaged statistics were measured by no one")
        XCTAssertNil(mean.notes["bn_frozen"], "nor kept by a frozen run")
        let (ta, tb, tc, tm) = (a.namedTensors, b.namedTensors, c.namedTensors, mean.namedTensors)
        XCTAssertEqual(tm.map(\.0), ta.map(\.0))
        for i in tm.indices {
            for j in stride(from: 0, to: tm[i].1.count, by: max(1, tm[i].1.count / 7)) {
                XCTAssertEqual(tm[i].1[j], (ta[i].1[j] + tb[i].1[j] + tc[i].1[j]) / 3, accuracy: 1e-6, tm[i].0)
            }
        }
        XCTAssertEqual(mean.hdr.blocks[0].bn.runningVar[0], 4, accuracy: 1e-6)
        XCTAssertEqual(mean.notes["steps"], "300", "notes come from the last checkpoint")
        // The inputs are untouched.
        XCTAssertEqual(b.hdr.blocks[0].bn.runningVar[0], 4)
    }

    func testTheMeanOfOneModelIsThatModel() {
        let a = DRHT.initialized(seed: 5)
        let m = WeightAveraging.average([a])
        for (x, y) in zip(a.namedTensors, m.namedTensors) { XCTAssertEqual(x.1.array, y.1.array, x.0) }
    }

    /// Checkpoints of a --freeze-bn run share one set of measured statistics: their mean keeps
    /// them, and the notes that say they were measured and kept.
    func testCheckpointsWithTheSameStatisticsKeepThemAndTheCalibratedNote() {
        let a = DRHT.initialized(seed: 1), b = DRHT.initialized(seed: 2), c = DRHT.initialized(seed: 3)
        // A value that (3 v) / 3 would not give back exactly in floats.
        let v = Float(0.7000001)
        for m in [a, b, c] { m.hdr.blocks[0].bn.runningVar[0] = v }
        a.notes["bn_calibrated"] = "measured"          // the note of any of them, not only the last's
        b.notes["bn_frozen"] = "kept"
        let mean = WeightAveraging.average([a, b, c])
        XCTAssertEqual(mean.notes["bn_calibrated"], "measured")
        XCTAssertEqual(mean.notes["bn_frozen"], "kept")
        XCTAssertEqual(mean.hdr.blocks[0].bn.runningVar[0], v, "copied, not averaged")
        XCTAssertNotEqual(mean.hdr.blocks[0].conv.weight[0], a.hdr.blocks[0].conv.weight[0], "the weights are averaged")
        b.ldr.blocks[5].bn.runningMean[2] += 0.5
        let differing = WeightAveraging.average([a, b, c])
        XCTAssertNil(differing.notes["bn_calibrated"])
        XCTAssertNil(differing.notes["bn_frozen"])
    }
}
