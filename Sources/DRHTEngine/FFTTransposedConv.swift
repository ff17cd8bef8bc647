// The forward of a stride-2 transposed convolution with a large kernel (dec5's 9 x 9) through
// small FFTs: the same result as the sub-pixel GEMM path in TransposedConv2D.forward, with
// about a fifth of the arithmetic. Measured at 256^2 -> 512^2, 64 -> 64 channels, 2 threads
// (`drht bench` prints both paths): 160-190 ms against 270-320 ms for the GEMM path.
//
// The four output phases of the layer (see SubPixelPhase) are four stride-1 correlations of
// the input, each with its own r x r kernel (r = 5 for k = 9, the taps of all phases placed in
// one window, missing taps zero). Stacked, that is one correlation with Q = 4 * Cout output
// channels, computed tile by tile with overlap-save:
//   1. every N x N input tile (N = 16, tiles V = N - r + 1 = 12 apart) of every input channel
//      goes through a 2-D FFT — F = N * (N/2 + 1) frequencies are kept (the rest follow by
//      conjugate symmetry, the input being real);
//   2. for each frequency f, one complex matrix product Y_f (Q, tiles) = conj(K_f) (Q, Cin) X_f (Cin, tiles),
//      K_f the kernels' spectra (a correlation is a product with the conjugate spectrum), done
//      as one real sgemm on split real / imaginary parts:
//      [Yr; Yi] (2Q, tiles) = [Kr -Ki; Ki Kr] (2Q, 2Cin) [Xr; Xi] (2Cin, tiles);
//   3. two output channels at a time go back through one complex inverse FFT (the first in the
//      real part, the second in the imaginary part); the V x V points of a tile that no
//      circular wrap reached are the correlation, written to their phase's pixels plus bias.
// Step 2 does 4 F / V^2 = 4 real multiply-adds per output pixel, input channel and output
// channel where the GEMM path does 81 / 4 ~ 20 (k = 9); the FFTs cost about as much again.
// Two real inputs share one complex FFT (one in the real part, one in the imaginary part,
// separated afterwards by conjugate symmetry), as do two real outputs.
//
// The kernels' spectra depend only on the weights: they are kept for reuse (KernelSpectra).
//
// The FFTs run on 16 lanes: 16 independent transforms, element i of all of them one
// SIMD16<Float>, so every butterfly is a vector operation.
//
// Size letters: Cin/Cout channels, H x W input, Q = 4 Cout, N FFT size, V valid outputs per
// tile side, F kept frequencies, L lanes (tiles or channels per batch of FFTs), Tc tiles per chunk.
import Foundation

/// 16 independent transforms side by side.
typealias FFTLanes = SIMD16<Float>

/// Radix-2 complex FFTs of one power-of-two size on 16 lanes at once.
struct LaneFFT {
    static let lanes = FFTLanes.scalarCount
    let n: Int
    /// cos / sin of 2 pi j / n for j < n / 2.
    private let cosTable: [Float], sinTable: [Float]
    private let swaps: [(Int, Int)]

    init(size n: Int) {
        precondition(n >= 2 && n & (n - 1) == 0, "FFT size must be a power of two")
        self.n = n
        cosTable = (0..<n / 2).map { Float(cos(2 * Double.pi * Double($0) / Double(n))) }
        sinTable = (0..<n / 2).map { Float(sin(2 * Double.pi * Double($0) / Double(n))) }
        let bits = n.trailingZeroBitCount
        var swaps: [(Int, Int)] = []
        for i in 0..<n {
            var r = 0
            for b in 0..<bits where i & (1 << b) != 0 { r |= 1 << (bits - 1 - b) }
            if r > i { swaps.append((i, r)) }
        }
        self.swaps = swaps
    }

    /// In place, on elements (re, im)[i * stride], i < n: X[f] = sum_i x[i] exp(-2 pi i f i / n),
    /// or with the + sign (unscaled) when `inverse`.
    @inline(__always)
    func transform(_ re: UnsafeMutablePointer<FFTLanes>, _ im: UnsafeMutablePointer<FFTLanes>,
                   stride: Int, inverse: Bool) {
        for (i, j) in swaps {
            let ia = i * stride, ib = j * stride
            let tr = re[ia], ti = im[ia]
            re[ia] = re[ib]; im[ia] = im[ib]; re[ib] = tr; im[ib] = ti
        }
        var half = 1
        while half < n {
            let step = n / (2 * half)
            for j in 0..<half {
                let wr = cosTable[j * step], wi = inverse ? sinTable[j * step] : -sinTable[j * step]
                var a = j
                while a < n {
                    let ia = a * stride, ib = (a + half) * stride
                    let br = re[ib], bi = im[ib], ar = re[ia], ai = im[ia]
                    let tr = wr * br - wi * bi, ti = wr * bi + wi * br
                    re[ib] = ar - tr; im[ib] = ai - ti
                    re[ia] = ar + tr; im[ia] = ai + ti
                    a += 2 * half
                }
            }
            half *= 2
        }
    }

