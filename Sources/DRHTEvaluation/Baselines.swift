// Classic corrections to measure DRHT against, so the comparison needs nothing but drht:
// the input as it is, auto-exposure + gamma, histogram equalisation of luminance, and
// Reinhard et al. 2002's global operator on the linearised input.
import DRHTEngine
import DRHTImageIO
import DRHTTraining
import Foundation

public enum Baseline: String, CaseIterable, Sendable {
    case identity
    case autoExposure = "auto-exposure"
    case histogramEqualisation = "histeq"
    case reinhard

    public var summary: String {
        switch self {
        case .identity: return "the input, unchanged"
        case .autoExposure: return "linearise (sRGB), scale so mean luminance is 0.18, back to sRGB"
        case .histogramEqualisation: return "equalise the histogram of luminance, keep each pixel's colour ratios"
        case .reinhard: return "Reinhard 2002 global operator (key 0.18, white = brightest) on the linearised input, then sRGB"
        }
    }

    /// The corrected (1, 3, H, W) image in [0, 1].
    public func apply(_ input: Tensor) -> Tensor {
        switch self {
        case .identity: return input.copy()
        case .autoExposure: return Baseline.autoExposure(input)
        case .histogramEqualisation: return Baseline.equalise(input)
        case .reinhard: return Baseline.reinhard(input)
        }
    }

    static func linearise(_ input: Tensor) -> Tensor {
        let out = Tensor(zeros: input.shape)
        for i in 0..<input.count { out.data[i] = SRGB.decode(min(max(input.data[i], 0), 1)) }
        return out
    }

    static func autoExposure(_ input: Tensor) -> Tensor {
        let lin = linearise(input)
        let plane = input.h * input.w
        var mean = 0.0
        for i in 0..<plane { mean += Double(SyntheticScenes.luminance(lin, i, plane: plane)) }
        mean /= Double(plane)
        let scale = Float(0.18 / max(mean, 1e-6))
        let out = Tensor(zeros: input.shape)
        for i in 0..<input.count { out.data[i] = SRGB.encode(lin.data[i] * scale) }
        return out
    }

    /// Luminance mapped through its own cumulative histogram (1024 bins), RGB scaled by Y'/Y.
    static func equalise(_ input: Tensor) -> Tensor {
        let plane = input.h * input.w, bins = 1024
        var histogram = [Int](repeating: 0, count: bins)
        var ys = [Float](repeating: 0, count: plane)
        for i in 0..<plane {
            let y = min(max(SyntheticScenes.luminance(input, i, plane: plane), 0), 1)
            ys[i] = y
            histogram[Int(clamping: y * Float(bins), to: 0...(bins - 1))] += 1
        }
        var cdf = [Float](repeating: 0, count: bins), running = 0
        for b in 0..<bins { running += histogram[b]; cdf[b] = Float(running) / Float(plane) }
        let out = Tensor(zeros: input.shape)
        for i in 0..<plane {
            let y = ys[i]
            let target = cdf[Int(clamping: y * Float(bins), to: 0...(bins - 1))]
            for c in 0..<3 {
                let v = input.data[c * plane + i]
                out.data[c * plane + i] = y > 1e-4 ? min(1, max(0, v * target / y)) : target
            }
        }
        return out
    }

    static func reinhard(_ input: Tensor) -> Tensor {
        let lin = linearise(input)
        SyntheticScenes.normalise(lin)            // log-average luminance 0.18, the key
        return reinhardOperator(lin)
    }

    /// Reinhard et al. 2002's global operator on radiance normalised to the key 0.18 (so the
    /// key's scaling is 1), L_d = L (1 + L / L_white^2) / (1 + L) with L_white the largest
    /// luminance (Rec. 709), colour kept by scaling RGB with L_d / L, then the sRGB curve.
    /// (The procedural scenes' targets were this until they became `LocalToneMap`.)
    public static func reinhardOperator(_ hdr: Tensor) -> Tensor {
        let plane = hdr.h * hdr.w
        var white: Float = 1e-6
        for i in 0..<plane { white = max(white, SyntheticScenes.luminance(hdr, i, plane: plane)) }
        let out = Tensor(zeros: hdr.shape)
        for i in 0..<plane {
            let l = SyntheticScenes.luminance(hdr, i, plane: plane)
            let ld = l * (1 + l / (white * white)) / (1 + l)
            let ratio = l > 1e-9 ? ld / l : 1
            for c in 0..<3 { out.data[c * plane + i] = SRGB.encode(min(1, hdr.data[c * plane + i] * ratio)) }
        }
        return out
    }
}
