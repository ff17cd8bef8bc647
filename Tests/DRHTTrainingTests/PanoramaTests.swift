import DRHTEngine
import DRHTImageIO
@testable import DRHTTraining
import Foundation
import XCTest

/// `panorama:DIR`: perspective views of an equirectangular panorama, checked against angles
/// computed by hand from a panorama whose pixels hold their own longitude and latitude.
final class PanoramaTests: XCTestCase {
    let degree = Float.pi / 180

    /// W x H panorama: R = sin(longitude), G = latitude, B = cos(longitude), at each pixel's centre.
    func coded(w: Int = 720, h: Int = 360) -> Tensor {
        let t = Tensor(zeros: [1, 3, h, w])
        for v in 0..<h { for u in 0..<w {
            let lon = (Float(u) + 0.5) / Float(w) * 2 * .pi - .pi, lat = .pi / 2 - (Float(v) + 0.5) / Float(h) * .pi
            t.data[v * w + u] = sinf(lon); t.data[h * w + v * w + u] = lat; t.data[2 * h * w + v * w + u] = cosf(lon)
        }}
        return t
    }

    /// Longitude and latitude the view shows at pixel (x, y).
    func angles(_ view: Tensor, _ x: Int, _ y: Int) -> (lon: Float, lat: Float) {
        let s = view.w, plane = s * s, i = y * s + x
        return (atan2f(view.data[i], view.data[2 * plane + i]), view.data[plane + i])
    }

    func testAConstantPanoramaGivesAConstantView() {
        let p = Tensor(zeros: [1, 3, 64, 128])
        for i in 0..<p.count { p.data[i] = 3.5 }
        let v = PanoramaView.render(p, pose: .init(yaw: 1, pitch: 0.3, fov: 1.2), size: 32)
        for i in 0..<v.count { XCTAssertEqual(v.data[i], 3.5, accuracy: 1e-5) }
    }

    func testTheCentreLooksWhereThePosePoints() {
        let p = coded()
        for (yaw, pitch) in [(0, 0), (90, 0), (-135, 20), (180, -10), (45, 30)] as [(Float, Float)] {
            let v = PanoramaView.render(p, pose: .init(yaw: yaw * degree, pitch: pitch * degree, fov: 60 * degree), size: 64)
            // The centre lies between pixels 31 and 32: average the four around it.
            var s = (0.0 as Float, 0.0 as Float, 0.0 as Float)
            for (x, y) in [(31, 31), (32, 31), (31, 32), (32, 32)] {
                let i = y * 64 + x
                s.0 += v.data[i]; s.1 += v.data[64 * 64 + i]; s.2 += v.data[2 * 64 * 64 + i]
            }
            XCTAssertEqual(remainderf(atan2f(s.0, s.2) / degree - yaw, 360), 0, accuracy: 1, "yaw \(yaw)")
            XCTAssertEqual(s.1 / 4 / degree, pitch, accuracy: 1, "pitch \(pitch)")
        }
    }

    func testThePixelsSpreadAsAPinholeCamera() {
        // On the horizon row at pitch 0, pixel x looks at longitude yaw + atan(c tan(fov/2)),
        // c = 2 (x + 0.5) / size - 1; left is west (smaller longitude), up is up.
        let p = coded(), size = 64, fov: Float = 80 * degree
        let v = PanoramaView.render(p, pose: .init(yaw: 10 * degree, pitch: 0, fov: fov), size: size)
        for x in [0, 10, 50, 63] {
            let c = 2 * (Float(x) + 0.5) / Float(size) - 1
            let expected = 10 * degree + atanf(c * tanf(fov / 2))
            let a = angles(v, x, size / 2), b = angles(v, x, size / 2 - 1)
            XCTAssertEqual((a.lon + b.lon) / 2 / degree, expected / degree, accuracy: 0.8, "x \(x)")
        }
        XCTAssertGreaterThan(angles(v, 32, 0).lat, 30 * degree, "the top row looks up")
        XCTAssertLessThan(angles(v, 32, size - 1).lat, -30 * degree, "the bottom row looks down")
        // Top row centre: latitude atan(tan(fov/2) * (1 - 1/size)) above the horizon.
        XCTAssertEqual(angles(v, 32, 0).lat / degree, atanf(tanf(fov / 2) * (1 - 1 / Float(size))) / degree, accuracy: 1)
    }

