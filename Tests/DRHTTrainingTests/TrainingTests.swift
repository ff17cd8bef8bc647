import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTImageIO
import DRHTModel
@testable import DRHTTraining

final class AdamTests: XCTestCase {
    func testTwoStepsByHand() {
        let p = Tensor(shape: [1], values: [1])
        let adam = Adam(learningRate: 0.1)
        adam.update([("p", p)], gradients: ["p": Tensor(shape: [1], values: [0.5])])
        // m = 0.05, v = 0.00025; m^ = 0.5, v^ = 0.25; p = 1 - 0.1 * 0.5 / (0.5 + 1e-8)
        XCTAssertEqual(p[0], 0.9, accuracy: 1e-6)
        adam.update([("p", p)], gradients: ["p": Tensor(shape: [1], values: [-1])])
        // m = 0.045 - 0.1 = -0.055, v = 0.00024975 + 0.001 = 0.00124975
        let mHat = -0.055 / (1 - 0.81), vHat = 0.00124975 / (1 - 0.998001)
        XCTAssertEqual(Double(p[0]), 0.9 - 0.1 * mHat / (vHat.squareRoot() + 1e-8), accuracy: 1e-5)
        XCTAssertEqual(adam.step, 2)
    }

    func testWeightDecayAddsToTheGradient() {
        let p = Tensor(shape: [1], values: [2]), q = Tensor(shape: [1], values: [2])
        let a = Adam(learningRate: 0.01), b = Adam(learningRate: 0.01)
        a.weightDecay = 0.5
        a.update([("p", p)], gradients: ["p": Tensor(shape: [1], values: [0])])      // effective gradient 1
        b.update([("p", q)], gradients: ["p": Tensor(shape: [1], values: [1])])
        XCTAssertEqual(p[0], q[0])
    }

    /// The update runs sixteen elements at a time with a scalar tail and in chunks across threads:
    /// every element must still be exactly the header's formula (same operations, same order).
    func testVectorisedUpdateEqualsTheScalarFormulaEverywhere() {
        let n = 3 * (1 << 14) + 13        // chunks per thread whose lengths are not multiples of eight
        var rng = SeededRandom(seed: 5)
        let p = Tensor(shape: [n], values: (0..<n).map { _ in rng.normal() })
        let grads = (0..<3).map { _ in Tensor(shape: [n], values: (0..<n).map { _ in 0.1 * rng.normal() }) }
        let adam = Adam(learningRate: 0.01)
        adam.weightDecay = 0.01
        var (pr, m, v) = (p.array, [Float](repeating: 0, count: n), [Float](repeating: 0, count: n))
        for (t, g) in grads.enumerated() {
            adam.update([("p", p)], gradients: ["p": g])
            let c1 = 1 - pow(Double(Float(0.9)), Double(t + 1)), c2 = 1 - pow(Double(Float(0.999)), Double(t + 1))
            let s = Float(Double(Float(0.01)) / c1), r = Float(1 / c2.squareRoot())
            for i in 0..<n {
                let gi = g[i] + 0.01 * pr[i]
                m[i] = 0.9 * m[i] + (1 - 0.9) * gi
                v[i] = 0.999 * v[i] + (1 - 0.999) * gi * gi
                pr[i] -= s * m[i] / (v[i].squareRoot() * r + 1e-8)
            }
        }
        XCTAssertEqual(p.array, pr)
        XCTAssertEqual(adam.m["p"]!.array, m)
        XCTAssertEqual(adam.v["p"]!.array, v)
    }
}

final class SyntheticSceneTests: XCTestCase {
    func testDeterministicNormalisedAndHighDynamicRange() {
        let a = SyntheticScenes.triplet(seed: 3, size: 64), b = SyntheticScenes.triplet(seed: 3, size: 64)
        XCTAssertEqual(a.input.array, b.input.array)
        XCTAssertEqual(a.hdr.array, b.hdr.array)
        XCTAssertNotEqual(SyntheticScenes.triplet(seed: 4, size: 64).hdr.array, a.hdr.array)
        var widest = 0.0
        for seed in 0..<12 as Range<UInt64> {
            let t = SyntheticScenes.triplet(seed: seed, size: 64)
            XCTAssertEqual(t.hdr.shape, [1, 3, 64, 64])
            let plane = 64 * 64
            var logSum = 0.0, lo = Double.infinity, hi = 0.0
            for i in 0..<plane {
                let l = Double(SyntheticScenes.luminance(t.hdr, i, plane: plane))
                logSum += log(l + 1e-6); lo = min(lo, l); hi = max(hi, l)
            }
            XCTAssertEqual(exp(logSum / Double(plane)), 0.18, accuracy: 1e-3, "log-average luminance, seed \(seed)")
            widest = max(widest, hi / max(lo, 1e-6))
            for v in t.input.array { XCTAssertEqual(v * 255, (v * 255).rounded(), accuracy: 1e-3); XCTAssert(v >= 0 && v <= 1) }
            XCTAssertTrue(t.target.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        }
        XCTAssertGreaterThan(widest, 1e4, "some scene spans at least four decades")
    }
}

final class TrainingLoopTests: TempDirTestCase {

