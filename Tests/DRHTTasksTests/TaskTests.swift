import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTModel
import DRHTTraining
@testable import DRHTTasks

/// The progress and cancellation protocol every job uses.
final class MonitorTests: XCTestCase {
    func testStepsStopBetweenStepsAndSayWhere() {
        var shown: [String] = [], ran: [Int] = [], cleared = 0
        var stop = false
        let monitor = TaskMonitor(show: { d, t, l in shown.append("\(d)/\(t) \(l)") }, clear: { cleared += 1 }, shouldStop: { stop })
        XCTAssertThrowsError(try monitor.steps(5, offset: 10, total: 20, label: { "s\($0)" }) { k in
            ran.append(k)
            if k == 1 { stop = true }
        }) { error in
            let e = error as? TaskStopped
            XCTAssertEqual(e?.done, 12)
            XCTAssertEqual(e?.total, 20)
            XCTAssertEqual(e?.next, "s2")
        }
        XCTAssertEqual(ran, [0, 1], "no step runs after the stop request")
        XCTAssertEqual(shown, ["10/20 s0", "11/20 s1"])
        XCTAssertEqual(cleared, 1, "the line is cleared when it stops")
    }

    func testAFinishedLoopClearsOnlyAtTheEndOfTheJob() throws {
        var cleared = 0
        let monitor = TaskMonitor(show: { _, _, _ in }, clear: { cleared += 1 }, shouldStop: { false })
        try monitor.steps(3, offset: 0, total: 6, label: { _ in "" }) { _ in }
        XCTAssertEqual(cleared, 0, "half of a longer job: the line stays")
        try monitor.steps(3, offset: 3, total: 6, label: { _ in "" }) { _ in }
        XCTAssertEqual(cleared, 1)
    }

    func testProgressBar() {
        XCTAssertEqual(ProgressBar.line(done: 6, total: 24, label: "x", width: 8), "[##......] 6/24 x")
        XCTAssertEqual(ProgressBar.line(done: 0, total: 0, label: "", width: 4), "[....] 0/0 ")
    }
}

/// The one memory guard and its estimate.
final class MemoryGuardTests: XCTestCase {
    func testEstimateAndRefusal() throws {
        let saved = MemoryGuard.budget
        defer { MemoryGuard.budget = saved }
        // 6 KB per pixel, batch 2 of 100 x 100 with a 10-px margin (120 x 120), plus 1 MB.
        XCTAssertEqual(MemoryGuard.estimate(.backward, height: 100, width: 100, margin: 10, batch: 2, fixed: 1e6), 1e6 + 6000 * 2 * 120 * 120)
        MemoryGuard.budget = 2e9
        XCTAssertNoThrow(try MemoryGuard.check(2e9, what: "x", advice: "y"))
        XCTAssertThrowsError(try MemoryGuard.check(3e9, what: "a job", advice: "do less")) { error in
            XCTAssertEqual("\(error)", "a job would need about 3 GB of memory (more than the 2 GB drht allows itself here); do less")
        }
    }

    func testDirectCorrectionIsEstimatedWithItsMargin() {
        let direct = CorrectRequest(mode: .direct)
        XCTAssertEqual(direct.memoryNeed(height: 100, width: 200), 800 * Double(100 + 192) * Double(200 + 192))
        XCTAssertEqual(CorrectRequest(mode: .direct, retention: .everything).memoryNeed(height: 100, width: 200), 5000 * Double(100 + 192) * Double(200 + 192))
        XCTAssertEqual(CorrectRequest().memoryNeed(height: 10_000, width: 10_000), 0, "gain mode runs the network on the working copy")
    }
}

final class TrainTaskTests: TempDirTestCase {
    func settings(_ steps: Int) -> TrainSettings {
        var s = TrainSettings()
        s.steps = steps
        return s
    }

    /// A scope without the bound it scopes would do nothing, silently: refused.
    func testAScopeWithoutTheBoundIsRefused() {
        var s = settings(1)
        s.hdrBoundScope = .input
        XCTAssertThrowsError(try TrainTask.configuration(TrainRequest(start: .fresh(.standard), settings: s, output: nil), parse: false)) {
            XCTAssertTrue("\($0)".contains("add --hdr-bound"), "\($0)")
        }
        s.hdrBound = true
        XCTAssertNoThrow(try TrainTask.configuration(TrainRequest(start: .fresh(.standard), settings: s, output: nil), parse: false))
    }

