// TransposedConv2D: PyTorch `ConvTranspose2d(cin, cout, k, stride 2, padding (k-1)/2,
// output_padding 1)`, so the output is exactly 2H x 2W.
// Forward: four ordinary stride-1 convolutions, one per output phase (the pixels with a given
// row and column parity), each a gather of the taps that land on it + GEMM ("sub-pixel
// convolution"; no col2im, no overlapping writes) — or, for large kernels on large inputs
// (dec5 once a batch holds 64^2 input points), the same four through small FFTs
// (FFTTransposedConv.swift).
// Backward: the layer is the adjoint of a stride-2 conv from (Cout, 2H, 2W) to (Cin, H, W)
// with the same weight tensor, so dInput is that conv's forward, im2col over dy + GEMM, and
// dWeight a GEMM against the same columns — or, where the forward takes the FFT path, the
// FFT backward (dec5 in training, attribution and inference alike).
//
// Size letters: N batch, Cin/Cout channels, H x W input, Ho = 2H x Wo = 2W output, k kernel,
// K = Cout*k*k rows of the backward's column matrix, Kp = Cin*taps of one phase, T the input
// positions of one tile.

/// A stride-2 transposed convolution that doubles H and W, with a bias.
public struct TransposedConv2D {
    /// (Cin, Cout, k, k) — PyTorch's transposed-conv weight layout `(in, out, kh, kw)`.
    public var weight: Tensor
    /// (Cout)
    public var bias: Tensor
    public let stride = 2

