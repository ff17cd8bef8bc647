// Conv2D: PyTorch `Conv2d(cin, cout, k, stride s, padding (k-1)/2, bias=True)`.
// Forward = im2col + GEMM (tiled over output rows); backward = GEMM + col2im for dInput (or,
// for a stride-2 conv with k >= 5, the transposed conv of dy: see InputGradientAlgorithm) and
// GEMM against the same columns for dWeight.
//
// Size letters: N batch, Cin/Cout channels, H x W input, Ho x Wo output, k kernel,
// K = Cin*k*k, T the columns of one tile.

/// A square-kernel convolution with zero padding (k-1)/2 and a bias.
public struct Conv2D {
    /// (Cout, Cin, k, k) — PyTorch's conv weight layout `(out, in, kh, kw)`.
    public var weight: Tensor
    /// (Cout)
    public var bias: Tensor
    public let stride: Int

    public init(weight: Tensor, bias: Tensor, stride: Int) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3]
                     && weight.shape[2] % 2 == 1, "conv weight must be (out, in, k, k), k odd")
        precondition(bias.shape == [weight.shape[0]], "conv bias must be (out)")
        precondition(stride == 1 || stride == 2, "stride must be 1 or 2")
        self.weight = weight; self.bias = bias; self.stride = stride
    }

    /// A convolution with zero weights and bias.
    public init(inChannels: Int, outChannels: Int, kernel: Int, stride: Int) {
        self.init(weight: Tensor(zeros: [outChannels, inChannels, kernel, kernel]),
                  bias: Tensor(zeros: [outChannels]), stride: stride)
    }

    public var outChannels: Int { weight.shape[0] }
    public var inChannels: Int { weight.shape[1] }
    public var kernel: Int { weight.shape[2] }
    public var padding: Int { (kernel - 1) / 2 }

    /// The window geometry over one input image (Cin, H, W).
    public func geometry(height: Int, width: Int) -> ConvGeometry {
        ConvGeometry(channels: inChannels, height: height, width: width,
                     kernel: kernel, stride: stride, padding: padding)
    }

    /// Output shape for an input of shape (N, Cin, H, W).
    public func outputShape(for input: [Int]) -> [Int] {
        let g = geometry(height: input[2], width: input[3])
        return [input[0], outChannels, g.outHeight, g.outWidth]
    }

    /// Multiply-adds x 2 for one forward pass over an input of shape (N, Cin, H, W).
    public func flops(for input: [Int]) -> Double {
        let o = outputShape(for: input)
        return 2 * Double(o[0] * o[1] * o[2] * o[3]) * Double(inChannels * kernel * kernel)
    }

    /// y = conv(x) + b.  x (N, Cin, H, W) -> y (N, Cout, Ho, Wo).
    /// Each worker owns whole output-row tiles: im2col into its own column buffer, then a
    /// single-threaded GEMM into its rows of y, so the tile never leaves that core's cache.
    public func forward(_ x: Tensor, workspace: Workspace = .shared) -> Tensor {
        forward(x, algorithm: .automatic, workspace: workspace)
    }

    /// How the forward and the whole backward compute: im2col and GEMMs, Winograd's F(4, 3) on
    /// the input's four phases (Winograd.swift: 5 x 5 stride-2 convs), or the faster for the shape.
    public enum Algorithm: Sendable { case automatic, gemm, winograd }

    /// The algorithm the forward and backward use on an input of this shape: `.gemm` or `.winograd`.
    public func resolvedAlgorithm(_ algorithm: Algorithm = .automatic, for input: [Int]) -> Algorithm {
        switch algorithm {
        case .gemm: return .gemm
        case .winograd:
            precondition(winogradPossible(for: input), "the Winograd path needs a 5 x 5 stride-2 conv and an input side a multiple of 8")
            return .winograd
        case .automatic:
            return winogradPossible(for: input) && Winograd.isFaster(batch: input[0], height: input[2] / 2, width: input[3] / 2) ? .winograd : .gemm
        }
    }

    public func forward(_ x: Tensor, algorithm: Algorithm, workspace: Workspace = .shared) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels,
                     "conv expects (N, \(inChannels), H, W), got \(x.shapeString)")
        let y = Tensor(uninitialized: outputShape(for: x.shape))
        if resolvedAlgorithm(algorithm, for: x.shape) == .winograd {
            forwardWinograd(x, into: y, workspace: workspace)
            return y
        }
        let g = geometry(height: x.h, width: x.w)
        let ho = g.outHeight, wo = g.outWidth, kk = g.columnRows
        let workers = EngineThreads.count
        let tiling = RowTiling(count: ho, maxRows: g.rowsPerTile(budget: workspace.tileBudget / workers), workers: workers)
        let pointwise = kernel == 1 && stride == 1
        if !pointwise && BatchedColumns.applies(batch: x.n, positions: ho * wo, workspace: workspace) {
            forwardBatched(x, into: y, workspace: workspace)
            return y
        }
        let narrow = ho * wo < 512 * workers    // too few columns to split: split the GEMM's rows instead
        let buffers = (0..<workers).map { workspace.buffer($0, count: narrow ? kk * ho * wo : kk * tiling.maxRows * wo) }
        if workers > 1 && x.n >= workers {
            // Batch-parallel: each worker takes whole images (its own columns, serial GEMMs, the
            // image's row tiles one after another). Splitting each image between the workers
            // instead (a fork and join per image) gave the 3 x 3 layers no speed-up from a second
            // thread (enc3-enc5 forward at batch 8 x 64^2).
            parallelWorkers(x.n) { worker, images in
                for b in images {
                    let xb = x.data + b * inChannels * x.h * x.w, yb = y.data + b * outChannels * ho * wo
                    for tile in 0..<(narrow || pointwise ? 1 : tiling.tiles) {
                        let rows = narrow || pointwise ? 0..<ho : tiling.tileRange(tile)
                        if rows.isEmpty { continue }
                        let t = rows.count * wo
                        let cols = pointwise ? UnsafePointer(xb) : UnsafePointer(buffers[worker])
                        if !pointwise { im2col(buffers[worker], image: xb, geometry: g, rows: rows, parallel: false) }
                        // y[:, tile] (Cout, T) = W (Cout, K) * cols (K, T)
                        gemmSerial(yb + rows.lowerBound * wo, ldc: ho * wo, weight.data, lda: kk, transposeA: false,
                                   cols, ldb: t, transposeB: false, m: outChannels, n: t, k: kk)
                    }
                }
            }
            addBias(y, bias)
            return y
        }
        for b in 0..<x.n {
            let xb = x.data + b * inChannels * x.h * x.w        // (Cin, H, W)
            let yb = y.data + b * outChannels * ho * wo          // (Cout, Ho, Wo)
            if pointwise || narrow {
                let cols = pointwise ? UnsafePointer(xb) : UnsafePointer(buffers[0])
                if !pointwise { im2col(buffers[0], image: xb, geometry: g, rows: 0..<ho) }   // (K, Ho*Wo)
                // y (Cout, Ho*Wo) = W (Cout, K) * cols (K, Ho*Wo)
                gemm(yb, ldc: ho * wo, weight.data, lda: kk, transposeA: false,
                     cols, ldb: ho * wo, transposeB: false, m: outChannels, n: ho * wo, k: kk)
                continue
            }
            parallelWorkers(tiling.tiles) { worker, range in
                let cols = buffers[worker]
                for tile in range {
                    let rows = tiling.tileRange(tile)
                    let t = rows.count * wo
                    im2col(cols, image: xb, geometry: g, rows: rows, parallel: false)   // (K, T)
                    // y[:, tile] (Cout, T) = W (Cout, K) * cols (K, T)
                    gemmSerial(yb + rows.lowerBound * wo, ldc: ho * wo, weight.data, lda: kk, transposeA: false,
                               cols, ldb: t, transposeB: false, m: outChannels, n: t, k: kk)
                }
            }
        }
        addBias(y, bias)
        return y
    }

    /// How the backward computes dx: `.columns` (dCols = W^T dy, then col2im), `.adjoint` (a
    /// stride-2 conv's dx is the transposed conv of dy with the same weight tensor, computed as
    /// TransposedConv2D's forward: four sub-pixel GEMMs with K = Cout * taps, no col2im), or the
    /// faster of the two for the layer (`.automatic`).
    public enum InputGradientAlgorithm: Sendable { case automatic, columns, adjoint }

    /// The dx algorithm `backward` uses on an input of this shape. The adjoint needs stride 2 and
    /// an even H and W (the transposed conv's output is exactly 2 Ho x 2 Wo).
    public func resolved(_ algorithm: InputGradientAlgorithm, for input: [Int]) -> InputGradientAlgorithm {
        let possible = stride == 2 && input[2] % 2 == 0 && input[3] % 2 == 0
        switch algorithm {
        case .columns: return .columns
        case .adjoint:
            precondition(possible, "the adjoint dx needs stride 2 and an even input size")
            return .adjoint
        case .automatic: return possible && Conv2D.adjointIsFaster(kernel: kernel) ? .adjoint : .columns
        }
    }

    /// Measured with `drht bench --size 64 --batch 8` (2 threads, AMD EPYC, OpenBLAS Zen), whole
    /// backward, adjoint vs columns, ms: enc2 (5 x 5, 64 -> 64) 44 vs 63; the 3 x 3 layers lose
    /// (enc3 12.0 vs 8.9, enc4 11.7 vs 7.7, enc5 9.1 vs 7.8, latent 7.4 vs 6.7): with 1-4 taps a
    /// phase their sub-pixel GEMMs are too thin, while their col2im is cheap.
    static func adjointIsFaster(kernel: Int) -> Bool { kernel >= 5 }

    /// Gradients of a loss with respect to x, W and b, given dL/dy.
    /// dy (N, Cout, Ho, Wo), x (N, Cin, H, W) as passed to `forward`.
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true, weightGradient: Bool = true,
                         workspace: Workspace = .shared) -> ConvGradients {
        backward(dOutput: dy, input: x, inputGradient: inputGradient, weightGradient: weightGradient,
                 algorithm: .automatic, workspace: workspace)
    }

    /// The backward by the path `algorithm` names (`.automatic`: the one the forward takes, except
    /// that dx alone — attribution — takes the GEMM path: Winograd's transforms turn the zero taps
    /// of the phase windows into rounding noise, and a saliency map's support must be exact);
    /// the GEMM path's dx by `InputGradientAlgorithm.automatic`.
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true, weightGradient: Bool = true,
                         algorithm: Algorithm, workspace: Workspace = .shared) -> ConvGradients {
        let path = algorithm == .automatic && !weightGradient ? .gemm : resolvedAlgorithm(algorithm, for: x.shape)
        guard path == .winograd else {
            return backward(dOutput: dy, input: x, inputGradient: inputGradient, weightGradient: weightGradient,
                            inputAlgorithm: .automatic, workspace: workspace)
        }
        precondition(dy.shape == outputShape(for: x.shape), "dOutput shape mismatch")
        let dW = Tensor(zeros: weight.shape), dX = inputGradient ? Tensor(uninitialized: x.shape) : nil
        backwardWinograd(dOutput: dy, input: x, dX: dX, dW: weightGradient ? dW : nil, workspace: workspace)
        return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
    }

    /// The GEMM path's backward with dx by the path `inputAlgorithm` names.
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true, weightGradient: Bool = true,
                         inputAlgorithm: InputGradientAlgorithm, workspace: Workspace = .shared) -> ConvGradients {
        if inputGradient && resolved(inputAlgorithm, for: x.shape) == .adjoint {
            precondition(dy.shape == outputShape(for: x.shape), "dOutput shape mismatch")
            let adjoint = TransposedConv2D(weight: weight, bias: Tensor(zeros: [inChannels]))
            let dX = adjoint.forward(dy, algorithm: .gemm, workspace: workspace)
            var gradients = backward(dOutput: dy, input: x, inputGradient: false, weightGradient: weightGradient,
                                     inputAlgorithm: .columns, workspace: workspace)
            gradients.dInput = dX
            return gradients
        }
        let g = geometry(height: x.h, width: x.w)
        let ho = g.outHeight, wo = g.outWidth, kk = g.columnRows
        precondition(dy.shape == outputShape(for: x.shape), "dOutput shape mismatch")
        let dW = Tensor(zeros: weight.shape)                    // (Cout, Cin, k, k)
        let dX = inputGradient ? Tensor(zeros: x.shape) : nil   // (N, Cin, H, W)
        let workers = EngineThreads.count
        if !(kernel == 1 && stride == 1) && BatchedColumns.applies(batch: x.n, positions: ho * wo, workspace: workspace) {
            backwardBatched(dOutput: dy, input: x, dX: dX, dW: weightGradient ? dW : nil, workspace: workspace)
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        }
        if workers > 1 && x.n >= workers {
            // Batch-parallel: each worker takes whole images, with its own column tiles and its
            // own dW (summed at the end), so no GEMM, im2col or col2im waits on another thread.
            let tileRows = g.rowsPerTile(budget: workspace.tileBudget / workers)
            let pointwise = kernel == 1 && stride == 1
            BatchParallel.weightGradients(dW, batch: x.n, scratch: 2 * kk * tileRows * wo, workspace: workspace) { b, dWPart, scratch in
                let cols = scratch, dCols = scratch + kk * tileRows * wo
                let xb = x.data + b * inChannels * x.h * x.w        // (Cin, H, W)
                let dyb = dy.data + b * outChannels * ho * wo        // (Cout, Ho, Wo)
                var r0 = 0
                while r0 < ho {
                    let rows = r0..<min(ho, r0 + tileRows)
                    let t = rows.count * wo
                    // cols (K, T): the tile's windows; a 1x1 stride-1 conv's are the image itself
                    let tileCols = pointwise ? UnsafePointer(xb + r0 * wo) : UnsafePointer(cols)
                    let ldCols = pointwise ? ho * wo : t
                    if weightGradient {
                        if !pointwise { im2col(cols, image: xb, geometry: g, rows: rows, parallel: false) }
                        // dW (Cout, K) += dy[:, tile] (Cout, T) * cols^T (T, K)
                        gemmSerial(dWPart, ldc: kk, dyb + r0 * wo, lda: ho * wo, transposeA: false,
                                   tileCols, ldb: ldCols, transposeB: true, m: outChannels, n: kk, k: t, beta: 1)
                    }
                    if let dX {
                        let dxb = dX.data + b * inChannels * x.h * x.w
                        // dCols (K, T) = W^T (K, Cout) * dy[:, tile] (Cout, T), folded into dx
                        // (a 1x1 stride-1 conv's columns are dx's own rows: no fold)
                        gemmSerial(pointwise ? dxb + r0 * wo : dCols, ldc: ldCols, weight.data, lda: kk, transposeA: true,
                                   dyb + r0 * wo, ldb: ho * wo, transposeB: false, m: kk, n: t, k: outChannels)
                        if !pointwise { col2im(dxb, columns: dCols, geometry: g, rows: rows, parallel: false) }
                    }
                    r0 = rows.upperBound
                }
            }
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        }
        let tileRows = g.rowsPerTile(budget: workspace.tileBudget)
        let cols = workspace.buffer(0, count: kk * tileRows * wo)
        let dCols = workspace.buffer(1, count: kk * tileRows * wo)
        for b in 0..<x.n {
            let xb = x.data + b * inChannels * x.h * x.w        // (Cin, H, W)
            let dyb = dy.data + b * outChannels * ho * wo        // (Cout, Ho, Wo)
            var r0 = 0
            while r0 < ho {
                let rows = r0..<min(ho, r0 + tileRows)
                let t = rows.count * wo
                if weightGradient {
                    im2col(cols, image: xb, geometry: g, rows: rows) // (K, T)
                    // dW (Cout, K) += dy[:, tile] (Cout, T) * cols^T (T, K)
                    gemm(dW.data, ldc: kk, dyb + r0 * wo, lda: ho * wo, transposeA: false,
                         cols, ldb: t, transposeB: true, m: outChannels, n: kk, k: t, beta: 1)
                }
                if let dX {
                    // dCols (K, T) = W^T (K, Cout) * dy[:, tile] (Cout, T)
                    gemm(dCols, ldc: t, weight.data, lda: kk, transposeA: true,
                         dyb + r0 * wo, ldb: ho * wo, transposeB: false, m: kk, n: t, k: outChannels)
                    col2im(dX.data + b * inChannels * x.h * x.w, columns: dCols, geometry: g, rows: rows)
                }
                r0 = rows.upperBound
            }
        }
        return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
    }
}

