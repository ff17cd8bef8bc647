// Winograd's minimal filtering F(4 x 4, 3 x 3) for the 5 x 5 stride-2 layers (enc2 and dec4),
// forward and backward: the same results as the GEMM paths (to Float rounding), with fewer
// multiplications.
//
// Both layers are, phase by phase, stride-1 3 x 3 correlations with zero padding 1 — the same
// polyphase view as SubPixelPhase and FFTTransposedConv:
//   - a stride-2 conv (k = 5, padding 2) reads its input's four phases x_p[a, b] = x[2a+py, 2b+px]:
//     y[o] = sum_p corr3(x_p, w_p)[o], where w_p[a][b] = w[2a + py][2b + px] (0 past the kernel);
//     the phases stacked as 4 Cin input planes, that is one 3 x 3 correlation;
//   - a stride-2 transposed conv (k = 5, padding 2, output padding 1) writes its output's four
//     phases, each a 3 x 3 correlation of the input: y_q = corr3(x, w_q), w_q[a][b] = w[q + 2 - 2(a - 1)]
//     per axis (0 past the kernel); the phases stacked as 4 Cout output planes.
// A 3 x 3 correlation's dx is the correlation of dy with the kernels transposed (in <-> out) and
// flipped, so the backward's dx is the same forward on other planes; its dW is the transform's
// adjoint: dW = G^T (sum over tiles of (A dy A^T) (B^T d B)^T) G.
//
// Per 4 x 4 output tile and pair of planes, F(4, 3) does 36 multiplications where the
// correlation does 144: with the zero taps (25 of the 36 window taps are the kernel's) 2.8 times
// fewer than the GEMM path's 100 per 4 output pixels. Tile by tile (Lavin & Gray 2016):
//   1. every 6 x 6 input patch d (tiles 4 apart, reaching 1 past each side) becomes V = B^T d B;
//   2. per element e of the 6 x 6 transform, one GEMM M_e (Cout, tiles) = U_e (Cout, Cin) V_e (Cin, tiles),
//      U = G g G^T the kernels' transforms;
//   3. each output tile is A^T M A.
// Tiles are numbered across the images of a batch (TileGrid), so a batch of small images fills the
// GEMMs as one large image does; they go in chunks of whole tile rows (`chunkRows`) to bound the scratch memory.
// The transforms run on 16 tiles at once, one SIMD16<Float> lane per tile.
//
// Size letters: Cin/Cout planes of the correlation (for enc2 4 Cin of the layer, for dec4
// 4 Cout), Tc tiles per chunk, E = 36 transform elements.

import Foundation

/// 16 tiles side by side.
typealias TileLanes = SIMD16<Float>

public enum Winograd {
    static let lanes = TileLanes.scalarCount
    /// Output tile side m, input patch side m + 2, elements (m + 2)^2.
    static let m = 4, patch = 6, elements = 36

    /// The chunk's transformed planes stay within this many floats (16 MB), unless a single tile
    /// row needs more (an input thousands of pixels wide: one row per chunk then).
    static let scratchFloats = 1 << 22

    /// Whether F(4, 3) beats the GEMM path for a layer whose correlation planes are
    /// height x width, `batch` images: from `tileThreshold` tiles on, unless the environment sets
    /// DRHT_WINOGRAD=0 (to compare the two paths: `drht bench`, docs/PERFORMANCE.md).
    static func isFaster(batch: Int, height: Int, width: Int) -> Bool {
        enabled && fits(height: height, width: width) && batch * (height / m) * (width / m) >= tileThreshold
    }
    static let enabled = ProcessInfo.processInfo.environment["DRHT_WINOGRAD"] != "0"

    /// Why a layer on this input takes (or not) the Winograd path, in words (`drht bench`).
    /// height x width: the correlation planes (a stride-2 conv's input phases, a transposed
    /// conv's input).
    public static func reason(batch: Int, height: Int, width: Int) -> String {
        let tiles = batch * (height / m) * (width / m)
        return "\(tiles) tiles of 4x4 here; the path is taken from \(tileThreshold) on" + (enabled ? "" : ", but DRHT_WINOGRAD=0 turns it off")
    }
    /// Tiles (all images together) from which the Winograd path is taken. Measured (2 threads,
    /// AMD EPYC, OpenBLAS Cooperlake; `drht bench layers`, Winograd vs GEMM forward / backward,
    /// ms): enc2 at batch 8 x 64^2 (512 tiles) 13.2 / 25.6 vs 16.6 / 29.5; batch 4 x 128^2 (1,024)
    /// 20.1 / 38.6 vs 26-34 / 47-63; dec4 at batch 4 x 128^2 (256) 10.1 / 19.7 vs 12.3 / 24.6; at
    /// batch 8 x 64^2 (128 tiles) it loses the backward (15.3 vs 10.6): the GEMMs are too narrow.
    static let tileThreshold = 256