    public init(weight: Tensor, bias: Tensor) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3]
                     && weight.shape[2] % 2 == 1, "transposed conv weight must be (in, out, k, k), k odd")
        precondition(bias.shape == [weight.shape[1]], "transposed conv bias must be (out)")
        self.weight = weight; self.bias = bias
    }

    public init(inChannels: Int, outChannels: Int, kernel: Int) {
        self.init(weight: Tensor(zeros: [inChannels, outChannels, kernel, kernel]),
                  bias: Tensor(zeros: [outChannels]))
    }

    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }
    public var kernel: Int { weight.shape[2] }
    public var padding: Int { (kernel - 1) / 2 }

    /// The geometry of the adjoint conv: windows over the *output* (Cout, 2H, 2W) whose grid
    /// is the input's H x W.
    public func geometry(height: Int, width: Int) -> ConvGeometry {
        let g = ConvGeometry(channels: outChannels, height: 2 * height, width: 2 * width,
                             kernel: kernel, stride: 2, padding: padding)
        assert(g.outHeight == height && g.outWidth == width)
        return g
    }

    /// (N, Cin, H, W) -> (N, Cout, 2H, 2W)
    public func outputShape(for input: [Int]) -> [Int] {
        [input[0], outChannels, 2 * input[2], 2 * input[3]]
    }

    /// Multiply-adds x 2 for one forward pass: every input pixel meets every weight once.
    public func flops(for input: [Int]) -> Double {
        2 * Double(input[0] * input[2] * input[3]) * Double(inChannels * outChannels * kernel * kernel)
    }

    /// y = convT(x) + b.  x (N, Cin, H, W) -> y (N, Cout, 2H, 2W).
    /// Computed as four ordinary stride-1 convolutions, one per output phase (py, px) — the
    /// pixels y[:, 2a + py, 2b + px] — each reading only the kernel taps that land on it
    /// ("sub-pixel convolution"). Each is a gather + GEMM with K = Cin * taps, and phases write
    /// disjoint pixels, so workers need no col2im and no locks.
    public func forward(_ x: Tensor, workspace: Workspace = .shared) -> Tensor {
        forward(x, algorithm: .automatic, workspace: workspace)
    }

    /// How `forward` computes: sub-pixel GEMMs, small FFTs (FFTTransposedConv.swift), Winograd's
    /// F(4, 3) per output phase (Winograd.swift, 5 x 5 kernels), or whichever is faster for the shape.
    public enum Algorithm: Sendable { case automatic, gemm, fft, winograd }

    /// The algorithm `forward` uses on an input of this shape: `.gemm`, `.fft` or `.winograd`.
    public func resolved(_ algorithm: Algorithm = .automatic, for input: [Int]) -> Algorithm {
        guard algorithm == .automatic else {
            precondition(algorithm != .winograd || winogradPossible(for: input), "the Winograd path needs k = 5 and whole 4 x 4 tiles")
            return algorithm
        }
        if FFTTransposedConv.isFaster(kernel: kernel, batch: input[0], height: input[2], width: input[3], outChannels: outChannels) {
            return .fft
        }
        return winogradPossible(for: input) && Winograd.isFaster(batch: input[0], height: input[2], width: input[3]) ? .winograd : .gemm
    }

    public func forward(_ x: Tensor, algorithm: Algorithm, workspace: Workspace = .shared) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels,
                     "transposed conv expects (N, \(inChannels), H, W), got \(x.shapeString)")
        let y = Tensor(uninitialized: outputShape(for: x.shape))
        switch resolved(algorithm, for: x.shape) {
        case .fft:
            FFTTransposedConv.forward(x, weight: weight, bias: bias, into: y)
            return y
        case .winograd:
            forwardWinograd(x, into: y, workspace: workspace)
            return y
        default: break
        }
        let h = x.h, w = x.w, cout = outChannels
        if BatchedColumns.applies(batch: x.n, positions: h * w, workspace: workspace) {
            forwardBatched(x, into: y, workspace: workspace)
            return y
        }
        let phases = SubPixelPhase.all(kernel: kernel)
        let phaseWeights = SubPixelPhase.weightMatrices(weight, phases: phases)   // each (Cout, Cin * taps)
        let maxK = phases.map { inChannels * $0.taps }.max()!
        let workers = EngineThreads.count
        let maxRows = max(1, workspace.tileBudget / workers / max(1, (maxK + cout) * w))
        // Batch-parallel when the batch has an image per worker: each worker takes whole images,
        // all four phases of each (serial GEMMs on its own buffers). Otherwise each image's
        // (phase, row tile) tasks are spread over the workers. (Per image, dec1-dec4 forward got
        // little from a second thread at batch 8 x 64^2: four phases of unequal taps on two
        // workers, and a fork and join per image.)
        let batchParallel = workers > 1 && x.n >= workers
        let tiling = RowTiling(count: h, maxRows: maxRows, workers: batchParallel ? 1 : max(1, workers / 4))
        let rowsPerTile = tiling.maxRows
        let buffers = (0..<workers).map { workspace.buffer($0, count: (maxK + cout) * rowsPerTile * w) }
        // One phase of one row tile of image b: gather, GEMM, and the phase's pixels of y.
        func phaseTile(_ b: Int, _ phase: SubPixelPhase, _ rows: Range<Int>, _ worker: Int) {
            let xb = x.data + b * inChannels * h * w              // (Cin, H, W)
            let yb = y.data + b * cout * 4 * h * w                // (Cout, 2H, 2W)
            let cols = buffers[worker]                            // (Kp, T)
            let out = buffers[worker] + maxK * rowsPerTile * w    // (Cout, T)
            let t = rows.count * w, kp = inChannels * phase.taps
            phase.gather(cols, image: xb, channels: inChannels, height: h, width: w, rows: rows)
            // out (Cout, T) = Wp (Cout, Kp) * cols (Kp, T)
            gemmSerial(out, ldc: t, phaseWeights[phase.index].data, lda: kp, transposeA: false,
                       cols, ldb: t, transposeB: false, m: cout, n: t, k: kp)
            // y[co, 2a + py, 2b + px] = out[co, a, b] + bias[co]
            for co in 0..<cout {
                let bias = self.bias.data[co]
                for (i, a) in rows.enumerated() {
                    let src = out + co * t + i * w
                    let dst = yb + (co * 2 * h + 2 * a + phase.py) * 2 * w + phase.px
                    for bx in 0..<w { dst[2 * bx] = src[bx] + bias }
                }
            }
        }
        if batchParallel {
            parallelWorkers(x.n) { worker, images in
                for b in images {
                    for tile in 0..<tiling.tiles {
                        let rows = tiling.tileRange(tile)
                        if rows.isEmpty { continue }
                        for phase in phases { phaseTile(b, phase, rows, worker) }
                    }
                }
            }
            return y
        }
        for b in 0..<x.n {
            parallelWorkers(4 * tiling.tiles) { worker, range in
                for task in range {
                    let rows = tiling.tileRange(task / 4)
                    if rows.isEmpty { continue }
                    phaseTile(b, phases[task % 4], rows, worker)    // phases interleaved so workers get equal work
                }
            }
        }
        return y
    }

    /// Gradients with respect to x, W and b, given dL/dy.
    /// dy (N, Cout, 2H, 2W), x (N, Cin, H, W) as passed to `forward`.
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true, weightGradient: Bool = true,
                         workspace: Workspace = .shared) -> ConvGradients {
        backward(dOutput: dy, input: x, inputGradient: inputGradient, weightGradient: weightGradient,
                 algorithm: .automatic, workspace: workspace)
    }

    /// The backward by the path `algorithm` names (`.automatic`: the one the forward takes).
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true, weightGradient: Bool = true,
                         algorithm: Algorithm, workspace: Workspace = .shared) -> ConvGradients {
        precondition(dy.shape == outputShape(for: x.shape), "dOutput shape mismatch")
        var path = resolved(algorithm, for: x.shape)
        // dx alone (attribution) does not go through Winograd, whose rounding would put noise where
        // the GEMM path's zeros are exact (see Conv2D.backward); the FFT path (dec5) keeps its own.
        if path == .winograd && algorithm == .automatic && !weightGradient { path = .gemm }
        switch path {
        case .fft:
            let dW = Tensor(zeros: weight.shape), dX = inputGradient ? Tensor(zeros: x.shape) : nil
            FFTTransposedConv.backward(dOutput: dy, input: x, weight: weight, dx: dX, dWeight: weightGradient ? dW : nil)
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        case .winograd:
            let dW = Tensor(zeros: weight.shape), dX = inputGradient ? Tensor(uninitialized: x.shape) : nil
            backwardWinograd(dOutput: dy, input: x, dX: dX, dW: weightGradient ? dW : nil, workspace: workspace)
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        default: break
        }
        let g = geometry(height: x.h, width: x.w)
        let hw = x.h * x.w, kk = g.columnRows
        let dW = Tensor(zeros: weight.shape)                    // (Cin, Cout, k, k)
        let dX = inputGradient ? Tensor(uninitialized: x.shape) : nil   // (N, Cin, H, W), every point written below
        if BatchedColumns.applies(batch: x.n, positions: hw, workspace: workspace) {
            backwardBatched(dOutput: dy, input: x, dX: dX, dW: weightGradient ? dW : nil, workspace: workspace)
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        }
        let workers = EngineThreads.count
        if workers > 1 && x.n >= workers {
            // Batch-parallel, as Conv2D.backward: whole images per worker, dW summed at the end.
            let tileRows = g.rowsPerTile(budget: workspace.tileBudget / workers)
            BatchParallel.weightGradients(dW, batch: x.n, scratch: kk * tileRows * x.w, workspace: workspace) { b, dWPart, cols in
                let xb = x.data + b * inChannels * hw                // (Cin, H, W)
                let dyb = dy.data + b * outChannels * dy.h * dy.w    // (Cout, 2H, 2W)
                var r0 = 0
                while r0 < x.h {
                    let rows = r0..<min(x.h, r0 + tileRows)
                    let t = rows.count * x.w
                    im2col(cols, image: dyb, geometry: g, rows: rows, parallel: false)   // (K, T)
                    if weightGradient {
                        // dW (Cin, K) += x[:, tile] (Cin, T) * cols^T (T, K)
                        gemmSerial(dWPart, ldc: kk, xb + r0 * x.w, lda: hw, transposeA: false,
                                   cols, ldb: t, transposeB: true, m: inChannels, n: kk, k: t, beta: 1)
                    }
                    if let dX {
                        // dx[:, tile] (Cin, T) = W (Cin, K) * cols (K, T)
                        gemmSerial(dX.data + b * inChannels * hw + r0 * x.w, ldc: hw, weight.data, lda: kk, transposeA: false,
                                   cols, ldb: t, transposeB: false, m: inChannels, n: t, k: kk)
                    }
                    r0 = rows.upperBound
                }
            }
            return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
        }
        let tileRows = g.rowsPerTile(budget: workspace.tileBudget)
        let cols = workspace.buffer(0, count: kk * tileRows * x.w)
        for b in 0..<x.n {
            let xb = x.data + b * inChannels * hw
            let dyb = dy.data + b * outChannels * dy.h * dy.w
            var r0 = 0
            while r0 < x.h {
                let rows = r0..<min(x.h, r0 + tileRows)
                let t = rows.count * x.w
                im2col(cols, image: dyb, geometry: g, rows: rows)   // (K, T)
                if weightGradient {
                    // dW (Cin, K) += x[:, tile] (Cin, T) * cols^T (T, K)
                    gemm(dW.data, ldc: kk, xb + r0 * x.w, lda: hw, transposeA: false,
                         cols, ldb: t, transposeB: true, m: inChannels, n: kk, k: t, beta: 1)
                }
                if let dX {
                    // dx[:, tile] (Cin, T) = W (Cin, K) * cols (K, T)
                    gemm(dX.data + b * inChannels * hw + r0 * x.w, ldc: hw,
                         weight.data, lda: kk, transposeA: false,
                         cols, ldb: t, transposeB: false, m: inChannels, n: t, k: kk)
                }
                r0 = rows.upperBound
            }
        }
        return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
    }
}

