// How far an HDR estimate is from the real radiance, in stops (factors of two), measured
// separately on the pixels the photo clipped and on the rest: what "bringing back what
// clipping lost" means for the first network (`drht evaluate` on panorama views).
import DRHTEngine
import DRHTImageIO
import Foundation

public enum HDRStops {
    /// Added to both luminances before the ratio, so the darkest pixels (noise) do not dominate:
    /// about 7.5 stops under the log-average 0.18.
    public static let epsilon: Float = 1e-3

    /// Mean |log2((L_est + eps) / (L_true + eps))| over the pixels where `mask` is `region`,
    /// luminance (Rec. 709) of each image scaled to log-average 0.18 first, so only the shape
    /// of the estimate counts, not its overall brightness. `clipped` is nil when the clipped
    /// pixels cover less than `ClippedRegion.minimumShare` of the image.
    public static func error(_ estimate: Tensor, _ truth: Tensor, clippedMask mask: [Bool]) throws -> (clipped: Double?, rest: Double?) {
        summarise(try map(estimate, truth), clippedMask: mask)
    }

    /// The mean |error| of a `map` on the masked pixels and on the rest (as `error`).
    public static func summarise(_ e: Tensor, clippedMask mask: [Bool]) -> (clipped: Double?, rest: Double?) {
        precondition(mask.count == e.count, "the mask is for another image size")
        var sums = (0.0, 0.0), counts = (0, 0)
        for i in 0..<e.count {
            let v = abs(Double(e.data[i]))
            if mask[i] { sums.0 += v; counts.0 += 1 } else { sums.1 += v; counts.1 += 1 }
        }
        let enough = counts.0 > 0 && Double(counts.0) >= ClippedRegion.minimumShare * Double(e.count)
        return (enough ? sums.0 / Double(counts.0) : nil, counts.1 > 0 ? sums.1 / Double(counts.1) : nil)
    }

    /// The signed error at every pixel, (1, 1, H, W): log2((L_est + eps) / (L_true + eps)), each
    /// luminance scaled to log-average 0.18 first (`error` averages its size).
    public static func map(_ estimate: Tensor, _ truth: Tensor) throws -> Tensor {
        try Metrics.checkSameShape(estimate, truth)
        let a = normalisedLuminance(estimate), b = normalisedLuminance(truth)
        let out = Tensor(zeros: [1, 1, estimate.h, estimate.w])
        for i in 0..<a.count { out.data[i] = log2((a[i] + epsilon) / (b[i] + epsilon)) }
        return out
    }

    /// Luminance of (1, 3, H, W) linear RGB (negative or non-finite values as 0), scaled so its
    /// log-average is 0.18 (docs/MODEL.md's normalisation).
    public static func normalisedLuminance(_ t: Tensor) -> [Float] {
        let plane = t.h * t.w
        var l = [Float](repeating: 0, count: plane)
        var sum = 0.0
        for i in 0..<plane {
            func v(_ c: Int) -> Float { let x = t.data[c * plane + i]; return x.isFinite ? max(0, x) : 0 }
            l[i] = SRGB.luminance(v(0), v(1), v(2))
            sum += log(Double(l[i]) + 1e-6)
        }
        let scale = Float(0.18 / exp(sum / Double(plane)))
        for i in 0..<plane { l[i] *= scale }
        return l
    }

    /// The simplest HDR estimate from an 8-bit photo: the standard sRGB curve inverted.
    public static func inverseCurve(_ photo: Tensor) -> Tensor {
        let out = Tensor(zeros: photo.shape)
        for i in 0..<photo.count { out.data[i] = SRGB.decode(photo.data[i]) }
        return out
    }
}
