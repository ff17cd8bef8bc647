// Training data sources: mixing, photo reduction, crops of full-size procedural scenes.
import DRHTEngine
import DRHTImageIO
import DRHTModel
@testable import DRHTTraining
import Foundation
import XCTest
import DRHTTestSupport

final class DataSourceTests: TempDirTestCase {
    func testMixedSourcesParseAndAlternate() throws {
        let photo = Tensor(shape: [1, 3, 80, 80], repeating: 0.5)
        try ImageIO.write(photo, to: dir + "/gray.png")
        let data = try DataSource.parse("synth+photos:" + dir)
        XCTAssertEqual(data.description, "synth + photos (1)")
        // Even seeds come from the first source, odd ones from the second (a flat gray photo).
        let fromPhoto = try data.sample(seed: 7, size: 32)
        XCTAssertEqual(fromPhoto.target.stats.std, 0, accuracy: 1e-6)
        let fromSynth = try data.sample(seed: 8, size: 32)
        XCTAssertGreaterThan(fromSynth.target.stats.std, 0.01)
        XCTAssertThrowsError(try DataSource.parse("synth+nowhere"))
        let batch = try data.batch(seed: 1, step: 1, count: 4, size: 32)
        XCTAssertEqual(batch.input.shape, [4, 3, 32, 32])
    }

    /// Whole framing: a square of 60-100% of a photo's shorter side reduced to the sample size
    /// (so it still spans both halves of its height), a procedural scene rendered whole at the
    /// sample size.
    func testWholeFramingShowsTheWholeImage() throws {
        // 64 x 96: the top half 0.2, the bottom half 0.8 (in sRGB).
        let photo = Tensor(zeros: [1, 3, 64, 96])
        for c in 0..<3 { for y in 0..<64 { for x in 0..<96 { photo[0, c, y, x] = y < 32 ? 0.2 : 0.8 } } }
        try ImageIO.write(photo, to: dir + "/halves.png")
        let data = try DataSource.parse("photos:" + dir)
        let whole = try data.sample(seed: 3, size: 32, framing: .whole)
        XCTAssertEqual(whole.target.shape, [1, 3, 32, 32])
        // Every row of the photo is in the sample: the top half of the sample is 0.2, the bottom 0.8.
        XCTAssertEqual(whole.target[0, 1, 0, 5], 0.2, accuracy: 2e-3)
        XCTAssertEqual(whole.target[0, 1, 31, 5], 0.8, accuracy: 2e-3)
        let crop = try data.sample(seed: 3, size: 32, framing: .crop)
        XCTAssertEqual(crop.target.shape, [1, 3, 32, 32])
        let synth = try DataSource.synthetic.sample(seed: 5, size: 64, framing: .whole)
        XCTAssertEqual(synth.target.array, SyntheticScenes.triplet(seed: 5, size: 64).target.array)
        XCTAssertNotEqual(try DataSource.synthetic.sample(seed: 5, size: 64, framing: .crop).target.array, synth.target.array)
        let batch = try data.batch(seed: 1, step: 1, count: 2, size: 32, framing: .whole)
        XCTAssertEqual(batch.input.shape, [2, 3, 32, 32])
    }