    func small(steps: Int) -> TrainingConfig {
        var c = TrainingConfig()
        c.steps = steps; c.batch = 2; c.size = 32; c.validateEvery = 2; c.saveEvery = 2; c.validationCount = 2
        return c
    }

    /// A batch marks H_gt as a lower bound exactly on a re-exposed photo's own clipped channels
    /// (its target at 255); a procedural scene's H_gt (the scene's light) is exact everywhere, and
    /// a batch with no photo carries no marks.
    func testABatchMarksAPhotosClippedChannelsAsLowerBounds() {
        let photo = Tensor(shape: [1, 3, 4, 4], repeating: 0.5)
        photo[0 * 16 + 5] = 1                  // red clipped at (1, 1)
        photo[2 * 16 + 5] = 1                  // blue too
        photo[1 * 16 + 10] = 254 / 255         // green just below white at (2, 2): exact
        var rng = SeededRandom(seed: 3)
        let t = PhotoTriplet.make(from: photo, rng: &rng, ev: 1)
        let scene = SyntheticScenes.triplet(seed: 7, size: 4)
        let batch = stack([scene, t])
        let marks = batch.hdrLowerBound!
        XCTAssertEqual(marks.shape, [2, 3, 4, 4])
        XCTAssertEqual((0..<48).map { marks[$0] }, [Float](repeating: 0, count: 48), "the scene's light is exact")
        let expected: [Float] = (0..<48).map { $0 == 5 || $0 == 32 + 5 ? 1 : 0 }
        XCTAssertEqual((48..<96).map { marks[$0] }, expected)
        XCTAssertNil(stack([scene, scene]).hdrLowerBound)
    }

    /// `--hdr-bound-scope input` keeps the marks of channels the input clipped too: all of an
    /// over-exposed photo's (what the photo clipped, a brighter exposure clips as well), none of
    /// an under-exposed one's (its input shows the photo's white dimmed), and never a channel the
    /// input clipped while the photo did not (there H_gt is the light itself).
    func testTheInputScopeKeepsOnlyMarksTheInputClippedToo() {
        let photo = Tensor(shape: [1, 3, 4, 4], repeating: 0.5)
        photo[0 * 16 + 5] = 1                  // red clipped at (1, 1)
        photo[2 * 16 + 5] = 1                  // blue too
        photo[1 * 16 + 9] = 0.9                // green bright at (2, 1): clipped at +2 EV, exact
        var rng = SeededRandom(seed: 3)
        let over = PhotoTriplet.make(from: photo, rng: &rng, ev: 2)
        let under = PhotoTriplet.make(from: photo, rng: &rng, ev: -2)
        let batch = stack([over, under])
        let photoMarks = batch.hdrLowerBound(scope: .photo)!, inputMarks = batch.hdrLowerBound(scope: .input)!
        XCTAssertEqual(photoMarks.shape, [2, 3, 4, 4])
        XCTAssertGreaterThanOrEqual(batch.input[1 * 16 + 9], ClippedPixels.threshold, "the test's +2 EV input clips the bright green")
        XCTAssertLessThan((48..<96).map { batch.input[$0] }.max()!, ClippedPixels.threshold, "the test's -2 EV input clips nothing")
        let marked: [Float] = (0..<48).map { $0 == 5 || $0 == 32 + 5 ? 1 : 0 }
        XCTAssertEqual((0..<48).map { photoMarks[$0] }, marked)
        XCTAssertEqual((48..<96).map { photoMarks[$0] }, marked, "the photo scope marks the under-exposed sample too")
        XCTAssertEqual((0..<48).map { inputMarks[$0] }, marked, "over-exposed: every mark kept, the green not added")
        XCTAssertEqual((48..<96).map { inputMarks[$0] }, [Float](repeating: 0, count: 48), "under-exposed: none kept")
        XCTAssertNil(stack([SyntheticScenes.triplet(seed: 7, size: 4)]).hdrLowerBound(scope: .input))
    }