    /// The bug this guards: `--resume FILE --steps N` once trained on the defaults (synth, 64 px,
    /// lr 1e-3) whatever the run had been. A resumed run takes its settings from its checkpoint.
    func testResumeContinuesWithTheRunsOwnSettings() throws {
        let out = dir + "/run.safetensors"
        var s = settings(2)
        s.batch = 2; s.size = 32; s.framing = .crop; s.learningRate = 2e-3; s.seed = 5; s.validateEvery = 1; s.saveEvery = 7
        s.keepCheckpoints = true; s.balancePhases = true; s.data = "synth+synth"; s.clipWeight = 2.5
        s.hdrBound = true; s.hdrBoundScope = .input
        try TrainTask.run(try TrainTask.prepare(TrainRequest(start: .fresh(.standard), settings: s, output: out)), monitor: .silent)

        let resumed = try TrainTask.prepare(TrainRequest(start: .resume(out), settings: settings(3), output: nil))
        let c = resumed.config
        XCTAssertEqual(resumed.step, 2)
        XCTAssertEqual(c.steps, 3)
        XCTAssertEqual([c.batch, c.size, c.validateEvery, c.saveEvery], [2, 32, 1, 7])
        XCTAssertEqual(c.framing, .crop)
        XCTAssertEqual(c.learningRate, 2e-3)
        XCTAssertEqual(c.seed, 5)
        XCTAssertEqual(c.data.spec, "synth+synth")
        XCTAssertTrue(c.keepCheckpoints)
        XCTAssertTrue(c.balancePhases)
        XCTAssertEqual(c.clipWeight, 2.5)
        XCTAssertEqual(try DRHT.load(out).notes["clip_weight"], "2.5")
        XCTAssertTrue(c.hdrBound)
        XCTAssertNotNil(try DRHT.load(out).notes["hdr_bound"])
        XCTAssertEqual(c.hdrBoundScope, .input)
        XCTAssertEqual(try DRHT.load(out).notes["hdr_bound_scope"], "input")
        XCTAssertEqual(resumed.output, out, "a resumed run writes back to its checkpoint")

        // A setting given again wins over the checkpoint's.
        var again = settings(3)
        again.batch = 1; again.balancePhases = false; again.clipWeight = 0; again.hdrBound = false
        let changed = try TrainTask.prepare(TrainRequest(start: .resume(out), settings: again, output: nil)).config
        XCTAssertEqual(changed.batch, 1)
        XCTAssertFalse(changed.balancePhases)
        XCTAssertEqual(changed.clipWeight, 0)
        XCTAssertFalse(changed.hdrBound)
        XCTAssertEqual(changed.size, 32)
    }

    /// `--weights CALIBRATED --freeze-bn`: the statistics stay the measured ones, and so does the
    /// note that says they were measured; a resumed run stays frozen. Without --freeze-bn the
    /// statistics move and the note goes. A fresh model has no statistics to freeze.
    func testAFrozenRunFromACalibratedFileKeepsItsStatisticsAndNote() throws {
        let start = dir + "/calibrated.safetensors"
        let model = DRHT.initialized(seed: 4)
        let batch = try DataSource.synthetic.batch(seed: 3, step: 1, count: 2, size: 32, framing: .whole)
        try BatchNormCalibration.run(model, batches: 1) { _ in batch }      // statistics unlike a fresh model's
        model.notes["bn_calibrated"] = "1 x 2 samples"
        try model.save(to: start)
        let statistics = { (m: DRHT) in m.namedTensors.filter { $0.0.contains("running_") }.map(\.1.array) }
        let measured = statistics(try DRHT.load(start))
        for frozen in [true, false] {
            var s = settings(1)
            s.batch = 2; s.size = 32; s.freezeBatchNorm = frozen
            let out = dir + "/frozen-\(frozen).safetensors"
            try TrainTask.run(try TrainTask.prepare(TrainRequest(start: .weights(start), settings: s, output: out)), monitor: .silent)
            let m = try DRHT.load(out)
            XCTAssertEqual(m.notes["bn_calibrated"], frozen ? "1 x 2 samples" : nil, "frozen: \(frozen)")
            XCTAssertEqual(m.notes["bn_frozen"] != nil, frozen)
            XCTAssertEqual(statistics(m) == measured, frozen, "frozen: \(frozen)")
            let resumed = try TrainTask.prepare(TrainRequest(start: .resume(out), settings: settings(2), output: nil))
            XCTAssertEqual(resumed.config.freezeBatchNorm, frozen)
        }
        var fresh = settings(1)
        fresh.freezeBatchNorm = true
        XCTAssertThrowsError(try TrainTask.prepare(TrainRequest(start: .fresh(.standard), settings: fresh, output: nil))) { error in
            XCTAssertTrue("\(error)".contains("a fresh model has none"), "\(error)")
        }
    }