extension TransposedConv2D {
    /// The forward with the batch's columns side by side (BatchedColumns, Conv2D.swift), as the
    /// adjoint of the backward's dx: one GEMM for the batch, cols (Cout k^2, N P) = W^T x, whose
    /// columns col2im adds into the output windows (the adjoint conv's geometry). The same
    /// multiply-adds as the four phases' GEMMs, without rearranging W into phase matrices
    /// first: at 2 x 2 and 4 x 4 inputs (dec1, dec2) that rearrangement cost more than the GEMMs.
    func forwardBatched(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        let g = geometry(height: x.h, width: x.w)
        let p = x.h * x.w, n = x.n, np = n * p, kk = g.columnRows, plane = outChannels * 4 * p
        let xCat = workspace.buffer(1, count: inChannels * np)              // (Cin, N P)
        BatchedColumns.gather(xCat, from: x.data, batch: n, channels: inChannels, positions: p)
        let cols = workspace.buffer(0, count: kk * np)                      // (Cout k^2, N P)
        gemm(cols, ldc: np, weight.data, lda: kk, transposeA: true, xCat, ldb: np, transposeB: false,
             m: kk, n: np, k: inChannels)
        parallelFor(n) { b in
            let yb = y.data + b * plane
            yb.initialize(repeating: 0, count: plane)
            col2im(yb, columns: cols + b * p, geometry: g, rows: 0..<x.h, parallel: false, rowStride: np)
        }
        addBias(y, bias)
    }