    /// `--hdr-bound-scope` reaches the training step and the held-out loss: on a photo with a
    /// clipped sky, the two scopes give different held-out losses and, after one step, different
    /// weights (under-exposed samples keep the marks with one scope and lose them with the other).
    func testTheBoundsScopeReachesTheStepAndTheHeldOutLoss() throws {
        try FileManager.default.createDirectory(atPath: dir + "/sky", withIntermediateDirectories: true)
        let photo = Tensor(zeros: [1, 3, 40, 40])
        for c in 0..<3 { for y in 0..<40 { for x in 0..<40 { photo[(c * 40 + y) * 40 + x] = y < 16 ? 1 : 0.2 + 0.01 * Float(x + c) } } }
        try ImageIO.write(photo, to: dir + "/sky/p.png")
        let sky = try DataSource.parse("photos:" + dir + "/sky")
        func run(_ scope: HDRBoundScope) throws -> (Double, DRHT) {
            var c = small(steps: 1)
            c.data = sky; c.validationData = sky; c.validationCount = 8; c.batch = 4
            c.hdrBound = true; c.hdrBoundScope = scope
            let trainer = try Trainer(model: DRHT.initialized(seed: 4), config: c, output: dir + "/\(scope).safetensors")
            let held = trainer.validationLoss()
            try trainer.run()
            return (held, trainer.model)
        }
        let (photoHeld, photoModel) = try run(.photo), (inputHeld, inputModel) = try run(.input)
        XCTAssertGreaterThan(inputHeld, photoHeld, "fewer bounds: more of the HDR term counts")
        let a = photoModel.parameters.first { $0.0 == "hdr.enc1.conv.weight" }!.1, b = inputModel.parameters.first { $0.0 == "hdr.enc1.conv.weight" }!.1
        XCTAssertNotEqual(a.array, b.array, "the step saw the scope")
        XCTAssertEqual(try DRHT.load(dir + "/input.safetensors").notes["hdr_bound_scope"], "input")
    }

    func testOverfitsOneBatch() {
        let model = DRHT.initialized(seed: 1)
        let batch = stack((0..<2).map { SyntheticScenes.triplet(seed: 100 + UInt64($0), size: 32) })
        let adam = Adam(learningRate: 1e-3)
        let first = model.lossAndGradients(batch, mode: .training, gradients: false).0.total
        var loss = first
        for _ in 0..<150 {
            let (l, g) = model.lossAndGradients(batch, mode: .training)
            loss = l.total
            adam.update(model.parameters, gradients: g)
            if loss < first / 10 { break }
        }
        XCTAssertLessThan(loss, first / 10, "from \(first)")
    }

    func testTrainingOnFromAveragedWeightsDropsTheAveragedNote() throws {
        let model = DRHT.initialized(seed: 1)
        model.notes["averaged"] = "mean of 3 checkpoints, steps 10–30"
        model.notes["stage"] = "4: an earlier stage"
        model.notes["started_from"] = "what stage 4 started from"
        model.notes["loss_hdr"] = "0.5"
        model.startNewRun(from: "/some/where/avg.safetensors")     // what `drht train --weights` does
        let out = dir + "/on.safetensors"
        try Trainer(model: model, config: small(steps: 2), output: out).run()
        let m = try DRHT.load(out)
        XCTAssertNil(m.notes["averaged"])
        XCTAssertNil(m.notes["stage"])
        XCTAssertEqual(m.notes["started_from"], "avg.safetensors (mean of 3 checkpoints, steps 10–30; 4: an earlier stage)")
        XCTAssertNotEqual(m.notes["loss_hdr"], "0.5")
        XCTAssertEqual(m.notes["framing"], "whole")
        XCTAssertEqual(m.trainingSummary, "trained 2 steps")
    }

    /// `--balance-phases`: after every step the transposed convolutions' phases are balanced
    /// again (the gradient step unbalances them), and the loss still falls.
    func testBalancedPhasesStayBalancedWhileTraining() throws {
        let model = DRHT.initialized(seed: 2, deconv: .kaiming)
        XCTAssertGreaterThan(model.deconvPhaseImbalance(), 0.01)
        var config = small(steps: 3)
        config.balancePhases = true
        try Trainer(model: model, config: config, output: dir + "/balanced.safetensors").run()
        let m = try DRHT.load(dir + "/balanced.safetensors")
        XCTAssertLessThan(m.deconvPhaseImbalance(), 1e-4)
    }