    func testACheckpointThatDoesNotRecordItsDataMustBeToldIt() throws {
        let out = dir + "/old.safetensors"
        try TrainTask.run(try TrainTask.prepare(TrainRequest(start: .fresh(.standard), settings: settings(1), output: out)), monitor: .silent)
        // As drht wrote checkpoints before it recorded the data.
        let model = try DRHT.load(out)
        model.notes["data_spec"] = nil
        model.notes["val_data_spec"] = nil
        try model.save(to: out)
        XCTAssertThrowsError(try TrainTask.prepare(TrainRequest(start: .resume(out), settings: settings(2), output: nil))) { error in
            XCTAssertTrue("\(error)".contains("does not record its --data and --val-data"), "\(error)")
        }
        var given = settings(2)
        given.data = "synth"; given.validationData = "synth"
        XCTAssertEqual(try TrainTask.prepare(TrainRequest(start: .resume(out), settings: given, output: nil)).step, 1)
    }

    func testSizesAndMemoryAreCheckedBeforeAnythingIsMade() {
        var s = settings(1)
        s.size = 33
        XCTAssertThrowsError(try TrainTask.configuration(TrainRequest(start: .fresh(.standard), settings: s, output: nil))) {
            XCTAssertEqual("\($0)", "--size must be a multiple of 32 (got 33)")
        }
        let saved = MemoryGuard.budget
        defer { MemoryGuard.budget = saved }
        MemoryGuard.budget = 1e9
        s.size = 512; s.batch = 64
        XCTAssertThrowsError(try TrainTask.configuration(TrainRequest(start: .fresh(.standard), settings: s, output: nil))) {
            XCTAssertTrue("\($0)".hasPrefix("training at batch 64 and 512x512 would need about 101 GB of memory"), "\($0)")
        }
    }
}

final class CorrectAndLookInsideTests: XCTestCase {
    let model = DRHT.initialized(seed: 3)

    func testCorrectTaskIsThePipelineStepByStepAndStopsKeepingNothing() throws {
        let photo = randomTensor([1, 3, 40, 56], seed: 4, 0, 1)
        let request = CorrectRequest(mode: .direct)
        let c = try CorrectTask.run(request, model: model, photo: photo, monitor: .silent)
        let reference = Correction(model: model, photo: photo, mode: .direct)
        while !reference.pipeline.isFinished { reference.pipeline.step() }
        XCTAssertEqual(c.corrected().array, reference.corrected().array)

        var calls = 0
        let stopAtThird = TaskMonitor(show: { _, _, _ in }, clear: {}, shouldStop: { calls += 1; return calls > 3 })
        XCTAssertThrowsError(try CorrectTask.run(request, model: model, photo: photo, monitor: stopAtThird, label: "x ")) { error in
            XCTAssertEqual((error as? TaskStopped)?.next, "x " + Pipeline.stepNames[3])
        }
    }

    /// `calibrate`: a stop request keeps the statistics the model came with; bad settings are one line.
    func testCalibrateStopsKeepingTheOldStatisticsAndChecksItsSettings() throws {
        let m = DRHT.initialized(seed: 3)
        let before = m.namedTensors.filter { $0.0.contains("running_") }.map { $0.1.array }
        var r = CalibrateRequest()
        r.data = "synth"; r.size = 32; r.batches = 3; r.batchSize = 2
        var calls = 0
        let stopAtSecond = TaskMonitor(show: { _, _, _ in }, clear: {}, shouldStop: { calls += 1; return calls > 1 })
        XCTAssertThrowsError(try CalibrateTask.run(r, model: m, monitor: stopAtSecond)) { error in
            XCTAssertEqual((error as? TaskStopped)?.done, 1)
        }
        XCTAssertEqual(m.namedTensors.filter { $0.0.contains("running_") }.map { $0.1.array }, before)
        XCTAssertNil(m.notes["bn_calibrated"])
        m.notes["bn_frozen"] = "kept while training"
        try CalibrateTask.run(r, model: m, monitor: .silent)
        XCTAssertNotEqual(m.namedTensors.filter { $0.0.contains("running_") }.map { $0.1.array }, before)
        XCTAssertEqual(m.notes["bn_calibrated"], "3 x 2 samples of synth, 32 px (whole), seed 1")
        XCTAssertNil(m.notes["bn_frozen"], "new statistics, not the ones a run kept")
        for (size, batch, batches, words) in [(100, 2, 3, "--size must be a multiple of 32"), (64, 0, 3, "--batch must be from 1 to 64"),
                                              (64, 2, 0, "--batches must be from 1 to 10000")] {
            r.size = size; r.batchSize = batch; r.batches = batches
            XCTAssertThrowsError(try CalibrateTask.check(r)) { XCTAssertTrue("\($0)".hasPrefix(words), "\($0)") }
        }
        // Without a size: the model's training size, else gain mode's working size.
        r.size = nil
        m.notes["size"] = "64"
        XCTAssertEqual(CalibrateTask.size(r, model: m), 64)
        m.notes["size"] = nil
        XCTAssertEqual(CalibrateTask.size(r, model: m), CorrectionMode.defaultWorkSize)
        r.size = 32; r.batchSize = 2; r.batches = 1; r.data = "nope:/x"
        XCTAssertThrowsError(try CalibrateTask.run(r, model: m, monitor: .silent))
    }