    /// 2-D transform of an n x n block, element (y, x) at index y * n + x. Forward: rows, then
    /// columns. Inverse: columns, then only the first `keptRows` rows (the others are not read).
    func transform2D(_ re: UnsafeMutablePointer<FFTLanes>, _ im: UnsafeMutablePointer<FFTLanes>,
                     inverse: Bool, keptRows: Int? = nil) {
        if inverse {
            for x in 0..<n { transform(re + x, im + x, stride: n, inverse: true) }
            for y in 0..<(keptRows ?? n) { transform(re + y * n, im + y * n, stride: 1, inverse: true) }
        } else {
            for y in 0..<n { transform(re + y * n, im + y * n, stride: 1, inverse: false) }
            for x in 0..<n { transform(re + x, im + x, stride: n, inverse: false) }
        }
    }
}

/// The FFT forward of a stride-2 transposed convolution (see the file header).
struct FFTTransposedConv {
    static let fftSize = 16
    /// Tiles per chunk (a multiple of 16): the chunk's spectra, 2 (Cin + Q) F Tc floats, are
    /// ~23 MB for dec5. (N = 32 tiles were measured too: 7% less GEMM work, slower FFTs, no gain.)
    static let chunkTiles = 64

    /// Whether the FFT path is the faster one. Measured for dec5 (k = 9, 64 -> 64 channels,
    /// 2 threads; `drht bench --size N` prints both paths): with the kernels' spectra already
    /// computed, 14.7 vs 18.6 ms at a 64^2 input, 53 vs 80 ms at 128^2, 160-190 vs 270-320 ms
    /// at 256^2; computing the spectra costs ~20 ms more (the first call, and every training
    /// step, whose weights are new). So: inputs of 128^2 and more. For k <= 5 the GEMM path
    /// does fewer operations.
    static func isFaster(kernel: Int, height: Int, width: Int, outChannels: Int) -> Bool {
        kernel >= 7 && outChannels % 2 == 0 && height * width >= 128 * 128
    }

