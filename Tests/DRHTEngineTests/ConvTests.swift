import XCTest
import DRHTTestSupport
@testable import DRHTEngine

/// Direct (loop) convolution in Double: PyTorch Conv2d with padding (k-1)/2.
/// x (N, Cin, H, W), w (Cout, Cin, k, k) -> (N, Cout, Ho, Wo)
func referenceConv(_ x: Tensor, _ w: Tensor, _ b: Tensor, stride s: Int) -> Tensor {
    let k = w.shape[2], p = (k - 1) / 2, cout = w.shape[0], cin = w.shape[1]
    let ho = (x.h + 2 * p - k) / s + 1, wo = (x.w + 2 * p - k) / s + 1
    let y = Tensor(zeros: [x.n, cout, ho, wo])
    for n in 0..<x.n { for o in 0..<cout { for oy in 0..<ho { for ox in 0..<wo {
        var acc = Double(b[o])
        for i in 0..<cin { for ky in 0..<k { for kx in 0..<k {
            let iy = oy * s - p + ky, ix = ox * s - p + kx
            if iy >= 0 && iy < x.h && ix >= 0 && ix < x.w {
                acc += Double(x[n, i, iy, ix]) * Double(w[o, i, ky, kx])
            }
        }}}
        y[n, o, oy, ox] = Float(acc)
    }}}}
    return y
}

/// Direct (scatter) transposed convolution in Double: PyTorch ConvTranspose2d(stride 2,
/// padding (k-1)/2, output_padding 1). x (N, Cin, H, W), w (Cin, Cout, k, k) -> (N, Cout, 2H, 2W)
func referenceTransposedConv(_ x: Tensor, _ w: Tensor, _ b: Tensor) -> Tensor {
    let k = w.shape[2], p = (k - 1) / 2, cin = w.shape[0], cout = w.shape[1]
    let ho = 2 * x.h, wo = 2 * x.w
    var acc = [Double](repeating: 0, count: x.n * cout * ho * wo)
    for n in 0..<x.n { for i in 0..<cin { for iy in 0..<x.h { for ix in 0..<x.w {
        let v = Double(x[n, i, iy, ix])
        for o in 0..<cout { for ky in 0..<k { for kx in 0..<k {
            let oy = iy * 2 - p + ky, ox = ix * 2 - p + kx
            if oy >= 0 && oy < ho && ox >= 0 && ox < wo {
                acc[((n * cout + o) * ho + oy) * wo + ox] += v * Double(w[i, o, ky, kx])
            }
        }}}
    }}}}
    let y = Tensor(zeros: [x.n, cout, ho, wo])
    for n in 0..<x.n { for o in 0..<cout { for j in 0..<(ho * wo) {
        y.data[(n * cout + o) * ho * wo + j] = Float(acc[(n * cout + o) * ho * wo + j] + Double(b[o]))
    }}}
    return y
}

final class ConvTests: XCTestCase {
    // MARK: hand-computed cases