    func testTheSeamIsContinuous() {
        // Looking at longitude 180 degrees: the left half of the view is east of the seam, the
        // right half west, and neighbouring pixels differ by one pixel's angle, not 360 degrees.
        let v = PanoramaView.render(coded(), pose: .init(yaw: .pi, pitch: 0, fov: 60 * degree), size: 64)
        for x in 0..<63 {
            var d = angles(v, x + 1, 32).lon - angles(v, x, 32).lon
            if d < -.pi { d += 2 * .pi }
            XCTAssertGreaterThan(d, 0); XCTAssertLessThan(d, 2 * degree)
        }
    }

    func testATripletIsAPhotographedViewOfTheRealRadiance() throws {
        // A panorama with a sun 2^14 above the rest: the HDR target keeps it (log-average 0.18),
        // an over-exposed camera clips it, and the input is 8-bit.
        let p = Tensor(zeros: [1, 3, 90, 180])
        for i in 0..<p.count { p.data[i] = 0.5 }
        for c in 0..<3 { for v in 40..<50 { for u in 85..<95 { p.data[c * 90 * 180 + v * 180 + u] = 0.5 * 16384 } } }
        var rng = SeededRandom(seed: 7)
        let camera = Camera(ev: 1, gamma: 2.2, contrast: 0, noise: 0)
        let t = PanoramaView.triplet(p, pose: .init(yaw: 0, pitch: 0, fov: 60 * degree), size: 32, camera: camera, rng: &rng)
        let plane = 32 * 32
        var logSum = 0.0
        for i in 0..<plane { logSum += log(Double(SyntheticScenes.luminance(t.hdr, i, plane: plane)) + 1e-6) }
        XCTAssertEqual(exp(logSum / Double(plane)), 0.18, accuracy: 1e-3)
        let hdrMax = (0..<t.hdr.count).map { t.hdr.data[$0] }.max()!, hdrMin = (0..<t.hdr.count).map { t.hdr.data[$0] }.min()!
        XCTAssertGreaterThan(hdrMax / hdrMin, 1000, "the sun stays 2^14 above the rest in H_gt (blurred a little at its edge)")
        XCTAssertEqual(t.input.data[16 * 32 + 16], 1, "the sun is clipped in the photo")
        for i in 0..<t.input.count { XCTAssertEqual(t.input.data[i] * 255, (t.input.data[i] * 255).rounded(), accuracy: 1e-3) }
        XCTAssertEqual(t.ev, 1)
    }

