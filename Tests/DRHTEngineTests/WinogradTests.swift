import XCTest
import DRHTTestSupport
@testable import DRHTEngine

/// Winograd's F(4 x 4, 3 x 3) path of the 5 x 5 stride-2 layers (Winograd.swift): its transforms
/// by hand, the forward against the direct references, the backward against the GEMM path and
/// finite differences.
final class WinogradTests: XCTestCase {
    /// One 4 x 4 output tile of one plane, computed by hand: a correlation with the 3 x 3 kernel
    /// that is 1 at its centre is the identity, and with the kernel that is 1 at (0, 0) it is the
    /// input shifted down and right by one pixel (zero padding).
    func testIdentityAndShiftKernelsByHand() {
        let x = Tensor(shape: [1, 1, 4, 4], values: (0..<16).map { Float($0 + 1) })
        let identity: [Float] = (0..<16).map { Float($0 + 1) }
        var shifted = [Float](repeating: 0, count: 16)
        for r in 1..<4 { for c in 1..<4 { shifted[r * 4 + c] = Float((r - 1) * 4 + (c - 1) + 1) } }
        for centre in [true, false] {
            let y = Tensor(zeros: [1, 1, 4, 4])
            var kernels = [Float](repeating: 0, count: 9)
            kernels[centre ? 4 : 0] = 1
            Winograd.correlate(input: TiledPlanes(channelsOf: x), output: TiledPlanes(channelsOf: y), images: 1, kernels: kernels,
                               workspace: Workspace())
            assertClose(y.array, centre ? identity : shifted, atol: 1e-5, "centre \(centre)")
        }
    }

    /// The kernels' transform runs eight input planes at a time with a one-by-one tail: every
    /// kernel's transform must be the one it gets alone (the one-by-one loop), bit for bit, and a
    /// kernel that is 1 at its centre must transform to G e G^T with e the unit column (0, 1, 0).
    func testKernelTransformInLanesEqualsOneKernelAtATime() {
        let cout = 3, cin = 19             // two groups of eight and a tail of three
        var rng = SeededRandom(seed: 41)
        let kernels = (0..<cout * cin * 9).map { _ in rng.normal() }
        let u = Winograd.kernelTransform(cout: cout, cin: cin, kernels: kernels)
        for o in 0..<cout {
            for i in 0..<cin {
                let alone = Winograd.kernelTransform(cout: 1, cin: 1, kernels: Array(kernels[(o * cin + i) * 9 ..< (o * cin + i + 1) * 9]))
                let together = (0..<Winograd.elements).map { u[($0 * cout + o) * cin + i] }
                XCTAssertEqual(together, alone, "kernel (\(o), \(i))")
            }
        }
        var centre = [Float](repeating: 0, count: 8 * 9)
        for i in 0..<8 { centre[i * 9 + 4] = 1 }
        let gColumn: [Double] = [0, -1.0 / 6, 1.0 / 6, 1.0 / 12, -1.0 / 12, 0]    // G (0, 1, 0)
        let uc = Winograd.kernelTransform(cout: 1, cin: 8, kernels: centre)
        for e in 0..<Winograd.elements {
            for i in 0..<8 { XCTAssertEqual(Double(uc[e * 8 + i]), gColumn[e / 6] * gColumn[e % 6], accuracy: 1e-7) }
        }
    }

    func testConvForwardMatchesTheDirectReference() {
        // Batches, channel counts, non-square sizes, and enough tiles for several chunks
        // (2 x 64 channels at 96 x 160: phases of 48 x 80, 2 x 12 rows of 20 tiles, 256 + 64 planes).
        XCTAssertLessThan(Winograd.chunkRows(cin: 256, cout: 64, grid: TileGrid(height: 48, width: 80, images: 2, v: 4)), 24)
        for (i, (shape, cout)) in [([1, 3, 8, 8], 2), ([2, 5, 16, 24], 7), ([3, 4, 40, 8], 3), ([2, 64, 96, 160], 64)].enumerated() {
            let x = randomTensor(shape, seed: UInt64(200 + i))
            let c = Conv2D(weight: randomTensor([cout, shape[1], 5, 5], seed: UInt64(210 + i), -0.2, 0.2),
                           bias: randomTensor([cout], seed: 7), stride: 2)
            assertClose(c.forward(x, algorithm: .winograd), referenceConv(x, c.weight, c.bias, stride: 2),
                        rtol: 1e-4, atol: 2e-4, "conv \(shape) -> \(cout)")
        }
    }

