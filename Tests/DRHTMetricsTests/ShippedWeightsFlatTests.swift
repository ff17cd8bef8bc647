// The shipped weights on flat inputs (issue 30): a constant white or grey photo, corrected in
// direct mode (the network at full resolution, no gain map to hide anything) with the default
// options, must come out flat: no 32-pixel pattern, no spots. Stage 6 printed a lattice (grid
// score 5.06 on white); stage 7 with zero padding alone (no margin) left a std of 4.6 / 3.3 / 9.0
// levels and a range of 43 / 36 / 41 on white / 0.9 / 0.5 grey; with direct mode's mirrored
// margin, 0.30 / 0.25 / 0.48 and 1.6 / 3.2 / 6.0.
import DRHTEngine
import DRHTMetrics
import DRHTModel
import Foundation
import XCTest

final class ShippedWeightsFlatTests: XCTestCase {
    static let weights = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../Weights/drht.safetensors").standardized.path

    /// The largest standard deviation and the largest range of any one channel, in 8-bit levels.
    func spread(_ y: Tensor) -> (std: Double, range: Float) {
        let plane = y.h * y.w
        var worstStd = 0.0, worstRange: Float = 0
        for c in 0..<3 {
            let values = (0..<plane).map { min(max(y.data[c * plane + $0], 0), 1) * 255 }
            let m = values.reduce(0.0) { $0 + Double($1) } / Double(plane)
            worstStd = max(worstStd, (values.map { (Double($0) - m) * (Double($0) - m) }.reduce(0, +) / Double(plane)).squareRoot())
            worstRange = max(worstRange, values.max()! - values.min()!)
        }
        return (worstStd, worstRange)
    }

    func testFlatWhiteAndGreyStayFlatInDirectMode() throws {
        let model = try DRHT.load(Self.weights)
        for level: Float in [1, 0.9, 0.5] {
            let photo = Tensor(shape: [1, 3, 256, 256], repeating: level)
            let c = Correction(model: model, photo: photo, mode: .direct, options: GainOptions())
            c.run()
            let s = spread(c.corrected())
            XCTAssertLessThan(s.std, 1, "level \(level): not flat (std \(s.std) levels)")
            XCTAssertLessThan(s.range, 10, "level \(level): spots or a pattern (range \(s.range) levels)")
        }
    }
}
