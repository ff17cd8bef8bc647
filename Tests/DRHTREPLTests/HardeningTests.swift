// Issue 13's REPL crashes, each from its reported case: every one must end in one error line
// with the session intact.
import DRHTEngine
import DRHTImageIO
@testable import DRHTREPL
import Foundation
import XCTest
import DRHTTestSupport
import DRHTTasks

final class HardeningTests: XCTestCase {
    func session() -> (Session, () -> String) {
        var output = ""
        let s = Session(console: Console(width: 80) { output += $0 })
        return (s, { output })
    }

    func expectOneLineError(_ s: Session, _ line: String, containing text: String, file: StaticString = #filePath, line number: UInt = #line) {
        XCTAssertThrowsError(try s.execute(line), file: file, line: number) { error in
            let message = Session.describe(error)
            XCTAssertTrue(message.contains(text), message, file: file, line: number)
            XCTAssertFalse(message.contains("\n"), "one line: \(message)", file: file, line: number)
            XCTAssertLessThan(message.count, 400, message, file: file, line: number)
        }
    }

    func testHistOfAnAllNaNImageIsAnErrorAndPartlyNaNIsCounted() throws {
        try inTemporaryDirectory {
            let t = Tensor(shape: [4, 4, 3], repeating: .nan)
            try AtomicFile.write(NPY.encode(t), to: "nan.npy")
            let (s, output) = session()
            try s.execute("load nan.npy as n")
            expectOneLineError(s, "hist n", containing: "no finite values")
            for c in 0..<3 { t.data[c] = 0.5; t.data[3 + c] = .infinity }     // (H, W, 3): pixel 0 finite, pixel 1 infinite
            try AtomicFile.write(NPY.encode(t), to: "some.npy")
            try s.execute("load some.npy as m")
            try s.execute("hist m --bins 8")
            XCTAssertTrue(output().contains("NaN or infinite left out"), output())
            try s.execute("synth --size 32")       // the session goes on
        }
    }

    /// Issue 31's five reproducers (each a SIGILL before): NaN and infinities in a loaded image.
    /// The rule: computations refuse them with one line, statistics leave them out and count
    /// them, pictures draw them magenta.
    func testNonFiniteImagesFromTheIssueAreRefusedCountedOrMarked() throws {
        try inTemporaryDirectory {
            func write(_ name: String, _ edit: (Tensor) -> Void) throws {
                let t = Tensor(shape: [40, 56, 3], repeating: 0.5)
                edit(t)
                try AtomicFile.write(NPY.encode(t), to: name)
            }
            try write("one_nan.npy") { $0.data[(3 * 56 + 4) * 3 + 1] = .nan }
            try write("inf_mix.npy") { $0.data[(1 * 56 + 1) * 3] = .infinity; $0.data[(2 * 56 + 2) * 3 + 2] = -.infinity }
            try write("all_nan.npy") { t in for i in 0..<t.count { t.data[i] = .nan } }
            try write("one_inf.npy") { $0.data[(5 * 56 + 5) * 3] = .infinity }
            let (s, output) = session()
            try s.execute("load one_nan.npy as s")
            XCTAssertTrue(output().contains("1 value is NaN or infinite: left out of these figures"), output())
            XCTAssertTrue(output().contains("min 0.5 max 0.5 mean 0.5 std 0"), "statistics of the finite values: \(output())")
            expectOneLineError(s, "baseline s histeq", containing: "s has 1 NaN value (the first at x 4, y 3)")
            try s.execute("load inf_mix.npy as s")
            try s.execute("maps s")
            XCTAssertTrue(output().contains("magenta: 2 NaN or infinite values, left out of the ranges"), output())
            expectOneLineError(s, "infer s", containing: "s has 2 infinite values (the first at x 1, y 1)")
            try s.execute("load all_nan.npy as s")
            expectOneLineError(s, "grid s", containing: "s has 6720 NaN values")
            expectOneLineError(s, "baseline s histeq", containing: "6720 NaN values")
            try s.execute("show s")
            XCTAssertTrue(output().contains("2240 pixels NaN or infinite, drawn magenta"), output())
            try s.execute("load one_inf.npy as s")
            try s.execute("maps s")
            try s.execute("show s")
            XCTAssertTrue(output().contains("1 pixel NaN or infinite, drawn magenta"), output())
            try s.execute("vars")
        }
    }

