// A gain map carries a decision made on a small copy of a photo to every pixel of the photo.
//
// The network corrects a working copy (by default 256 px on the long side). At that size, per
// pixel, the gain in stops is how much it brightened (or darkened) the linear luminance:
//
//   g = log2((Y_after + delta * G) / (Y_before + delta))        Y: Rec. 709 luminance, linear
//   G = mean(Y_after) / mean(Y_before)                           the picture's overall gain
//
// delta guards dark pixels: where Y_before is far below delta, the ratio of two tiny, noisy
// numbers gives way to the picture's overall gain G; where it is far above, g is the plain
// ratio. A uniform gain k (Y_after = k Y_before everywhere) gives g = log2 k exactly, dark pixels
// included. g is clamped to +-8 stops, then blurred a little (a Gaussian of `smoothing` working
// pixels): the network prints a faint dot every 32 pixels of its input, and the map would carry
// that pattern to the photo.
//
// The map is upsampled to the photo's size and applied in linear light, each pixel keeping its
// own colour ratios and detail:   out = encode(decode(photo) * 2^g)
// Upsampling is guided (the default) or bilinear. Guided: a local linear model
// g ~ a * log2(Y + delta) + b is fitted on the working copy (He, Sun and Tang's guided filter,
// fitted at low resolution as in He and Sun's 2015 fast guided filter); a and b are upsampled
// bilinearly and applied with the photo's own full-resolution luminance, so the gain follows
// edges finer than the working copy (a dark tree against a bright sky keeps its own gain).
//
// Where the photo is clipped (a channel above `clipThreshold`) its pixels hold no detail to
// keep, and a gain cannot bring back colour that the sensor lost: optionally (`blendClipped`,
// off by default: it measured worse, see docs/CORRECTION-MODES.md) the network's own upsampled result is blended
// in there, weight (max channel - threshold) / (1 - threshold), as the official DRHT code blends
// its HDR prediction with the input above 0.95.
import DRHTEngine
import DRHTImageIO
import Foundation

/// How a gain map is computed and applied. The defaults were chosen with `drht evaluate` on
/// the validation photos and procedural scenes, each against the alternatives listed
/// (docs/CORRECTION-MODES.md); the held-out photos only report the result.
public struct GainOptions: Sendable, Equatable {
    public enum Upsampling: String, CaseIterable, Sendable { case bilinear, guided }
    /// Dark-pixel guard (linear luminance; 0.18 is mid-grey; 1 is white). Swept 0.05 ... 16 with
    /// the shipped weights (docs/CORRECTION-MODES.md): the validation photos score higher up
    /// to about 1 (a re-exposed photo's ideal correction is nearly one global gain, which a
    /// large delta tends to), the procedural scenes peak at 0.2 and fall behind auto-exposure
    /// past 0.5. 0.5 keeps most of the photos' gain and the scenes ahead of every baseline.
    public var delta: Float = 0.5
    /// Gains are clamped to +- this many stops.
    public var maxStops: Float = 8
    /// Guided beat bilinear in SSIM on photos and scenes alike (with smoothing, in grid too).
    public var upsampling: Upsampling = .guided
    /// Guided upsampling: box radius (working-copy pixels) and regularisation (stops^2);
    /// radius 4 measured better than 2.
    public var guidedRadius = 4
    public var guidedEpsilon: Float = 0.05
    /// Gaussian blur of the gain map at the working size (sigma in working-copy pixels; 0: none),
    /// against the network's own 32-pixel dot pattern, which the map would otherwise carry.
    /// sigma 2 measured better than 1 and 0 in SSIM and grid score, equal in PSNR.
    public var smoothing: Float = 2
    /// Blend in the network's own result where the photo is clipped.
    public var blendClipped = false
    public var clipThreshold: Float = 0.95
    /// Both modes: the network sees what it corrects with a mirrored margin of this many pixels
    /// on every side (`mirrorPad`), cropped off its output; nil: the mode's own
    /// (`CorrectionMode.defaultMargin`). Zero padding's border effect reaches through the whole
    /// 8 x 8 bottleneck of a 256-px input (a flat photo comes out with a 32-pixel pattern, flat
    /// again 128 px from any border); the margin moves most of it off the picture.
    public var margin: Int? = nil
    /// Both modes: the network also sees the mirror image (left-right) of what it corrects, and
    /// the two outputs (the corrected image and the HDR estimate), the second flipped back, are
    /// averaged (test-time flip averaging; twice the network's time). Off by default; measured
    /// with `drht evaluate --flip-average on` (docs/CORRECTION-MODES.md).
    public var flipAverage = false
    /// Every gain (in stops, before clamping and blurring) is multiplied by this. 1 applies the
    /// network's correction as it is; above 1 strengthens it in both directions, and a photo the
    /// network leaves alone (0 stops) stays as it is. `Correction` scales the corrected image's
    /// map only, never the HDR estimate's nor the result `blendClipped` blends in. Measured with
    /// `drht evaluate --gain-strength` (docs/CORRECTION-MODES.md): 1.15 removed stage 9's average
    /// shortfall on dark photos but lowered SSIM at every exposure, so 1.
    public var strength: Float = 1

