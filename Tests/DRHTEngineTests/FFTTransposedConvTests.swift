import XCTest
import DRHTTestSupport
@testable import DRHTEngine

/// The FFT forward and backward of the stride-2 transposed convolution (FFTTransposedConv.swift)
/// against the direct reference, the GEMM path and cases worked by hand, and its FFT against a
/// plain DFT.
final class FFTTransposedConvTests: XCTestCase {
    func testLaneFFTMatchesDirectDFTForwardAndInverse() {
        let lanes = LaneFFT.lanes
        for n in [2, 4, 8, 16, 32] {
            let fft = LaneFFT(size: n)
            let xr = randomTensor([n * lanes], seed: 40).array, xi = randomTensor([n * lanes], seed: 41).array
            for inverse in [false, true] {
                let re = UnsafeMutablePointer<FFTLanes>.allocate(capacity: n), im = UnsafeMutablePointer<FFTLanes>.allocate(capacity: n)
                defer { re.deallocate(); im.deallocate() }
                for i in 0..<n {
                    re[i] = FFTLanes((0..<lanes).map { xr[i * lanes + $0] })
                    im[i] = FFTLanes((0..<lanes).map { xi[i * lanes + $0] })
                }
                fft.transform(re, im, stride: 1, inverse: inverse)
                let sign = inverse ? 1.0 : -1.0
                for l in [0, 7, lanes - 1] {
                    for f in 0..<n {
                        var sr = 0.0, si = 0.0
                        for t in 0..<n {
                            let a = sign * 2 * Double.pi * Double(f * t) / Double(n)
                            let vr = Double(xr[t * lanes + l]), vi = Double(xi[t * lanes + l])
                            sr += vr * cos(a) - vi * sin(a); si += vr * sin(a) + vi * cos(a)
                        }
                        XCTAssertEqual(Double(re[f][l]), sr, accuracy: 1e-4, "n \(n) f \(f) lane \(l) inverse \(inverse)")
                        XCTAssertEqual(Double(im[f][l]), si, accuracy: 1e-4, "n \(n) f \(f) lane \(l) inverse \(inverse)")
                    }
                }
            }
        }
    }

    func testImpulseGivesTheKernelCentredOnTwiceItsPosition() {
        // One input pixel at (3, 5) of a 7 x 9 image, k = 9 (padding 4): output (2*3 - 4 + ky, 2*5 - 4 + kx)
        // receives w[ky, kx], every other pixel only the bias — by hand from the definition.
        let k = 9
        let w = Tensor(shape: [1, 2, k, k], values: (0..<(2 * k * k)).map { Float($0 % 83) + 1 })
        let x = Tensor(zeros: [1, 1, 7, 9]); x[0, 0, 3, 5] = 1
        let bias = Tensor(shape: [2], values: [0.5, -1])
        let y = TransposedConv2D(weight: w, bias: bias).forward(x, algorithm: .fft)
        XCTAssertEqual(y.shape, [1, 2, 14, 18])
        for o in 0..<2 {
            for oy in 0..<14 {
                for ox in 0..<18 {
                    let ky = oy - 2, kx = ox - 6
                    let expected = (0..<k).contains(ky) && (0..<k).contains(kx) ? w[0, o, ky, kx] + bias[o] : bias[o]
                    XCTAssertEqual(y[0, o, oy, ox], expected, accuracy: 1e-4, "o \(o) (\(oy), \(ox))")
                }
            }
        }
    }

    func testFFTPathMatchesDirectReference() {
        // Edges that do not fill a tile, a batch of two, kernels 7, 9, 11, and several chunks of
        // tiles (two images of 100 x 100: 2 x 9 x 9 = 162 tiles, more than `chunkTiles`), and 20
        // input channels: one full group of 16 lanes in the kernels' spectra and one partial.
        XCTAssertGreaterThan(162, FFTTransposedConv.chunkTiles)
        for (k, shape) in [(9, [2, 3, 37, 29]), (7, [1, 5, 13, 20]), (11, [1, 2, 30, 17]), (9, [2, 2, 100, 100]), (9, [1, 20, 12, 11])] {
            let x = randomTensor(shape, seed: UInt64(50 + k))
            let t = TransposedConv2D(weight: randomTensor([shape[1], 6, k, k], seed: UInt64(60 + k)),
                                     bias: randomTensor([6], seed: 7))
            assertClose(t.forward(x, algorithm: .fft), referenceTransposedConv(x, t.weight, t.bias),
                        rtol: 1e-4, atol: 1e-4, "fft k\(k) \(shape)")
        }
    }

    func testFFTAndGEMMPathsAgreeOnDec5sShape() {
        // dec5: 64 -> 64 channels, k = 9, at 48 x 40.
        let x = randomTensor([1, 64, 48, 40], seed: 70)
        let t = TransposedConv2D(weight: randomTensor([64, 64, 9, 9], seed: 71, -0.05, 0.05), bias: randomTensor([64], seed: 72))
        assertClose(t.forward(x, algorithm: .fft), t.forward(x, algorithm: .gemm), rtol: 1e-4, atol: 1e-4, "dec5 shape")
    }

    func testAutomaticChoiceTakesTheFFTPathOnlyWhereItIsFaster() {
        let dec5 = TransposedConv2D(inChannels: 64, outChannels: 64, kernel: 9)
        XCTAssertEqual(dec5.resolved(for: [1, 64, 256, 256]), .fft)
        XCTAssertEqual(dec5.resolved(for: [1, 64, 128, 128]), .fft)
        XCTAssertEqual(dec5.resolved(for: [8, 64, 32, 32]), .fft)        // training at 64^2
        XCTAssertEqual(dec5.resolved(for: [2, 64, 32, 32]), .gemm)
        XCTAssertEqual(dec5.resolved(.gemm, for: [1, 64, 256, 256]), .gemm)
        let dec4 = TransposedConv2D(inChannels: 128, outChannels: 64, kernel: 5)
        XCTAssertNotEqual(dec4.resolved(for: [1, 128, 256, 256]), .fft)      // GEMM or Winograd (WinogradTests)
    }