    /// `drht fuzz` (issue 31): `export a b` — a path with no extension — trapped inside
    /// Foundation (NSString.deletingLastPathComponent); the extension is checked first now.
    func testExportToANameWithoutExtensionIsOneLine() throws {
        try inTemporaryDirectory {
            let (s, _) = session()
            try s.execute("synth --size 32 as a")
            expectOneLineError(s, "export a b", containing: "b: unknown extension; use .png, .jpg, .npy or .hdr")
            try s.execute("export a sub/dir/a.png")
            XCTAssertTrue(FileManager.default.fileExists(atPath: "sub/dir/a.png"))
        }
    }

    /// Ctrl-C (the flag the SIGINT handler sets) during the long look-inside commands: one
    /// line, nothing kept, the session goes on.
    func testCtrlCStopsSaliencySweepAndAblateKeepingNothing() throws {
        let (s, _) = session()
        try s.execute("model init --seed 1")
        try s.execute("synth --size 256 as scene")
        try s.execute("use scene")
        for (line, kept) in [("saliency scene.target:0 --method integrated --steps 256", "saliency"),
                             ("saliency hdr.latent:3 --method integrated --steps 256", "saliency"),
                             ("sweep scene.target --ev -6,-5,-4,-3,-2,-1,1,2,3,4,5,6", "scene.target.sweep"),
                             ("set mode direct", ""), ("sweep scene.target --ev -6,-5,-4,-3,-2,-1,1,2,3,4,5,6", "scene.target.sweep")] {
            guard !kept.isEmpty else { try s.execute(line); continue }
            if line.contains("scene.target:0") { expectOneLineError(s, line, containing: "unknown target"); continue }
            DispatchQueue.global().asyncAfter(deadline: .now() + 0.15) { Interrupt.requested = 1 }
            expectOneLineError(s, line, containing: "stopped (Ctrl-C)")
            XCTAssertNil(s.variables[kept], line)
        }
        XCTAssertTrue(s.last.sweep.isEmpty)
        Interrupt.clear()
        try s.execute("synth --size 32 as after")
    }

    /// Looking inside a photo too large for memory is refused before anything is allocated.
    func testLookInsideCommandsRefuseWhatWouldNotFitInMemory() throws {
        // The limit of this machine's size the tests were written on (60% of 24 GB), on any machine.
        let budget = MemoryGuard.budget
        MemoryGuard.budget = 14e9
        defer { MemoryGuard.budget = budget }
        let (s, _) = session()
        try s.execute("model init --seed 1")
        let big = Tensor(zeros: [1, 3, 2000, 2000]); big.buffer.update(repeating: 0.5)
        s.set("big", Variable(big, kind: .image, origin: "test"))
        try s.execute("use big --full")
        expectOneLineError(s, "saliency out", containing: "would need about 24 GB")
        expectOneLineError(s, "rf hdr.enc1 3 3", containing: "would need about 24 GB")
        try s.execute("set mode direct")
        expectOneLineError(s, "sweep big --ev -1,1", containing: "sweep in direct mode on a 2000x2000 photo would need about 24 GB")
        let huge = Tensor(zeros: [1, 3, 4000, 4400]); huge.buffer.update(repeating: 0.5)
        s.set("huge", Variable(huge, kind: .image, origin: "test"))
        expectOneLineError(s, "ablate hdr.latent --on huge", containing: "ablate in direct mode on a 4400x4000 photo would need about 15 GB")
        XCTAssertTrue(s.interventions.isEmpty)
        expectOneLineError(s, "latent swap huge big", containing: "latent swap in direct mode on a 4400x4000 photo")
        expectOneLineError(s, "latent swap big huge", containing: "latent swap in direct mode on a 2000x2000 photo")
        // A NaN pixel would make every gradient NaN: `use` refuses the image in one line (issue 31;
        // saliency and rf used to find out later).
        let nan = Tensor(zeros: [1, 3, 64, 64]); nan.buffer.update(repeating: 0.5); nan.data[77] = .nan
        s.set("nan", Variable(nan, kind: .image, origin: "test"))
        expectOneLineError(s, "use nan", containing: "nan has 1 NaN value (the first at x 13, y 1)")
    }

    func testACommandFileThatRunsItselfStopsAtTheNestingLimit() throws {
        try inTemporaryDirectory {
            try "synth --size 32 as a\nrun self.drht\n".write(toFile: "self.drht", atomically: true, encoding: .utf8)
            let (s, _) = session()
            expectOneLineError(s, "run self.drht", containing: "more than \(LessonRunner.maxNesting) deep")
            XCTAssertTrue(s.scriptDirectories.isEmpty)
            try s.execute("synth --size 32 as after")
        }
    }

