// A stride-2 transposed convolution with a large kernel (dec5's 9 x 9) through small FFTs,
// forward and backward: the same results as the GEMM paths in TransposedConv2D, with about a
// fifth of the arithmetic. `drht bench` prints both paths; measured figures at `isFaster`.
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
//      as one real sgemm, real and imaginary parts side by side:
//      [Yr Yi] (Q, 2 tiles) = [Kr Ki] (Q, 2Cin) [Xr Xi; -Xi Xr] (2Cin, 2 tiles)
//      (Kr, Ki the parts of conj(K_f)); the kernels' block is half the size of the equivalent
//      (2Q, 2Cin) block [Kr -Ki; Ki Kr] on stacked parts, and the product twice as wide;
//   3. two output channels at a time go back through one complex inverse FFT (the first in the
//      real part, the second in the imaginary part); the V x V points of a tile that no
//      circular wrap reached are the correlation, written to their phase's pixels plus bias.
// Step 2 does 4 F / V^2 = 4 real multiply-adds per output pixel, input channel and output
// channel where the GEMM path does 81 / 4 ~ 20 (k = 9); the FFTs cost about as much again.
// Two real inputs share one complex FFT (one in the real part, one in the imaginary part,
// separated afterwards by conjugate symmetry), as do two real outputs. Tiles are numbered
// across the images of a batch, so eight 32 x 32 training images fill the lanes and the
// per-frequency products as one 96 x 96 image would.
//
// The backward reuses the three steps (`backward`): dx is the adjoint of step 2 (the same
// kernel blocks, transposed: [Kr; Ki] (2Cin, Q) [DYr DYi] (Q, 2 tiles), whose four quarters
// combine into DXr = Kr^T DYr + Ki^T DYi and DXi = Kr^T DYi - Ki^T DYr) on the spectra of dy's phase planes, each tile's result added
// back where the forward tile read (overlap-add); dW is the cross-correlation of input tiles
// with dy's tiles, summed over tiles per frequency and brought back by one inverse FFT per
// pair of (output plane, input channel) at the end.
//
// The kernels' spectra depend only on the weights: they are kept for reuse (KernelSpectra):
// a training step computes them in the forward and finds them again in the backward.
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
            // j = 0: the twiddle is 1, a plain sum and difference (a quarter of the butterflies at n = 16).
            var a0 = 0
            while a0 < n {
                let ia = a0 * stride, ib = (a0 + half) * stride
                let br = re[ib], bi = im[ib], ar = re[ia], ai = im[ia]
                re[ib] = ar - br; im[ib] = ai - bi
                re[ia] = ar + br; im[ia] = ai + bi
                a0 += 2 * half
            }
            for j in 1..<max(1, half) {
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
    /// columns; only the first `nonzeroRows` rows are transformed (the others must be zero, and
    /// stay so). Inverse: columns, then only the first `keptRows` rows (the others are not read).
    func transform2D(_ re: UnsafeMutablePointer<FFTLanes>, _ im: UnsafeMutablePointer<FFTLanes>,
                     inverse: Bool, keptRows: Int? = nil, nonzeroRows: Int? = nil) {
        if inverse {
            for x in 0..<n { transform(re + x, im + x, stride: n, inverse: true) }
            for y in 0..<(keptRows ?? n) { transform(re + y * n, im + y * n, stride: 1, inverse: true) }
        } else {
            for y in 0..<(nonzeroRows ?? n) { transform(re + y * n, im + y * n, stride: 1, inverse: false) }
            for x in 0..<n { transform(re + x, im + x, stride: n, inverse: false) }
        }
    }
}

/// Real planes read or written tile by tile: plane i of image b, element (a, c) at
/// base + b * imageStride + offsets[i] + a * rowStride + c * columnStride, for a < height, c < width.
/// An input's channels are planes; so is each output phase of each channel of a transposed
/// conv's output (every second row and column).
struct TiledPlanes {
    let base: UnsafeMutablePointer<Float>
    let imageStride: Int
    let offsets: [Int]
    let rowStride: Int, columnStride: Int
    let height: Int, width: Int
    var count: Int { offsets.count }
    /// Planes that lie in the same memory come this many apart (4 for phases, 1 for channels).
    var interleave = 1

    /// The j-th plane to visit so that planes sharing memory are visited one after another:
    /// the four phases of one channel, then those of the next.
    @inline(__always) func visit(_ j: Int) -> Int { interleave == 1 ? j : (j % interleave) * (count / interleave) + j / interleave }

    /// The channels of an (N, C, H, W) tensor.
    init(channelsOf t: Tensor) {
        base = t.data; imageStride = t.c * t.h * t.w
        offsets = (0..<t.c).map { $0 * t.h * t.w }
        rowStride = t.w; columnStride = 1; height = t.h; width = t.w
    }

    /// The output phases of an (N, Cout, 2H, 2W) tensor: plane q = phase * Cout + co holds
    /// y[co, 2a + py, 2c + px], a < H, c < W.
    init(phasesOf t: Tensor, phases: [SubPixelPhase]) {
        let cout = t.c, h = t.h / 2, w = t.w / 2
        base = t.data; imageStride = cout * 4 * h * w
        offsets = phases.flatMap { p in (0..<cout).map { $0 * 4 * h * w + p.py * 2 * w + p.px } }
        rowStride = 4 * w; columnStride = 2; height = h; width = w
        interleave = phases.count
    }

