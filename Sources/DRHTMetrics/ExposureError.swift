// How far a correction's overall brightness is from its target's, in stops: the part of a
// correction that is "guessing the exposure" (the oracle row knows it and scores 0). A photo
// corrected one stop too dark scores -1, one stop too bright +1, whatever its detail.
import DRHTEngine
import DRHTImageIO
import Foundation

public enum ExposureError {
    /// A target darker than this mean linear luminance has no exposure to judge (nil).
    public static let darkestTarget = 1e-4

    /// Mean Rec. 709 luminance in linear light of a (1, 3, H, W) sRGB image in [0, 1] (values
    /// clamped first, as a saved 8-bit image holds them); a one-channel image is its own luminance.
    public static func meanLinearLuminance(_ t: Tensor) -> Double {
        let plane = t.h * t.w
        func v(_ c: Int, _ i: Int) -> Float { SRGB.decode(min(max(t.data[c * plane + i], 0), 1)) }
        var sum = 0.0
        for i in 0..<plane {
            sum += Double(t.c == 1 ? v(0, i) : SRGB.luminance(v(0, i), v(1, i), v(2, i)))
        }
        return sum / Double(max(plane, 1))
    }

    /// log2(mean linear luminance of `output` / that of `target`) in stops (EV): negative where
    /// the output is darker. nil where the target is black (below `darkestTarget`); an output
    /// that is black scores as if its mean were `darkestTarget`.
    public static func stops(_ output: Tensor, _ target: Tensor) throws -> Double? {
        try Metrics.checkSameShape(output, target)
        let t = meanLinearLuminance(target)
        guard t >= darkestTarget else { return nil }
        return log2(max(meanLinearLuminance(output), darkestTarget) / t)
    }
}

extension ImageMetric {
    /// Each image's signed error; the table shows the mean size of the error and, in brackets,
    /// the mean with its sign (the bias: negative = corrections too dark on average). JSON:
    /// `ev_error` the signed mean (as every metric's key is its mean), `ev_error_abs` the size.
    public static let exposureError = ImageMetric(
        name: "ev_error", label: "exposure error", header: "EV error (bias)", reads: .target, better: .nearZero,
        about: "log2 of the output's mean linear luminance over the target's, in stops (0 = as bright as the target, -1 = a stop too dark); the table shows the mean size and, in brackets, the mean with its sign",
        width: 16,
        compute: { try ExposureError.stops($0.output, $0.requireTarget()) },
        format: { v in String(format: "%+.2f EV", abs(v) < 0.005 ? 0 : v) },     // no "-0.00"
        cell: { v, _ in
            guard !v.isEmpty else { return "n/a" }
            return String(format: "%.2f (%+.2f)", ImageMetric.meanStd(v.map(abs)).mean, ImageMetric.meanStd(v).mean)
        },
        json: { v in [("ev_error", v.isEmpty ? nil : ImageMetric.meanStd(v).mean),             // signed, as each image's
                      ("ev_error_abs", v.isEmpty ? nil : ImageMetric.meanStd(v.map(abs)).mean)] })
}
