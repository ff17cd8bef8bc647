// Peak signal-to-noise ratio on [0, 1] images, as the DRHT paper reports it (Table 1).
import DRHTEngine
import Foundation

public enum PSNR {
    /// PSNR = 10 log10(1 / MSE) in dB over all pixels and channels of two (1, C, H, W) images in
    /// [0, 1]. Values are clamped to [0, 1] first (what a saved 8-bit image would hold).
    /// Identical images give +infinity.
    public static func compute(_ a: Tensor, _ b: Tensor) throws -> Double {
        try Metrics.checkSameShape(a, b)
        var sum = 0.0
        for i in 0..<a.count {
            let d = Double(min(max(a.data[i], 0), 1)) - Double(min(max(b.data[i], 0), 1))
            sum += d * d
        }
        let mse = sum / Double(a.count)
        return mse == 0 ? .infinity : 10 * log10(1 / mse)
    }
}

public enum MetricsError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch([Int], [Int])
    case tooSmall(metric: String, minimum: Int, height: Int, width: Int)
    case notAnImage([Int])

    public var description: String {
        func s(_ shape: [Int]) -> String { shape.map(String.init).joined(separator: "x") }
        switch self {
        case let .shapeMismatch(a, b):
            return "the images differ in shape (\(s(a)) vs \(s(b))); compare images of the same size"
        case let .tooSmall(metric, minimum, h, w):
            return "\(metric) needs images of at least \(minimum)x\(minimum) (got \(h)x\(w)); use a larger image"
        case let .notAnImage(shape):
            return "a \(s(shape)) tensor is not an image; metrics take (1, 3, H, W) or (1, 1, H, W)"
        }
    }
}

enum Metrics {
    static func checkSameShape(_ a: Tensor, _ b: Tensor) throws {
        guard a.shape.count == 4, a.n == 1, a.c == 3 || a.c == 1 else { throw MetricsError.notAnImage(a.shape) }
        guard a.shape == b.shape else { throw MetricsError.shapeMismatch(a.shape, b.shape) }
    }

    /// Luma on a 0-255 scale, Y = 255 (0.299 R + 0.587 G + 0.114 B) of [0, 1] values clamped,
    /// as an H x W row-major array (a one-channel image is used as it is).
    static func luma255(_ t: Tensor) -> [Double] {
        let plane = t.h * t.w
        var y = [Double](repeating: 0, count: plane)
        func v(_ c: Int, _ i: Int) -> Double { Double(min(max(t.data[c * plane + i], 0), 1)) }
        for i in 0..<plane {
            y[i] = t.c == 1 ? 255 * v(0, i) : 255 * (0.299 * v(0, i) + 0.587 * v(1, i) + 0.114 * v(2, i))
        }
        return y
    }
}

extension ImageMetric {
    public static let psnr = ImageMetric(
        name: "psnr", label: "PSNR", header: "PSNR dB (std)", reads: .target, better: .higher,
        about: "PSNR in dB on [0, 1] values (higher is better, identical = inf)", width: 16,
        compute: { try PSNR.compute($0.output, $0.requireTarget()) },
        format: { $0.isInfinite ? "inf (identical)" : String(format: "%.2f dB", $0) },
        cell: { v, _ in let s = ImageMetric.meanStd(v); return String(format: "%.2f (%.2f)", s.mean, s.std) })
}