    func plane(_ i: Int, image b: Int) -> UnsafeMutablePointer<Float> { base + b * imageStride + offsets[i] }
}

/// Tiles `v` apart over an H x W grid, for every image of a batch, numbered image by image:
/// the FFT path works on the tiles of all images at once, so a batch of small images fills
/// the lanes and the per-frequency products as one large image does.
struct TileGrid {
    let v: Int, tilesY: Int, tilesX: Int, images: Int

    init(height: Int, width: Int, images: Int, v: Int) {
        self.v = v; self.images = images
        tilesY = (height + v - 1) / v; tilesX = (width + v - 1) / v
    }

    var count: Int { tilesY * tilesX * images }

    /// Tile t's image and the grid position of its first valid point.
    @inline(__always)
    func origin(_ t: Int) -> (image: Int, y: Int, x: Int) {
        let perImage = tilesY * tilesX, r = t % perImage
        return (t / perImage, (r / tilesX) * v, (r % tilesX) * v)
    }
}

/// Where one chunk's spectra sit: per frequency a block of rows, `frequencyStride` floats; plane
/// c's row holds the chunk's `columns` tiles' real parts, then their imaginary parts (lanes
/// beyond the chunk's tiles are zero). With `conjugateRows` the block has C more rows: row
/// C + c is plane c's [-imaginary, real], so that one real product [Kr Ki] (Q, 2C) by the whole
/// block (2C, 2 columns) is the complex product [Yr Yi] (file header, step 2). The backward's dx
/// product leaves (2Cin, 2 columns) there too, its first Cin rows the combined result.
struct SpectraLayout {
    let planes: Int, columns: Int, conjugateRows: Bool

    init(planes: Int, columns: Int, conjugateRows: Bool = false) {
        self.planes = planes; self.columns = columns; self.conjugateRows = conjugateRows
    }

    var rowStride: Int { 2 * columns }
    var frequencyStride: Int { (conjugateRows ? 2 : 1) * planes * rowStride }
    @inline(__always) func real(_ c: Int) -> Int { c * rowStride }
    @inline(__always) func imaginary(_ c: Int) -> Int { c * rowStride + columns }
    /// Floats for `frequencies` frequencies with up to `columns` tiles.
    static func capacity(frequencies f: Int, planes c: Int, columns: Int, conjugateRows: Bool = false) -> Int {
        SpectraLayout(planes: c, columns: columns, conjugateRows: conjugateRows).frequencyStride * f
    }
}

/// The FFT steps shared by the forward and the backward: n x n tiles of real planes into
/// half spectra, and half spectra back into real tiles, two planes per complex FFT, spectra
/// laid out as a SpectraLayout says.
struct FFTTiles {
    let fft: LaneFFT
    let grid: TileGrid
    /// Per worker: one n x n block of lanes, real and imaginary.
    let scratch: UnsafeMutablePointer<FFTLanes>
    var n: Int { fft.n }
    var nf: Int { fft.n / 2 + 1 }
    var frequencies: Int { fft.n * nf }

    /// Half spectra of the tiles chunk0 ..< chunk0 + count (layout.columns of them, the count
    /// rounded up to whole lanes): tile t reads its planes from (origin + shift) over `extent` x
    /// `extent` points (zero outside the planes).
    func forward(_ planes: TiledPlanes, chunk0: Int, count: Int, shift: Int, extent: Int,
                 into spectra: UnsafeMutablePointer<Float>, layout: SpectraLayout) {
        let c = planes.count, n = self.n, nf = self.nf, lanes = LaneFFT.lanes
        let groups = (count + lanes - 1) / lanes
        precondition(layout.planes == c && layout.columns == groups * lanes, "spectra layout does not fit the chunk")
        parallelWorkers((c + 1) / 2 * groups) { worker, range in
            let re = scratch + worker * 2 * n * n, im = re + n * n
            for task in range {
                let c1 = FFTTiles.pair(task / groups, planes: c, interleave: planes.interleave), g = task % groups, second = c1 + 1 < c
                re.update(repeating: .zero, count: n * n); im.update(repeating: .zero, count: n * n)
                for l in 0..<min(lanes, count - g * lanes) {
                    let (b, ty, tx) = grid.origin(chunk0 + g * lanes + l)
                    let y0 = ty + shift, x0 = tx + shift
                    let p1 = planes.plane(c1, image: b), p2 = second ? planes.plane(c1 + 1, image: b) : p1
                    let jlo = max(0, -x0), jhi = min(extent, planes.width - x0), cs = planes.columnStride
                    guard jlo < jhi else { continue }
                    for i in max(0, -y0)..<min(extent, planes.height - y0) {
                        let row = (y0 + i) * planes.rowStride + x0 * cs
                        for j in jlo..<jhi { re[i * n + j][l] = p1[row + j * cs] }
                        if second { for j in jlo..<jhi { im[i * n + j][l] = p2[row + j * cs] } }
                    }
                }
                fft.transform2D(re, im, inverse: false, nonzeroRows: extent)
                // Z = X1 + i X2 -> X1 = (Z(k) + conj Z(-k)) / 2, X2 = (Z(k) - conj Z(-k)) / 2i
                for fy in 0..<n {
                    for fx in 0..<nf {
                        let kk = fy * n + fx, mk = ((n - fy) % n) * n + (n - fx) % n
                        let a = re[kk], bb = im[kk], cc = re[mk], d = im[mk]
                        let base = spectra + (fy * nf + fx) * layout.frequencyStride + g * lanes
                        let x1r = 0.5 * (a + cc), x1i = 0.5 * (bb - d)
                        FFTTiles.store(x1r, base + layout.real(c1)); FFTTiles.store(x1i, base + layout.imaginary(c1))
                        if layout.conjugateRows {
                            FFTTiles.store(-x1i, base + layout.real(c + c1)); FFTTiles.store(x1r, base + layout.imaginary(c + c1))
                        }
                        if second {
                            let x2r = 0.5 * (bb + d), x2i = 0.5 * (cc - a)
                            FFTTiles.store(x2r, base + layout.real(c1 + 1)); FFTTiles.store(x2i, base + layout.imaginary(c1 + 1))
                            if layout.conjugateRows {
                                FFTTiles.store(-x2i, base + layout.real(c + c1 + 1)); FFTTiles.store(x2r, base + layout.imaginary(c + c1 + 1))
                            }
                        }
                    }
                }
            }
        }
    }