    public init() {}
}

public final class GainMap {
    public let options: GainOptions
    /// log2 gain at the working size, (1, 1, h, w).
    public let stops: Tensor
    /// Guided upsampling's slope and offset at the working size (1, 1, h, w); nil when bilinear.
    let slope: Tensor?, offset: Tensor?
    /// The network's own linear result at the working size (1, 3, h, w), for clipped pixels.
    let result: Tensor
    /// The picture's overall gain G (a ratio, not stops).
    public let overallGain: Float

    /// before: the working copy in linear light (1, 3, h, w); after: what the network made of
    /// it, also linear (the corrected image decoded, or the HDR radiance).
    public init(before: Tensor, after: Tensor, options: GainOptions = GainOptions()) {
        precondition(before.shape == after.shape && before.c == 3, "gain maps need two (1, 3, h, w) images of one size")
        self.options = options
        result = after
        let plane = before.h * before.w
        var yb = [Float](repeating: 0, count: plane), ya = [Float](repeating: 0, count: plane)
        var sumB = 0.0, sumA = 0.0
        for i in 0..<plane {
            yb[i] = max(0, SRGB.luminance(before.data[i], before.data[plane + i], before.data[2 * plane + i]))
            ya[i] = max(0, SRGB.luminance(after.data[i], after.data[plane + i], after.data[2 * plane + i]))
            sumB += Double(yb[i]); sumA += Double(ya[i])
        }
        let g = sumB > 0 ? Float(sumA / sumB) : 1
        overallGain = g.isFinite && g > 0 ? g : 1
        let d = options.delta, limit = options.maxStops
        let stops = Tensor(zeros: [1, 1, before.h, before.w])
        for i in 0..<plane {
            let s = options.strength * log2f((ya[i] + d * overallGain) / (yb[i] + d))
            stops.data[i] = s.isFinite ? min(limit, max(-limit, s)) : 0
        }
        if options.smoothing > 0 { GainMap.blur(stops, sigma: options.smoothing) }
        self.stops = stops
        if options.upsampling == .guided {
            let guide = yb.map { log2f($0 + d) }
            (slope, offset) = GainMap.guidedCoefficients(guide: guide, target: Array(stops.buffer), height: before.h,
                                                         width: before.w, radius: options.guidedRadius, epsilon: options.guidedEpsilon)
        } else {
            (slope, offset) = (nil, nil)
        }
    }