    // MARK: The transforms

    /// B^T v for a column (or row) of six values: rows of B^T = (4 0 -5 0 1 0), (0 -4 -4 1 1 0),
    /// (0 4 -4 -1 1 0), (0 -2 -1 2 1 0), (0 2 -1 -2 1 0), (0 4 0 -5 0 1).
    @inline(__always)
    static func bt(_ d0: TileLanes, _ d1: TileLanes, _ d2: TileLanes, _ d3: TileLanes, _ d4: TileLanes, _ d5: TileLanes)
        -> (TileLanes, TileLanes, TileLanes, TileLanes, TileLanes, TileLanes) {
        let a = d4 - 4 * d2, b = d3 - 4 * d1          // rows 1 and 2: a + b, a - b
        let c = d4 - d2, e = 2 * (d3 - d1)            // rows 3 and 4: c + e, c - e
        return (4 * d0 - 5 * d2 + d4, a + b, a - b, c + e, c - e, 4 * d1 - 5 * d3 + d5)
    }

    /// A^T v for six values: rows (1 1 1 1 1 0), (0 1 -1 2 -2 0), (0 1 1 4 4 0), (0 1 -1 8 -8 1).
    @inline(__always)
    static func at(_ m0: TileLanes, _ m1: TileLanes, _ m2: TileLanes, _ m3: TileLanes, _ m4: TileLanes, _ m5: TileLanes)
        -> (TileLanes, TileLanes, TileLanes, TileLanes) {
        let s12 = m1 + m2, d12 = m1 - m2, s34 = m3 + m4, d34 = m3 - m4
        return (m0 + s12 + s34, d12 + 2 * d34, s12 + 4 * s34, d12 + 8 * d34 + m5)
    }

    /// A v for four values (the adjoint of `at`): A = (A^T)^T, rows (1 0 0 0), (1 1 1 1),
    /// (1 -1 1 -1), (1 2 4 8), (1 -2 4 -8), (0 0 0 1).
    @inline(__always)
    static func a(_ y0: TileLanes, _ y1: TileLanes, _ y2: TileLanes, _ y3: TileLanes)
        -> (TileLanes, TileLanes, TileLanes, TileLanes, TileLanes, TileLanes) {
        let s02 = y0 + y2, s13 = y1 + y3, f02 = y0 + 4 * y2, f13 = 2 * y1 + 8 * y3
        return (y0, s02 + s13, s02 - s13, f02 + f13, f02 - f13, y3)
    }

    /// G v for three values: G's rows (1/4 0 0), (-1/6 -1/6 -1/6), (-1/6 1/6 -1/6),
    /// (1/24 1/12 1/6), (1/24 -1/12 1/6), (0 0 1).
    @inline(__always)
    static func g(_ k0: Double, _ k1: Double, _ k2: Double) -> (Double, Double, Double, Double, Double, Double) {
        let s = k0 + k2, q = k0 / 24 + k2 / 6
        return (k0 / 4, -(s + k1) / 6, -(s - k1) / 6, q + k1 / 12, q - k1 / 12, k2)
    }

    /// G^T u for six values (the adjoint of `g`).
    @inline(__always)
    static func gt(_ u0: Double, _ u1: Double, _ u2: Double, _ u3: Double, _ u4: Double, _ u5: Double) -> (Double, Double, Double) {
        (u0 / 4 - (u1 + u2) / 6 + (u3 + u4) / 24, (u2 - u1) / 6 + (u3 - u4) / 12, -(u1 + u2) / 6 + (u3 + u4) / 6 + u5)
    }

    /// G v on eight kernels at once (`g`'s arithmetic, lane by lane).
    @inline(__always)
    static func g(_ k0: SIMD8<Double>, _ k1: SIMD8<Double>, _ k2: SIMD8<Double>)
        -> (SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>, SIMD8<Double>) {
        let s = k0 + k2, q = k0 / 24 + k2 / 6
        return (k0 / 4, -(s + k1) / 6, -(s - k1) / 6, q + k1 / 12, q - k1 / 12, k2)
    }