    /// The real tiles of half spectra (planes 0 ..< c of `layout`), two planes per inverse FFT (unscaled: the
    /// kernels' spectra carry 1 / n^2). `write(c1, second, t, l, re, im)` receives plane c1's
    /// tile t in lane l of `re` and plane c1 + 1's (when `second`) in lane l of `im`; only the
    /// first `keptRows` rows are computed. With `byPlane`, one task handles every tile of a
    /// pair of planes (for writes that overlap between tiles); otherwise tasks split the tiles.
    func inverse(_ spectra: UnsafeMutablePointer<Float>, layout: SpectraLayout, interleave: Int = 1, chunk0: Int, count: Int,
                 keptRows: Int, byPlane: Bool,
                 write: (_ c1: Int, _ second: Bool, _ t: Int, _ lane: Int,
                         _ re: UnsafeMutablePointer<FFTLanes>, _ im: UnsafeMutablePointer<FFTLanes>) -> Void) {
        let n = self.n, nf = self.nf, lanes = LaneFFT.lanes, c = layout.planes
        let groups = (count + lanes - 1) / lanes, pairs = (c + 1) / 2
        precondition(layout.columns == groups * lanes, "spectra layout does not fit the chunk")
        parallelWorkers(byPlane ? pairs : pairs * groups) { worker, range in
            let re = scratch + worker * 2 * n * n, im = re + n * n
            for task in range {
                for g in byPlane ? 0..<groups : (task % groups)..<(task % groups + 1) {
                    let c1 = FFTTiles.pair(byPlane ? task : task / groups, planes: c, interleave: interleave), second = c1 + 1 < c
                    for fy in 0..<n {
                        for fx in 0..<n {
                            let mirrored = fx >= nf       // Y(fy, fx) = conj(Y(-fy, -fx))
                            let sy = mirrored ? (n - fy) % n : fy, sx = mirrored ? n - fx : fx
                            let base = spectra + (sy * nf + sx) * layout.frequencyStride + g * lanes
                            let y1r = FFTTiles.load(base + layout.real(c1)), y1i = FFTTiles.load(base + layout.imaginary(c1))
                            let y2r = second ? FFTTiles.load(base + layout.real(c1 + 1)) : .zero
                            let y2i = second ? FFTTiles.load(base + layout.imaginary(c1 + 1)) : .zero
                            if mirrored {
                                re[fy * n + fx] = y1r + y2i; im[fy * n + fx] = y2r - y1i
                            } else {
                                re[fy * n + fx] = y1r - y2i; im[fy * n + fx] = y1i + y2r
                            }
                        }
                    }
                    fft.transform2D(re, im, inverse: true, keptRows: keptRows)
                    for l in 0..<min(lanes, count - g * lanes) { write(c1, second, chunk0 + g * lanes + l, l, re, im) }
                }
            }
        }
    }

    /// The first plane of the j-th pair (pairs share a complex FFT) of `planes` planes, in
    /// TiledPlanes.visit's order when `interleave` planes share memory (the four phases of a
    /// channel; each phase's plane count even): the pairs (q, q + 1) of the four phases of two
    /// channels one after another, so the rows whose every second column they read (or write)
    /// are still in cache for the next phase.
    @inline(__always) static func pair(_ j: Int, planes: Int, interleave: Int) -> Int {
        interleave == 1 ? 2 * j : (j % interleave) * (planes / interleave) + 2 * (j / interleave)
    }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> FFTLanes {
        UnsafeRawPointer(p).loadUnaligned(as: FFTLanes.self)
    }
    @inline(__always) static func store(_ value: FFTLanes, _ p: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(p).storeBytes(of: value, as: FFTLanes.self)
    }
}

