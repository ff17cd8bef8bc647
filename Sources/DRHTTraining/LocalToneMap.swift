// The procedural scenes' target: a local tone mapping of the true radiance, standing in for the
// paper's ground truth (LDR images made by people in Photoshop, who lift shadows and keep
// highlights while keeping local contrast). Base/detail decomposition in the log domain after
// Durand & Dorsey (SIGGRAPH 2002), with the guided filter (He, Sun, Tang, ECCV 2010) as the
// edge-preserving smoother:
//   l      = log10(L + 1e-6)                       L: Rec. 709 luminance, (H, W)
//   base   = guidedFilter(l, guide l, radius r, eps)   r = min(H, W) / 16, eps = 0.1
//   detail = l - base
//   c      = min(1, log10(50) / (max(base) - min(base)))   base contrast at most 50:1
//   l_out  = log10(0.18) + c (base - mean(base)) + detail
// RGB is scaled by L_out / L (colour ratios kept), clipped to 1 and sRGB encoded.
//
// No baseline implements this operator (the first targets were Reinhard's global curve, which
// the `reinhard` baseline reproduced almost exactly wherever the input was not clipped).
import DRHTEngine
import DRHTImageIO
import Foundation

public enum LocalToneMap {
    /// Largest base (illumination) contrast kept, as a ratio.
    public static let baseContrast: Double = 50
    /// Guided filter regulariser in log10 units squared: edges of more than ~sqrt(0.1) = 0.3
    /// decades (2x) stay in the base, finer variation goes to the detail layer.
    public static let epsilon: Double = 0.1

    /// The guided-filter radius for an image: 1/16 of its shorter side (16 at 256 x 256).
    public static func radius(height: Int, width: Int) -> Int { max(1, min(height, width) / 16) }

    /// The target LDR image in [0, 1] of normalised linear radiance `hdr` (1, 3, H, W).
    public static func apply(_ hdr: Tensor) -> Tensor {
        let h = hdr.h, w = hdr.w, plane = h * w
        var l = [Double](repeating: 0, count: plane)
        for i in 0..<plane { l[i] = log10(Double(SyntheticScenes.luminance(hdr, i, plane: plane)) + 1e-6) }
        let base = guidedFilter(l, height: h, width: w, radius: radius(height: h, width: w), epsilon: epsilon)
        var lo = Double.infinity, hi = -Double.infinity, sum = 0.0
        for v in base { lo = min(lo, v); hi = max(hi, v); sum += v }
        let mean = sum / Double(plane)
        let c = min(1, log10(baseContrast) / max(hi - lo, 1e-9))
        let out = Tensor(zeros: hdr.shape)
        for i in 0..<plane {
            let lOut = log10(0.18) + c * (base[i] - mean) + (l[i] - base[i])
            let ratio = Float(pow(10, lOut - l[i]))          // L_out / (L + 1e-6)
            for ch in 0..<3 {
                out.data[ch * plane + i] = SRGB.encode(min(1, hdr.data[ch * plane + i] * ratio))
            }
        }
        return out
    }

    /// He et al.'s guided filter of `p` guided by itself: q = mean(a) p + mean(b) with
    /// a = var / (var + eps), b = (1 - a) mean over each (2r+1)^2 window (clipped at the borders).
    /// Box means come from summed-area tables, so the cost does not depend on r.
    public static func guidedFilter(_ p: [Double], height h: Int, width w: Int, radius r: Int, epsilon eps: Double) -> [Double] {
        precondition(p.count == h * w)
        let mean = boxMean(p, height: h, width: w, radius: r)
        let meanSq = boxMean(p.map { $0 * $0 }, height: h, width: w, radius: r)
        var a = [Double](repeating: 0, count: p.count), b = a
        for i in 0..<p.count {
            let variance = max(0, meanSq[i] - mean[i] * mean[i])
            a[i] = variance / (variance + eps)
            b[i] = (1 - a[i]) * mean[i]
        }
        let meanA = boxMean(a, height: h, width: w, radius: r), meanB = boxMean(b, height: h, width: w, radius: r)
        return (0..<p.count).map { meanA[$0] * p[$0] + meanB[$0] }
    }

    /// The mean of each (2r+1) x (2r+1) window, over the pixels inside the image.
    public static func boxMean(_ x: [Double], height h: Int, width w: Int, radius r: Int) -> [Double] {
        // sat[(y) * (w+1) + x] = sum of x[0..<y, 0..<x]
        var sat = [Double](repeating: 0, count: (h + 1) * (w + 1))
        for y in 0..<h {
            var row = 0.0
            for x0 in 0..<w {
                row += x[y * w + x0]
                sat[(y + 1) * (w + 1) + x0 + 1] = sat[y * (w + 1) + x0 + 1] + row
            }
        }
        var out = [Double](repeating: 0, count: h * w)
        for y in 0..<h {
            let y0 = max(0, y - r), y1 = min(h, y + r + 1)
            for x0 in 0..<w {
                let a = max(0, x0 - r), b = min(w, x0 + r + 1)
                let s = sat[y1 * (w + 1) + b] - sat[y0 * (w + 1) + b] - sat[y1 * (w + 1) + a] + sat[y0 * (w + 1) + a]
                out[y * w + x0] = s / Double((y1 - y0) * (b - a))
            }
        }
        return out
    }
}