    /// U (E, Cout, Cin): U_e[o][i] = (G k G^T)[e] for the kernels k (Cout, Cin, 3, 3), in doubles
    /// rounded once. Eight input planes at a time (U's rows are contiguous in i; the scalar loop
    /// was 1% of a training step), the rest one by one, with the same arithmetic.
    static func kernelTransform(cout: Int, cin: Int, kernels: [Float]) -> [Float] {
        precondition(kernels.count == cout * cin * 9)
        var u = [Float](repeating: 0, count: elements * cout * cin)
        let step = cout * cin
        u.withUnsafeMutableBufferPointer { u in
            kernels.withUnsafeBufferPointer { kernels in
            parallelFor(cout) { o in
                var i = 0
                while i + 8 <= cin {
                    let k0 = kernels.baseAddress! + (o * cin + i) * 9
                    func k(_ a: Int, _ b: Int) -> SIMD8<Double> {
                        let p = k0 + a * 3 + b
                        return SIMD8<Double>(Double(p[0]), Double(p[9]), Double(p[18]), Double(p[27]),
                                             Double(p[36]), Double(p[45]), Double(p[54]), Double(p[63]))
                    }
                    let c0 = g(k(0, 0), k(1, 0), k(2, 0)), c1 = g(k(0, 1), k(1, 1), k(2, 1)), c2 = g(k(0, 2), k(1, 2), k(2, 2))
                    let out = u.baseAddress! + o * cin + i
                    func row(_ r: Int, _ x0: SIMD8<Double>, _ x1: SIMD8<Double>, _ x2: SIMD8<Double>) {
                        let t = g(x0, x1, x2), e = out + r * patch * step
                        func put(_ j: Int, _ v: SIMD8<Double>) {
                            UnsafeMutableRawPointer(e + j * step).storeBytes(of: SIMD8<Float>(v), as: SIMD8<Float>.self)
                        }
                        put(0, t.0); put(1, t.1); put(2, t.2); put(3, t.3); put(4, t.4); put(5, t.5)
                    }
                    row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
                    row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
                    i += 8
                }
                for i in i..<cin {
                    let ki = kernels.baseAddress! + (o * cin + i) * 9
                    func k(_ a: Int, _ b: Int) -> Double { Double(ki[a * 3 + b]) }
                    // G k: the three columns, each 3 -> 6.
                    let c0 = g(k(0, 0), k(1, 0), k(2, 0)), c1 = g(k(0, 1), k(1, 1), k(2, 1)), c2 = g(k(0, 2), k(1, 2), k(2, 2))
                    let out = u.baseAddress! + o * cin + i
                    func row(_ r: Int, _ x0: Double, _ x1: Double, _ x2: Double) {
                        let t = g(x0, x1, x2), e = out + r * patch * step
                        e[0] = Float(t.0); e[step] = Float(t.1); e[2 * step] = Float(t.2)
                        e[3 * step] = Float(t.3); e[4 * step] = Float(t.4); e[5 * step] = Float(t.5)
                    }
                    row(0, c0.0, c1.0, c2.0); row(1, c0.1, c1.1, c2.1); row(2, c0.2, c1.2, c2.2)
                    row(3, c0.3, c1.3, c2.3); row(4, c0.4, c1.4, c2.4); row(5, c0.5, c1.5, c2.5)
                }
            }
            }
        }
        return u
    }

    /// The kernels (In, Out, 3, 3) of the adjoint correlation (dx of `correlate`) from the
    /// forward's (Out, In, 3, 3): transposed and flipped, k'[i][o][a][b] = k[o][i][2 - a][2 - b].
    static func adjointKernels(_ k: [Float], outPlanes: Int, inPlanes: Int) -> [Float] {
        var t = [Float](repeating: 0, count: k.count)
        for o in 0..<outPlanes {
            for i in 0..<inPlanes {
                let src = (o * inPlanes + i) * 9, dst = (i * outPlanes + o) * 9
                for ab in 0..<9 { t[dst + 8 - ab] = k[src + ab] }
            }
        }
        return t
    }

    /// The kernels' gradient (Cout, Cin, 3, 3) from dU (E, Cout, Cin): G^T dU G.
    static func kernelGradient(_ du: UnsafePointer<Float>, cout: Int, cin: Int) -> [Float] {
        var dk = [Float](repeating: 0, count: cout * cin * 9)
        let step = cout * cin
        dk.withUnsafeMutableBufferPointer { dk in
            parallelFor(cout) { o in
                for i in 0..<cin {
                    let src = du + o * cin + i
                    func d(_ r: Int, _ t: Int) -> Double { Double(src[(r * patch + t) * step]) }
                    // dU G: each of the six rows, 6 -> 3.
                    func row(_ r: Int) -> (Double, Double, Double) { gt(d(r, 0), d(r, 1), d(r, 2), d(r, 3), d(r, 4), d(r, 5)) }
                    let r0 = row(0), r1 = row(1), r2 = row(2), r3 = row(3), r4 = row(4), r5 = row(5)
                    let c0 = gt(r0.0, r1.0, r2.0, r3.0, r4.0, r5.0), c1 = gt(r0.1, r1.1, r2.1, r3.1, r4.1, r5.1)
                    let c2 = gt(r0.2, r1.2, r2.2, r3.2, r4.2, r5.2)
                    let out = dk.baseAddress! + (o * cin + i) * 9
                    out[0] = Float(c0.0); out[3] = Float(c0.1); out[6] = Float(c0.2)
                    out[1] = Float(c1.0); out[4] = Float(c1.1); out[7] = Float(c1.2)
                    out[2] = Float(c2.0); out[5] = Float(c2.1); out[8] = Float(c2.2)
                }
            }
        }
        return dk
    }