    /// The backward with the batch's columns side by side: dy's windows of every image in one
    /// (K, N * P) matrix, one GEMM each for dW and dx.
    func backwardBatched(dOutput dy: Tensor, input x: Tensor, dX: Tensor?, dW: Tensor?, workspace: Workspace) {
        let g = geometry(height: x.h, width: x.w)
        let p = x.h * x.w, n = x.n, np = n * p, kk = g.columnRows
        let cols = workspace.buffer(0, count: kk * np)                     // (K, N P)
        parallelFor(n) { b in
            im2col(cols + b * p, image: dy.data + b * outChannels * 4 * p, geometry: g, rows: 0..<x.h, parallel: false, rowStride: np)
        }
        if let dW {
            let xCat = workspace.buffer(1, count: inChannels * np)         // (Cin, N P)
            BatchedColumns.gather(xCat, from: x.data, batch: n, channels: inChannels, positions: p)
            // dW (Cin, K) = x (Cin, N P) * cols^T (N P, K)
            gemm(dW.data, ldc: kk, xCat, lda: np, transposeA: false, cols, ldb: np, transposeB: true,
                 m: inChannels, n: kk, k: np)
        }
        if let dX {
            let dxCat = workspace.buffer(2, count: inChannels * np)        // (Cin, N P)
            // dx (Cin, N P) = W (Cin, K) * cols (K, N P)
            gemm(dxCat, ldc: np, weight.data, lda: kk, transposeA: false, cols, ldb: np, transposeB: false,
                 m: inChannels, n: np, k: kk)
            BatchedColumns.scatter(dX.data, from: dxCat, batch: n, channels: inChannels, positions: p)
        }
    }
}

