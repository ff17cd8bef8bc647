// The exposure error: hand-computed stops in linear light, its sign, n/a on a black target, and
// the table's cell (mean size, then the signed mean).
import DRHTEngine
import DRHTImageIO
import DRHTMetrics
import XCTest

final class ExposureErrorTests: XCTestCase {
    /// An sRGB image whose every pixel is the linear value `linear` (grey) or `rgb` per channel.
    func flat(_ h: Int, _ w: Int, linear r: Float, _ g: Float? = nil, _ b: Float? = nil) -> Tensor {
        let t = Tensor(zeros: [1, 3, h, w])
        for (c, v) in [r, g ?? r, b ?? r].enumerated() {
            for i in 0..<(h * w) { t.data[c * h * w + i] = SRGB.encode(v) }
        }
        return t
    }

    func testTwiceTheLightIsOneStopAndHalfIsMinusOne() throws {
        let target = flat(8, 8, linear: 0.2)
        XCTAssertEqual(try XCTUnwrap(ExposureError.stops(flat(8, 8, linear: 0.4), target)), 1, accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(ExposureError.stops(flat(8, 8, linear: 0.1), target)), -1, accuracy: 1e-4)
        XCTAssertEqual(try XCTUnwrap(ExposureError.stops(target, target)), 0, accuracy: 1e-9)
    }

    /// Luminance weighs green most (Rec. 709): a pure green target of linear 0.5 has mean
    /// luminance 0.7152 * 0.5; a grey output of linear 0.3576 matches it exactly.
    func testLuminanceIsRec709InLinearLight() throws {
        let green = flat(4, 4, linear: 0, 0.5, 0)
        XCTAssertEqual(ExposureError.meanLinearLuminance(green), 0.7152 * 0.5, accuracy: 1e-5)
        XCTAssertEqual(try XCTUnwrap(ExposureError.stops(flat(4, 4, linear: 0.3576), green)), 0, accuracy: 1e-4)
        // Half the pixels at linear 0.8, half black: mean 0.4, not the mean of the sRGB values.
        let half = flat(4, 4, linear: 0.8)
        for c in 0..<3 { for i in 0..<8 { half.data[c * 16 + i] = 0 } }
        XCTAssertEqual(ExposureError.meanLinearLuminance(half), 0.4, accuracy: 1e-5)
    }

    func testABlackTargetIsNotApplicableAndABlackOutputIsBoundedBelow() throws {
        XCTAssertNil(try ExposureError.stops(flat(4, 4, linear: 0.5), Tensor(zeros: [1, 3, 4, 4])))
        let black = try XCTUnwrap(ExposureError.stops(Tensor(zeros: [1, 3, 4, 4]), flat(4, 4, linear: 0.18)))
        XCTAssertEqual(black, log2(ExposureError.darkestTarget / 0.18), accuracy: 1e-3)
        XCTAssertThrowsError(try ExposureError.stops(flat(4, 4, linear: 0.5), flat(4, 5, linear: 0.5)))
    }

    func testCellShowsTheMeanSizeThenTheBiasAndNearerZeroIsBetter() {
        let m = ImageMetric.exposureError
        XCTAssertEqual(m.cell([0.5, -1.5], [:]), "1.00 (-0.50)")
        XCTAssertEqual(m.cell([], [:]), "n/a")
        let json = m.json([0.5, -1.5])
        XCTAssertEqual(json.map(\.0), ["ev_error", "ev_error_abs"])
        XCTAssertEqual(json[0].1, -0.5)
        XCTAssertEqual(json[1].1, 1.0)
        XCTAssertTrue(m.isBetter(-0.2, than: 0.3))
        XCTAssertFalse(m.isBetter(0.4, than: -0.3))
        XCTAssertEqual(m.format(-0.25), "-0.25 EV")
    }
}