    /// A chunk: the tile rows `rows` (numbered image by image, `TileGrid`'s order), their tiles
    /// numbered from 0 in the chunk; its planes are `stride` floats apart (the tiles rounded up to
    /// whole lanes, plus one lane group of slack that row-by-row writes may spill into).
    struct Chunk {
        let rows: Range<Int>
        let tilesX: Int
        var count: Int { rows.count * tilesX }
        var stride: Int { (count + 2 * Winograd.lanes - 1) / Winograd.lanes * Winograd.lanes }
    }

    /// Tile rows per chunk: E (Cin + Cout) stride floats within `scratchFloats`.
    static func chunkRows(cin: Int, cout: Int, grid: TileGrid) -> Int {
        let tiles = max(lanes, scratchFloats / (elements * (cin + cout)))
        return max(1, min(grid.tilesY * grid.images, tiles / grid.tilesX))
    }

    /// Per worker, floats of row buffers: 6 x 4 x L twice, L = tilesX + 1 rounded up to lanes, plus a lane group.
    static func rowScratch(tilesX: Int) -> Int { 2 * 24 * rowLength(tilesX: tilesX) }
    static func rowLength(tilesX: Int) -> Int { (tilesX + 1 + lanes - 1) / lanes * lanes + lanes }

    @inline(__always) static func load(_ p: UnsafePointer<Float>) -> TileLanes { UnsafeRawPointer(p).loadUnaligned(as: TileLanes.self) }
    @inline(__always) static func store(_ p: UnsafeMutablePointer<Float>, _ x: TileLanes) { UnsafeMutableRawPointer(p).storeBytes(of: x, as: TileLanes.self) }

    /// V (E, C, stride) of one chunk: every tile's 6 x 6 patch (zero past the planes) through
    /// B^T d B; columns past the chunk's tiles are zero. Tile row by tile row: the patch rows are
    /// copied into four arrays by x mod 4 (so that the 16 tiles of a lane group read contiguous
    /// values), transformed down the columns, then across.
    static func transformInput(_ planes: TiledPlanes, grid: TileGrid, chunk: Chunk,
                               into v: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let c = planes.count, h = planes.height, tx = grid.tilesX
        let rs = planes.rowStride, cs = planes.columnStride, stride = chunk.stride, l = rowLength(tilesX: tx)
        let perWorker = rowScratch(tilesX: tx)
        parallelWorkers(c) { worker, range in
            let d = scratch + worker * perWorker
            d.update(repeating: 0, count: perWorker)         // lanes past a row's tiles compute on zeros, not leftovers         // d[(r * 4 + k) * l + i] = patch row r, x = 4 i + k - 1
            let u = d + 24 * l                           // u[(e * 4 + k) * l + i]: (B^T d) row e, same columns
            for j in range {
                let plane = planes.visit(j)
                for (ri, row) in chunk.rows.enumerated() {
                    let image = row / grid.tilesY, y0 = (row % grid.tilesY) * m - 1
                    let p = planes.plane(plane, image: image)
                    for r in 0..<patch {
                        let y = y0 + r
                        let dr = d + r * 4 * l
                        if y < 0 || y >= h {
                            dr.update(repeating: 0, count: 4 * l)
                            continue
                        }
                        // Tile i reads x = 4 i - 1 ... 4 i + 4: indices i and i + 1 of the four arrays.
                        let src = p + y * rs
                        dr[0] = 0                                      // x = -1
                        for k in 1..<4 { dr[k * l] = src[(k - 1) * cs] }
                        for i in 1..<tx {
                            let x = 4 * i - 1
                            dr[i] = src[x * cs]; dr[l + i] = src[(x + 1) * cs]; dr[2 * l + i] = src[(x + 2) * cs]; dr[3 * l + i] = src[(x + 3) * cs]
                        }
                        dr[tx] = src[(4 * tx - 1) * cs]                // x = w - 1
                        dr[l + tx] = 0                                 // x = w
                    }
                    // Down the columns: u[e] = (B^T d)[e] for every x.
                    for k in 0..<4 {
                        for i in Swift.stride(from: 0, to: tx + 1, by: lanes) {
                            let o = k * l + i, q = 4 * l
                            let t = bt(load(d + o), load(d + q + o), load(d + 2 * q + o), load(d + 3 * q + o), load(d + 4 * q + o), load(d + 5 * q + o))
                            store(u + o, t.0); store(u + q + o, t.1); store(u + 2 * q + o, t.2)
                            store(u + 3 * q + o, t.3); store(u + 4 * q + o, t.4); store(u + 5 * q + o, t.5)
                        }
                    }
                    // Across: tile i's columns 0 ... 5 are x = 4 i - 1 + s: array s mod 4, index i + s / 4.
                    let first = ri * tx
                    for i in Swift.stride(from: 0, to: tx, by: lanes) {
                        for e in 0..<patch {
                            let ue = u + e * 4 * l + i
                            let t = bt(load(ue), load(ue + l), load(ue + 2 * l), load(ue + 3 * l), load(ue + 1), load(ue + l + 1))
                            let out = v + (e * patch * c + plane) * stride + first + i
                            store(out, t.0); store(out + c * stride, t.1); store(out + 2 * c * stride, t.2)
                            store(out + 3 * c * stride, t.3); store(out + 4 * c * stride, t.4); store(out + 5 * c * stride, t.5)
                        }
                    }
                }
                for e in 0..<elements { (v + (e * c + plane) * stride + chunk.count).update(repeating: 0, count: stride - chunk.count) }
            }
        }
    }