/// One output phase of a stride-2 transposed convolution with padding p = (k-1)/2:
/// y[:, 2a + py, 2b + px] = sum over taps (ky, kx) with ky = py + p (mod 2), kx = px + p (mod 2)
/// of W[:, :, ky, kx]^T x[:, a + dy, b + dx], where dy = (py + p - ky) / 2, dx likewise.
struct SubPixelPhase {
    let index: Int
    let py: Int, px: Int
    let tapsY: [(k: Int, d: Int)]
    let tapsX: [(k: Int, d: Int)]
    var taps: Int { tapsY.count * tapsX.count }

    static func all(kernel k: Int) -> [SubPixelPhase] {
        let p = (k - 1) / 2
        func taps(_ phase: Int) -> [(k: Int, d: Int)] {
            (0..<k).filter { (phase + p - $0) % 2 == 0 }.map { ($0, (phase + p - $0) / 2) }
        }
        return [(0, 0), (0, 1), (1, 0), (1, 1)].enumerated().map { i, ph in
            SubPixelPhase(index: i, py: ph.0, px: ph.1, tapsY: taps(ph.0), tapsX: taps(ph.1))
        }
    }

    /// Wp (Cout, Cin * |tapsY| * |tapsX|) of every phase from W (Cin, Cout, k, k); column =
    /// (ci, ty, tx). One pass over W for all phases, blocks of 16 output channels per task: W is
    /// read in order (for each ci, the block's k x k kernels are contiguous) and each phase row is
    /// written in order as ci advances. (A phase at a time, row by row, read W a whole
    /// Cout k^2 floats apart at every step: dec1's four phase matrices, 1.2M floats, took longer
    /// than its GEMMs.)
    static func weightMatrices(_ w: Tensor, phases: [SubPixelPhase]) -> [Tensor] {
        let cin = w.shape[0], cout = w.shape[1], k = w.shape[2]
        let matrices = phases.map { Tensor(uninitialized: [cout, cin * $0.taps]) }
        // Offsets ky * k + kx of each phase's taps in (ty, tx) order, all phases in one array.
        let offsets = phases.flatMap { p in p.tapsY.flatMap { ty in p.tapsX.map { tx in ty.k * k + tx.k } } }
        let starts = phases.reduce(into: [0]) { $0.append($0.last! + $1.taps) }
        let destinations = matrices.map(\.data)
        let block = 16
        offsets.withUnsafeBufferPointer { offsets in
            starts.withUnsafeBufferPointer { starts in
                destinations.withUnsafeBufferPointer { destinations in
                    parallelFor((cout + block - 1) / block) { blk in
                        for ci in 0..<cin {
                            for co in blk * block..<min(cout, (blk + 1) * block) {
                                let src = w.data + (ci * cout + co) * k * k
                                for p in 0..<destinations.count {
                                    let taps = starts[p + 1] - starts[p]
                                    var dst = destinations[p] + (co * cin + ci) * taps
                                    for o in starts[p]..<starts[p + 1] { dst.pointee = src[offsets[o]]; dst += 1 }
                                }
                            }
                        }
                    }
                }
            }
        }
        return matrices
    }

