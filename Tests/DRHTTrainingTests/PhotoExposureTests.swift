// Exposure of a photograph is relative to the photo itself: 0 EV is the photo as it is, and
// +-E stops scale its linear light by 2^+-E (Camera.reexpose). Checked by hand-computed cases,
// against the PyTorch data pipeline's own numbers (a fixture pytorch/make_exposure_fixture.py
// writes), and on the cases that went wrong when 0 EV meant a log-average of 0.18.
import DRHTEngine
import DRHTImageIO
@testable import DRHTTraining
import Foundation
import XCTest
import DRHTTestSupport

final class PhotoExposureTests: XCTestCase {
    /// A photo with 8-bit and off-grid values, dark corners and clipped highlights.
    func photo(_ h: Int = 24, _ w: Int = 32, seed: UInt64 = 5) -> Tensor {
        var rng = SeededRandom(seed: seed)
        let t = Tensor(zeros: [1, 3, h, w])
        for i in 0..<t.count {
            let u = rng.uniform()
            t.data[i] = i % 7 == 0 ? u : (u * 255).rounded() / 255          // 1 in 7 off the 8-bit grid
        }
        for x in 0..<8 { t.data[x] = 0; t.data[h * w + x] = 0; t.data[2 * h * w + x] = 0 }   // black
        for x in 8..<12 { t.data[x] = 1; t.data[h * w + x] = 1; t.data[2 * h * w + x] = 1 } // white
        return t
    }