    /// dM (E, C, stride) of one chunk: A dy A^T of every 4 x 4 tile; columns past the tiles zero.
    static func transformOutputGradient(_ planes: TiledPlanes, grid: TileGrid, chunk: Chunk,
                                        into dm: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>) {
        let c = planes.count, tx = grid.tilesX
        let rs = planes.rowStride, cs = planes.columnStride, stride = chunk.stride, l = rowLength(tilesX: tx)
        let perWorker = rowScratch(tilesX: tx)
        parallelWorkers(c) { worker, range in
            let d = scratch + worker * perWorker
            d.update(repeating: 0, count: perWorker)         // lanes past a row's tiles compute on zeros, not leftovers         // d[(r * 4 + s) * l + i] = tile i's row r, column s
            let u = d + 24 * l                           // u[(e * 4 + s) * l + i]: (A d)[e], same columns
            for j in range {
                let plane = planes.visit(j)
                for (ri, row) in chunk.rows.enumerated() {
                    let image = row / grid.tilesY, y0 = (row % grid.tilesY) * m
                    let p = planes.plane(plane, image: image) + y0 * rs
                    for r in 0..<m {
                        let src = p + r * rs, dr = d + r * 4 * l
                        for i in 0..<tx { for s in 0..<m { dr[s * l + i] = src[(4 * i + s) * cs] } }
                    }
                    for s in 0..<m {
                        for i in Swift.stride(from: 0, to: tx, by: lanes) {
                            let o = s * l + i, q = 4 * l
                            let t = a(load(d + o), load(d + q + o), load(d + 2 * q + o), load(d + 3 * q + o))
                            store(u + o, t.0); store(u + q + o, t.1); store(u + 2 * q + o, t.2)
                            store(u + 3 * q + o, t.3); store(u + 4 * q + o, t.4); store(u + 5 * q + o, t.5)
                        }
                    }
                    let first = ri * tx
                    for i in Swift.stride(from: 0, to: tx, by: lanes) {
                        for e in 0..<patch {
                            let ue = u + e * 4 * l + i
                            let t = a(load(ue), load(ue + l), load(ue + 2 * l), load(ue + 3 * l))
                            let out = dm + (e * patch * c + plane) * stride + first + i
                            store(out, t.0); store(out + c * stride, t.1); store(out + 2 * c * stride, t.2)
                            store(out + 3 * c * stride, t.3); store(out + 4 * c * stride, t.4); store(out + 5 * c * stride, t.5)
                        }
                    }
                }
                for e in 0..<elements { (dm + (e * c + plane) * stride + chunk.count).update(repeating: 0, count: stride - chunk.count) }
            }
        }
    }