    /// `--freeze-bn`: each step is Adam on the inference-mode gradient (BN with the running
    /// statistics, which stay exactly as they were), so a calibrated file stays calibrated.
    func testFrozenBatchNormTrainsTheInferenceNetworkAndKeepsItsStatistics() throws {
        let model = DRHT.initialized(seed: 3)
        // Statistics unlike a fresh layer's (mean 0, var 1), as a calibrated file has.
        let batch0 = try DataSource.synthetic.batch(seed: 9, step: 1, count: 2, size: 32, framing: .whole)
        try BatchNormCalibration.run(model, batches: 1) { _ in batch0 }
        model.notes["bn_calibrated"] = "1 x 2 samples"
        let statistics = { (m: DRHT) in m.namedTensors.filter { $0.0.contains("running_") }.map(\.1.array) }
        let before = statistics(model)

        // Three steps by hand: Adam on the gradient of the inference-mode loss (after the first
        // step Adam's update is no longer just lr * sign(g): the moments weigh the gradients).
        var config = small(steps: 3)
        config.freezeBatchNorm = true
        try model.save(to: dir + "/start.safetensors")
        let byHand = try DRHT.load(dir + "/start.safetensors")
        let adam = Adam(learningRate: config.learningRate)
        for step in 1...3 {
            let batch = try config.data.batch(seed: config.seed, step: step, count: config.batch, size: config.size, framing: config.framing)
            let (_, grads) = byHand.lossAndGradients(batch, mode: .inference)
            adam.update(byHand.parameters, gradients: grads)
        }

        let out = dir + "/frozen.safetensors"
        try Trainer(model: model, config: config, output: out).run()
        let m = try DRHT.load(out)
        XCTAssertEqual(statistics(m), before, "the running statistics are untouched")
        for ((name, t), (_, u)) in zip(m.parameters, byHand.parameters) {
            for j in stride(from: 0, to: t.count, by: max(1, t.count / 5)) {
                XCTAssertEqual(t[j], u[j], accuracy: 1e-5 * max(1, abs(u[j])), "\(name)[\(j)]")
            }
        }
        XCTAssertEqual(m.notes["bn_calibrated"], "1 x 2 samples", "still the statistics that were measured")
        XCTAssertNotNil(m.notes["bn_frozen"])

        // Without the option the same step moves the statistics and the note goes.
        let moving = try DRHT.load(out)
        try Trainer(model: moving, config: small(steps: 4), output: dir + "/moving.safetensors").run()
        let n = try DRHT.load(dir + "/moving.safetensors")
        XCTAssertNotEqual(statistics(n), before)
        XCTAssertNil(n.notes["bn_calibrated"])
        XCTAssertNil(n.notes["bn_frozen"])
    }