/// The FFT forward and backward of a stride-2 transposed convolution (see the file header).
struct FFTTransposedConv {
    static let fftSize = 16
    /// Tiles per chunk (a multiple of 16): the chunk's spectra, (4 Cin + 2 Q) F Tc floats, are
    /// ~57 MB for dec5 (the backward's, (6 Cin + 2 Q) F Tc, ~66 MB). 128 rather than 64: the
    /// per-frequency products are (Q x 2Cin) x (2Cin x 2Tc), and OpenBLAS packs the Q x 2Cin
    /// block on every call, which a wider Tc pays for (training, batch 8 at 64^2: 72 tiles in
    /// one chunk instead of two). (N = 32 tiles were measured too: 7% less GEMM work, slower
    /// FFTs, no gain.) The side-by-side layout (file header, step 2) replaced stacked real and
    /// imaginary rows ((2Q x 2Cin) x (2Cin x Tc)), the same arithmetic: dec5 forward 19.2 -> 18.4
    /// ms and backward level at batch 8 at 64^2 (2 threads), 65.3 -> 59.9 and 117.6 -> 111.0 ms at
    /// batch 4 at 128^2 (1 thread), medians of 4 interleaved runs, AMD EPYC; the kernels' spectra
    /// half the memory (2 x 19 MB kept instead of 2 x 38), peak memory lower (docs/PERFORMANCE.md).
    static let chunkTiles = 128

    /// Whether the FFT path is the faster one: for large kernels (for k <= 5 the GEMM path does
    /// fewer operations) once the batch holds 64^2 input points or more, tiles being taken across
    /// the images of a batch. Measured for dec5 (k = 9, 64 -> 64 channels, 2 threads, AMD EPYC,
    /// OpenBLAS Cooperlake), FFT vs GEMM, forward with the kernels' spectra already computed /
    /// backward (dx and dW), ms:
    ///   (2, 64, 32, 32)     11.6 vs 10.5 /  22.9 vs  25.9
    ///   (1, 64, 64, 64)     13.0 vs 17.8 /  25.1 vs  52.5
    ///   (8, 64, 32, 32)     24.3 vs 40.7 /  40.4 vs  82.9   (training, batch 8 at 64^2)
    ///   (4, 64, 64, 64)     52.7 vs 79.2 /  80.4 vs 179.3   (training, batch 4 at 128^2)
    ///   (1, 64, 256, 256)  167 vs 421   / 365 vs 1411       (inference and attribution at 512^2)
    /// Computing the spectra costs a few ms more (the first call, and every training step's
    /// forward, whose weights are new; its backward finds them cached).
    /// enc1 (a stride-1 9 x 9 conv, 3 -> 64) was tried through the same path (one phase holding
    /// all 81 taps, 32-point FFTs): slower than its GEMM everywhere (batch 8 at 64^2 forward 16
    /// vs 9 ms, backward 21 vs 16; 512^2 forward 74 vs 62): with 3 input channels the work is
    /// all in the 64 output channels' inverse FFTs, and its GEMM (K = 243) runs near sgemm speed.
    static func isFaster(kernel: Int, batch: Int, height: Int, width: Int, outChannels: Int) -> Bool {
        kernel >= 7 && outChannels % 2 == 0 && batch * height * width >= 64 * 64
    }

    /// What one call needs: the phases, the tap window (r x r from dMin), the tile grid.
    struct Plan {
        let phases: [SubPixelPhase]
        let dMin: Int, r: Int
        let tiles: FFTTiles
        let tc: Int
        var n: Int { tiles.n }
        var v: Int { tiles.grid.v }

        init(kernel k: Int, input x: Tensor, scratch: UnsafeMutablePointer<FFTLanes>) {
            phases = SubPixelPhase.all(kernel: k)
            let ds = phases.flatMap { $0.tapsY.map(\.d) }
            dMin = ds.min()!; r = ds.max()! - dMin + 1
            let n = FFTTransposedConv.fftSize, v = n - r + 1
            precondition(v > 0, "kernel too large for the FFT tile")
            let grid = TileGrid(height: x.h, width: x.w, images: x.n, v: v)
            tiles = FFTTiles(fft: LaneFFT(size: n), grid: grid, scratch: scratch)
            // Chunks of at most chunkTiles, of even size (72 tiles: 48 + 24, not 64 + 8).
            let chunks = (grid.count + FFTTransposedConv.chunkTiles - 1) / FFTTransposedConv.chunkTiles
            let perChunk = (grid.count + chunks - 1) / chunks
            tc = (perChunk + LaneFFT.lanes - 1) / LaneFFT.lanes * LaneFFT.lanes
        }

        /// body(chunk0, count, columns) for each chunk of tiles: `columns` is the count rounded up
        /// to whole lanes, the width of the chunk's spectra (SpectraLayout).
        func forEachChunk(_ body: (Int, Int, Int) -> Void) {
            var chunk0 = 0
            while chunk0 < tiles.grid.count {
                let count = min(tc, tiles.grid.count - chunk0)
                body(chunk0, count, (count + LaneFFT.lanes - 1) / LaneFFT.lanes * LaneFFT.lanes)
                chunk0 += count
            }
        }
    }

    static func scratch() -> UnsafeMutablePointer<FFTLanes> {
        let n = fftSize
        return .allocate(capacity: EngineThreads.count * 2 * n * n)
    }