    func testSweepComparesEveryLayerWithTheZeroEVRun() throws {
        let photo = randomTensor([1, 3, 32, 32], seed: 8, 0.2, 0.8)
        var r = SweepRequest()
        r.exposures = [1]
        r.correct.mode = .direct
        let result = try SweepTask.run(r, model: model, photo: photo, monitor: .silent)
        XCTAssertEqual(result.exposures, [0, 1], "0 EV is added")
        for step in Pipeline.stepNames {
            let cs = try XCTUnwrap(result.cosine[step]?[1], step)
            XCTAssertTrue((-1.0001...1.0001).contains(cs), "\(step): \(cs)")
            XCTAssertNil(result.cosine[step]?[0])
        }
        // The 0 EV run is the photo re-photographed at 0 EV and corrected as `correct` would.
        var rng = SeededRandom(seed: r.camera)
        let zero = PhotoTriplet.reexposed(photo, rng: &rng, ev: 0).input
        XCTAssertEqual(result.inputs[0]?.array, zero.array)
        XCTAssertEqual(result.outputs[0]?.array, try CorrectTask.run(CorrectRequest(mode: .direct), model: model, photo: zero, monitor: .silent).corrected().array)
    }

    /// Integrated gradients sum (with the padding's copies) to S(x) - S(black), closer as the
    /// path gets finer.
    func testIntegratedGradientsAreComplete() throws {
        let image = randomTensor([1, 3, 32, 32], seed: 2, 0, 1)
        let input = NetworkInput(image: image)
        var request = SaliencyRequest(step: "hdr.enc3", probe: .channel(5), method: .integrated, pathSteps: 4)
        let coarse = try SaliencyTask.run(request, model: model, input: input, monitor: .silent)
        request.pathSteps = 64
        let fine = try SaliencyTask.run(request, model: model, input: input, monitor: .silent)
        let (sum, black) = try XCTUnwrap(fine.completeness)
        let target = fine.value - black
        XCTAssertEqual(sum, target, accuracy: 0.02 * abs(target) + 1e-6)
        XCTAssertLessThanOrEqual(abs(sum - target), abs(coarse.completeness!.sum - target) + 1e-9)
    }

    func testAGradientMapNeedsAFiniteImage() {
        let image = Tensor(zeros: [1, 3, 32, 32])
        image.data[5] = .nan
        XCTAssertThrowsError(try NetworkInput(image: image).checkForBackward(what: "saliency", named: "img", advice: "")) {
            XCTAssertTrue("\($0)".hasPrefix("img has NaN or infinite pixels"), "\($0)")
        }
    }
}

final class ResumeOfACodeMadeSourceTests: TempDirTestCase {
    /// A source made in code has no --data spelling: its checkpoint records none, and a resume
    /// asks for it rather than falling back to procedural scenes.
    func testACheckpointOfACodeMadeSourceAsksForItsData() throws {
        var config = TrainingConfig()
        config.data = DataSource(SyntheticSource())           // no spec
        config.size = 32; config.batch = 1; config.steps = 1; config.validationCount = 1
        let out = dir + "/code.safetensors"
        try Trainer(model: DRHT.initialized(seed: 1), config: config, output: out).run()
        XCTAssertNil(try DRHT.load(out).notes["data_spec"])
        XCTAssertEqual(try DRHT.load(out).notes["val_data_spec"], "synth")
        var s = TrainSettings()
        s.steps = 2
        XCTAssertThrowsError(try TrainTask.prepare(TrainRequest(start: .resume(out), settings: s, output: nil))) {
            XCTAssertTrue("\($0)".contains("does not record its --data"), "\($0)")
        }
    }
}
