// Gain-map correction: cases whose answer is known by hand.
import DRHTEngine
import DRHTImageIO
@testable import DRHTModel
import XCTest
import DRHTTestSupport

final class GainMapTests: XCTestCase {
    /// Largest |a - b| over two tensors of one shape.
    func maxDifference(_ a: Tensor, _ b: Tensor) -> Float {
        XCTAssertEqual(a.shape, b.shape)
        var worst: Float = 0
        for i in 0..<min(a.count, b.count) { worst = max(worst, abs(a.data[i] - b.data[i])) }
        return worst
    }

    func linear(_ t: Tensor) -> Tensor {
        let out = Tensor(zeros: t.shape)
        for i in 0..<t.count { out.data[i] = SRGB.decode(t.data[i]) }
        return out
    }

    /// A photo with a black corner (so the dark-pixel guard is exercised) and mid-tones.
    func photo(height: Int, width: Int, seed: UInt64 = 3) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let t = Tensor.uniform([1, 3, height, width], 0.02, 0.5, rng: &rng)
        for c in 0..<3 { for y in 0..<4 { for x in 0..<4 { t[0, c, y, x] = 0 } } }
        return t
    }

    func testUniformGainIsRecoveredExactlyAndAppliedToEveryPixel() {
        for upsampling in GainOptions.Upsampling.allCases {
            var options = GainOptions()
            options.upsampling = upsampling
            let full = photo(height: 96, width: 160)
            let small = resizeArea(full, height: 24, width: 40)
            // A network that exposes one stop brighter: twice the linear light everywhere.
            let before = linear(small), after = before.copy()
            for i in 0..<after.count { after.data[i] *= 2 }
            let map = GainMap(before: before, after: after, options: options)
            XCTAssertEqual(map.overallGain, 2, accuracy: 1e-6)
            for v in map.stops.array { XCTAssertEqual(v, 1, accuracy: 1e-5, "\(upsampling): one stop, dark pixels included") }
            let out = map.apply(to: full, output: .srgb)
            let expected = Tensor(zeros: full.shape)
            for i in 0..<full.count { expected.data[i] = SRGB.encode(2 * SRGB.decode(full.data[i])) }
            XCTAssertLessThan(maxDifference(out, expected), 1e-4, "\(upsampling)")
            let hdr = map.apply(to: full, output: .linear)
            XCTAssertLessThan(maxDifference(hdr, { let t = linear(full); for i in 0..<t.count { t.data[i] *= 2 }; return t }()), 1e-4)
            for v in map.upsampled(for: full).array { XCTAssertEqual(v, 1, accuracy: 1e-5) }
        }
    }

    func testDarkPixelsTakeThePicturesOverallGain() {
        // Left half black in the input; the network brightens the right half 4x and makes the
        // black half 0.01. The overall gain is 4 x (mean of the right half) / ... computed here.
        let before = Tensor(zeros: [1, 3, 1, 2]), after = Tensor(zeros: [1, 3, 1, 2])
        for c in 0..<3 { before[0, c, 0, 1] = 0.1; after[0, c, 0, 1] = 0.4; after[0, c, 0, 0] = 0.01 }
        var options = GainOptions()
        options.delta = 0.01
        options.smoothing = 0
        let map = GainMap(before: before, after: after, options: options)
        let g: Float = (0.4 + 0.01) / 0.1                          // mean after / mean before
        XCTAssertEqual(map.overallGain, g, accuracy: 1e-5)
        XCTAssertEqual(map.stops[0], log2f((0.01 + 0.01 * g) / 0.01), accuracy: 1e-5)   // black: guarded
        XCTAssertEqual(map.stops[1], log2f((0.4 + 0.01 * g) / (0.1 + 0.01)), accuracy: 1e-5)
    }

    /// Strength multiplies every gain in stops of the corrected image's map: a network that
    /// brightens by one stop, at strength 1.5, brightens by 1.5 stops (dark pixels included),
    /// darkening is strengthened alike, a network that changes nothing changes nothing, and the
    /// HDR estimate's map (`Correction.hdrEstimate`) is never scaled.
    func testStrengthScalesTheCorrectionInStops() {
        var options = GainOptions()
        XCTAssertEqual(options.strength, 1, "off by default")
        options.strength = 1.5
        let full = photo(height: 48, width: 80)
        let before = linear(resizeArea(full, height: 24, width: 40))
        for (factor, stops) in [(Float(2), Float(1.5)), (0.5, -1.5), (1, 0)] {
            let after = before.copy()
            for i in 0..<after.count { after.data[i] *= factor }
            let map = GainMap(before: before, after: after, options: options)
            for v in map.stops.array { XCTAssertEqual(v, stops, accuracy: 1e-5, "x\(factor)") }
            let out = map.apply(to: full, output: .linear), expected = linear(full)
            for i in 0..<expected.count { expected.data[i] *= powf(2, stops) }
            XCTAssertLessThan(maxDifference(out, expected), 1e-4, "x\(factor)")
            let plain = GainMap(before: before, after: after)
            for v in plain.stops.array { XCTAssertEqual(v, log2f(factor), accuracy: 1e-5, "strength 1 by default") }
        }
        // Through a whole correction: the corrected image's stops scale, the HDR estimate does not.
        let model = DRHT.initialized(seed: 5)
        func correction(_ strength: Float) -> Correction {
            var o = GainOptions()
            o.strength = strength
            let c = Correction(model: model, photo: full, mode: .gain(workSize: 32), options: o)
            c.run()
            return c
        }
        let one = correction(1), strong = correction(1.5)
        let a = one.corrected(), b = strong.corrected()
        let ga = try! XCTUnwrap(one.workingGain).stops.array, gb = try! XCTUnwrap(strong.workingGain).stops.array
        XCTAssertGreaterThan(ga.map(abs).max()!, 0.05, "the untrained network changes the photo")
        XCTAssertNotEqual(a.array, b.array)
        // Before blurring each gain is 1.5 times the other; the blur is linear, the clamp not reached.
        for i in 0..<ga.count { XCTAssertEqual(gb[i], 1.5 * ga[i], accuracy: 1e-4) }
        XCTAssertEqual(one.hdrEstimate().array, strong.hdrEstimate().array)
    }

    /// The guided filter's box means, 16 pixels per step in lanes and rows over threads, equal
    /// the plain loops bit for bit: images narrower than one lane run, windows wider than the
    /// image, odd sizes, both thread counts; and a 3 x 3 window by hand.
    func testBoxMeanEqualsThePlainLoops() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        var rng = SeededRandom(seed: 17)
        for (h, w, r) in [(1, 1, 4), (5, 7, 4), (9, 20, 1), (31, 47, 4), (64, 64, 4), (13, 100, 0), (40, 33, 7), (3, 200, 40)] {
            let x = (0..<(h * w)).map { _ in rng.uniform(-3, 3) }
            let want = GainMap.boxMeanReference(x, h, w, r)
            for threads in [1, 2] {
                EngineThreads.set(threads)
                XCTAssertEqual(GainMap.boxMean(x, h, w, r).map(\.bitPattern), want.map(\.bitPattern), "\(h)x\(w), radius \(r), \(threads) thread(s)")
            }
        }
        // By hand: 3 x 3, radius 1. The centre averages all nine; a corner its four neighbours.
        let m = GainMap.boxMean((1...9).map(Float.init), 3, 3, 1)
        XCTAssertEqual(m[4], 5)
        XCTAssertEqual(m[0], (1 + 2 + 4 + 5) / 4)
        XCTAssertEqual(m[2], (2 + 3 + 5 + 6) / 4)
    }

    func testBilinearUpsamplingByHand() {
        // A 1 x 2 map (0 and 2 stops) on a 1 x 4 photo: sample positions (x + 0.5) / 2 - 0.5 =
        // -0.25, 0.25, 0.75, 1.25, clamped to [0, 1]: 0, 0.25, 0.75, 1 of the way from 0 to 2.
        let before = Tensor(shape: [1, 3, 1, 2], repeating: 0.25), after = before.copy()
        for c in 0..<3 { after[0, c, 0, 1] = 1 }
        var options = GainOptions()
        options.delta = 1e-9
        options.smoothing = 0
        options.upsampling = .bilinear
        let map = GainMap(before: before, after: after, options: options)
        assertClose(map.stops.array, [0, 2].map { Float($0) }, rtol: 0, atol: 1e-4)
        let up = map.upsampled(for: Tensor(shape: [1, 3, 1, 4], repeating: 0.5))
        assertClose(up.array, [0, 0.5, 1.5, 2], rtol: 0, atol: 1e-4)
    }

    func testClippedPixelsBlendInTheNetworksResult() {
        // A photo clipped to white on its left half; the network says the sky there is blue.
        let photo = Tensor(zeros: [1, 3, 8, 8])
        for c in 0..<3 { for y in 0..<8 { for x in 0..<8 { photo[0, c, y, x] = x < 4 ? 1 : 0.4 } } }
        let sky: [Float] = [0.2, 0.4, 0.8]
        let before = linear(photo), after = linear(photo)
        for c in 0..<3 { for y in 0..<8 { for x in 0..<4 { after[0, c, y, x] = sky[c] } } }
        var options = GainOptions()
        options.blendClipped = true
        options.smoothing = 0
        options.upsampling = .bilinear
        let blended = GainMap(before: before, after: after, options: options)
        let out = blended.apply(to: photo, output: .linear)
        let gainRight = exp2f(blended.upsampled(for: photo)[3 * 8 + 6])
        for c in 0..<3 {
            XCTAssertEqual(out[0, c, 3, 1], sky[c], accuracy: 1e-5, "clipped: the network's colour")
            XCTAssertEqual(out[0, c, 3, 6], SRGB.decode(0.4) * gainRight, accuracy: 1e-4, "not clipped: the photo times its gain")
        }
        // Without blending the clipped half only gets a gain: all three channels stay equal.
        options.blendClipped = false
        let plain = GainMap(before: before, after: after, options: options).apply(to: photo, output: .linear)
        XCTAssertEqual(plain[0, 0, 3, 1], plain[0, 2, 3, 1], accuracy: 1e-6)
        // Half-way above the threshold, half the network's colour.
        let edge = photo.copy()
        for c in 0..<3 { edge[0, c, 0, 0] = 0.975 }
        options.blendClipped = true
        let map = GainMap(before: before, after: after, options: options)
        let gain = exp2f(map.upsampled(for: edge)[0])
        let half = map.apply(to: edge, output: .linear)
        XCTAssertEqual(half[0, 0, 0, 0], 0.5 * SRGB.decode(0.975) * gain + 0.5 * sky[0], accuracy: 1e-3)
    }

    func testSmoothingBlursTheMapAndKeepsAUniformOne() {
        // One bright cell in a 9 x 9 map: after a blur of sigma 1 its value is the centre weight
        // of the 2-D Gaussian (w0^2) and its neighbour's w0 w1; the map's sum is kept.
        let t = Tensor(zeros: [1, 1, 9, 9])
        t[0, 0, 4, 4] = 1
        GainMap.blur(t, sigma: 1)
        let k = (-3...3).map { expf(-Float($0 * $0) / 2) }, total = k.reduce(0, +)
        XCTAssertEqual(t[0, 0, 4, 4], (k[3] / total) * (k[3] / total), accuracy: 1e-6)
        XCTAssertEqual(t[0, 0, 4, 5], (k[3] / total) * (k[4] / total), accuracy: 1e-6)
        XCTAssertEqual(t.array.reduce(0, +), 1, accuracy: 1e-5)
        let u = Tensor(shape: [1, 1, 5, 7], repeating: 1.5)
        GainMap.blur(u, sigma: 2)
        assertClose(u.array, [Float](repeating: 1.5, count: 35), rtol: 0, atol: 1e-5)
    }

    func testGainsAreClampedAndFinite() {
        let before = Tensor(shape: [1, 3, 2, 2], repeating: 0.5), after = Tensor(shape: [1, 3, 2, 2], repeating: 0.5)
        for c in 0..<3 { after[0, c, 0, 0] = 1e6; before[0, c, 1, 1] = 1e6 }
        let map = GainMap(before: before, after: after)
        for v in map.stops.array { XCTAssertTrue(v.isFinite && abs(v) <= 8) }
    }
}