    /// Re-exposure spreads blocks of pixels over the engine's threads, with the noise drawn
    /// first in pixel order: the same pixels (bit for bit) and the same generator state after
    /// it as the serial loop, on one thread or two, for a photo larger than one block, noise on
    /// and off.
    func testReexposureDoesNotDependOnTheThreads() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        let p = photo(160, 150)                       // 72,000 values: more than one 65,536 block
        // Contrasts 1 and -0.2 (no camera `random` makes) take the scalar bisection, not the lanes.
        for (ev, contrast): (Float, Float) in [(-2, 0.3), (1.5, 0.3), (1, 1), (-1, -0.2)] {
            // The serial loop it replaced: one draw per pixel, in pixel order, when there is noise.
            let camera = Camera(ev: ev, gamma: 2.2, contrast: contrast, noise: 0.02)
            var serial = SeededRandom(seed: 9)
            let expected = (0..<p.count).map { i -> Float in
                let v = min(1, max(0, p.data[i]))
                return camera.record(camera.response(camera.linearise(v) * powf(2, ev)), sigma: camera.reexposureNoise(), rng: &serial)
            }
            var results: [([Float], UInt64)] = [(expected, serial.next())]
            for threads in [1, 2] {
                EngineThreads.set(threads)
                var rng = SeededRandom(seed: 9)
                let out = camera.reexpose(p, rng: &rng)
                results.append((out.array, rng.next()))
            }
            for k in 1...2 {
                XCTAssertEqual(results[k].0, results[0].0, "ev \(ev), \(k) thread(s) against the serial loop")
                XCTAssertEqual(results[k].1, results[0].1, "ev \(ev): the generator moved on by the same draws")
            }
        }
    }

    /// Off-grid values bisect the camera curve 16 at a time: bit for bit the scalar `linearise`,
    /// for the edges (0, 1, the smallest floats, just below 1) and random values, at the contrasts
    /// cameras use and at the edge of the range the lanes accept.
    func testLaneBisectionEqualsTheScalarOne() {
        var rng = SeededRandom(seed: 41)
        let edges: [Float] = [0, -0.0, 1, .leastNonzeroMagnitude, .leastNormalMagnitude, 1e-30, 1 - .ulpOfOne / 2, 0.5, 0.25, 127.0 / 255]
        for contrast: Float in [0, 0.3, 0.6, 0.999, Float(1).nextDown] {
            for gamma: Float in [1.8, 2.2, 2.6] {
                let camera = Camera(ev: 1, gamma: gamma, contrast: contrast, noise: 0)
                var values = edges
                while values.count < 16 * 40 { values.append(rng.uniform()) }
                for start in stride(from: 0, to: values.count, by: 16) {
                    var lanes = SIMD16<Float>()
                    for k in 0..<16 { lanes[k] = values[(start + k) % values.count] }
                    let x = camera.lineariseLanes(lanes)
                    for k in 0..<16 {
                        XCTAssertEqual(x[k].bitPattern, camera.bisect(lanes[k]).bitPattern, "contrast \(contrast), gamma \(gamma), y \(lanes[k])")
                        XCTAssertEqual(powf(x[k], gamma).bitPattern, camera.linearise(lanes[k]).bitPattern)
                    }
                }
            }
        }
    }

    /// `expose x --ev 0` is x within quantisation, whatever the camera (noise included).
    func testZeroEVIsThePhotoItself() {
        let p = photo()
        for seed in 0..<12 as Range<UInt64> {
            var rng = SeededRandom(seed: seed)
            let t = PhotoTriplet.make(from: p, rng: &rng, ev: 0)
            var worst: Float = 0
            for i in 0..<p.count { worst = max(worst, abs(t.input.data[i] - p.data[i])) }
            XCTAssertLessThanOrEqual(worst, 0.5 / 255 + 1e-5, "camera \(seed)")
            XCTAssert(t.target.data[0] == p.data[0] && t.target.count == p.count)
        }
    }

    /// A photo with large black areas (the case that moved by two stops when 0 EV meant a
    /// log-average of 0.18): at 0 EV its clipped share stays its own, at +1 EV it grows.
    func testBlackAreasDoNotShiftTheExposure() {
        let p = Tensor(zeros: [1, 3, 16, 16])
        for i in 0..<p.count { p.data[i] = (i % 256) < 128 ? 0 : 0.6 }     // half black, half light grey
        func clipped(_ t: Tensor) -> Int { (0..<t.count).filter { t.data[$0] >= 1 }.count }
        var rng = SeededRandom(seed: 1)
        XCTAssertEqual(clipped(PhotoTriplet.make(from: p, rng: &rng, ev: 0).input), 0)
        rng = SeededRandom(seed: 1)
        let over = PhotoTriplet.make(from: p, rng: &rng, ev: 3).input
        XCTAssertEqual(clipped(over), p.count / 2, "the grey half clips at +3 EV, the black half stays black")
    }

    /// Hand-computed: gamma 2, no S-curve, no noise. 153/255 = 0.6 is linear 0.36; at -1 EV
    /// 0.18, whose response is sqrt(0.18) = 0.42426 -> 108/255; at +1 EV 0.72 -> 0.84853 ->
    /// 216/255; at +2 EV 1.44, clipped -> 255/255; at 0 EV 153/255 again; black stays black.
    func testHandComputedReexposure() {
        let p = Tensor(shape: [1, 3, 1, 2], repeating: 0.6)
        p.data[1] = 0
        for (ev, expected): (Float, Float) in [(-1, 108), (1, 216), (2, 255), (0, 153)] {
            var rng = SeededRandom(seed: 0)
            let out = Camera(ev: ev, gamma: 2, contrast: 0, noise: 0).reexpose(p, rng: &rng)
            XCTAssertEqual(out.data[0], expected / 255, accuracy: 1e-6, "ev \(ev)")
            XCTAssertEqual(out.data[1], 0, "ev \(ev)")
        }
    }

    /// The inverse of the response curve is an inverse, S-curve included.
    func testLineariseInvertsTheResponse() {
        for contrast: Float in [0, 0.3, 0.6] {
            let c = Camera(ev: 0, gamma: 2.3, contrast: contrast, noise: 0)
            for k in 0...40 {
                let y = Float(k) / 40
                XCTAssertEqual(c.response(c.linearise(y)), y, accuracy: 1e-5)
            }
        }
    }

    /// Linear light scales by 2^ev where nothing clips (no S-curve, no noise): the mean of the
    /// linearised output over the linearised photo is 2^ev within quantisation.
    func testLinearLightScalesByTwoToTheEV() {
        let p = photo()
        let c0 = Camera(ev: 0, gamma: 2.2, contrast: 0, noise: 0)
        for ev: Float in [-3, -2, -1, -0.5, 1] {
            var rng = SeededRandom(seed: 0)
            var c = c0; c.ev = ev
            let out = c.reexpose(p, rng: &rng)
            var a = 0.0, b = 0.0
            for i in 0..<p.count where p.data[i] > 0.2 && p.data[i] < 0.45 {
                a += Double(c.linearise(out.data[i])); b += Double(c.linearise(p.data[i]))
            }
            XCTAssertEqual(log2(a / b), Double(ev), accuracy: 0.03, "ev \(ev)")
        }
    }

    /// Noise: only below 0 EV (a photo already carries its own), growing as the exposure shortens.
    func testNoiseOnlyBelowZeroEV() {
        XCTAssertEqual(Camera(ev: 0, gamma: 2, contrast: 0, noise: 0.02).reexposureNoise(), 0)
        XCTAssertEqual(Camera(ev: 1.5, gamma: 2, contrast: 0, noise: 0.02).reexposureNoise(), 0)
        XCTAssertEqual(Camera(ev: -1, gamma: 2, contrast: 0, noise: 0.02).reexposureNoise(), 0.02 * Float(0.5).squareRoot(), accuracy: 1e-7)
        XCTAssertGreaterThan(Camera(ev: -3, gamma: 2, contrast: 0, noise: 0.02).reexposureNoise(),
                             Camera(ev: -1, gamma: 2, contrast: 0, noise: 0.02).reexposureNoise())
    }

    /// The PyTorch trainer's data pipeline (pytorch/data.py `reexpose_with`) gives the same pixels.
    func testSameAsThePyTorchDataPipeline() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/photo-exposure.json")
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let shape = try XCTUnwrap(json["shape"] as? [Int])
        let values = try XCTUnwrap(json["photo"] as? [Double])
        let p = Tensor(zeros: shape)
        for i in 0..<p.count { p.data[i] = Float(values[i]) }
        let cases = try XCTUnwrap(json["cases"] as? [[String: Any]])
        XCTAssertGreaterThanOrEqual(cases.count, 4)
        for c in cases {
            let ev = Float(c["ev"] as! Double), gamma = Float(c["gamma"] as! Double), contrast = Float(c["contrast"] as! Double)
            let expected = c["output"] as! [Double]
            var rng = SeededRandom(seed: 0)
            let out = Camera(ev: ev, gamma: gamma, contrast: contrast, noise: 0).reexpose(p, rng: &rng)
            var exact = 0
            for i in 0..<p.count {
                let d = abs(Double(out.data[i]) - expected[i])
                // Float32 here, float64 there: a value on a rounding boundary may land one level apart.
                XCTAssertLessThanOrEqual(d, 1.0 / 255 + 1e-6, "ev \(ev) gamma \(gamma) contrast \(contrast) pixel \(i)")
                if d < 1e-6 { exact += 1 }
            }
            XCTAssertGreaterThanOrEqual(exact, p.count * 97 / 100, "ev \(ev) gamma \(gamma) contrast \(contrast)")
        }
    }
}