    /// y (N, Cout, 2H, 2W) = convT(x) + bias, for x (N, Cin, H, W) and weight (Cin, Cout, k, k).
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor, into y: Tensor) {
        let cin = weight.shape[0], cout = weight.shape[1], k = weight.shape[2]
        let h = x.h, w = x.w, q = 4 * cout
        precondition(cout % 2 == 0, "the FFT path pairs output channels")
        let phases = SubPixelPhase.all(kernel: k)
        let ds = phases.flatMap { $0.tapsY.map(\.d) }
        let dMin = ds.min()!, r = ds.max()! - dMin + 1
        let n = fftSize, v = n - r + 1, nf = n / 2 + 1, f = n * nf, lanes = LaneFFT.lanes
        precondition(v > 0, "kernel too large for the FFT tile")
        let fft = LaneFFT(size: n)
        let tilesY = (h + v - 1) / v, tilesX = (w + v - 1) / v, tiles = tilesY * tilesX
        let tc = min(chunkTiles, (tiles + lanes - 1) / lanes * lanes)
        let workers = EngineThreads.count

        // Per worker: one n x n block of lanes, real and imaginary.
        let scratch = UnsafeMutablePointer<FFTLanes>.allocate(capacity: workers * 2 * n * n)
        defer { scratch.deallocate() }
        let spectra = KernelSpectra.cached(weight: weight, phases: phases, dMin: dMin, fft: fft)
        defer { withExtendedLifetime(spectra) {} }
        let kernelBlocks = spectra.blocks
        let xSpectra = UnsafeMutablePointer<Float>.allocate(capacity: f * 2 * cin * tc)   // (F, 2Cin, Tc)
        defer { xSpectra.deallocate() }
        let ySpectra = UnsafeMutablePointer<Float>.allocate(capacity: f * 2 * q * tc)     // (F, 2Q, Tc)
        defer { ySpectra.deallocate() }
        func load(_ p: UnsafePointer<Float>) -> FFTLanes { UnsafeRawPointer(p).loadUnaligned(as: FFTLanes.self) }
        func store(_ value: FFTLanes, _ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: value, as: FFTLanes.self)
        }
        let cinPairs = (cin + 1) / 2
        for b in 0..<x.n {
            let xb = x.data + b * cin * h * w, yb = y.data + b * cout * 4 * h * w
            var chunk0 = 0
            while chunk0 < tiles {
                let count = min(tc, tiles - chunk0), activeGroups = (count + lanes - 1) / lanes
                // 1. input tiles, two channels per FFT -> [Xr; Xi] (F, 2Cin, Tc)
                parallelWorkers(cinPairs * activeGroups) { worker, range in
                    let re = scratch + worker * 2 * n * n, im = re + n * n
                    for task in range {
                        let c1 = 2 * (task / activeGroups), g = task % activeGroups
                        let plane1 = xb + c1 * h * w, plane2: UnsafeMutablePointer<Float>? = c1 + 1 < cin ? plane1 + h * w : nil
                        re.update(repeating: .zero, count: n * n); im.update(repeating: .zero, count: n * n)
                        for l in 0..<min(lanes, count - g * lanes) {
                            let t = chunk0 + g * lanes + l
                            let y0 = (t / tilesX) * v + dMin, x0 = (t % tilesX) * v + dMin
                            let jlo = max(0, -x0), jhi = min(n, w - x0)
                            for i in max(0, -y0)..<min(n, h - y0) where jlo < jhi {
                                let row = (y0 + i) * w + x0
                                for j in jlo..<jhi { re[i * n + j][l] = plane1[row + j] }
                                if let plane2 { for j in jlo..<jhi { im[i * n + j][l] = plane2[row + j] } }
                            }
                        }
                        fft.transform2D(re, im, inverse: false)
                        // Z = X1 + i X2 -> X1 = (Z(k) + conj Z(-k)) / 2, X2 = (Z(k) - conj Z(-k)) / 2i
                        for fy in 0..<n {
                            for fx in 0..<nf {
                                let kk = fy * n + fx, mk = ((n - fy) % n) * n + (n - fx) % n
                                let a = re[kk], bb = im[kk], c = re[mk], d = im[mk]
                                let base = xSpectra + (fy * nf + fx) * 2 * cin * tc + g * lanes
                                store(0.5 * (a + c), base + c1 * tc)
                                store(0.5 * (bb - d), base + (cin + c1) * tc)
                                if c1 + 1 < cin {
                                    store(0.5 * (bb + d), base + (c1 + 1) * tc)
                                    store(0.5 * (c - a), base + (cin + c1 + 1) * tc)
                                }
                            }
                        }
                    }
                }
                // 2. [Yr; Yi] (2Q, Tc) = [Kr -Ki; Ki Kr] (2Q, 2Cin) [Xr; Xi] (2Cin, Tc), per frequency
                let columns = activeGroups * lanes
                parallelChunks(f) { range in
                    for fi in range {
                        gemmSerial(ySpectra + fi * 2 * q * tc, ldc: tc, kernelBlocks + fi * 4 * q * cin, lda: 2 * cin,
                                   transposeA: false, xSpectra + fi * 2 * cin * tc, ldb: tc, transposeB: false,
                                   m: 2 * q, n: columns, k: 2 * cin)
                    }
                }
                // 3. two output channels per inverse FFT (Z = Y1 + i Y2) -> y, plus bias
                parallelWorkers(q / 2 * activeGroups) { worker, range in
                    let re = scratch + worker * 2 * n * n, im = re + n * n
                    for task in range {
                        let q1 = 2 * (task / activeGroups), g = task % activeGroups
                        for fy in 0..<n {
                            for fx in 0..<n {
                                let mirrored = fx >= nf       // Y(fy, fx) = conj(Y(-fy, -fx))
                                let sy = mirrored ? (n - fy) % n : fy, sx = mirrored ? n - fx : fx
                                let base = ySpectra + (sy * nf + sx) * 2 * q * tc + g * lanes
                                let y1r = load(base + q1 * tc), y2r = load(base + (q1 + 1) * tc)
                                let y1i = load(base + (q + q1) * tc), y2i = load(base + (q + q1 + 1) * tc)
                                if mirrored {
                                    re[fy * n + fx] = y1r + y2i; im[fy * n + fx] = y2r - y1i
                                } else {
                                    re[fy * n + fx] = y1r - y2i; im[fy * n + fx] = y1i + y2r
                                }
                            }
                        }
                        fft.transform2D(re, im, inverse: true, keptRows: v)
                        let phase = phases[q1 / cout], co1 = q1 % cout
                        let bias1 = bias.data[co1], bias2 = bias.data[co1 + 1]
                        let plane1 = yb + co1 * 4 * h * w, plane2 = plane1 + 4 * h * w
                        for l in 0..<min(lanes, count - g * lanes) {
                            let t = chunk0 + g * lanes + l
                            let a0 = (t / tilesX) * v, b0 = (t % tilesX) * v
                            for u in 0..<min(v, h - a0) {
                                let o = (2 * (a0 + u) + phase.py) * 2 * w + 2 * b0 + phase.px
                                for c in 0..<min(v, w - b0) {
                                    plane1[o + 2 * c] = re[u * n + c][l] + bias1
                                    plane2[o + 2 * c] = im[u * n + c][l] + bias2
                                }
                            }
                        }
                    }
                }
                chunk0 += count
            }
        }
    }
}

