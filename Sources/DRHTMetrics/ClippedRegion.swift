// The pixels an over-exposed photo lost, and PSNR measured on them alone: what "bringing back
// what clipping lost" is scored on (`drht evaluate`'s clipped-region column).
import DRHTEngine
import DRHTImageIO
import Foundation

public enum ClippedRegion {
    /// Pixels counted as clipped: any channel at 255 of 8 bits (`ClippedPixels.threshold`).
    public static let threshold = ClippedPixels.threshold
    /// The mask's dilation in pixels (`ClippedPixels.dilation`).
    public static let dilation = ClippedPixels.dilation
    /// An image's clipped region is scored only when it covers at least this share of it.
    public static let minimumShare = 0.005

    /// (H * W) flags, row-major: true where any channel of `input` (1, C, H, W) is clipped, dilated.
    public static func mask(_ input: Tensor, dilation r: Int = dilation) -> [Bool] {
        ClippedPixels.mask(input, dilation: r)
    }

    /// PSNR (as `PSNR.compute`: values clamped to [0, 1]) over the masked pixels, all channels;
    /// nil when the mask covers less than `minimumShare` of the image.
    public static func psnr(_ a: Tensor, _ b: Tensor, mask: [Bool]) throws -> Double? {
        try Metrics.checkSameShape(a, b)
        let plane = a.h * a.w
        precondition(mask.count == plane, "the mask is for another image size")
        let n = mask.lazy.filter { $0 }.count
        guard n > 0, Double(n) >= minimumShare * Double(plane) else { return nil }
        var sum = 0.0
        for c in 0..<a.c {
            for i in 0..<plane where mask[i] {
                let d = Double(min(max(a.data[c * plane + i], 0), 1)) - Double(min(max(b.data[c * plane + i], 0), 1))
                sum += d * d
            }
        }
        let mse = sum / Double(n * a.c)
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}

extension ImageMetric {
    public static let psnrClipped = ImageMetric(
        name: "psnr_clipped", label: "clipped region", header: "clipped dB (n)", reads: .photo, better: .higher,
        about: "PSNR over the pixels where any channel of the photo is 255, dilated by 2 px; n/a where they cover under 0.5% of it", width: 16,
        compute: { try ClippedRegion.psnr($0.output, $0.requireTarget(), mask: $0.clippedMask()) },
        format: { String(format: "%.2f dB", $0) },
        cell: { v, _ in v.isEmpty ? "n/a" : String(format: "%.2f (%d)", ImageMetric.meanStd(v).mean, v.count) },
        json: { v in [("psnr_clipped", v.isEmpty ? nil : ImageMetric.meanStd(v).mean), ("clipped_images", Double(v.count))] })
}
