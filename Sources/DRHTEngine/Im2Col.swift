// im2col / col2im: unfold the windows of a convolution into the columns of a matrix, and fold
// them back (summing overlaps). Conv forward is im2col then GEMM; conv's input gradient and
// the transposed conv's forward are GEMM then col2im — the same two kernels, in the other order.
//
// Size letters: C channels of the windowed image, H x W its size, k kernel, s stride,
// p padding, Ho x Wo the window grid, K = C*k*k rows of the column matrix.

/// The geometry of a k x k window sliding with stride `s` and zero padding `p` over a
/// (C, H, W) image. A column-matrix row is `(c, ky, kx)`; a column is a window position.
public struct ConvGeometry: Equatable, Sendable {
    public let channels: Int   // C
    public let height: Int     // H
    public let width: Int      // W
    public let kernel: Int     // k
    public let stride: Int     // s
    public let padding: Int    // p

    public init(channels: Int, height: Int, width: Int, kernel: Int, stride: Int, padding: Int) {
        self.channels = channels; self.height = height; self.width = width
        self.kernel = kernel; self.stride = stride; self.padding = padding
    }

    /// Ho = (H + 2p - k) / s + 1
    public var outHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
    /// Wo = (W + 2p - k) / s + 1
    public var outWidth: Int { (width + 2 * padding - kernel) / stride + 1 }
    /// K = C * k * k, the rows of the column matrix.
    public var columnRows: Int { channels * kernel * kernel }

    /// The window-grid columns `ox` whose tap `kx` lands inside the image: `lo..<hi`.
    @inline(__always)
    func validColumns(kx: Int) -> (lo: Int, hi: Int) {
        // ix = ox*s - p + kx must lie in [0, W)
        let first = padding - kx
        let lo = first <= 0 ? 0 : (first + stride - 1) / stride
        let lastNumerator = width - 1 + padding - kx
        let hi = lastNumerator < 0 ? 0 : Swift.min(outWidth, lastNumerator / stride + 1)
        return (lo, Swift.max(lo, hi))
    }

    /// How many window-grid rows fit in a column tile of at most `budget` floats.
    public func rowsPerTile(budget: Int) -> Int {
        Swift.max(1, Swift.min(outHeight, budget / Swift.max(1, columnRows * outWidth)))
    }
}

/// Unfolds window-grid rows `oy in rows` of `image` (C, H, W) into
/// `columns` (K, T) with T = rows.count * Wo (row stride `rowStride`, T by default: a larger
/// one writes one image's block of a matrix that holds a whole batch side by side).
/// `parallel: false` runs on the calling thread (inside a worker that owns the tile).
public func im2col(_ columns: UnsafeMutablePointer<Float>,
                   image: UnsafePointer<Float>, geometry g: ConvGeometry, rows: Range<Int>,
                   parallel: Bool = true, rowStride: Int? = nil) {
    let wo = g.outWidth, k = g.kernel, s = g.stride, p = g.padding
    let t = rowStride ?? rows.count * wo
    let plane = g.height * g.width
    let chunkBody = { (chunk: Range<Int>) in
        for r in chunk {
            let c = r / (k * k), ky = (r / k) % k, kx = r % k
            let (lo, hi) = g.validColumns(kx: kx)
            let src = image + c * plane
            let dstRow = columns + r * t
            for (i, oy) in rows.enumerated() {
                let dst = dstRow + i * wo
                let iy = oy * s - p + ky
                if iy < 0 || iy >= g.height || lo >= hi {
                    dst.update(repeating: 0, count: wo)
                    continue
                }
                if lo > 0 { dst.update(repeating: 0, count: lo) }
                if hi < wo { (dst + hi).update(repeating: 0, count: wo - hi) }
                let line = src + iy * g.width - p + kx
                if s == 1 {
                    (dst + lo).update(from: line + lo, count: hi - lo)
                } else if s == 2 {
                    gatherEven(dst + lo, line + 2 * lo, count: hi - lo)
                } else {
                    for ox in lo..<hi { dst[ox] = line[ox * s] }
                }
            }
        }
    }
    if parallel { parallelChunks(g.columnRows, minChunk: 4, chunkBody) } else { chunkBody(0..<g.columnRows) }
}

/// Splits `count` rows into near-equal tiles for `workers` workers: the tile count is a
/// multiple of the worker count (so static chunks balance) and no tile holds more than
/// `maxRows` rows. Tile `i` is `tileRange(i)`.
struct RowTiling {
    let count: Int
    let tiles: Int

    init(count: Int, maxRows: Int, workers: Int) {
        var tiles = (count + max(maxRows, 1) - 1) / max(maxRows, 1)
        tiles = (tiles + workers - 1) / workers * workers
        self.count = count
        self.tiles = max(1, min(count, tiles))
    }

    /// The largest tile, for sizing buffers.
    var maxRows: Int { (count + tiles - 1) / tiles }

    func tileRange(_ i: Int) -> Range<Int> { (count * i / tiles)..<(count * (i + 1) / tiles) }
}
/// dst[i] = src[2 i] for i in 0..<count, four at a time with SIMD shuffles.
@inline(__always)
func gatherEven(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, count: Int) {
    var i = 0
    let raw = UnsafeRawPointer(src)
    // The last vector load reads src[2i ..< 2i + 8], so stop while 2i + 8 <= 2 (count - 1) + 1.
    while i + 4 <= count && 2 * i + 8 <= 2 * count - 1 {
        let v = raw.loadUnaligned(fromByteOffset: 8 * i, as: SIMD8<Float>.self)
        UnsafeMutableRawPointer(dst + i).storeBytes(of: SIMD4(v[0], v[2], v[4], v[6]), as: SIMD4<Float>.self)
        i += 4
    }
    while i < count { dst[i] = src[2 * i]; i += 1 }
}

/// Folds `columns` (K, T) for window-grid rows `oy in rows` back into `image` (C, H, W),
/// adding (image += fold(columns)); overlapping windows sum. `rowStride` as in `im2col`.
/// `parallel: false` runs on the calling thread (inside a worker that owns the image).
public func col2im(_ image: UnsafeMutablePointer<Float>,
                   columns: UnsafePointer<Float>, geometry g: ConvGeometry, rows: Range<Int>,
                   parallel: Bool = true, rowStride: Int? = nil) {
    let wo = g.outWidth, k = g.kernel, s = g.stride, p = g.padding
    let t = rowStride ?? rows.count * wo
    let plane = g.height * g.width
    // One channel per task: channels write disjoint planes, so no two threads collide.
    let chunkBody = { (chunk: Range<Int>) in
        for c in chunk {
            let dstPlane = image + c * plane
            for ky in 0..<k {
                for kx in 0..<k {
                    let (lo, hi) = g.validColumns(kx: kx)
                    if lo >= hi { continue }
                    let srcRow = columns + ((c * k + ky) * k + kx) * t
                    for (i, oy) in rows.enumerated() {
                        let iy = oy * s - p + ky
                        if iy < 0 || iy >= g.height { continue }
                        let src = srcRow + i * wo
                        let line = dstPlane + iy * g.width - p + kx
                        if s == 1 {
                            for ox in lo..<hi { line[ox] += src[ox] }
                        } else {
                            for ox in lo..<hi { line[ox * s] += src[ox] }
                        }
                    }
                }
            }
        }
    }
    if parallel { parallelChunks(g.channels, chunkBody) } else { chunkBody(0..<g.channels) }
}