    /// The guided filter's mean slope and offset: per window, a = cov(I, p) / (var(I) + eps),
    /// b = mean(p) - a mean(I); then a and b averaged over the windows covering each pixel.
    static func guidedCoefficients(guide: [Float], target: [Float], height h: Int, width w: Int,
                                   radius r: Int, epsilon: Float) -> (Tensor, Tensor) {
        let meanI = boxMean(guide, h, w, r), meanP = boxMean(target, h, w, r)
        let corrIP = boxMean(zip(guide, target).map { $0 * $1 }, h, w, r), corrII = boxMean(guide.map { $0 * $0 }, h, w, r)
        var a = [Float](repeating: 0, count: h * w), b = a
        for i in 0..<(h * w) {
            let variance = max(0, corrII[i] - meanI[i] * meanI[i])
            a[i] = (corrIP[i] - meanI[i] * meanP[i]) / (variance + epsilon)
            b[i] = meanP[i] - a[i] * meanI[i]
        }
        return (Tensor(shape: [1, 1, h, w], values: boxMean(a, h, w, r)), Tensor(shape: [1, 1, h, w], values: boxMean(b, h, w, r)))
    }

    /// Gaussian blur of a (1, 1, h, w) map in place (separable, radius 3 sigma, edges repeated).
    static func blur(_ t: Tensor, sigma: Float) {
        let r = max(1, Int((3 * sigma).rounded(.up))), h = t.h, w = t.w
        var k = (-r...r).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
        let total = k.reduce(0, +)
        k = k.map { $0 / total }
        let src = Array(t.buffer)
        var rows = [Float](repeating: 0, count: h * w)
        for y in 0..<h { for x in 0..<w {
            var s: Float = 0
            for j in -r...r { s += k[j + r] * src[y * w + min(max(x + j, 0), w - 1)] }
            rows[y * w + x] = s
        } }
        for y in 0..<h { for x in 0..<w {
            var s: Float = 0
            for j in -r...r { s += k[j + r] * rows[min(max(y + j, 0), h - 1) * w + x] }
            t.data[y * w + x] = s
        } }
    }

    /// Mean over the (2r+1)^2 window around each pixel, clipped to the image: each window summed
    /// row by row, left to right (`boxMeanReference`). Where the window is whole along x, 16
    /// neighbouring pixels are summed at once in SIMD lanes, each lane in that same order, so
    /// the sums are bit for bit the reference's; rows are spread over the engine's threads.
    static func boxMean(_ x: [Float], _ h: Int, _ w: Int, _ r: Int) -> [Float] {
        var out = [Float](repeating: 0, count: h * w)
        guard h > 0, w > 0 else { return out }
        typealias V = SIMD16<Float>
        x.withUnsafeBufferPointer { xs in
            out.withUnsafeMutableBufferPointer { os in
                let src = xs.baseAddress!, dst = os.baseAddress!
                parallelChunks(h, minChunk: 8) { rows in
                    for y in rows {
                        let y0 = max(0, y - r), y1 = min(h - 1, y + r)
                        // Lanes where every window is whole along x: xx - r >= 0 and xx + r <= w - 1.
                        var xx = 0
                        while xx < min(r, w) { dst[y * w + xx] = windowMean(src, h, w, r, y: y, x: xx); xx += 1 }
                        let n = Float((y1 - y0 + 1) * (2 * r + 1))
                        while xx + 16 <= w - r {
                            var s = V()
                            for yy in y0...y1 {
                                let p = UnsafeRawPointer(src + yy * w + xx - r)
                                for k in 0...(2 * r) { s += p.loadUnaligned(fromByteOffset: k * 4, as: V.self) }
                            }
                            UnsafeMutableRawPointer(dst + y * w + xx).storeBytes(of: s / n, as: V.self)
                            xx += 16
                        }
                        while xx < w { dst[y * w + xx] = windowMean(src, h, w, r, y: y, x: xx); xx += 1 }
                    }
                }
            }
        }
        return out
    }

    /// The plain loops `boxMean` must equal: per pixel, the window's rows top to bottom, each
    /// left to right, one running sum.
    static func boxMeanReference(_ x: [Float], _ h: Int, _ w: Int, _ r: Int) -> [Float] {
        x.withUnsafeBufferPointer { xs in
            (0..<(h * w)).map { i in windowMean(xs.baseAddress!, h, w, r, y: i / w, x: i % w) }
        }
    }