    func testCheckpointCarriesMetadataAndLoadsForInference() throws {
        let out = dir + "/run.safetensors"
        let trainer = try Trainer(model: DRHT.initialized(seed: 1), config: small(steps: 3), output: out)
        try trainer.run()
        let m = try DRHT.load(out)
        for key in ["steps", "data", "seed", "date", "loss", "loss_hdr", "loss_ldr", "val_loss", "batch", "size", "learning_rate"] {
            XCTAssertNotNil(m.notes[key], key)
        }
        XCTAssertEqual(m.notes["steps"], "3")
        let csv = try String(contentsOfFile: Trainer.csvPath(out), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(csv.first, "step,loss,loss_hdr,loss_ldr,val_loss,seconds")
        XCTAssertEqual(csv.count, 4)
        XCTAssertTrue(try String(contentsOfFile: Trainer.curvePath(out), encoding: .utf8).contains("<polyline"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: Trainer.adamPath(out)))
    }

    func testKeepCheckpointsWritesOneFilePerSaveAndTheyAverage() throws {
        let out = dir + "/kept.safetensors"
        var config = small(steps: 4)                      // saves at steps 2 and 4
        config.keepCheckpoints = true
        try Trainer(model: DRHT.initialized(seed: 1), config: config, output: out).run()
        let two = try DRHT.load(dir + "/kept.step2.safetensors"), four = try DRHT.load(dir + "/kept.step4.safetensors")
        XCTAssertEqual(two.notes["steps"], "2")
        XCTAssertEqual(four.notes["steps"], "4")
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/kept.step1.safetensors"))
        XCTAssertEqual(try DRHT.load(out).namedTensors[0].1.array, four.namedTensors[0].1.array)
        let w2 = two.namedTensors[0].1, w4 = four.namedTensors[0].1
        XCTAssertNotEqual(w2.array, w4.array, "the weights moved between the saves")
        let mean = WeightAveraging.average([two, four]).namedTensors[0].1
        XCTAssertEqual(mean[5], (w2[5] + w4[5]) / 2, accuracy: 1e-7)
        // Without the flag only the main file is written.
        try Trainer(model: DRHT.initialized(seed: 1), config: small(steps: 2), output: dir + "/plain.safetensors").run()
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/plain.step2.safetensors"))
    }

    /// 4 steps in one go equal 2 steps, a checkpoint, and a resumed run to step 4 — to the bit.
    func testResumeContinuesExactly() throws {
        let straight = dir + "/straight.safetensors", split = dir + "/split.safetensors"
        try Trainer(model: DRHT.initialized(seed: 9), config: small(steps: 4), output: straight).run()
        try Trainer(model: DRHT.initialized(seed: 9), config: small(steps: 2), output: split).run()
        let resumed = try Trainer(resuming: split, config: small(steps: 4), output: split)
        XCTAssertEqual(resumed.step, 2)
        try resumed.run()
        let a = try DRHT.load(straight), b = try DRHT.load(split)
        for ((name, x), (_, y)) in zip(a.namedTensors, b.namedTensors) { XCTAssertEqual(x.array, y.array, name) }
        let rows = try String(contentsOfFile: Trainer.csvPath(split), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(rows.count, 5, "header + steps 1...4, no duplicates")
    }

    func testResumeRefusesMismatchedOptimizerState() throws {
        let a = dir + "/a.safetensors", b = dir + "/b.safetensors"
        try Trainer(model: DRHT.initialized(seed: 1), config: small(steps: 2), output: a).run()
        try Trainer(model: DRHT.initialized(seed: 1), config: small(steps: 3), output: b).run()
        try FileManager.default.removeItem(atPath: Trainer.adamPath(a))
        try FileManager.default.copyItem(atPath: Trainer.adamPath(b), toPath: Trainer.adamPath(a))
        XCTAssertThrowsError(try Trainer(resuming: a, config: small(steps: 4), output: a)) {
            XCTAssertTrue("\($0)".contains("do not belong together"), "\($0)")
        }
    }

    /// A crash after the new optimizer state but before the new weights: the weights are from
    /// step 2, the state from step 3, the previous state (kept) from step 2 — resume uses it.
    func testResumeAfterACrashBetweenStateAndWeights() throws {
        let run = dir + "/run.safetensors", keep = dir + "/keep.safetensors"
        try Trainer(model: DRHT.initialized(seed: 4), config: small(steps: 2), output: run).run()
        try FileManager.default.copyItem(atPath: run, toPath: keep)
        try Trainer(resuming: run, config: small(steps: 3), output: run).run()
        try FileManager.default.removeItem(atPath: run)
        try FileManager.default.moveItem(atPath: keep, toPath: run)          // weights back at step 2
        let resumed = try Trainer(resuming: run, config: small(steps: 4), output: run)
        XCTAssertEqual(resumed.step, 2)
        XCTAssertEqual(resumed.adam.step, 2)
    }

    func testTripletFolderAndPhotoFolderFeedBatches() throws {
        // A triplet folder as drht synth writes it.
        for i in 0..<2 {
            let t = SyntheticScenes.triplet(seed: UInt64(i), size: 48)
            let id = dir + "/triplets/" + String(format: "%06d", i)
            try FileManager.default.createDirectory(atPath: dir + "/triplets", withIntermediateDirectories: true)
            try ImageIO.write(t.input, to: id + ".input.png")
            try ImageIO.write(t.hdr, to: id + ".hdr")
            try ImageIO.write(t.target, to: id + ".target.png")
        }
        let folder = try DataSource.parse(dir + "/triplets")
        let b = try folder.batch(seed: 1, step: 1, count: 3, size: 32)
        XCTAssertEqual(b.input.shape, [3, 3, 32, 32]); XCTAssertEqual(b.hdr.shape, [3, 3, 32, 32])
        // Photos.
        try FileManager.default.createDirectory(atPath: dir + "/photos", withIntermediateDirectories: true)
        try ImageIO.write(SyntheticScenes.triplet(seed: 5, size: 40).target, to: dir + "/photos/p.png")
        let photos = try DataSource.parse("photos:" + dir + "/photos")
        let p = try photos.batch(seed: 1, step: 1, count: 2, size: 32)
        XCTAssertEqual(p.target.shape, [2, 3, 32, 32])
        XCTAssertThrowsError(try photos.batch(seed: 1, step: 1, count: 1, size: 64)) {
            XCTAssertTrue("\($0)".contains("smaller than --size 64"), "\($0)")
        }
        XCTAssertThrowsError(try DataSource.parse(dir + "/nothing-here"))
        XCTAssertThrowsError(try DataSource.parse(dir + "/photos")) { XCTAssertTrue("\($0)".contains("drht synth"), "\($0)") }
    }
}