    /// Whole framing of photos varies the view: the square's side is 60-100% of the shorter side
    /// and half the samples are mirrored; with the defaults (scale 1, no flip) it is the largest square.
    func testWholeSquareScalesAndFlips() {
        // 40 x 40, value = column index / 40 in every channel: a mirror reverses the ramp, and the
        // sample's span of values tells how much of the width it covers.
        let img = Tensor(zeros: [1, 3, 40, 40])
        for c in 0..<3 { for y in 0..<40 { for x in 0..<40 { img[0, c, y, x] = Float(x) / 40 } } }
        var rng = SeededRandom(seed: 1)
        let plain = wholeSquare([img], size: 8, rng: &rng)[0]
        XCTAssertEqual(plain[0, 0, 0, 0], 0.05, accuracy: 1e-5)      // the mean of columns 0-4
        XCTAssertLessThan(plain[0, 0, 0, 0], plain[0, 0, 0, 7])
        var mirrored = 0, spans: [Float] = []
        for seed in 0..<200 {
            var r = SeededRandom(seed: UInt64(seed))
            let t = wholeSquare([img], size: 8, rng: &r, scaleMin: 0.6, flip: true)[0]
            if t[0, 0, 0, 0] > t[0, 0, 0, 7] { mirrored += 1 }
            spans.append(abs(t[0, 0, 0, 7] - t[0, 0, 0, 0]))
        }
        XCTAssertGreaterThan(mirrored, 70); XCTAssertLessThan(mirrored, 130)
        // Full width: the first and last of 8 columns average columns 0-4 and 35-39, 0.875 apart.
        // A 60% square (24 columns) spans 0.525; every sample lies between, and both ends occur.
        XCTAssertGreaterThan(spans.min()!, 0.5); XCTAssertLessThan(spans.max()!, 0.9)
        XCTAssertLessThan(spans.min()!, 0.6); XCTAssertGreaterThan(spans.max()!, 0.8)
    }

    func testPhotosAreReducedByAnIntegerFactor() {
        let t = Tensor(zeros: [1, 1, 1000, 800])
        for i in 0..<t.count { t.data[i] = Float(i % 2) }          // alternating columns 0, 1
        let r = PhotoCache.reduce(t)
        XCTAssertEqual(r.shape, [1, 1, 500, 400])                   // f = ceil(800 / 400) = 2
        XCTAssertEqual(r.data[0], 0.5, accuracy: 1e-6)              // 2 x 2 blocks average 0 and 1
        let odd = PhotoCache.reduce(Tensor(zeros: [1, 3, 1601, 2560]))
        XCTAssertEqual(odd.shape, [1, 3, 320, 512])                 // f = ceil(1601 / 400) = 5
        let small = Tensor(zeros: [1, 3, 300, 200])
        XCTAssertTrue(PhotoCache.reduce(small) === small)
    }

    /// A training crop is a window of the 256 x 256 scene, not a small scene.
    func testSyntheticCropsComeFromFullSizeScenes() {
        let crop = DataSource.syntheticCrop(seed: 5, size: 64)
        let full = SyntheticScenes.triplet(seed: 5, size: DataSource.sceneSize)
        XCTAssertEqual(crop.input.shape, [1, 3, 64, 64])
        // Find the window: the crop's first row must appear somewhere in the full target.
        let row = (0..<64).map { crop.target[0, 0, 0, $0] }
        var found = false
        for y in 0...(256 - 64) where !found {
            for x in 0...(256 - 64) where full.target[0, 0, y, x] == row[0] {
                if (0..<64).allSatisfy({ full.target[0, 0, y, x + $0] == row[$0] }) { found = true; break }
            }
        }
        XCTAssertTrue(found)
        XCTAssertEqual(DataSource.syntheticCrop(seed: 5, size: 256).target.array, full.target.array)
    }

    /// `synth-under`: the same scenes as `synth`, each photographed |ev| under where `synth`
    /// takes it at ev; never over-exposed, in either framing; and it mixes like any source.
    func testUnderExposedScenesAreTheSameScenesTakenUnder() throws {
        let under = try DataSource.parse("synth-under")
        XCTAssertEqual(under.description, "synth-under")
        XCTAssertThrowsError(try DataSource.parse("synth-underneath"))
        var folded = 0
        for seed: UInt64 in 1...24 {
            let a = SyntheticScenes.triplet(seed: seed, size: 32), b = try under.sample(seed: seed, size: 32, framing: .whole)
            let ev = try XCTUnwrap(a.ev), evUnder = try XCTUnwrap(b.ev)
            XCTAssertEqual(evUnder, -abs(ev), "seed \(seed)")
            XCTAssertEqual(b.hdr.array, a.hdr.array, "the same scene")
            if ev <= 0 { XCTAssertEqual(b.input.array, a.input.array, "seed \(seed): already under") } else { folded += 1 }
        }
        XCTAssertGreaterThan(folded, 3, "some scenes were over-exposed in synth and are taken under here")
        for seed: UInt64 in 1...4 {   // crops come from the whole scene taken the same way
            XCTAssertEqual(try under.sample(seed: seed, size: DataSource.sceneSize, framing: .crop).ev,
                           -abs(SyntheticScenes.triplet(seed: seed, size: 32).ev!))
        }
        // Darker on average than the scene's own over-exposed photo, where synth was over.
        let seed = (UInt64(1)...200).first { SyntheticScenes.triplet(seed: $0, size: 32).ev! > 1 }!
        XCTAssertLessThan(try under.sample(seed: seed, size: 32, framing: .whole).input.stats.mean,
                          SyntheticScenes.triplet(seed: seed, size: 32).input.stats.mean)
        try ImageIO.write(Tensor(shape: [1, 3, 40, 40], repeating: 0.5), to: dir + "/gray.png")
        XCTAssertEqual(try DataSource.parse("photos:\(dir)+synth-under").description, "photos (1) + synth-under")
    }