    func testConv3x3OnesSumsNeighbourhoods() {
        // x = 1...9 in a 3x3 image, all-ones 3x3 kernel, zero padding 1.
        let conv = Conv2D(weight: Tensor(shape: [1, 1, 3, 3], repeating: 1), bias: Tensor(zeros: [1]), stride: 1)
        let y = conv.forward(Tensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init)))
        // corner (0,0): 1+2+4+5 = 12; top middle: 1+2+3+4+5+6 = 21; centre: 45
        assertClose(y.array, [12, 21, 16, 27, 45, 33, 24, 39, 28], "3x3 ones")
    }

    func testConvStride2OutputSizeAndValues() {
        // 5x5 input of ones, 3x3 ones kernel, stride 2, pad 1 -> 3x3 output
        let conv = Conv2D(weight: Tensor(shape: [1, 1, 3, 3], repeating: 1), bias: Tensor(shape: [1], values: [0.5]), stride: 2)
        let y = conv.forward(Tensor(shape: [1, 1, 5, 5], repeating: 1))
        XCTAssertEqual(y.shape, [1, 1, 3, 3])
        assertClose(y.array, [4, 6, 4, 6, 9, 6, 4, 6, 4].map { $0 + 0.5 }, "stride 2")
    }

    func testConvOutputSizesOfTheDRHTTable() {
        let x = [1, 3, 64, 96]
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 64, kernel: 9, stride: 1).outputShape(for: x), [1, 64, 64, 96])
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 64, kernel: 5, stride: 2).outputShape(for: x), [1, 64, 32, 48])
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 8, kernel: 3, stride: 2).outputShape(for: x), [1, 8, 32, 48])
        XCTAssertEqual(TransposedConv2D(inChannels: 3, outChannels: 8, kernel: 9).outputShape(for: x), [1, 8, 128, 192])
    }

    func testConvWeightLayoutIsOutInKhKw() {
        // weight (out 2, in 3, 1, 1): out channel o reads in channel i with weight w[o, i]
        let w = Tensor(shape: [2, 3, 1, 1], values: [1, 10, 100, 2, 20, 200])
        let conv = Conv2D(weight: w, bias: Tensor(zeros: [2]), stride: 1)
        let x = Tensor(shape: [1, 3, 1, 1], values: [1, 2, 3])
        assertClose(conv.forward(x).array, [321, 642], "layout")
    }

    func testTransposedConvSingleImpulse() {
        // One input pixel, 3x3 kernel 1...9, stride 2, padding 1, output_padding 1:
        // out[oy, ox] = w[oy + 1, ox + 1] -> [[5, 6], [8, 9]] (what PyTorch gives).
        let t = TransposedConv2D(weight: Tensor(shape: [1, 1, 3, 3], values: (1...9).map(Float.init)),
                                 bias: Tensor(zeros: [1]))
        let y = t.forward(Tensor(shape: [1, 1, 1, 1], values: [1]))
        XCTAssertEqual(y.shape, [1, 1, 2, 2])
        assertClose(y.array, [5, 6, 8, 9], "impulse")
    }

    func testTransposedConvWeightLayoutIsInOutKhKw() {
        // weight (in 2, out 3, 1, 1): out channel o receives in channel i times w[i, o]
        let w = Tensor(shape: [2, 3, 1, 1], values: [1, 2, 3, 10, 20, 30])
        let t = TransposedConv2D(weight: w, bias: Tensor(zeros: [3]))
        let y = t.forward(Tensor(shape: [1, 2, 1, 1], values: [1, 100]))
        // 1x1 kernel, stride 2: only output (0, 0) of each 2x2 is hit
        XCTAssertEqual(y.shape, [1, 3, 2, 2])
        assertClose([y[0, 0, 0, 0], y[0, 1, 0, 0], y[0, 2, 0, 0], y[0, 0, 1, 1]], [1001, 2002, 3003, 0], "layout")
    }

    // MARK: against the direct reference, including multi-tile runs

    func testConvMatchesDirectReference() {
        for (k, s, tile) in [(1, 1, 1 << 22), (3, 1, 1 << 22), (3, 2, 1 << 22), (5, 2, 200), (9, 1, 500), (3, 2, 1)] {
            let x = randomTensor([2, 3, 11, 9], seed: 1)
            let conv = Conv2D(weight: randomTensor([4, 3, k, k], seed: 2), bias: randomTensor([4], seed: 3), stride: s)
            for batched in [false, true] {      // per image, tiled; the batch's columns side by side
                let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = batched ? 1 << 30 : 0
                assertClose(conv.forward(x, workspace: ws), referenceConv(x, conv.weight, conv.bias, stride: s),
                            rtol: 1e-4, atol: 1e-5, "conv k\(k) s\(s) tile \(tile) batched \(batched)")
            }
        }
    }

    func testTransposedConvMatchesDirectReference() {
        for (k, tile) in [(1, 1 << 22), (3, 1 << 22), (5, 100), (9, 1 << 22), (9, 1)] {
            let x = randomTensor([2, 3, 5, 7], seed: 4)
            let t = TransposedConv2D(weight: randomTensor([3, 4, k, k], seed: 5), bias: randomTensor([4], seed: 6))
            for batched in [false, true] {
                let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = batched ? 1 << 30 : 0
                assertClose(t.forward(x, workspace: ws), referenceTransposedConv(x, t.weight, t.bias),
                            rtol: 1e-4, atol: 1e-5, "convT k\(k) tile \(tile) batched \(batched)")
            }
        }
    }

    /// The forward's three ways of sharing the work (one worker; whole images per worker when
    /// the batch has one for each; an image's tiles and phases spread over the workers) agree
    /// with the direct reference, whatever the machine's core count.
    func testForwardOnEveryThreadingPathMatchesDirectReference() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        for threads in [1, 2, 3] {
            EngineThreads.set(threads)
            for batch in [1, 3] {                       // 3 images over 2 workers: uneven
                for (k, s, tile) in [(1, 1, 1 << 22), (3, 2, 1 << 22), (5, 2, 60), (9, 1, 1 << 22)] {
                    let x = randomTensor([batch, 3, 11, 9], seed: 30)
                    let conv = Conv2D(weight: randomTensor([4, 3, k, k], seed: 31), bias: randomTensor([4], seed: 32), stride: s)
                    let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = 0
                    assertClose(conv.forward(x, workspace: ws), referenceConv(x, conv.weight, conv.bias, stride: s),
                                rtol: 1e-4, atol: 1e-5, "conv k\(k) s\(s) batch \(batch) threads \(threads)")
                }
                for (k, tile) in [(1, 1 << 22), (3, 1 << 22), (5, 40), (9, 1 << 22)] {
                    let x = randomTensor([batch, 3, 5, 7], seed: 33)
                    let t = TransposedConv2D(weight: randomTensor([3, 4, k, k], seed: 34), bias: randomTensor([4], seed: 35))
                    let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = 0
                    assertClose(t.forward(x, algorithm: .gemm, workspace: ws), referenceTransposedConv(x, t.weight, t.bias),
                                rtol: 1e-4, atol: 1e-5, "convT k\(k) batch \(batch) threads \(threads)")
                }
            }
        }
    }

    /// <conv(x), y> = <x, convT(y)> when the transposed conv uses the conv's weight tensor:
    /// conv maps (Cb, H, W) -> (Ca, H/2, W/2) with weight (Ca, Cb, k, k), and the transposed
    /// conv reads the same tensor as (in Ca, out Cb, k, k).
    func testAdjointIdentity() {
        for k in [3, 5, 9] {
            let w = randomTensor([4, 3, k, k], seed: 7)
            let conv = Conv2D(weight: w, bias: Tensor(zeros: [4]), stride: 2)
            let convT = TransposedConv2D(weight: w, bias: Tensor(zeros: [3]))
            let x = randomTensor([1, 3, 16, 12], seed: 8)
            let y = randomTensor([1, 4, 8, 6], seed: 9)
            let lhs = dot(conv.forward(x), y), rhs = dot(x, convT.forward(y))
            XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * max(1, abs(lhs)), "adjoint k\(k)")
        }
    }

    // MARK: finite-difference gradients

    /// The batch-parallel backward (each worker whole images and its own dW, used when the batch
    /// has at least as many images as workers) gives what the one-image-at-a-time path gives.
    func testBatchParallelBackwardMatchesSerialPath() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        for (k, s, tile) in [(1, 1, 1 << 22), (3, 2, 30), (5, 1, 1 << 22), (9, 2, 200)] {
            let x = randomTensor([3, 3, 9, 8], seed: 20)             // 3 images over 2 workers: uneven
            let conv = Conv2D(weight: randomTensor([4, 3, k, k], seed: 21), bias: randomTensor([4], seed: 22), stride: s)
            let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = 0
            let dy = randomTensor(conv.outputShape(for: x.shape), seed: 23)
            EngineThreads.set(1)
            let serial = conv.backward(dOutput: dy, input: x, workspace: ws)
            EngineThreads.set(2)
            let parallel = conv.backward(dOutput: dy, input: x, workspace: ws)
            assertClose(parallel.dWeight, serial.dWeight, rtol: 1e-5, atol: 1e-5, "conv k\(k) s\(s) dWeight")
            assertClose(parallel.dInput!, serial.dInput!, rtol: 1e-5, atol: 1e-5, "conv k\(k) s\(s) dInput")
            let noInput = conv.backward(dOutput: dy, input: x, inputGradient: false, workspace: ws)
            XCTAssertNil(noInput.dInput)
            assertClose(noInput.dWeight, serial.dWeight, rtol: 1e-5, atol: 1e-5, "conv k\(k) s\(s) dWeight alone")
            for threads in [1, 2] {        // dInput alone (attribution), on both paths
                EngineThreads.set(threads)
                let inputOnly = conv.backward(dOutput: dy, input: x, weightGradient: false, workspace: ws)
                assertClose(inputOnly.dInput!, serial.dInput!, rtol: 1e-5, atol: 1e-5, "conv k\(k) s\(s) dInput alone")
                XCTAssertEqual(inputOnly.dWeight.stats.max, 0); XCTAssertEqual(inputOnly.dWeight.stats.min, 0)
            }
        }
    }

    func testBatchParallelTransposedBackwardMatchesSerialPath() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        for (k, tile) in [(1, 1 << 22), (3, 40), (5, 1 << 22), (9, 100)] {
            let x = randomTensor([3, 3, 5, 6], seed: 24)
            let t = TransposedConv2D(weight: randomTensor([3, 4, k, k], seed: 25), bias: randomTensor([4], seed: 26))
            let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = 0
            let dy = randomTensor(t.outputShape(for: x.shape), seed: 27)
            EngineThreads.set(1)
            let serial = t.backward(dOutput: dy, input: x, workspace: ws)
            EngineThreads.set(2)
            let parallel = t.backward(dOutput: dy, input: x, workspace: ws)
            assertClose(parallel.dWeight, serial.dWeight, rtol: 1e-5, atol: 1e-5, "convT k\(k) dWeight")
            assertClose(parallel.dInput!, serial.dInput!, rtol: 1e-5, atol: 1e-5, "convT k\(k) dInput")
            for threads in [1, 2] {
                EngineThreads.set(threads)
                let inputOnly = t.backward(dOutput: dy, input: x, weightGradient: false, workspace: ws)
                assertClose(inputOnly.dInput!, serial.dInput!, rtol: 1e-5, atol: 1e-5, "convT k\(k) dInput alone")
                XCTAssertEqual(inputOnly.dWeight.stats.max, 0); XCTAssertEqual(inputOnly.dWeight.stats.min, 0)
            }
        }
    }

    func testConvGradients() {
        for (k, s, tile) in [(1, 1, 1 << 22), (3, 1, 1 << 22), (3, 2, 30), (5, 2, 1 << 22), (9, 1, 1 << 22)] {
            let x = randomTensor([2, 3, 8, 7], seed: 10)
            let conv = Conv2D(weight: randomTensor([4, 3, k, k], seed: 11, -0.5, 0.5),
                              bias: randomTensor([4], seed: 12), stride: s)
            for batched in [false, true] {
                let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = batched ? 1 << 30 : 0
                let r = randomTensor(conv.outputShape(for: x.shape), seed: 13)
                let g = conv.backward(dOutput: r, input: x, workspace: ws)
                let loss = { dot(conv.forward(x, workspace: ws), r) }
                let what = "conv k\(k) s\(s) batched \(batched)"
                checkGradient("\(what) dInput", param: x, analytic: g.dInput!, loss: loss)
                checkGradient("\(what) dWeight", param: conv.weight, analytic: g.dWeight, loss: loss)
                checkGradient("\(what) dBias", param: conv.bias, analytic: g.dBias, loss: loss)
            }
        }
    }

    /// A stride-2 conv's dx both ways (W^T dy + col2im; the transposed conv of dy), each
    /// checked against finite differences on an even input, where both apply.
    func testStride2ConvInputGradientBothWays() {
        for k in [3, 5] {
            let x = randomTensor([2, 3, 8, 6], seed: 30)
            let conv = Conv2D(weight: randomTensor([4, 3, k, k], seed: 31, -0.5, 0.5), bias: randomTensor([4], seed: 32), stride: 2)
            let r = randomTensor(conv.outputShape(for: x.shape), seed: 33)
            let loss = { dot(conv.forward(x), r) }
            for path in [Conv2D.InputGradientAlgorithm.columns, .adjoint] {
                let g = conv.backward(dOutput: r, input: x, inputAlgorithm: path)
                checkGradient("conv k\(k) s2 dx by \(path)", param: x, analytic: g.dInput!, loss: loss)
                checkGradient("conv k\(k) s2 dWeight beside \(path)", param: conv.weight, analytic: g.dWeight, loss: loss)
            }
        }
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 4, kernel: 5, stride: 2).resolved(.automatic, for: [1, 3, 8, 7]), .columns,
                       "an odd width has no exact adjoint: the columns path")
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 4, kernel: 5, stride: 1).resolved(.automatic, for: [1, 3, 8, 8]), .columns)
        XCTAssertEqual(Conv2D(inChannels: 3, outChannels: 4, kernel: 5, stride: 2).resolved(.automatic, for: [1, 3, 8, 8]), .adjoint)
    }

    /// The adjoint dx equals the columns dx on every path the backward can take (per image,
    /// batch-parallel over two workers, the batch's columns side by side, tiled).
    func testAdjointInputGradientMatchesColumns() {
        let saved = EngineThreads.count
        defer { EngineThreads.set(saved) }
        for (k, batch, tile) in [(3, 1, 1 << 22), (5, 3, 1 << 22), (5, 2, 40), (9, 1, 200), (5, 4, 1 << 22)] {
            let x = randomTensor([batch, 6, 12, 10], seed: 34)
            let conv = Conv2D(weight: randomTensor([5, 6, k, k], seed: 35), bias: randomTensor([5], seed: 36), stride: 2)
            let dy = randomTensor(conv.outputShape(for: x.shape), seed: 37)
            for threads in [1, 2] {
                EngineThreads.set(threads)
                for batched in [false, true] {
                    let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = batched ? 1 << 30 : 0
                    let columns = conv.backward(dOutput: dy, input: x, inputAlgorithm: .columns, workspace: ws)
                    let adjoint = conv.backward(dOutput: dy, input: x, inputAlgorithm: .adjoint, workspace: ws)
                    let what = "k\(k) batch \(batch) tile \(tile) threads \(threads) batched \(batched)"
                    assertClose(adjoint.dInput!, columns.dInput!, rtol: 1e-5, atol: 1e-5, "\(what) dInput")
                    assertClose(adjoint.dWeight, columns.dWeight, rtol: 1e-5, atol: 1e-5, "\(what) dWeight")
                    let alone = conv.backward(dOutput: dy, input: x, weightGradient: false, inputAlgorithm: .adjoint, workspace: ws)
                    assertClose(alone.dInput!, columns.dInput!, rtol: 1e-5, atol: 1e-5, "\(what) dInput alone")
                    XCTAssertEqual(alone.dWeight.stats.max, 0, what)
                }
            }
        }
    }

    func testTransposedConvGradients() {
        for (k, tile) in [(1, 1 << 22), (3, 1 << 22), (5, 40), (9, 1 << 22)] {
            let x = randomTensor([2, 3, 4, 5], seed: 14)
            let t = TransposedConv2D(weight: randomTensor([3, 4, k, k], seed: 15, -0.5, 0.5),
                                     bias: randomTensor([4], seed: 16))
            for batched in [false, true] {
                let ws = Workspace(); ws.tileBudget = tile; ws.batchedPositions = batched ? 1 << 30 : 0
                let r = randomTensor(t.outputShape(for: x.shape), seed: 17)
                let g = t.backward(dOutput: r, input: x, workspace: ws)
                let loss = { dot(t.forward(x, workspace: ws), r) }
                let what = "convT k\(k) batched \(batched)"
                checkGradient("\(what) dInput", param: x, analytic: g.dInput!, loss: loss)
                checkGradient("\(what) dWeight", param: t.weight, analytic: g.dWeight, loss: loss)
                checkGradient("\(what) dBias", param: t.bias, analytic: g.dBias, loss: loss)
            }
        }
    }

    func testLargeInputKeepsTheColumnBufferBounded() {
        // A 1024 x 1024 image through a 9x9 conv would need 3*81*1M floats (~1 GB) untiled.
        let ws = Workspace()
        let conv = Conv2D(inChannels: 3, outChannels: 4, kernel: 9, stride: 1)
        _ = conv.forward(Tensor(zeros: [1, 3, 1024, 1024]), workspace: ws)
        XCTAssertLessThanOrEqual(ws.bytes, ws.tileBudget * 4 + 3 * 81 * 1024 * 4 + 64)
    }

    /// The batch's columns side by side (BatchedColumns) give what the per-image paths give, on
    /// the shapes it is used for (a few positions per image), each gradient alone too.
    func testBatchedColumnsMatchPerImagePaths() {
        for (k, s, shape) in [(3, 2, [8, 16, 4, 4]), (3, 2, [3, 8, 8, 6]), (5, 2, [2, 4, 6, 6]), (3, 1, [4, 5, 3, 5])] {
            let conv = Conv2D(weight: randomTensor([6, shape[1], k, k], seed: 31), bias: randomTensor([6], seed: 32), stride: s)
            assertBatchedMatchesPerImage(input: randomTensor(shape, seed: 30), outputShape: conv.outputShape(for: shape),
                                         "conv k\(k) s\(s) \(shape)", forward: conv.forward) {
                conv.backward(dOutput: $0, input: $1, inputGradient: $2, weightGradient: $3, workspace: $4)
            }
        }
        // Where it applies by default: the latent's 2 x 2 grid in a batch, not one image or a 16 x 16 grid.
        let latent = Conv2D(inChannels: 256, outChannels: 512, kernel: 3, stride: 2)
        let ws = Workspace()
        XCTAssertTrue(BatchedColumns.applies(batch: 8, positions: 4, workspace: ws))
        XCTAssertFalse(BatchedColumns.applies(batch: 1, positions: 4, workspace: ws))
        XCTAssertFalse(BatchedColumns.applies(batch: 8, positions: 256, workspace: ws))
        XCTAssertEqual(latent.outputShape(for: [8, 256, 4, 4]), [8, 512, 2, 2])
    }

    func testBatchedColumnsMatchPerImagePathsForTransposedConvs() {
        for (k, shape) in [(3, [8, 16, 2, 2]), (3, [3, 8, 4, 3]), (5, [2, 4, 4, 4]), (9, [4, 3, 3, 5])] {
            let t = TransposedConv2D(weight: randomTensor([shape[1], 6, k, k], seed: 35), bias: randomTensor([6], seed: 36))
            assertBatchedMatchesPerImage(input: randomTensor(shape, seed: 34), outputShape: t.outputShape(for: shape),
                                         "convT k\(k) \(shape)", forward: t.forward) {
                t.backward(dOutput: $0, input: $1, inputGradient: $2, weightGradient: $3, workspace: $4)
            }
        }
    }

    /// A layer's forward and backward with the batch's columns side by side against the per-image
    /// paths: y, dx, dW, db, and dx and dW each alone.
    private func assertBatchedMatchesPerImage(input x: Tensor, outputShape: [Int], _ what: String,
                                              forward: (Tensor, Workspace) -> Tensor,
                                              backward: (Tensor, Tensor, Bool, Bool, Workspace) -> ConvGradients,
                                              file: StaticString = #filePath, line: UInt = #line) {
        let dy = randomTensor(outputShape, seed: 33)
        let on = Workspace(), off = Workspace(); on.batchedPositions = 1 << 30; off.batchedPositions = 0
        assertClose(forward(x, on), forward(x, off), rtol: 1e-5, atol: 1e-5, "y \(what)", file: file, line: line)
        let a = backward(dy, x, true, true, on), b = backward(dy, x, true, true, off)
        assertClose(a.dInput!, b.dInput!, rtol: 1e-5, atol: 1e-5, "dx \(what)", file: file, line: line)
        assertClose(a.dWeight, b.dWeight, rtol: 1e-4, atol: 1e-5, "dW \(what)", file: file, line: line)
        assertClose(a.dBias, b.dBias, rtol: 1e-5, atol: 1e-5, "db \(what)", file: file, line: line)
        let dxOnly = backward(dy, x, true, false, on)
        assertClose(dxOnly.dInput!, b.dInput!, rtol: 1e-5, atol: 1e-5, "dx alone \(what)", file: file, line: line)
        XCTAssertEqual(dxOnly.dWeight.stats.max, 0, file: file, line: line)
        XCTAssertEqual(dxOnly.dWeight.stats.min, 0, file: file, line: line)
        let dWOnly = backward(dy, x, false, true, on)
        XCTAssertNil(dWOnly.dInput, file: file, line: line)
        assertClose(dWOnly.dWeight, b.dWeight, rtol: 1e-4, atol: 1e-5, "dW alone \(what)", file: file, line: line)
    }
}