    /// The chunk's output tiles from M (E, C, stride): A^T M A, written (not added) to the planes.
    static func transformOutput(_ mm: UnsafePointer<Float>, grid: TileGrid, chunk: Chunk,
                                into planes: TiledPlanes, scratch: UnsafeMutablePointer<Float>) {
        let c = planes.count, tx = grid.tilesX
        let rs = planes.rowStride, cs = planes.columnStride, stride = chunk.stride, l = rowLength(tilesX: tx)
        let perWorker = rowScratch(tilesX: tx)
        parallelWorkers(c) { worker, range in
            let d = scratch + worker * perWorker
            d.update(repeating: 0, count: perWorker)         // lanes past a row's tiles compute on zeros, not leftovers         // d[(e * 4 + s) * l + i]: (M A)[e][s] of tile i
            let y = d + 24 * l                           // y[(r * 4 + s) * l + i]: the tile's output
            for j in range {
                let plane = planes.visit(j)
                for (ri, row) in chunk.rows.enumerated() {
                    let first = ri * tx
                    for i in Swift.stride(from: 0, to: tx, by: lanes) {
                        for e in 0..<patch {
                            let me = mm + (e * patch * c + plane) * stride + first + i
                            let t = at(load(me), load(me + c * stride), load(me + 2 * c * stride), load(me + 3 * c * stride),
                                       load(me + 4 * c * stride), load(me + 5 * c * stride))
                            let o = e * 4 * l + i
                            store(d + o, t.0); store(d + o + l, t.1); store(d + o + 2 * l, t.2); store(d + o + 3 * l, t.3)
                        }
                    }
                    for s in 0..<m {
                        for i in Swift.stride(from: 0, to: tx, by: lanes) {
                            let o = s * l + i, q = 4 * l
                            let t = at(load(d + o), load(d + q + o), load(d + 2 * q + o), load(d + 3 * q + o), load(d + 4 * q + o), load(d + 5 * q + o))
                            store(y + o, t.0); store(y + q + o, t.1); store(y + 2 * q + o, t.2); store(y + 3 * q + o, t.3)
                        }
                    }
                    let image = row / grid.tilesY, y0 = (row % grid.tilesY) * m
                    let p = planes.plane(plane, image: image) + y0 * rs
                    for r in 0..<m {
                        let dst = p + r * rs, yr = y + r * 4 * l
                        for i in 0..<tx { for s in 0..<m { dst[(4 * i + s) * cs] = yr[s * l + i] } }
                    }
                }
            }
        }
    }

    // MARK: The correlation and its kernel gradient

    /// Whether the planes can go through F(4, 3): whole 4 x 4 tiles.
    static func fits(height: Int, width: Int) -> Bool { height % m == 0 && width % m == 0 && height > 0 && width > 0 }

    /// output[o] = sum_i corr3(input[i], k[o][i]) with zero padding 1 (no bias), `kernels` k
    /// (Cout, Cin, 3, 3), for every image; input and output planes have the same size.
    static func correlate(input: TiledPlanes, output: TiledPlanes, images: Int,
                          kernels: [Float], workspace: Workspace) {
        let cin = input.count, cout = output.count
        precondition(input.height == output.height && input.width == output.width && fits(height: input.height, width: input.width))
        let u = kernelTransform(cout: cout, cin: cin, kernels: kernels)
        let grid = TileGrid(height: input.height, width: input.width, images: images, v: m)
        let rows = chunkRows(cin: cin, cout: cout, grid: grid), allRows = grid.tilesY * images
        let stride = Chunk(rows: 0..<rows, tilesX: grid.tilesX).stride
        // Allocated for the call, as the FFT path's spectra are, rather than kept in the workspace:
        // the peak is then the larger of the two paths', not their sum (measured: +23 MB in training).
        let v = UnsafeMutablePointer<Float>.allocate(capacity: elements * cin * stride)
        let mm = UnsafeMutablePointer<Float>.allocate(capacity: elements * cout * stride)
        defer { v.deallocate(); mm.deallocate() }
        let scratch = workspace.buffer(0, count: EngineThreads.count * rowScratch(tilesX: grid.tilesX))
        u.withUnsafeBufferPointer { u in
            for r0 in Swift.stride(from: 0, to: allRows, by: rows) {
                let chunk = Chunk(rows: r0..<min(allRows, r0 + rows), tilesX: grid.tilesX)
                let tc = chunk.stride
                transformInput(input, grid: grid, chunk: chunk, into: v, scratch: scratch)
                // M_e (Cout, Tc) = U_e (Cout, Cin) V_e (Cin, Tc), elements split over the workers.
                parallelChunks(elements) { es in
                    for e in es {
                        gemmSerial(mm + e * cout * tc, ldc: tc, u.baseAddress! + e * cout * cin, lda: cin, transposeA: false,
                                   v + e * cin * tc, ldb: tc, transposeB: false, m: cout, n: chunk.count, k: cin)
                    }
                }
                transformOutput(mm, grid: grid, chunk: chunk, into: output, scratch: scratch)
            }
        }
    }