/// Layers whose window grid is small (the deep ones: the latent is 2 x 2 for a 64^2 input) make
/// GEMMs with a few columns per image, which read the whole weight once per image. For them the
/// columns of all images sit side by side in one (K, N * P) matrix and each product runs once
/// for the batch.
public enum BatchedColumns {
    /// Window positions per image (P = Ho * Wo) below which the batch is put side by side.
    /// Measured per layer (2 threads, AMD EPYC, OpenBLAS Cooperlake), side by side vs per image,
    /// forward / backward ms: latent at 2 x 2 (batch 8) 1.40 vs 2.75 / 3.29 vs 8.62; enc5 at
    /// 4 x 4 1.50 vs 2.41 / 3.90 vs 4.51; latent at 4 x 4 (batch 4) 1.93 vs 2.50 / 4.47 vs 5.92;
    /// at 8 x 8 even (enc4 2.43 vs 3.08 / 5.74 vs 5.34); at 16 x 16 and more per image is
    /// faster (enc3 7.07 vs 5.04 / 11.22 vs 4.96).
    public static let threshold = 64

    static func applies(batch: Int, positions: Int, workspace: Workspace) -> Bool {
        batch > 1 && positions < workspace.batchedPositions
    }

    /// dst (C, N * P) from src (N, C, P): image b's planes become columns b * P ..< (b + 1) * P.
    static func gather(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, batch: Int, channels: Int, positions: Int) {
        parallelFor(channels) { c in
            for b in 0..<batch {
                (dst + c * batch * positions + b * positions).update(from: src + (b * channels + c) * positions, count: positions)
            }
        }
    }