    func testTransposedForwardMatchesTheDirectReference() {
        for (i, (shape, cout)) in [([1, 3, 4, 4], 2), ([2, 5, 8, 12], 7), ([3, 4, 20, 4], 3), ([2, 64, 48, 80], 32)].enumerated() {
            let x = randomTensor(shape, seed: UInt64(220 + i))
            let t = TransposedConv2D(weight: randomTensor([shape[1], cout, 5, 5], seed: UInt64(230 + i), -0.2, 0.2),
                                     bias: randomTensor([cout], seed: 8))
            assertClose(t.forward(x, algorithm: .winograd), referenceTransposedConv(x, t.weight, t.bias),
                        rtol: 1e-4, atol: 2e-4, "convT \(shape) -> \(cout)")
        }
    }

    /// F(4, 3) in Float32 rounds more than the direct sums: its transforms scale values by up to
    /// 8 x 8 (A) and 5 x 5 (B^T) and G^T brings them back by cancellation. Measured here: within
    /// 5e-4 of the largest gradient value (dW over 480 tiles x 256 planes), so the backward is
    /// compared at 2e-3 of it; the forward stays within 1e-4.
    func testBackwardMatchesTheGEMMPath() {
        for (i, (shape, cout)) in [([2, 5, 16, 24], 7), ([2, 64, 96, 160], 64), ([1, 2, 8, 128], 3)].enumerated() {
            let x = randomTensor(shape, seed: UInt64(240 + i))
            let c = Conv2D(weight: randomTensor([cout, shape[1], 5, 5], seed: UInt64(250 + i), -0.2, 0.2),
                           bias: randomTensor([cout], seed: 9), stride: 2)
            let dy = randomTensor(c.outputShape(for: shape), seed: UInt64(260 + i))
            let w = c.backward(dOutput: dy, input: x, algorithm: .winograd), g = c.backward(dOutput: dy, input: x, algorithm: .gemm)
            assertClose(w.dInput!, g.dInput!, scaledTolerance: 2e-3, "conv dx \(shape)")
            assertClose(w.dWeight, g.dWeight, scaledTolerance: 2e-3, "conv dW \(shape)")
            assertClose(w.dBias, g.dBias, rtol: 1e-5, atol: 1e-5, "conv db \(shape)")
            let dxOnly = c.backward(dOutput: dy, input: x, weightGradient: false, algorithm: .winograd)
            assertClose(dxOnly.dInput!, g.dInput!, scaledTolerance: 2e-3, "conv dx alone")
            XCTAssertNil(c.backward(dOutput: dy, input: x, inputGradient: false, algorithm: .winograd).dInput)
        }
        // 16 tiles a row (a lane group exactly), several chunks ending mid-image (2 x 16 rows of
        // 128 + 256 planes), and a single tile row.
        for (i, (shape, cout)) in [([2, 5, 8, 12], 7), ([2, 128, 32, 48], 64), ([2, 128, 64, 64], 64), ([1, 3, 4, 4], 2)].enumerated() {
            let x = randomTensor(shape, seed: UInt64(270 + i))
            let t = TransposedConv2D(weight: randomTensor([shape[1], cout, 5, 5], seed: UInt64(280 + i), -0.2, 0.2),
                                     bias: randomTensor([cout], seed: 10))
            let dy = randomTensor(t.outputShape(for: shape), seed: UInt64(290 + i))
            let w = t.backward(dOutput: dy, input: x, algorithm: .winograd), g = t.backward(dOutput: dy, input: x, algorithm: .gemm)
            assertClose(w.dInput!, g.dInput!, scaledTolerance: 2e-3, "convT dx \(shape)")
            assertClose(w.dWeight, g.dWeight, scaledTolerance: 2e-3, "convT dW \(shape)")
            assertClose(w.dBias, g.dBias, rtol: 1e-5, atol: 1e-5, "convT db \(shape)")
        }
    }

    /// Three workers split the planes so that a channel's four phases land on two of them.
    func testThreeWorkersGiveTheSameResults() {
        let x = randomTensor([2, 5, 16, 24], seed: 320)
        let c = Conv2D(weight: randomTensor([7, 5, 5, 5], seed: 321, -0.2, 0.2), bias: randomTensor([7], seed: 322), stride: 2)
        let dy = randomTensor(c.outputShape(for: x.shape), seed: 323)
        let y = c.forward(x, algorithm: .winograd), g = c.backward(dOutput: dy, input: x, algorithm: .winograd)
        let before = EngineThreads.count
        EngineThreads.set(3)
        defer { EngineThreads.set(before) }
        XCTAssertEqual(c.forward(x, algorithm: .winograd).array, y.array)
        let g3 = c.backward(dOutput: dy, input: x, algorithm: .winograd)
        XCTAssertEqual(g3.dInput!.array, g.dInput!.array)
        assertClose(g3.dWeight, g.dWeight, scaledTolerance: 1e-5, "dW, 3 workers")
    }