    /// dk (Cout, Cin, 3, 3) of `correlate`'s kernels given dL/d(output).
    static func kernelGradient(input: TiledPlanes, dOutput: TiledPlanes, images: Int, workspace: Workspace) -> [Float] {
        let cin = input.count, cout = dOutput.count
        precondition(input.height == dOutput.height && input.width == dOutput.width && fits(height: input.height, width: input.width))
        let grid = TileGrid(height: input.height, width: input.width, images: images, v: m)
        let rows = chunkRows(cin: cin, cout: cout, grid: grid), allRows = grid.tilesY * images
        let stride = Chunk(rows: 0..<rows, tilesX: grid.tilesX).stride
        let v = UnsafeMutablePointer<Float>.allocate(capacity: elements * cin * stride)
        let dm = UnsafeMutablePointer<Float>.allocate(capacity: elements * cout * stride)
        let du = UnsafeMutablePointer<Float>.allocate(capacity: elements * cout * cin)
        defer { v.deallocate(); dm.deallocate(); du.deallocate() }
        let scratch = workspace.buffer(0, count: EngineThreads.count * rowScratch(tilesX: grid.tilesX))
        for (i, r0) in Swift.stride(from: 0, to: allRows, by: rows).enumerated() {
            let chunk = Chunk(rows: r0..<min(allRows, r0 + rows), tilesX: grid.tilesX)
            let tc = chunk.stride
            transformInput(input, grid: grid, chunk: chunk, into: v, scratch: scratch)
            transformOutputGradient(dOutput, grid: grid, chunk: chunk, into: dm, scratch: scratch)
            // dU_e (Cout, Cin) += dM_e (Cout, Tc) V_e^T (Tc, Cin)
            parallelChunks(elements) { es in
                for e in es {
                    gemmSerial(du + e * cout * cin, ldc: cin, dm + e * cout * tc, lda: tc, transposeA: false,
                               v + e * cin * tc, ldb: tc, transposeB: true, m: cout, n: cin, k: chunk.count, beta: i == 0 ? 0 : 1)
                }
            }
        }
        return kernelGradient(du, cout: cout, cin: cin)
    }
}

// MARK: The two layers

/// The 3 x 3 window offset a (0, 1, 2 for -1, 0, +1) of polyphase `phase` (0 or 1) as a tap of
/// the k x k kernel (padding (k - 1) / 2), or nil where the phase has no tap there.
/// Conv (stride 2): the tap read at 2 (o + a - 1) + phase = 2 o + tap - P, i.e. tap = 2 a + phase + P - 2.
/// Transposed conv (stride 2): output 2 m + phase reads input m + a - 1 through tap phase + P - 2 (a - 1).
enum WinogradTaps {
    static func conv(_ a: Int, phase: Int, kernel k: Int) -> Int? {
        let t = 2 * a + phase + (k - 1) / 2 - 2
        return t >= 0 && t < k ? t : nil
    }

    static func transposed(_ a: Int, phase: Int, kernel k: Int) -> Int? {
        let t = phase + (k - 1) / 2 - 2 * (a - 1)
        return t >= 0 && t < k ? t : nil
    }

    /// The four phases, in SubPixelPhase's order.
    static let phases = [(0, 0), (0, 1), (1, 0), (1, 1)]

    /// Per phase, the k x k kernel offset (ty * k + tx) of each 3 x 3 window entry a * 3 + b, or
    /// -1 where the phase has no tap; `map` is `conv` or `transposed`.
    static func offsets(kernel k: Int, _ map: (Int, Int, Int) -> Int?) -> [[Int]] {
        phases.map { p in
            (0..<9).map { ab in
                guard let ty = map(ab / 3, p.0, k), let tx = map(ab % 3, p.1, k) else { return -1 }
                return ty * k + tx
            }
        }
    }
}

/// Where each tap of a layer's weight sits among the correlation's kernels (O, I, 3, 3): the
/// forward gathers the kernels through it, the backward scatters their gradient back (each tap
/// sits in exactly one phase window, so the scatter assigns).
struct WinogradKernelMap {
    /// (index in the layer's weight, index in the kernels), one per tap.
    let pairs: [(weight: Int, kernel: Int)]
    let kernelCount: Int

    /// For a layer whose weight is (c1, c2, k, k): conv (Cout, Cin), transposed conv (Cin, Cout).
    init(kernel k: Int, channels c1: Int, _ c2: Int, transposed: Bool) {
        let offsets = WinogradTaps.offsets(kernel: k) { a, phase, k in
            transposed ? WinogradTaps.transposed(a, phase: phase, kernel: k) : WinogradTaps.conv(a, phase: phase, kernel: k)
        }
        var pairs: [(weight: Int, kernel: Int)] = []
        pairs.reserveCapacity(c1 * c2 * k * k)
        for (p, table) in offsets.enumerated() {
            for i in 0..<c1 {
                for j in 0..<c2 {
                    // Conv: weight (Cout, Cin) = (i, j), kernels (Cout, 4 Cin): plane p * Cin + j.
                    // Transposed: weight (Cin, Cout) = (i, j), kernels (4 Cout, Cin): plane p * Cout + j.
                    let w = (i * c2 + j) * k * k
                    let kernel = transposed ? ((p * c2 + j) * c1 + i) * 9 : ((i * 4 + p) * c2 + j) * 9
                    for ab in 0..<9 where table[ab] >= 0 { pairs.append((w + table[ab], kernel + ab)) }
                }
            }
        }
        self.pairs = pairs
        kernelCount = 4 * c1 * c2 * 9
    }