    /// columns (Kp, T): row (ci, ty, tx), column (a - a0, b) = x[ci, a + dy, b + dx] or 0.
    /// Row stride `rowStride` (T by default), as in `im2col`.
    func gather(_ columns: UnsafeMutablePointer<Float>, image: UnsafePointer<Float>,
                channels: Int, height h: Int, width w: Int, rows: Range<Int>, rowStride: Int? = nil) {
        let t = rowStride ?? rows.count * w
        var r = 0
        for ci in 0..<channels {
            let plane = image + ci * h * w
            for tapY in tapsY {
                for tapX in tapsX {
                    let dst = columns + r * t
                    let lo = max(0, -tapX.d), hi = min(w, w - tapX.d)
                    for (i, a) in rows.enumerated() {
                        let line = dst + i * w
                        let iy = a + tapY.d
                        if iy < 0 || iy >= h || lo >= hi { line.update(repeating: 0, count: w); continue }
                        if lo > 0 { line.update(repeating: 0, count: lo) }
                        if hi < w { (line + hi).update(repeating: 0, count: w - hi) }
                        (line + lo).update(from: plane + iy * w + lo + tapX.d, count: hi - lo)
                    }
                    r += 1
                }
            }
        }
    }
}

// MARK: - Phase balance

extension TransposedConv2D {
    /// The output phase (row or column parity) that kernel tap `k` lands on: output o = 2i - p + k.
    public func phase(ofTap k: Int) -> Int { ((k - padding) % 2 + 2) % 2 }

    /// Makes the four output phases' DC gains equal for every (in, out) pair: from each tap
    /// it subtracts its phase's excess over the mean of the four phase sums, shared evenly by
    /// that phase's taps (each phase keeps its shape, shifted by a constant). A constant
    /// input then gives a constant output away from the borders, instead of a pattern that
    /// repeats every 2 pixels, which five such layers stack into the 32-pixel lattice.
    public func balancePhases() {
        let k = kernel, cin = inChannels, cout = outChannels
        var count = [Int](repeating: 0, count: 4)
        for ky in 0..<k { for kx in 0..<k { count[phase(ofTap: ky) * 2 + phase(ofTap: kx)] += 1 } }
        let w = weight.data
        for pair in 0..<(cin * cout) {
            let base = w + pair * k * k
            var sum = [Float](repeating: 0, count: 4)
            for ky in 0..<k { for kx in 0..<k { sum[phase(ofTap: ky) * 2 + phase(ofTap: kx)] += base[ky * k + kx] } }
            let mean = (sum[0] + sum[1] + sum[2] + sum[3]) / 4
            for ky in 0..<k { for kx in 0..<k {
                let g = phase(ofTap: ky) * 2 + phase(ofTap: kx)
                base[ky * k + kx] -= (sum[g] - mean) / Float(count[g])
            }}
        }
    }

    /// The largest difference between two phases' DC gains over all (in, out) pairs (0 when balanced).
    public func phaseImbalance() -> Float {
        let k = kernel
        var worst: Float = 0
        for pair in 0..<(inChannels * outChannels) {
            var sum = [Float](repeating: 0, count: 4)
            for ky in 0..<k { for kx in 0..<k { sum[phase(ofTap: ky) * 2 + phase(ofTap: kx)] += weight.data[pair * k * k + ky * k + kx] } }
            worst = max(worst, sum.max()! - sum.min()!)
        }
        return worst
    }
}