    func testGradientsByFiniteDifferences() {
        let x = randomTensor([2, 3, 8, 16], seed: 300)
        let c = Conv2D(weight: randomTensor([4, 3, 5, 5], seed: 301), bias: randomTensor([4], seed: 302), stride: 2)
        let r = randomTensor(c.outputShape(for: x.shape), seed: 303)
        let g = c.backward(dOutput: r, input: x, algorithm: .winograd)
        let loss = { dot(c.forward(x, algorithm: .winograd), r) }
        checkGradient("conv dx", param: x, analytic: g.dInput!, h: 0.1, loss: loss)
        checkGradient("conv dW", param: c.weight, analytic: g.dWeight, h: 0.1, loss: loss)

        let xt = randomTensor([2, 3, 4, 8], seed: 304)
        let t = TransposedConv2D(weight: randomTensor([3, 4, 5, 5], seed: 305), bias: randomTensor([4], seed: 306))
        let rt = randomTensor(t.outputShape(for: xt.shape), seed: 307)
        let gt = t.backward(dOutput: rt, input: xt, algorithm: .winograd)
        let losst = { dot(t.forward(xt, algorithm: .winograd), rt) }
        checkGradient("convT dx", param: xt, analytic: gt.dInput!, h: 0.1, loss: losst)
        checkGradient("convT dW", param: t.weight, analytic: gt.dWeight, h: 0.1, loss: losst)
    }

    func testThePathIsTakenOnlyWhereItApplies() {
        let enc2 = Conv2D(inChannels: 64, outChannels: 64, kernel: 5, stride: 2)
        XCTAssertFalse(enc2.winogradPossible(for: [1, 64, 36, 40]))         // phases of 18 rows: not whole tiles
        XCTAssertEqual(enc2.resolvedAlgorithm(for: [1, 64, 36, 40]), .gemm)
        XCTAssertTrue(enc2.winogradPossible(for: [8, 64, 64, 64]))
        XCTAssertFalse(Conv2D(inChannels: 64, outChannels: 128, kernel: 3, stride: 2).winogradPossible(for: [8, 64, 64, 64]))
        XCTAssertEqual(enc2.resolvedAlgorithm(.gemm, for: [8, 64, 64, 64]), .gemm)
        XCTAssertEqual(enc2.resolvedAlgorithm(for: [8, 64, 64, 64]), Winograd.enabled ? .winograd : .gemm)   // 512 tiles
        XCTAssertEqual(enc2.resolvedAlgorithm(for: [1, 64, 32, 32]), .gemm)                                  // 16 tiles
        let dec4 = TransposedConv2D(inChannels: 128, outChannels: 64, kernel: 5)
        XCTAssertEqual(dec4.resolved(for: [8, 128, 16, 16]), .gemm)                                          // 128 tiles
        XCTAssertEqual(dec4.resolved(for: [4, 128, 32, 32]), Winograd.enabled ? .winograd : .gemm)           // 256 tiles
        XCTAssertFalse(dec4.winogradPossible(for: [1, 128, 6, 8]))
        // dx alone (attribution) takes the GEMM path, whose zeros are exact: a unit's gradient is
        // zero outside its field, bit for bit the GEMM path's.
        if Winograd.enabled {
            let c = Conv2D(weight: randomTensor([4, 3, 5, 5], seed: 310), bias: randomTensor([4], seed: 311), stride: 2)
            let x = randomTensor([16, 3, 32, 32], seed: 312)                   // 16 x 8 x 8 = 1,024 tiles
            XCTAssertEqual(c.resolvedAlgorithm(for: x.shape), .winograd)
            let dy = Tensor(zeros: c.outputShape(for: x.shape)); dy[0, 0, 8, 8] = 1
            let alone = c.backward(dOutput: dy, input: x, weightGradient: false)
            XCTAssertEqual(alone.dInput!.array, c.backward(dOutput: dy, input: x, algorithm: .gemm).dInput!.array)
            XCTAssertEqual(alone.dInput!.array.filter { $0 != 0 }.count, 3 * 25)
        }
        XCTAssertNotEqual(dec4.resolved(for: [1, 128, 6, 8]), .winograd)
        XCTAssertFalse(TransposedConv2D(inChannels: 64, outChannels: 64, kernel: 9).winogradPossible(for: [8, 64, 32, 32]))
    }
}