    /// The mean of the window around pixel (y, x), clipped to the image: one running sum over
    /// the window's rows top to bottom, each left to right.
    @inline(__always)
    static func windowMean(_ src: UnsafePointer<Float>, _ h: Int, _ w: Int, _ r: Int, y: Int, x: Int) -> Float {
        var s: Float = 0, n = 0
        for yy in max(0, y - r)...min(h - 1, y + r) {
            for k in max(0, x - r)...min(w - 1, x + r) { s += src[yy * w + k]; n += 1 }
        }
        return s / Float(n)
    }

    /// What `apply` produces.
    public enum Output: Sendable { case srgb, linear }

    /// The gain map applied to `photo` (1, 3, H, W), an sRGB image in [0, 1] of any size:
    /// decode(photo) * 2^g, blended with the network's upsampled result where the photo is
    /// clipped; as sRGB in [0, 1] or as linear values (unclamped: HDR radiance).
    public func apply(to photo: Tensor, output: Output) -> Tensor {
        let out = Tensor(uninitialized: photo.shape)
        let (H, W) = (photo.h, photo.w), plane = H * W
        let sampler = Sampler(self, photo)
        let threshold = options.clipThreshold, blend = options.blendClipped
        let limit = options.maxStops, d = options.delta, guided = slope != nil
        let src = photo.data, dst = out.data
        parallelChunks(H, minChunk: 8) { range in
            // One row of the upsampled map (bilinear: the stops; guided: slope and offset), per worker.
            let rowA = UnsafeMutablePointer<Float>.allocate(capacity: W), rowB = UnsafeMutablePointer<Float>.allocate(capacity: W)
            defer { rowA.deallocate(); rowB.deallocate() }
            for y in range {
                sampler.row(y, slopeOrStops: rowA, offset: rowB)
                for x in 0..<W {
                    let i = y * W + x
                    let sr = src[i], sg = src[plane + i], sb = src[2 * plane + i]
                    var r = SRGB.fastDecode(sr), g = SRGB.fastDecode(sg), b = SRGB.fastDecode(sb)
                    var stops = rowA[x]
                    if guided { stops = stops * log2f(max(0, SRGB.luminance(r, g, b)) + d) + rowB[x] }
                    var m = exp2f(min(limit, max(-limit, stops)))
                    if !m.isFinite { m = 1 }
                    r *= m; g *= m; b *= m
                    if blend {
                        let top = max(sr, sg, sb)
                        if top > threshold {
                            let alpha = min(1, (top - threshold) / (1 - threshold))
                            let (nr, ng, nb) = sampler.network(x: x, y: y)
                            r += alpha * (nr - r); g += alpha * (ng - g); b += alpha * (nb - b)
                        }
                    }
                    if output == .srgb {
                        dst[i] = SRGB.fastEncode(r); dst[plane + i] = SRGB.fastEncode(g); dst[2 * plane + i] = SRGB.fastEncode(b)
                    } else {
                        dst[i] = max(0, r); dst[plane + i] = max(0, g); dst[2 * plane + i] = max(0, b)
                    }
                }
            }
        }
        return out
    }

    /// The gain in stops at every pixel of `photo` (1, 1, H, W): what `apply` multiplies by
    /// (before any blending of clipped pixels).
    public func upsampled(for photo: Tensor) -> Tensor {
        let out = Tensor(uninitialized: [1, 1, photo.h, photo.w])
        let (H, W) = (photo.h, photo.w), plane = H * W
        let sampler = Sampler(self, photo)
        let limit = options.maxStops, d = options.delta, guided = slope != nil
        let src = photo.data
        parallelChunks(H, minChunk: 8) { range in
            let rowB = UnsafeMutablePointer<Float>.allocate(capacity: W)
            defer { rowB.deallocate() }
            for y in range {
                let row = out.data + y * W
                sampler.row(y, slopeOrStops: row, offset: rowB)
                for x in 0..<W {
                    let i = y * W + x
                    var stops = row[x]
                    if guided {
                        let lum = SRGB.luminance(SRGB.fastDecode(src[i]), SRGB.fastDecode(src[plane + i]), SRGB.fastDecode(src[2 * plane + i]))
                        stops = stops * log2f(max(0, lum) + d) + rowB[x]
                    }
                    row[x] = min(limit, max(-limit, stops))
                }
            }
        }
        return out
    }