final class CorrectionModeTests: XCTestCase {
    func testParse() throws {
        XCTAssertEqual(try CorrectionMode.parse("direct", workSize: nil), .direct)
        XCTAssertEqual(try CorrectionMode.parse("gain", workSize: nil), .gain(workSize: CorrectionMode.defaultWorkSize))
        XCTAssertEqual(try CorrectionMode.parse("gain", workSize: 256), .gain(workSize: 256))
        XCTAssertThrowsError(try CorrectionMode.parse("gain", workSize: 8))
        XCTAssertThrowsError(try CorrectionMode.parse("direct", workSize: 256))
        XCTAssertThrowsError(try CorrectionMode.parse("bilateral", workSize: nil))
        XCTAssertEqual(CorrectionMode.gain(workSize: 128).description, "gain, 128 px")
    }

    func testWorkingCopyKeepsTheAspectAndSmallPhotosStayWhole() {
        var rng = SeededRandom(seed: 1)
        let big = Tensor.uniform([1, 3, 300, 400], 0, 1, rng: &rng)
        let copy = Correction.workingCopy(of: big, mode: .gain(workSize: 128))
        XCTAssertEqual(copy.shape, [1, 3, 96, 128])
        XCTAssertTrue(Correction.workingCopy(of: big, mode: .gain(workSize: 512)) === big)
        XCTAssertTrue(Correction.workingCopy(of: big, mode: .direct) === big)
    }