    /// The correlation's kernels from the layer's weight.
    func kernels(_ weight: Tensor) -> [Float] {
        var k3 = [Float](repeating: 0, count: kernelCount)
        for (w, k) in pairs { k3[k] = weight.data[w] }
        return k3
    }

    /// The layer's weight gradient from the kernels' (every tap written).
    func scatter(_ dk: [Float], into dW: Tensor) {
        for (w, k) in pairs { dW.data[w] = dk[k] }
    }
}

extension Conv2D {
    /// Whether the Winograd path can run: a 5 x 5 stride-2 conv on an input whose four phases
    /// split into whole 4 x 4 tiles.
    func winogradPossible(for input: [Int]) -> Bool {
        kernel == 5 && stride == 2 && input[2] % 8 == 0 && input[3] % 8 == 0
    }

    /// The correlation's taps: kernels (Cout, 4 Cin, 3, 3), input plane p * Cin + ci is phase p of channel ci.
    var winogradMap: WinogradKernelMap { WinogradKernelMap(kernel: kernel, channels: outChannels, inChannels, transposed: false) }

    /// y = conv(x) + b through F(4, 3) on the input's four phases (see the file header).
    func forwardWinograd(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        Winograd.correlate(input: TiledPlanes(phasesOf: x, phases: SubPixelPhase.all(kernel: kernel)), output: TiledPlanes(channelsOf: y),
                           images: x.n, kernels: winogradMap.kernels(weight), workspace: workspace)
        addBias(y, bias)
    }

    /// dx and dW (either may be nil: not wanted) through F(4, 3): dx is the correlation of dy with
    /// the phase kernels transposed and flipped, written to dx's four phases; dW the adjoint.
    func backwardWinograd(dOutput dy: Tensor, input x: Tensor, dX: Tensor?, dW: Tensor?, workspace: Workspace) {
        let phases = SubPixelPhase.all(kernel: kernel), map = winogradMap
        if let dX {
            let kernels = Winograd.adjointKernels(map.kernels(weight), outPlanes: outChannels, inPlanes: 4 * inChannels)
            Winograd.correlate(input: TiledPlanes(channelsOf: dy), output: TiledPlanes(phasesOf: dX, phases: phases), images: x.n,
                               kernels: kernels, workspace: workspace)
        }
        if let dW {
            map.scatter(Winograd.kernelGradient(input: TiledPlanes(phasesOf: x, phases: phases), dOutput: TiledPlanes(channelsOf: dy),
                                                images: x.n, workspace: workspace), into: dW)
        }
    }
}

extension TransposedConv2D {
    /// Whether the Winograd path can run: a 5 x 5 stride-2 transposed conv on an input of whole
    /// 4 x 4 tiles.
    func winogradPossible(for input: [Int]) -> Bool {
        kernel == 5 && input[2] % 4 == 0 && input[3] % 4 == 0
    }

    /// The correlation's taps: kernels (4 Cout, Cin, 3, 3), output plane p * Cout + co is phase p of channel co.
    var winogradMap: WinogradKernelMap { WinogradKernelMap(kernel: kernel, channels: inChannels, outChannels, transposed: true) }

    /// y = convT(x) + b through F(4, 3), one correlation per output phase (see the file header).
    func forwardWinograd(_ x: Tensor, into y: Tensor, workspace: Workspace) {
        Winograd.correlate(input: TiledPlanes(channelsOf: x), output: TiledPlanes(phasesOf: y, phases: SubPixelPhase.all(kernel: kernel)),
                           images: x.n, kernels: winogradMap.kernels(weight), workspace: workspace)
        addBias(y, bias)
    }

    /// dx and dW (either may be nil) through F(4, 3).
    func backwardWinograd(dOutput dy: Tensor, input x: Tensor, dX: Tensor?, dW: Tensor?, workspace: Workspace) {
        let phases = SubPixelPhase.all(kernel: kernel), map = winogradMap
        if let dX {
            let kernels = Winograd.adjointKernels(map.kernels(weight), outPlanes: 4 * outChannels, inPlanes: inChannels)
            Winograd.correlate(input: TiledPlanes(phasesOf: dy, phases: phases), output: TiledPlanes(channelsOf: dX), images: x.n,
                               kernels: kernels, workspace: workspace)
        }
        if let dW {
            map.scatter(Winograd.kernelGradient(input: TiledPlanes(channelsOf: x), dOutput: TiledPlanes(phasesOf: dy, phases: phases),
                                                images: x.n, workspace: workspace), into: dW)
        }
    }
}
