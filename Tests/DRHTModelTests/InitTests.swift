// Fresh weights: the ICNR-style start of the transposed convolutions makes their four output
// phases identical (so no 2x2 pattern, and no grid of dots, at step 0); Kaiming does not.
import DRHTEngine
@testable import DRHTModel
import XCTest

final class InitTests: XCTestCase {
    /// Largest difference between an output pixel and the even-row, even-column pixel of its 2x2 cell.
    func phaseSpread(_ y: Tensor) -> Float {
        var worst: Float = 0
        for c in 0..<y.c {
            for row in 0..<y.h {
                for col in 0..<y.w {
                    let v = y.data[(c * y.h + row) * y.w + col]
                    let anchor = y.data[(c * y.h + (row & ~1)) * y.w + (col & ~1)]
                    worst = max(worst, abs(v - anchor))
                }
            }
        }
        return worst
    }

    func testICNRKernelsGiveFourIdenticalPhasesForEveryKernelSize() {
        for k in [3, 5, 9] {
            var rng = SeededRandom(seed: UInt64(k))
            let conv = TransposedConv2D(inChannels: 4, outChannels: 3, kernel: k)
            let std: Float = 0.3
            for i in 0..<conv.weight.count { conv.weight.data[i] = std * rng.normal() }
            let x = Tensor.normal([1, 4, 6, 5], rng: &rng)
            let kaiming = conv.forward(x)
            XCTAssertGreaterThan(phaseSpread(kaiming), 0.05, "kernel \(k): Kaiming weights should show phases")
            DRHT.icnrKernel(conv.weight, std: std, rng: &rng)
            let y = conv.forward(x)
            XCTAssertEqual(y.shape, [1, 3, 12, 10])
            XCTAssertLessThan(phaseSpread(y), 1e-5, "kernel \(k)")
            XCTAssertGreaterThan(y.stats.std, 0.05, "kernel \(k): the layer must still compute something")
        }
    }

    /// Hand case, k = 3 (padding 1): taps 1 and 2 of each row and column are a pair, tap 0 is lone.
    func testICNRKernelLayoutForThreeByThree() {
        var rng = SeededRandom(seed: 9)
        let w = Tensor(shape: [1, 1, 3, 3], repeating: 7)
        DRHT.icnrKernel(w, std: 1, rng: &rng)
        let v = w.data[4]
        XCTAssertNotEqual(v, 0)
        XCTAssertEqual((0..<9).map { w.data[$0] }, [0, 0, 0, 0, v, v, 0, v, v])
    }

    func testInitializedModelUsesICNROnlyForTransposedConvolutions() {
        let plain = DRHT.initialized(seed: 3, deconv: .kaiming), icnr = DRHT.initialized(seed: 3, deconv: .icnr)
        XCTAssertEqual(icnr.notes["init"], "kaiming-normal, ICNR deconvolutions, seed 3")
        for ((name, a), (_, b)) in zip(plain.namedTensors, icnr.namedTensors) where name.hasSuffix("conv.weight") {
            let isDeconv = name.contains(".dec")
            XCTAssertEqual(a.data[0] == b.data[0] && a.data[a.count - 1] == b.data[b.count - 1], !isDeconv, name)
        }
        // Same variance budget as Kaiming: the scale of a deconvolution's output stays comparable.
        let dec5 = icnr.namedTensors.first { $0.0 == "hdr.dec5.conv.weight" }!.1
        let dec5k = plain.namedTensors.first { $0.0 == "hdr.dec5.conv.weight" }!.1
        let ratio = dec5.stats.std / dec5k.stats.std
        XCTAssertGreaterThan(ratio, 0.7); XCTAssertLessThan(ratio, 1.3)
    }
}