    /// Flip averaging: off, the correction is the pipeline's own; on, it is the mean of the
    /// network on the photo and on its mirror image flipped back — so correcting the mirror
    /// image gives exactly the mirror of the correction, which no single network run does.
    func testFlipAveragingMakesTheCorrectionMirrorSymmetric() {
        let model = DRHT.initialized(seed: 3)
        var rng = SeededRandom(seed: 4)
        let photo = Tensor.uniform([1, 3, 32, 64], 0, 1, rng: &rng), mirrored = flipLeftRight(photo)
        XCTAssertEqual(flipLeftRight(mirrored).array, photo.array)
        XCTAssertEqual(mirrored[0, 1, 5, 0], photo[0, 1, 5, 63])
        func correct(_ x: Tensor, flip: Bool) -> Correction {
            var o = GainOptions()
            o.flipAverage = flip
            let c = Correction(model: model, photo: x, mode: .direct, options: o)
            c.run()
            return c
        }
        let plain = correct(photo, flip: false)
        let byDefault = Correction(model: model, photo: photo, mode: .direct)
        byDefault.run()
        XCTAssertEqual(plain.corrected().array, byDefault.corrected().array, "off by default")
        let a = correct(photo, flip: true), b = correct(mirrored, flip: true)
        XCTAssertEqual(flipLeftRight(b.corrected()).array, a.corrected().array)
        XCTAssertEqual(flipLeftRight(b.hdrEstimate()).array, a.hdrEstimate().array)
        let single = correct(mirrored, flip: false)
        XCTAssertNotEqual(flipLeftRight(single.corrected()).array, plain.corrected().array, "one run alone is not mirror symmetric")
        // Gain mode too (its guided filter sums windows left to right, so within rounding).
        func gain(_ x: Tensor) -> Tensor {
            var o = GainOptions()
            o.flipAverage = true
            let c = Correction(model: model, photo: x, mode: .gain(workSize: 64), options: o)
            c.run()
            return c.corrected()
        }
        let g = gain(photo).array, gm = flipLeftRight(gain(mirrored)).array
        for i in 0..<g.count { XCTAssertEqual(g[i], gm[i], accuracy: 1e-4) }
        // The average lies between the two runs, pixel by pixel.
        let one = plain.corrected().array, other = flipLeftRight(single.corrected()).array, mean = a.corrected().array
        for i in stride(from: 0, to: mean.count, by: 97) {
            XCTAssertLessThanOrEqual(mean[i], max(one[i], other[i]) + 1e-6)
            XCTAssertGreaterThanOrEqual(mean[i], min(one[i], other[i]) - 1e-6)
        }
    }