    func testThePanoramaSourceReadsAFolderAndIsDeterministic() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-pano-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        XCTAssertThrowsError(try DataSource.parse("panorama:" + dir)) { e in
            XCTAssertTrue("\(e)".contains("no Radiance .hdr panoramas"), "\(e)")
        }
        let p = coded(w: 128, h: 64)
        for i in 0..<p.count { p.data[i] = p.data[i] + 2 }    // radiance must be positive
        try ImageIO.write(p, to: dir + "/a.hdr")
        let source = try DataSource.parse("panorama:" + dir)
        let panoramas = try XCTUnwrap(source.source as? PanoramaSource)
        XCTAssertEqual(panoramas.target, .toneMapped)
        XCTAssertEqual(panoramas.files.count, 1)
        XCTAssertEqual(source.itemCount, PanoramaView.viewsPerPanorama)
        let a = try source.item(3, size: 32, ev: -1), b = try source.item(3, size: 32, ev: -1)
        XCTAssertEqual(a.id, "a view 4")
        XCTAssertEqual(a.triplet.ev, -1)
        XCTAssertEqual(Array(UnsafeBufferPointer(start: a.triplet.input.data, count: a.triplet.input.count)),
                       Array(UnsafeBufferPointer(start: b.triplet.input.data, count: b.triplet.input.count)))
        let s = try source.sample(seed: 5, size: 32, framing: .crop)
        XCTAssertEqual(s.input.shape, [1, 3, 32, 32])
        XCTAssertEqual(try source.sample(seed: 5, size: 64, framing: .whole).input.shape, [1, 3, 64, 64])
        XCTAssertEqual(try DataSource.parse("synth+panorama:" + dir).description, "synth + panoramas (1)")
    }

    /// `panorama-photo:DIR`: the same views, inputs and H_gt as `panorama:DIR`, but the LDR
    /// target is the view's own 0 EV photo: sRGB of H_gt, white where H_gt is above 1 (the sun),
    /// while H_gt keeps the radiance above white.
    func testPhotoTargetsAreTheViewAtZeroEVClippedAtWhite() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-pano-photo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Tensor(zeros: [1, 3, 32, 64])
        for i in 0..<p.count { p.data[i] = 0.3 + 0.2 * Float(i % 5) }
        for c in 0..<3 { for v in 12..<16 { for u in 0..<64 { p[0, c, v, u] = 50 } } }    // a bright band on the horizon
        try ImageIO.write(p, to: dir + "/band.hdr")
        let photo = try DataSource.parse("panorama-photo:" + dir), toneMapped = try DataSource.parse("panorama:" + dir)
        XCTAssertEqual((photo.source as? PanoramaSource)?.target, .photo)
        for bare in ["panorama-photo:", "panorama:", "photos:"] {
            XCTAssertThrowsError(try DataSource.parse(bare)) { XCTAssertTrue("\($0)".contains("names no folder"), "\($0)") }
        }
        XCTAssertEqual(photo.description, "panoramas (1, photo targets)")
        for (a, b) in [(try photo.item(2, size: 32, ev: 1).triplet, try toneMapped.item(2, size: 32, ev: 1).triplet),
                       (try photo.sample(seed: 9, size: 32, framing: .whole), try toneMapped.sample(seed: 9, size: 32, framing: .whole))] {
            XCTAssertEqual(a.input.array, b.input.array, "the same photographed view")
            XCTAssertEqual(a.hdr.array, b.hdr.array, "the same radiance")
            XCTAssertNotEqual(a.target.array, b.target.array)
            var above = 0
            for k in 0..<a.hdr.count {
                if a.hdr.data[k] < 1 { XCTAssertEqual(a.target.data[k], SRGB.encode(a.hdr.data[k])) }
                if a.hdr.data[k] > 1 { above += 1; XCTAssertEqual(a.target.data[k], 1) }
            }
            XCTAssertGreaterThan(above, 0, "the band is above white in H_gt and white in the target")
        }
    }

    func testTrainingSamplesCapTheSunEvaluationKeepsIt() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-pano-cap-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let p = Tensor(zeros: [1, 3, 32, 64])
        for i in 0..<p.count { p.data[i] = 1 }
        for c in 0..<3 { for v in 12..<20 { for u in 0..<64 { p[0, c, v, u] = 200_000 } } }    // a band of suns on the horizon
        try ImageIO.write(p, to: dir + "/sun.hdr")
        let source = try DataSource.parse("panorama:" + dir)
        let sample = try source.sample(seed: 3, size: 32, framing: .whole)
        XCTAssertLessThanOrEqual((0..<sample.hdr.count).map { sample.hdr.data[$0] }.max()!, PanoramaView.trainingCap)
        var maxEval: Float = 0
        for i in 0..<4 { let t = try source.item(i, size: 32).triplet; maxEval = max(maxEval, (0..<t.hdr.count).map { t.hdr.data[$0] }.max()!) }
        XCTAssertGreaterThan(maxEval, 1.5 * PanoramaView.trainingCap, "evaluation scores against the real radiance")
    }
}
