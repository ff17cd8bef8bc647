// The grid score: how strongly an image repeats a pattern every 32 pixels — the dot grid that
// DRHT's five stride-2 deconvolutions print (one dot per latent cell, 32 x 32 input pixels
// each) when the network runs at the photo's full resolution.
//
//   Y      luma 0.299 R + 0.587 G + 0.114 B of [0, 1] values (clamped)
//   D      Y minus its Gaussian blur (sigma 1 px, 7 taps, edge pixels repeated): the fine detail
//   T      D folded onto one 32 x 32 tile: T[u, v] = the mean of D[32 by + u, 32 bx + v] over
//          the n = floor(H / 32) floor(W / 32) tile-aligned blocks (from the top-left corner)
//   score  RMS(T) / (RMS(D) / sqrt(n))
//   peak   max |T| / (RMS(D) / sqrt(n))
//
// Without a 32-pixel pattern the n blocks' details are unrelated, their mean shrinks like
// 1 / sqrt(n), and the score is about 1 (a photo scores 1.0 +- a few hundredths); a grid
// that repeats in every block survives the averaging and raises it. RMS(D) is taken over the
// same blocks. A flat image (no detail at all) scores 0.
import DRHTEngine
import Foundation

public enum GridScore {
    public static let period = 32
    public static let sigma = 1.0

    public struct Result: Sendable, Equatable {
        /// RMS of the folded tile relative to chance: about 1 without a grid.
        public let score: Double
        /// The folded tile's largest |value| relative to chance.
        public let peak: Double
        /// The folded 32 x 32 tile (row-major), in luma units, for pictures.
        public let tile: [Double]
    }

    /// The grid score of a (1, 3, H, W) or (1, 1, H, W) image in [0, 1], H and W >= 32.
    public static func compute(_ image: Tensor) throws -> Result {
        guard image.shape.count == 4, image.n == 1, image.c == 3 || image.c == 1 else {
            throw MetricsError.notAnImage(image.shape)
        }
        let h = image.h, w = image.w, p = period
        guard h >= p, w >= p else { throw MetricsError.tooSmall(metric: "the grid score", minimum: p, height: h, width: w) }
        let y = Metrics.luma255(image).map { $0 / 255 }
        let detail = highPass(y, height: h, width: w)
        let by = h / p, bx = w / p, n = by * bx
        var tile = [Double](repeating: 0, count: p * p)
        var energy = 0.0
        for row in 0..<(by * p) {
            for col in 0..<(bx * p) {
                let d = detail[row * w + col]
                tile[(row % p) * p + col % p] += d
                energy += d * d
            }
        }
        for k in 0..<tile.count { tile[k] /= Double(n) }
        let rmsDetail = (energy / Double(n * p * p)).squareRoot()
        guard rmsDetail > 1e-9 else { return Result(score: 0, peak: 0, tile: tile) }   // flat: rounding noise only
        let chance = rmsDetail / Double(n).squareRoot()
        let rmsTile = (tile.reduce(0) { $0 + $1 * $1 } / Double(p * p)).squareRoot()
        let peak = tile.reduce(0) { max($0, abs($1)) }
        return Result(score: rmsTile / chance, peak: peak / chance, tile: tile)
    }

    /// y minus its Gaussian blur (sigma 1, radius 3, separable, edges repeated).
    static func highPass(_ y: [Double], height h: Int, width w: Int) -> [Double] {
        let radius = 3
        var kernel = (-radius...radius).map { exp(-Double($0 * $0) / (2 * sigma * sigma)) }
        let total = kernel.reduce(0, +)
        kernel = kernel.map { $0 / total }
        var rows = [Double](repeating: 0, count: h * w)
        for r in 0..<h {
            for c in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += kernel[k + radius] * y[r * w + min(max(c + k, 0), w - 1)] }
                rows[r * w + c] = s
            }
        }
        var out = [Double](repeating: 0, count: h * w)
        for r in 0..<h {
            for c in 0..<w {
                var s = 0.0
                for k in -radius...radius { s += kernel[k + radius] * rows[min(max(r + k, 0), h - 1) * w + c] }
                out[r * w + c] = y[r * w + c] - s
            }
        }
        return out
    }
}

extension ImageMetric {
    public static let grid = ImageMetric(
        name: "grid", label: "grid", header: "grid (peak)", reads: .output, better: .nearOne,
        about: "the 32-pixel grid score of one image: about 1 for a photo, higher where the deconvolutions' dots show", width: 14,
        compute: { try $0.grid().score },
        format: { String(format: "%.2f", $0) },
        cell: { v, row in String(format: "%.2f (%.1f)", ImageMetric.meanStd(v).mean, ImageMetric.meanStd(row["grid_peak"] ?? []).mean) },
        json: { v in [("grid", v.isEmpty ? nil : ImageMetric.meanStd(v).mean)] })
    /// The grid score's strongest dot, shown in grid's cell.
    public static let gridPeak = ImageMetric(
        name: "grid_peak", label: "grid peak", header: "grid peak", reads: .output, better: .nearOne,
        about: "the grid score's strongest single frequency", column: false,
        compute: { try $0.grid().peak },
        format: { String(format: "%.1f", $0) },
        json: { v in [("grid_peak", v.isEmpty ? nil : ImageMetric.meanStd(v).mean)] })
}