    /// Bilinear sampling of the working-size maps at the photo's pixels (pixel centres
    /// aligned, edges repeated), for one photo. Positions are computed once, as buffers.
    final class Sampler {
        let map: GainMap
        let width: Int, height: Int, w: Int
        let x0: UnsafeMutablePointer<Int>, x1: UnsafeMutablePointer<Int>, fx: UnsafeMutablePointer<Float>
        let y0: UnsafeMutablePointer<Int>, y1: UnsafeMutablePointer<Int>, fy: UnsafeMutablePointer<Float>

        init(_ map: GainMap, _ photo: Tensor) {
            self.map = map
            width = photo.w; height = photo.h; w = map.stops.w
            func positions(_ n: Int, _ m: Int) -> (UnsafeMutablePointer<Int>, UnsafeMutablePointer<Int>, UnsafeMutablePointer<Float>) {
                let a = UnsafeMutablePointer<Int>.allocate(capacity: n), b = UnsafeMutablePointer<Int>.allocate(capacity: n)
                let f = UnsafeMutablePointer<Float>.allocate(capacity: n)
                for i in 0..<n {
                    let s = min(max((Float(i) + 0.5) * Float(m) / Float(n) - 0.5, 0), Float(m - 1))
                    a[i] = Int(s); b[i] = min(a[i] + 1, m - 1); f[i] = s - Float(a[i])
                }
                return (a, b, f)
            }
            (x0, x1, fx) = positions(photo.w, map.stops.w)
            (y0, y1, fy) = positions(photo.h, map.stops.h)
        }

        deinit { for p in [x0, x1, y0, y1] { p.deallocate() }; fx.deallocate(); fy.deallocate() }

        /// Value of the (h, w) plane `p` at photo pixel (x, y).
        @inline(__always)
        func sample(_ p: UnsafeMutablePointer<Float>, x: Int, y: Int) -> Float {
            let r0 = p + y0[y] * w, r1 = p + y1[y] * w
            let top = r0[x0[x]] + fx[x] * (r0[x1[x]] - r0[x0[x]])
            let bottom = r1[x0[x]] + fx[x] * (r1[x1[x]] - r1[x0[x]])
            return top + fy[y] * (bottom - top)
        }

        /// The network's own linear result, upsampled, at photo pixel (x, y).
        @inline(__always)
        func network(x: Int, y: Int) -> (Float, Float, Float) {
            let n = map.result.data, small = map.stops.count
            return (sample(n, x: x, y: y), sample(n + small, x: x, y: y), sample(n + 2 * small, x: x, y: y))
        }

        /// Row y of the upsampled maps: the stops (bilinear), or the guided slope and offset.
        func row(_ y: Int, slopeOrStops a: UnsafeMutablePointer<Float>, offset b: UnsafeMutablePointer<Float>) {
            func fill(_ p: UnsafeMutablePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
                let r0 = p + y0[y] * w, r1 = p + y1[y] * w, t = fy[y]
                // Rows first (w values), then along the row: two lerps per photo pixel.
                withUnsafeTemporaryAllocation(of: Float.self, capacity: w) { mixed in
                    for k in 0..<w { mixed[k] = r0[k] + t * (r1[k] - r0[k]) }
                    for x in 0..<width { out[x] = mixed[x0[x]] + fx[x] * (mixed[x1[x]] - mixed[x0[x]]) }
                }
            }
            if let slope = map.slope, let offset = map.offset {
                fill(slope.data, a); fill(offset.data, b)
            } else {
                fill(map.stops.data, a)
            }
        }
    }
}