    /// The one seed table: training samples below 2^47, validation from 2^48, evaluation from
    /// 2^49, so the three never share a scene or a camera.
    func testSplitsUseDisjointSeeds() {
        let training = (0..<2000).map { Split.trainingSeed(UInt64($0 % 7), step: $0, index: $0 % 5) }
        XCTAssertLessThan(training.max()!, 1 << 47)
        XCTAssertEqual(Split.validation.seed(0), 1 << 48)
        XCTAssertGreaterThan(Split.evaluation.seed(0), Split.validation.seed(1_000_000))
        XCTAssertNotEqual(Set(training).count, 1, "training seeds vary with step and index")
    }

    /// Evaluation items: whole, fixed per index; a mix alternates between its parts.
    func testItemsAreWholeAndDeterministic() throws {
        var rng = SeededRandom(seed: 4)
        try ImageIO.write(Tensor.uniform([1, 3, 60, 90], 0.1, 0.9, rng: &rng), to: dir + "/p.png")
        let photos = try DataSource.parse("photos:" + dir)
        XCTAssertEqual(photos.itemCount, 1)
        let a = try photos.item(3, size: 45), b = try photos.item(3, size: 45)
        XCTAssertEqual(a.triplet.input.shape, [1, 3, 30, 45], "the whole photo, long side 45")
        XCTAssertEqual(a.triplet.input.array, b.triplet.input.array)
        XCTAssertEqual(a.id, "p #4")
        let mix = try DataSource.parse("synth+photos:" + dir)
        XCTAssertNil(mix.itemCount, "procedural scenes never run out")
        XCTAssertEqual(try mix.item(0, size: 32).id, "scene 0")
        XCTAssertEqual(try mix.item(1, size: 32).id, "p #1")
    }

    /// Validation can come from the training source (or any other): the trainer's held-out set
    /// then holds views of the photos under validation cameras.
    func testValidationFromPhotos() throws {
        let photo = Tensor(shape: [1, 3, 64, 64], repeating: 0.5)
        try ImageIO.write(photo, to: dir + "/gray.png")
        var config = TrainingConfig()
        config.size = 32; config.batch = 1; config.steps = 1; config.validationCount = 2
        config.validationData = try DataSource.parse("photos:" + dir)
        let trainer = try Trainer(model: DRHT.initialized(seed: 1), config: config, output: dir + "/w.safetensors")
        let fromPhotos = trainer.validationLoss()
        config.validationData = .synthetic
        let fromScenes = try Trainer(model: DRHT.initialized(seed: 1), config: config, output: dir + "/w.safetensors").validationLoss()
        XCTAssertTrue(fromPhotos.isFinite)
        XCTAssertNotEqual(fromPhotos, fromScenes)
        config.validationData = DataSource(PhotoSource(paths: [dir + "/missing.png"]))
        XCTAssertThrowsError(try Trainer(model: DRHT.initialized(seed: 1), config: config, output: dir + "/w.safetensors"),
                             "an unreadable validation photo is an error, not a crash")
    }
}