    func testBothModesCorrectAPhotoOfAnySize() {
        let model = DRHT.initialized(seed: 1)
        var rng = SeededRandom(seed: 2)
        let photo = Tensor.uniform([1, 3, 70, 100], 0, 1, rng: &rng)
        let direct = Correction(model: model, photo: photo, mode: .direct)
        direct.run()
        XCTAssertEqual(direct.corrected().shape, [1, 3, 70, 100])
        XCTAssertNil(direct.gainStops())
        let gain = Correction(model: model, photo: photo, mode: .gain(workSize: 64))
        XCTAssertTrue(gain.isReduced)
        XCTAssertEqual(gain.working.shape, [1, 3, 45, 64])
        gain.run()
        let out = gain.corrected()
        XCTAssertEqual(out.shape, [1, 3, 70, 100])
        XCTAssertTrue(out.array.allSatisfy { $0 >= 0 && $0 <= 1 })
        XCTAssertEqual(gain.hdrEstimate().shape, [1, 3, 70, 100])
        XCTAssertEqual(gain.gainStops()?.shape, [1, 1, 70, 100])
        XCTAssertGreaterThan(gain.gainMilliseconds, 0)
    }
}

final class ResizeTests: XCTestCase {
    /// Why a flat photo did not come out flat: zero padding. A 256-px input has an 8 x 8
    /// bottleneck, every cell of it within reach of a border, so the border effect spreads over
    /// the whole picture in 32-pixel cells; 128 px of mirrored margin (the border effect's
    /// reach) leave the picture itself exactly flat. The phases are balanced first (no 2-pixel
    /// pattern from the transposed convolutions), so only padding is left to blame.
    func testAMirroredMarginKeepsAFlatPhotoFlat() {
        let model = DRHT.initialized(seed: 5)
        model.balanceDeconvPhases()
        let photo = Tensor(shape: [1, 3, 64, 64], repeating: 0.6)
        func spread(_ margin: Int) -> Float {
            var options = GainOptions()
            options.margin = margin
            let c = Correction(model: model, photo: photo, mode: .direct, options: options)
            c.run()
            let out = c.corrected()
            XCTAssertEqual(out.shape, photo.shape, "the margin is cropped off")
            var worst: Float = 0
            for ch in 0..<3 {
                var lo = Float.infinity, hi = -Float.infinity
                for i in 0..<(64 * 64) { let v = out.data[ch * 64 * 64 + i]; lo = min(lo, v); hi = max(hi, v) }
                worst = max(worst, hi - lo)
            }
            return worst
        }
        XCTAssertEqual(Correction(model: model, photo: photo, mode: .direct).margin, 96, "direct mode's default margin")
        XCTAssertEqual(Correction(model: model, photo: photo, mode: .default).margin, 0, "gain mode's: none")
        let zero = spread(0), mirrored = spread(128)
        XCTAssertGreaterThan(zero, 1e-3, "zero padding: the border effect reaches every pixel of a 64-px photo")
        XCTAssertLessThan(mirrored, 1e-5, "128 px of mirrored margin: flat")
        XCTAssertLessThan(mirrored, zero / 100)
    }