    /// dst (N, C, P) from src (C, N * P), the inverse of `gather`.
    static func scatter(_ dst: UnsafeMutablePointer<Float>, from src: UnsafePointer<Float>, batch: Int, channels: Int, positions: Int) {
        parallelFor(channels) { c in
            for b in 0..<batch {
                (dst + (b * channels + c) * positions).update(from: src + c * batch * positions + b * positions, count: positions)
            }
        }
    }
}

extension Conv2D {
    /// The forward with the batch's columns side by side (BatchedColumns).
    func forwardBatched(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        let g = geometry(height: x.h, width: x.w)
        let p = g.outHeight * g.outWidth, kk = g.columnRows, n = x.n, np = n * p
        let cols = workspace.buffer(0, count: kk * np), out = workspace.buffer(1, count: outChannels * np)
        parallelFor(n) { b in
            im2col(cols + b * p, image: x.data + b * inChannels * x.h * x.w, geometry: g, rows: 0..<g.outHeight,
                   parallel: false, rowStride: np)
        }
        // out (Cout, N P) = W (Cout, K) * cols (K, N P)
        gemm(out, ldc: np, weight.data, lda: kk, transposeA: false, cols, ldb: np, transposeB: false,
             m: outChannels, n: np, k: kk)
        BatchedColumns.scatter(y.data, from: out, batch: n, channels: outChannels, positions: p)
        addBias(y, bias)
    }

