// Structural similarity, following Wang et al.'s reference implementation ssim.m (2004,
// with the 2009 automatic downsampling): luma on a 0-255 scale, K1 = 0.01, K2 = 0.03, an 11x11
// Gaussian window with sigma 1.5 applied with 'valid' filtering, and a downsampling by
// f = max(1, round(min(H, W) / 256)) with an f x f box filter (symmetric padding) first.
// The score is the mean of the SSIM map.
import DRHTEngine
import Foundation

public enum SSIM {
    public static let k1 = 0.01, k2 = 0.03, windowSize = 11, sigma = 1.5

    /// SSIM of two (1, 3, H, W) (or one-channel) images in [0, 1]; 1 for identical images.
    public static func compute(_ a: Tensor, _ b: Tensor) throws -> Double {
        try Metrics.checkSameShape(a, b)
        var (x, y) = (Metrics.luma255(a), Metrics.luma255(b))
        var (h, w) = (a.h, a.w)
        let f = max(1, Int((Double(min(h, w)) / 256).rounded()))
        if f > 1 {
            (x, _, _) = downsample(x, height: h, width: w, factor: f)
            let d = downsample(y, height: h, width: w, factor: f)
            y = d.0; h = d.1; w = d.2
        }
        guard h >= windowSize, w >= windowSize else {
            throw MetricsError.tooSmall(metric: "SSIM", minimum: windowSize * f, height: a.h, width: a.w)
        }
        return meanMap(x, y, height: h, width: w)
    }

    /// ssim.m's `imfilter(img, ones(f)/f^2, 'symmetric', 'same')` then `img(1:f:end, 1:f:end)`.
    /// For MATLAB's 'same' the kernel's centre is at index floor((f + 1) / 2) (1-based).
    static func downsample(_ img: [Double], height h: Int, width w: Int, factor f: Int) -> ([Double], Int, Int) {
        let before = (f + 1) / 2 - 1          // taps before the centre
        func reflect(_ i: Int, _ n: Int) -> Int {  // MATLAB 'symmetric': mirror including the edge
            var i = i
            while i < 0 || i >= n { i = i < 0 ? -i - 1 : 2 * n - i - 1 }
            return i
        }
        let oh = (h + f - 1) / f, ow = (w + f - 1) / f
        var out = [Double](repeating: 0, count: oh * ow)
        for oy in 0..<oh {
            for ox in 0..<ow {
                var s = 0.0
                for ky in 0..<f {
                    let yy = reflect(oy * f + ky - before, h)
                    for kx in 0..<f { s += img[yy * w + reflect(ox * f + kx - before, w)] }
                }
                out[oy * ow + ox] = s / Double(f * f)
            }
        }
        return (out, oh, ow)
    }

    /// The normalised 11x11 Gaussian (fspecial('gaussian', 11, 1.5)), separable: a 1-D kernel.
    static let kernel1D: [Double] = {
        let r = windowSize / 2
        let g = (0..<windowSize).map { exp(-Double(($0 - r) * ($0 - r)) / (2 * sigma * sigma)) }
        let s = g.reduce(0, +)
        return g.map { $0 / s }
    }()

    /// 'valid' separable filtering: (h - 10) x (w - 10) output.
    static func filterValid(_ img: [Double], height h: Int, width w: Int) -> [Double] {
        let k = kernel1D, n = windowSize
        let ow = w - n + 1, oh = h - n + 1
        var rows = [Double](repeating: 0, count: h * ow)
        for y in 0..<h { for x in 0..<ow {
            var s = 0.0
            for i in 0..<n { s += k[i] * img[y * w + x + i] }
            rows[y * ow + x] = s
        } }
        var out = [Double](repeating: 0, count: oh * ow)
        for y in 0..<oh { for x in 0..<ow {
            var s = 0.0
            for i in 0..<n { s += k[i] * rows[(y + i) * ow + x] }
            out[y * ow + x] = s
        } }
        return out
    }

    static func meanMap(_ x: [Double], _ y: [Double], height h: Int, width w: Int) -> Double {
        let c1 = (k1 * 255) * (k1 * 255), c2 = (k2 * 255) * (k2 * 255)
        let mx = filterValid(x, height: h, width: w), my = filterValid(y, height: h, width: w)
        let xx = filterValid(zip(x, x).map(*), height: h, width: w)
        let yy = filterValid(zip(y, y).map(*), height: h, width: w)
        let xy = filterValid(zip(x, y).map(*), height: h, width: w)
        var sum = 0.0
        for i in 0..<mx.count {
            let (m1, m2) = (mx[i], my[i])
            let s1 = xx[i] - m1 * m1, s2 = yy[i] - m2 * m2, s12 = xy[i] - m1 * m2
            sum += ((2 * m1 * m2 + c1) * (2 * s12 + c2)) / ((m1 * m1 + m2 * m2 + c1) * (s1 + s2 + c2))
        }
        return sum / Double(mx.count)
    }
}

extension ImageMetric {
    public static let ssim = ImageMetric(
        name: "ssim", label: "SSIM", header: "SSIM (std)", reads: .target, better: .higher,
        about: "SSIM as in Wang et al.'s ssim.m on luma (1 = identical)",
        compute: { try SSIM.compute($0.output, $0.requireTarget()) },
        format: { String(format: "%.4f", $0) },
        cell: { v, _ in let s = ImageMetric.meanStd(v); return String(format: "%.4f (%.3f)", s.mean, s.std) })
}