    func testDeeplyNestedExpressionsAreRefused() throws {
        let (s, _) = session()
        try s.execute("synth --size 32 as a")
        let deep = String(repeating: "(", count: 20_000) + "1" + String(repeating: ")", count: 20_000)
        expectOneLineError(s, "expect \(deep) > 0", containing: "nests more than 64 deep")
        expectOneLineError(s, "expect 0 < " + String(repeating: "- ", count: 20_000) + "1", containing: "nests more than 64 deep")
        // A 20,000-character option or command name is echoed cut short.
        expectOneLineError(s, "expect " + String(repeating: "-", count: 20_000) + "1 < 0", containing: "(20001 characters)")
        expectOneLineError(s, String(repeating: "x", count: 100_000), containing: "unknown command")
        // Reasonable nesting still works.
        try s.execute("expect " + String(repeating: "(", count: 30) + "a.max" + String(repeating: ")", count: 30) + " <= 1")
        try s.execute("expect - -1 == 1")
    }

    /// Issue 30's commands on the wrong kind of input: one line each, the session goes on; on the
    /// right input, `synth --from` photographs the radiance it is given and `hdrerror` of an
    /// estimate against itself is 0 stops.
    func testSynthFromAndHDRErrorOnGoodAndBadInput() throws {
        let (s, output) = session()
        try s.execute("synth --size 64 as scene")
        expectOneLineError(s, "synth --from scene", containing: "takes HDR radiance")
        expectOneLineError(s, "synth --from nothing", containing: "nothing")
        try s.execute("synth --from scene.hdr_gt --ev 3 --seed 2 as shot")
        XCTAssertEqual(s.variables["shot"]?.tensor.shape, [1, 3, 64, 64])
        XCTAssertGreaterThan(ImageCommands.clipped(s.variables["shot"]!.tensor).1, 0.05, "+3 EV clips")
        XCTAssertTrue(output().contains("exposure +3 EV from auto-exposure"), output())
        try s.execute("hdrerror scene.hdr_gt shot.hdr_gt shot as same")
        XCTAssertTrue(output().contains("0.00 stops   elsewhere: 0.00 stops"), output())
        XCTAssertEqual(s.variables["same"]?.kind, .hdrError)
        XCTAssertEqual(Double(s.variables["same"]!.tensor.stats.max), 0, accuracy: 1e-5)
        try s.execute("synth --size 32 as small")
        expectOneLineError(s, "hdrerror scene.hdr_gt small.hdr_gt shot", containing: "three images of one size")
        expectOneLineError(s, "hdrerror scene.hdr_gt", containing: "the true HDR radiance")
        try s.execute("gamma small 4 as dim")       // only a pure white pixel stays at 1
        try s.execute("log dim as low")              // log(x + eps) <= 0.004: nothing clipped
        expectOneLineError(s, "expect psnr_clipped(low, low, low) > 0", containing: "too few clipped pixels")
        try s.execute("show same")
        XCTAssertTrue(output().contains("blue: estimate too dark"), output())
    }
}

/// `calibrate` then `train --freeze-bn`: the session's model trains with the statistics just
/// measured and keeps them (and the note that says they were measured); plain `train` moves them.
final class FrozenTrainingTests: XCTestCase {
    func testTrainFreezeBNKeepsWhatCalibrateMeasured() throws {
        let s = Session(console: Console(width: 80) { _ in })
        try s.execute("calibrate --data synth --size 32 --batches 1 --batch 2")
        let measured = try s.model()
        let variance = measured.ldr.blocks[4].bn.runningVar.array, weight = measured.ldr.blocks[4].conv.weight.array
        XCTAssertNotNil(measured.notes["bn_calibrated"])
        try s.execute("train --steps 1 --batch 1 --size 32 --freeze-bn")
        let frozen = try s.model()
        XCTAssertEqual(frozen.ldr.blocks[4].bn.runningVar.array, variance)
        XCTAssertNotEqual(frozen.ldr.blocks[4].conv.weight.array, weight, "the weights trained")
        XCTAssertNotNil(frozen.notes["bn_calibrated"])
        try s.execute("train --steps 1 --batch 1 --size 32")
        let moved = try s.model()
        XCTAssertNotEqual(moved.ldr.blocks[4].bn.runningVar.array, variance)
        XCTAssertNil(moved.notes["bn_calibrated"])
    }
}