/// A transposed conv's kernels in the frequency domain, as step 2 reads them: per frequency
/// the (2Q, 2Cin) real block [Kr -Ki; Ki Kr] of conj(K_f) / n^2 (the inverse FFT's scale folded
/// in); channel q = phase * Cout + co. Computing them takes about a tenth of the layer's time,
/// so the last few are kept, found again by a hash of every weight's bits: inference reuses
/// them, while a training step, which changes the weights, computes new ones.
final class KernelSpectra: @unchecked Sendable {
    let blocks: UnsafeMutablePointer<Float>
    let key: Key

    struct Key: Equatable {
        let shape: [Int]
        let hash: UInt64
        let fftSize: Int
    }

    private init(key: Key, count: Int) {
        self.key = key
        blocks = .allocate(capacity: count)
    }

    deinit { blocks.deallocate() }

    /// At most this many are kept (dec5 of each network: 2 x 38 MB).
    static let capacity = 2
    nonisolated(unsafe) private static var recent: [KernelSpectra] = []
    private static let lock = NSLock()

    static func cached(weight: Tensor, phases: [SubPixelPhase], dMin: Int, fft: LaneFFT) -> KernelSpectra {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325           // FNV-1a over the weights' bit patterns
        weight.data.withMemoryRebound(to: UInt32.self, capacity: weight.count) { bits in
            for i in 0..<weight.count { hash = (hash ^ UInt64(bits[i])) &* 0x100_0000_01b3 }
        }
        let key = Key(shape: weight.shape, hash: hash, fftSize: fft.n)
        lock.lock()
        if let i = recent.firstIndex(where: { $0.key == key }) {
            let found = recent.remove(at: i)
            recent.append(found)
            lock.unlock()
            return found
        }
        lock.unlock()
        let spectra = compute(weight: weight, phases: phases, dMin: dMin, fft: fft, key: key)
        lock.lock()
        recent.append(spectra)
        if recent.count > capacity { recent.removeFirst() }
        lock.unlock()
        return spectra
    }

    private static func compute(weight: Tensor, phases: [SubPixelPhase], dMin: Int, fft: LaneFFT, key: Key) -> KernelSpectra {
        let cin = weight.shape[0], cout = weight.shape[1], k = weight.shape[2], q = 4 * cout
        let n = fft.n, nf = n / 2 + 1, lanes = LaneFFT.lanes
        let spectra = KernelSpectra(key: key, count: n * nf * 4 * q * cin)
        let kernelBlocks = spectra.blocks
        let workers = EngineThreads.count
        let scratch = UnsafeMutablePointer<FFTLanes>.allocate(capacity: workers * 2 * n * n)
        defer { scratch.deallocate() }
        let scale = 1 / Float(n * n), cinGroups = (cin + lanes - 1) / lanes
        parallelWorkers(q * cinGroups) { worker, range in
            let re = scratch + worker * 2 * n * n, im = re + n * n
            for task in range {
                let qi = task / cinGroups, ci0 = (task % cinGroups) * lanes, active = min(lanes, cin - ci0)
                let phase = phases[qi / cout], co = qi % cout
                re.update(repeating: .zero, count: n * n); im.update(repeating: .zero, count: n * n)
                for ty in phase.tapsY {
                    for tx in phase.tapsX {
                        let cell = (ty.d - dMin) * n + (tx.d - dMin)
                        for l in 0..<active { re[cell][l] = weight.data[(((ci0 + l) * cout + co) * k + ty.k) * k + tx.k] }
                    }
                }
                fft.transform2D(re, im, inverse: false)
                for fy in 0..<n {
                    for fx in 0..<nf {
                        let kr = re[fy * n + fx] * scale, ki = -im[fy * n + fx] * scale
                        let block = kernelBlocks + (fy * nf + fx) * 4 * q * cin
                        let top = block + qi * 2 * cin + ci0, bottom = block + (q + qi) * 2 * cin + ci0
                        for l in 0..<active {
                            top[l] = kr[l]; top[cin + l] = -ki[l]
                            bottom[l] = ki[l]; bottom[cin + l] = kr[l]
                        }
                    }
                }
            }
        }
        return spectra
    }
}