    /// y (N, Cout, 2H, 2W) = convT(x) + bias, for x (N, Cin, H, W) and weight (Cin, Cout, k, k).
    static func forward(_ x: Tensor, weight: Tensor, bias: Tensor, into y: Tensor) {
        let cin = weight.shape[0], cout = weight.shape[1], q = 4 * cout
        precondition(cout % 2 == 0, "the FFT path pairs output channels")
        let scratch = Self.scratch()
        defer { scratch.deallocate() }
        let plan = Plan(kernel: weight.shape[2], input: x, scratch: scratch)
        let f = plan.tiles.frequencies, tc = plan.tc, v = plan.v
        let spectra = KernelSpectra.cached(weight: weight, phases: plan.phases, dMin: plan.dMin, fft: plan.tiles.fft)
        defer { withExtendedLifetime(spectra) {} }
        let xSpectra = UnsafeMutablePointer<Float>.allocate(capacity: SpectraLayout.capacity(frequencies: f, planes: cin, columns: tc, conjugateRows: true))
        defer { xSpectra.deallocate() }
        let ySpectra = UnsafeMutablePointer<Float>.allocate(capacity: SpectraLayout.capacity(frequencies: f, planes: q, columns: tc))
        defer { ySpectra.deallocate() }
        let input = TiledPlanes(channelsOf: x), output = TiledPlanes(phasesOf: y, phases: plan.phases)
        plan.forEachChunk { chunk0, count, w in
            let xLayout = SpectraLayout(planes: cin, columns: w, conjugateRows: true), yLayout = SpectraLayout(planes: q, columns: w)
            // 1. input tiles, two channels per FFT -> [Xr Xi; -Xi Xr] (F, 2Cin, 2w)
            plan.tiles.forward(input, chunk0: chunk0, count: count, shift: plan.dMin, extent: plan.n, into: xSpectra, layout: xLayout)
            // 2. [Yr Yi] (Q, 2w) = [Kr Ki] (Q, 2Cin) [Xr Xi; -Xi Xr] (2Cin, 2w), per frequency
            spectra.multiply(xSpectra, xLayout, into: ySpectra, yLayout, frequencies: f, q: q, cin: cin, adjoint: false)
            // 3. two output planes per inverse FFT -> y, plus bias (the V x V points no wrap reached)
            plan.tiles.inverse(ySpectra, layout: yLayout, interleave: output.interleave, chunk0: chunk0, count: count, keptRows: v, byPlane: false) {
                q1, _, t, l, re, im in
                let (b, a0, b0) = plan.tiles.grid.origin(t)
                let bias1 = bias.data[q1 % cout], bias2 = bias.data[(q1 + 1) % cout]
                let plane1 = output.plane(q1, image: b), plane2 = output.plane(q1 + 1, image: b)
                for u in 0..<min(v, output.height - a0) {
                    let o = (a0 + u) * output.rowStride + b0 * 2
                    for c in 0..<min(v, output.width - b0) {
                        plane1[o + 2 * c] = re[u * plan.n + c][l] + bias1
                        plane2[o + 2 * c] = im[u * plan.n + c][l] + bias2
                    }
                }
            }
        }
    }