    /// The backward with the batch's columns side by side: one GEMM each for dW and dx's columns.
    func backwardBatched(dOutput dy: Tensor, input x: Tensor, dX: Tensor?, dW: Tensor?, workspace: Workspace) {
        let g = geometry(height: x.h, width: x.w)
        let p = g.outHeight * g.outWidth, kk = g.columnRows, n = x.n, np = n * p
        let dyCat = workspace.buffer(0, count: outChannels * np)           // (Cout, N P)
        BatchedColumns.gather(dyCat, from: dy.data, batch: n, channels: outChannels, positions: p)
        let cols = workspace.buffer(1, count: kk * np)                     // (K, N P)
        if let dW {
            parallelFor(n) { b in
                im2col(cols + b * p, image: x.data + b * inChannels * x.h * x.w, geometry: g, rows: 0..<g.outHeight,
                       parallel: false, rowStride: np)
            }
            // dW (Cout, K) = dy (Cout, N P) * cols^T (N P, K)
            gemm(dW.data, ldc: kk, dyCat, lda: np, transposeA: false, cols, ldb: np, transposeB: true,
                 m: outChannels, n: kk, k: np)
        }
        if let dX {
            // dCols (K, N P) = W^T (K, Cout) * dy (Cout, N P), each image's block folded into its dx
            gemm(cols, ldc: np, weight.data, lda: kk, transposeA: true, dyCat, ldb: np, transposeB: false,
                 m: kk, n: np, k: outChannels)
            parallelFor(n) { b in
                col2im(dX.data + b * inChannels * x.h * x.w, columns: cols + b * p, geometry: g, rows: 0..<g.outHeight,
                       parallel: false, rowStride: np)
            }
        }
    }
}

/// The gradients of a convolution (plain or transposed).
public struct ConvGradients {
    /// Same shape as the input; nil when not requested.
    public var dInput: Tensor?
    /// Same shape as the weight (zero when not asked for).
    public var dWeight: Tensor
    /// (Cout)
    public var dBias: Tensor
}

/// y[n, c, :, :] += b[c].  y (N, C, H, W), b (C).
func addBias(_ y: Tensor, _ b: Tensor) {
    let plane = y.h * y.w, c = y.c
    parallelFor(y.n * c) { i in
        let v = b.data[i % c]
        let p = y.data + i * plane
        for j in 0..<plane { p[j] += v }
    }
}

/// db[c] = sum over n, y, x of dy[n, c, y, x].  dy (N, C, H, W) -> (C)
func sumOverBatchAndSpace(_ dy: Tensor) -> Tensor {
    let db = Tensor(zeros: [dy.c])
    let plane = dy.h * dy.w
    parallelFor(dy.c) { c in
        var s = 0.0
        for n in 0..<dy.n { s += laneSum(dy.data + (n * dy.c + c) * plane, count: plane) }
        db.data[c] = Float(s)
    }
    return db
}