    func testFFTForwardOnABatchOfSmallImagesMatchesGEMM() {
        // 8 images of 32 x 32: 72 tiles taken across the batch, in one chunk.
        let x = randomTensor([8, 5, 32, 32], seed: 80)
        let t = TransposedConv2D(weight: randomTensor([5, 4, 9, 9], seed: 81), bias: randomTensor([4], seed: 82))
        assertClose(t.forward(x, algorithm: .fft), t.forward(x, algorithm: .gemm), rtol: 1e-4, atol: 1e-4, "batch of 8")
    }

    func testChunksOfDifferentWidthsAgreeWithGEMM() {
        // 3 x 43 = 129 tiles (V = 12): two chunks, of 80 tiles and of 49 (64 columns, the last
        // lanes zero), so the spectra's layout changes from one chunk to the next.
        XCTAssertEqual(FFTTransposedConv.chunkTiles, 128)
        let x = randomTensor([1, 3, 36, 516], seed: 120)
        let t = TransposedConv2D(weight: randomTensor([3, 4, 9, 9], seed: 121), bias: randomTensor([4], seed: 122))
        assertClose(t.forward(x, algorithm: .fft), t.forward(x, algorithm: .gemm), rtol: 1e-4, atol: 1e-4, "forward")
        let dy = randomTensor(t.outputShape(for: x.shape), seed: 123)
        let fft = t.backward(dOutput: dy, input: x, algorithm: .fft), gemm = t.backward(dOutput: dy, input: x, algorithm: .gemm)
        assertClose(fft.dInput!, gemm.dInput!, scaledTolerance: 1e-4, "dx")
        assertClose(fft.dWeight, gemm.dWeight, scaledTolerance: 1e-4, "dW")
    }

    func testFFTBackwardOfAnImpulseByHand() {
        // One input pixel at (3, 5), one input channel, k = 9 (padding 4): the forward adds
        // w[0, o, ky, kx] to y[o, 2 + ky, 6 + kx], so dW[0, o, ky, kx] = dy[o, 2 + ky, 6 + kx] and
        // dx[3, 5] = sum over o, ky, kx of w[0, o, ky, kx] dy[o, 2 + ky, 6 + kx].
        let k = 9
        let w = randomTensor([1, 2, k, k], seed: 83)
        let x = Tensor(zeros: [1, 1, 7, 9]); x[0, 0, 3, 5] = 1
        let dy = randomTensor([1, 2, 14, 18], seed: 84)
        let g = TransposedConv2D(weight: w, bias: Tensor(zeros: [2])).backward(dOutput: dy, input: x, algorithm: .fft)
        var dx35: Float = 0
        for o in 0..<2 {
            for ky in 0..<k {
                for kx in 0..<k {
                    let oy = 2 + ky, ox = 6 + kx
                    let expected: Float = oy < 14 && ox < 18 ? dy[0, o, oy, ox] : 0
                    XCTAssertEqual(g.dWeight[0, o, ky, kx], expected, accuracy: 1e-4, "dW o \(o) (\(ky), \(kx))")
                    dx35 += w[0, o, ky, kx] * expected
                }
            }
        }
        XCTAssertEqual(g.dInput![0, 0, 3, 5], dx35, accuracy: 1e-3)
    }

    func testFFTBackwardMatchesGEMMBackward() {
        // Edges that do not fill a tile, odd channel counts, kernels 7, 9, 11, a batch of small
        // images (tiles across images) and several chunks (two images of 100 x 100: 162 tiles).
        let cases: [(k: Int, x: [Int], cout: Int)] = [(9, [2, 3, 37, 29], 6), (7, [1, 5, 13, 20], 4), (11, [1, 2, 30, 17], 2),
                                                      (9, [8, 4, 32, 32], 4), (9, [2, 2, 100, 100], 2)]
        for (i, c) in cases.enumerated() {
            let x = randomTensor(c.x, seed: UInt64(90 + i))
            let t = TransposedConv2D(weight: randomTensor([c.x[1], c.cout, c.k, c.k], seed: UInt64(100 + i)),
                                     bias: randomTensor([c.cout], seed: 7))
            let dy = randomTensor(t.outputShape(for: c.x), seed: UInt64(110 + i))
            let fft = t.backward(dOutput: dy, input: x, algorithm: .fft), gemm = t.backward(dOutput: dy, input: x, algorithm: .gemm)
            assertClose(fft.dInput!, gemm.dInput!, scaledTolerance: 1e-4, "dx k\(c.k) \(c.x)")
            assertClose(fft.dWeight, gemm.dWeight, scaledTolerance: 1e-4, "dW k\(c.k) \(c.x)")
            assertClose(fft.dBias, gemm.dBias, rtol: 1e-5, atol: 1e-5, "db k\(c.k) \(c.x)")
            // Each gradient alone, as attribution (input only) and a frozen input need them.
            let dxOnly = t.backward(dOutput: dy, input: x, weightGradient: false, algorithm: .fft)
            assertClose(dxOnly.dInput!, gemm.dInput!, scaledTolerance: 1e-4, "dx alone")
            let dWOnly = t.backward(dOutput: dy, input: x, inputGradient: false, algorithm: .fft)
            XCTAssertNil(dWOnly.dInput)
            assertClose(dWOnly.dWeight, gemm.dWeight, scaledTolerance: 1e-4, "dW alone")
        }
    }
}