    /// dx (N, Cin, H, W) and dW (Cin, Cout, k, k) of y = convT(x) given dy (N, Cout, 2H, 2W),
    /// written into the zeroed `dx` / `dWeight` (either may be nil: not wanted).
    ///   dx: the adjoint of step 2 (conj(K)^H = K^T per frequency: the same kernel blocks,
    ///       transposed) applied to the spectra of dy's phase planes, tile by tile; each tile's
    ///       n x n result is the linear convolution of its V x V points, added to the input
    ///       points the forward tile read (overlap-add).
    ///   dW: per frequency G (Q, Cin) = sum over tiles of conj(DY) X: the circular
    ///       cross-correlation of each input tile with its V x V block of dy, exact at the r x r
    ///       lags the taps sit at; one inverse FFT per (q, ci) pair of planes at the end.
    static func backward(dOutput dy: Tensor, input x: Tensor, weight: Tensor, dx: Tensor?, dWeight: Tensor?) {
        let cin = weight.shape[0], cout = weight.shape[1], k = weight.shape[2], q = 4 * cout
        precondition(cout % 2 == 0, "the FFT path pairs output channels")
        let scratch = Self.scratch()
        defer { scratch.deallocate() }
        let plan = Plan(kernel: k, input: x, scratch: scratch)
        let f = plan.tiles.frequencies, tc = plan.tc, n = plan.n, nf = plan.tiles.nf, lanes = LaneFFT.lanes
        let input = TiledPlanes(channelsOf: x), gradient = TiledPlanes(phasesOf: dy, phases: plan.phases)
        let dySpectra = UnsafeMutablePointer<Float>.allocate(capacity: SpectraLayout.capacity(frequencies: f, planes: q, columns: tc))
        defer { dySpectra.deallocate() }
        // dx: the kernels' spectra, the spectra of dx's tiles, and where they go.
        var kernelSpectra: KernelSpectra? = nil
        var dxSpectra: UnsafeMutablePointer<Float>? = nil
        if dx != nil {
            kernelSpectra = KernelSpectra.cached(weight: weight, phases: plan.phases, dMin: plan.dMin, fft: plan.tiles.fft)
            dxSpectra = .allocate(capacity: SpectraLayout.capacity(frequencies: f, planes: cin, columns: tc, conjugateRows: true))
        }
        defer { dxSpectra?.deallocate(); withExtendedLifetime(kernelSpectra) {} }
        // dW: the input's spectra and G, real and imaginary: (F, 2, Q, Cin).
        var xSpectra: UnsafeMutablePointer<Float>? = nil, g: UnsafeMutablePointer<Float>? = nil
        if dWeight != nil {
            xSpectra = .allocate(capacity: SpectraLayout.capacity(frequencies: f, planes: cin, columns: tc))
            g = .allocate(capacity: f * 2 * q * cin)      // the first chunk's products overwrite it
        }
        defer { xSpectra?.deallocate(); g?.deallocate() }
        let dxPlanes = dx.map { TiledPlanes(channelsOf: $0) }

        plan.forEachChunk { chunk0, count, w in
            let dyLayout = SpectraLayout(planes: q, columns: w)
            // dy's phase planes, V x V per tile, two planes per FFT -> [DYr DYi] (F, Q, 2w)
            plan.tiles.forward(gradient, chunk0: chunk0, count: count, shift: 0, extent: plan.v, into: dySpectra, layout: dyLayout)
            if let dxSpectra, let kernelSpectra, let dxPlanes {
                // [DXr DXi] (Cin, 2w) from [Kr; Ki] (2Cin, Q) [DYr DYi] (Q, 2w), per frequency
                let dxLayout = SpectraLayout(planes: cin, columns: w, conjugateRows: true)
                kernelSpectra.multiply(dySpectra, dyLayout, into: dxSpectra, dxLayout, frequencies: f, q: q, cin: cin, adjoint: true)
                // Overlap-add: tiles overlap by r - 1 points, so one task takes every tile of its planes.
                plan.tiles.inverse(dxSpectra, layout: dxLayout, chunk0: chunk0, count: count, keptRows: n, byPlane: true) {
                    c1, second, t, l, re, im in
                    let (b, ty, tx) = plan.tiles.grid.origin(t)
                    let y0 = ty + plan.dMin, x0 = tx + plan.dMin
                    let p1 = dxPlanes.plane(c1, image: b), p2 = second ? dxPlanes.plane(c1 + 1, image: b) : p1
                    let jlo = max(0, -x0), jhi = min(n, dxPlanes.width - x0)
                    guard jlo < jhi else { return }
                    for i in max(0, -y0)..<min(n, dxPlanes.height - y0) {
                        let row = (y0 + i) * dxPlanes.rowStride + x0
                        for j in jlo..<jhi { p1[row + j] += re[i * n + j][l] }
                        if second { for j in jlo..<jhi { p2[row + j] += im[i * n + j][l] } }
                    }
                }
            }
            if let xSpectra, let g {
                let xLayout = SpectraLayout(planes: cin, columns: w)
                plan.tiles.forward(input, chunk0: chunk0, count: count, shift: plan.dMin, extent: n, into: xSpectra, layout: xLayout)
                // G (Q, Cin) += conj(DY) (Q, T) X^T (T, Cin): Gr += P R^T + Qi S^T, Gi += P S^T - Qi R^T,
                // with DY = P + i Qi and X = R + i S.
                let first: Float = chunk0 == 0 ? 0 : 1          // beta of the first product into G
                parallelChunks(f) { range in
                    for fi in range {
                        let p = UnsafePointer(dySpectra + fi * dyLayout.frequencyStride), qi = p + w, ldy = dyLayout.rowStride
                        let rr = UnsafePointer(xSpectra + fi * xLayout.frequencyStride), ss = rr + w, ldx = xLayout.rowStride
                        let gr = g + fi * 2 * q * cin, gi = gr + q * cin
                        gemmSerial(gr, ldc: cin, p, lda: ldy, transposeA: false, rr, ldb: ldx, transposeB: true,
                                   m: q, n: cin, k: count, beta: first)
                        gemmSerial(gr, ldc: cin, qi, lda: ldy, transposeA: false, ss, ldb: ldx, transposeB: true,
                                   m: q, n: cin, k: count, beta: 1)
                        gemmSerial(gi, ldc: cin, p, lda: ldy, transposeA: false, ss, ldb: ldx, transposeB: true,
                                   m: q, n: cin, k: count, beta: first)
                        gemmSerial(gi, ldc: cin, qi, lda: ldy, transposeA: false, rr, ldb: ldx, transposeB: true,
                                   m: q, n: cin, k: count, alpha: -1, beta: 1)
                    }
                }
            }
        }
        guard let dWeight, let g else { return }
        // G -> the cross-correlations: planes (q, q + 1) share an inverse FFT, 16 input channels
        // in the lanes; lag (ty.d - dMin, tx.d - dMin) of plane q = phase * Cout + co is
        // dW[ci, co, ty.k, tx.k].
        let cinGroups = (cin + lanes - 1) / lanes, scale = 1 / Float(n * n), fft = plan.tiles.fft
        parallelWorkers(q / 2 * cinGroups) { worker, range in
            let re = scratch + worker * 2 * n * n, im = re + n * n
            for task in range {
                let q1 = 2 * (task / cinGroups), ci0 = (task % cinGroups) * lanes, active = min(lanes, cin - ci0)
                for fy in 0..<n {
                    for fx in 0..<n {
                        let mirrored = fx >= nf
                        let sy = mirrored ? (n - fy) % n : fy, sx = mirrored ? n - fx : fx
                        let gr = g + (sy * nf + sx) * 2 * q * cin, gi = gr + q * cin
                        let o1 = q1 * cin + ci0, o2 = o1 + cin
                        var g1r = FFTLanes.zero, g1i = g1r, g2r = g1r, g2i = g1r
                        if active == lanes {
                            g1r = FFTTiles.load(gr + o1); g1i = FFTTiles.load(gi + o1)
                            g2r = FFTTiles.load(gr + o2); g2i = FFTTiles.load(gi + o2)
                        } else {
                            for l in 0..<active { g1r[l] = gr[o1 + l]; g1i[l] = gi[o1 + l]; g2r[l] = gr[o2 + l]; g2i[l] = gi[o2 + l] }
                        }
                        if mirrored {
                            re[fy * n + fx] = g1r + g2i; im[fy * n + fx] = g2r - g1i
                        } else {
                            re[fy * n + fx] = g1r - g2i; im[fy * n + fx] = g1i + g2r
                        }
                    }
                }
                fft.transform2D(re, im, inverse: true, keptRows: plan.r)
                for (plane, lanesOf) in [(q1, re), (q1 + 1, im)] {
                    let phase = plan.phases[plane / cout], co = plane % cout
                    for ty in phase.tapsY {
                        for tx in phase.tapsX {
                            let lag = lanesOf[(ty.d - plan.dMin) * n + (tx.d - plan.dMin)] * scale
                            for l in 0..<active {
                                dWeight.data[(((ci0 + l) * cout + co) * k + ty.k) * k + tx.k] = lag[l]
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A transposed conv's kernels in the frequency domain, as step 2 reads them: per frequency
/// the (Q, 2Cin) real block [Kr Ki] of conj(K_f) / n^2 (the inverse FFT's scale folded in); channel q = phase * Cout + co. Computing them takes about a tenth of the layer's time,
/// so the last few are kept, found again by a hash of every weight's bits: inference reuses
/// them, while a training step, which changes the weights, computes new ones.
final class KernelSpectra: @unchecked Sendable {
    let blocks: UnsafeMutablePointer<Float>
    let count: Int
    private(set) var key: Key

    struct Key: Equatable {
        let shape: [Int]
        let hash: UInt64
        let fftSize: Int
    }

    private init(key: Key, count: Int) {
        self.key = key
        self.count = count
        blocks = .allocate(capacity: count)
    }

    deinit { blocks.deallocate() }

    /// Step 2 for one chunk, per frequency: [Yr Yi] (Q, 2w) = [Kr Ki] (Q, 2Cin) [Xr Xi; -Xi Xr]
    /// (2Cin, 2w), `input` laid out with conjugate rows; or with `adjoint` (the backward's dx) the
    /// transposed block's product [Kr; Ki] (2Cin, Q) [DYr DYi] (Q, 2w) = [A B; C D] (2Cin, 2w),
    /// whose quarters combine in place into DXr = A + D, DXi = B - C (the product by the block's
    /// conjugate transpose Kr^T - i Ki^T), the first Cin rows of `output`.
    func multiply(_ input: UnsafePointer<Float>, _ inLayout: SpectraLayout,
                  into output: UnsafeMutablePointer<Float>, _ outLayout: SpectraLayout,
                  frequencies f: Int, q: Int, cin: Int, adjoint: Bool) {
        let w = inLayout.columns, ld = inLayout.rowStride, lanes = LaneFFT.lanes
        precondition(outLayout.columns == w && inLayout.planes == (adjoint ? q : cin) && outLayout.planes == (adjoint ? cin : q)
                     && inLayout.conjugateRows == !adjoint && outLayout.conjugateRows == adjoint && w % lanes == 0,
                     "spectra layouts do not fit the product")
        parallelChunks(f) { range in
            for fi in range {
                let out = output + fi * outLayout.frequencyStride
                gemmSerial(out, ldc: ld, blocks + fi * 2 * q * cin, lda: 2 * cin,
                           transposeA: adjoint, input + fi * inLayout.frequencyStride, ldb: ld, transposeB: false,
                           m: adjoint ? 2 * cin : q, n: 2 * w, k: adjoint ? q : 2 * cin)
                guard adjoint else { continue }
                for c in 0..<cin {
                    let top = out + c * ld, bottom = out + (cin + c) * ld
                    for j in stride(from: 0, to: w, by: lanes) {
                        let a = FFTTiles.load(top + j), b = FFTTiles.load(top + w + j)
                        let cc = FFTTiles.load(bottom + j), d = FFTTiles.load(bottom + w + j)
                        FFTTiles.store(a + d, top + j); FFTTiles.store(b - cc, top + w + j)
                    }
                }
            }
        }
    }

    /// At most this many are kept (dec5 of each network: 2 x 19 MB).
    static let capacity = 2
    nonisolated(unsafe) private static var recent: [KernelSpectra] = []
    private static let lock = NSLock()

    static func cached(weight: Tensor, phases: [SubPixelPhase], dMin: Int, fft: LaneFFT) -> KernelSpectra {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325           // FNV-1a over the weights' bit patterns
        weight.data.withMemoryRebound(to: UInt32.self, capacity: weight.count) { bits in
            for i in 0..<weight.count { hash = (hash ^ UInt64(bits[i])) &* 0x100_0000_01b3 }
        }
        let key = Key(shape: weight.shape, hash: hash, fftSize: fft.n)
        let count = fft.n * (fft.n / 2 + 1) * 2 * 4 * weight.shape[1] * weight.shape[0]
        lock.lock()
        if let i = recent.firstIndex(where: { $0.key == key }) {
            let found = recent.remove(at: i)
            recent.append(found)
            lock.unlock()
            return found
        }
        // A training step's new weights: the least recently used entry's memory is reused when
        // nothing else holds it (19 MB fresh each step would cost page faults).
        var spare: KernelSpectra? = nil
        if recent.count >= capacity, recent[0].count == count {
            spare = recent.removeFirst()
            if !isKnownUniquelyReferenced(&spare!) { spare = nil }
        }
        lock.unlock()
        let spectra = spare ?? KernelSpectra(key: key, count: count)
        spectra.key = key
        compute(into: spectra, weight: weight, phases: phases, dMin: dMin, fft: fft)
        lock.lock()
        recent.append(spectra)
        while recent.count > capacity { recent.removeFirst() }
        lock.unlock()
        return spectra
    }

    /// The blocks computed directly: each tap of a phase's r x r window (at most 25 for k = 9)
    /// times its twiddle, summed: Kr = sum w cos(theta) / n^2 and Ki = sum w sin(theta) / n^2
    /// (conj(K), theta = 2 pi (fy a + fx b) / n for the tap at cell (a, b)), 16 input channels
    /// per vector. One task per range of frequencies, each writing its frequencies' blocks whole,
    /// in memory order. (2-D FFTs of the zero-padded kernels, one task per output plane, took
    /// 8-31 ms for dec5 on every training step's new weights; they wrote 144 pieces a block,
    /// 256 KB, apart.)
    private static func compute(into spectra: KernelSpectra, weight: Tensor, phases: [SubPixelPhase], dMin: Int, fft: LaneFFT) {
        let cin = weight.shape[0], cout = weight.shape[1], k = weight.shape[2], q = 4 * cout
        let n = fft.n, nf = n / 2 + 1, lanes = LaneFFT.lanes
        let kernelBlocks = spectra.blocks
        // The taps of output plane qi = phase * cout + co, input channel innermost:
        // packed[(qi * maxTaps + t) * cin + ci], t = (ty, tx) in the phase's order.
        let maxTaps = phases.map(\.taps).max()!
        let packed = UnsafeMutablePointer<Float>.allocate(capacity: q * maxTaps * cin)
        defer { packed.deallocate() }
        parallelFor(q) { qi in
            let phase = phases[qi / cout], co = qi % cout
            var t = 0
            for ty in phase.tapsY {
                for tx in phase.tapsX {
                    let dst = packed + (qi * maxTaps + t) * cin
                    for ci in 0..<cin { dst[ci] = weight.data[((ci * cout + co) * k + ty.k) * k + tx.k] }
                    t += 1
                }
            }
        }
        // cos / sin of 2 pi m / n, scaled by the inverse FFT's 1 / n^2.
        let scale = 1 / Double(n * n)
        let cosines = (0..<n).map { Float(cos(2 * Double.pi * Double($0) / Double(n)) * scale) }
        let sines = (0..<n).map { Float(sin(2 * Double.pi * Double($0) / Double(n)) * scale) }
        let vectorEnd = cin / lanes * lanes
        parallelChunks(n * nf) { range in
            let c = UnsafeMutablePointer<Float>.allocate(capacity: 2 * maxTaps), s = c + maxTaps
            defer { c.deallocate() }
            for fi in range {
                let fy = fi / nf, fx = fi % nf
                let block = kernelBlocks + fi * 2 * q * cin
                for (p, phase) in phases.enumerated() {
                    var t = 0
                    for ty in phase.tapsY {
                        for tx in phase.tapsX {
                            let m = (fy * (ty.d - dMin) + fx * (tx.d - dMin)) % n
                            c[t] = cosines[m]; s[t] = sines[m]; t += 1
                        }
                    }
                    let taps = t
                    for co in 0..<cout {
                        let qi = p * cout + co
                        let row = block + qi * 2 * cin
                        let w = packed + qi * maxTaps * cin
                        var ci0 = 0
                        while ci0 < vectorEnd {
                            var kr = FFTLanes.zero, ki = FFTLanes.zero
                            for t in 0..<taps {
                                let wt = FFTTiles.load(w + t * cin + ci0)
                                kr += c[t] * wt; ki += s[t] * wt
                            }
                            FFTTiles.store(kr, row + ci0); FFTTiles.store(ki, row + cin + ci0)
                            ci0 += lanes
                        }
                        for ci in vectorEnd..<cin {
                            var kr: Float = 0, ki: Float = 0
                            for t in 0..<taps { kr += c[t] * w[t * cin + ci]; ki += s[t] * w[t * cin + ci] }
                            row[ci] = kr; row[cin + ci] = ki
                        }
                    }
                }
            }
        }
    }
}