    func testMirrorPadByHand() {
        // 1 x 3 row [a b c] with margin 2: [c b | a b c | b a] horizontally, rows likewise.
        let x = Tensor(zeros: [1, 1, 2, 3])
        for i in 0..<6 { x.data[i] = Float(i) }                     // rows [0 1 2], [3 4 5]
        let y = mirrorPad(x, margin: 2)
        XCTAssertEqual(y.shape, [1, 1, 6, 7])
        let row0 = (0..<7).map { y[0, 0, 2, $0] }, row1 = (0..<7).map { y[0, 0, 3, $0] }
        XCTAssertEqual(row0, [2, 1, 0, 1, 2, 1, 0])
        XCTAssertEqual(row1, [5, 4, 3, 4, 5, 4, 3])
        XCTAssertEqual((0..<6).map { y[0, 0, $0, 2] }, [0, 3, 0, 3, 0, 3], "a 2-row image reflects back and forth")
        let back = crop(y, top: 2, left: 2, height: 2, width: 3)
        XCTAssertEqual((0..<6).map { back.data[$0] }, [0, 1, 2, 3, 4, 5])
        XCTAssertTrue(mirrorPad(x, margin: 0) === x)
    }

    func testAreaAverageByHand() {
        // 1 x 3 -> 1 x 2: each output covers 1.5 inputs: (a + b/2) / 1.5 and (b/2 + c) / 1.5.
        let t = Tensor(shape: [1, 1, 1, 3], values: [3, 6, 9])
        assertClose(resizeArea(t, height: 1, width: 2).array, [4, 8], rtol: 0, atol: 1e-5)
        // 2 x 4 -> 1 x 2: plain 2 x 2 block means.
        let u = Tensor(shape: [1, 1, 2, 4], values: [1, 2, 3, 4, 5, 6, 7, 8])
        assertClose(resizeArea(u, height: 1, width: 2).array, [3.5, 5.5], rtol: 0, atol: 1e-5)
        XCTAssertTrue(resizeArea(u, height: 2, width: 4) === u)
    }

    func testSizeWithLongSide() {
        XCTAssertTrue(sizeWithLongSide(128, height: 3000, width: 4000) == (96, 128))
        XCTAssertTrue(sizeWithLongSide(128, height: 4000, width: 10) == (128, 1))
        XCTAssertTrue(sizeWithLongSide(512, height: 300, width: 400) == (300, 400))
    }

    func testFastSRGBCurvesMatchTheExactOnes() {
        var worstDecode: Float = 0, worstEncode: Float = 0
        for i in 0...10_000 {
            let v = Float(i) / 10_000
            worstDecode = max(worstDecode, abs(SRGB.fastDecode(v) - SRGB.decode(v)))
            worstEncode = max(worstEncode, abs(SRGB.fastEncode(v) - SRGB.encode(v)))
        }
        XCTAssertLessThan(worstDecode, 2e-5)
        XCTAssertLessThan(worstEncode, 2e-5)
        XCTAssertEqual(SRGB.fastEncode(5), 1, accuracy: 1e-6)
        XCTAssertEqual(SRGB.fastDecode(-1), 0, accuracy: 1e-9)
    }
}

