// The metric registry: a metric is one value — its name, what it reads, which way is better,
// how to compute it and how to show it. `drht evaluate`'s table, JSON and HTML report, the
// REPL's `compare` and `expect` all iterate `ImageMetric.all`, so adding a metric is one file
// that declares it (as PSNR.swift declares `.psnr`) and its name in the list below.
import DRHTEngine
import Foundation

/// One output scored against its target; the photo it came from, for the metrics that look at
/// the photo (the clipped region). Shared work (the target's FSIM features, the grid score) is
/// computed once per case, whichever metrics ask.
public final class MetricCase {
    public let output: Tensor
    public let target: Tensor?
    public let photo: Tensor?
    public init(output: Tensor, target: Tensor?, photo: Tensor? = nil, targetFeatures: FSIM.Features? = nil, clippedMask: [Bool]? = nil) {
        self.output = output; self.target = target; self.photo = photo
        cachedTargetFeatures = targetFeatures; cachedMask = clippedMask
    }

    private var cachedTargetFeatures: FSIM.Features?
    private var cachedMask: [Bool]?
    private var cachedGrid: GridScore.Result?
    private var cachedOutputFeatures: FSIM.Features?

    /// `slot`'s value, made by `make` the first time.
    private func cached<T>(_ slot: inout T?, _ make: () throws -> T) rethrows -> T {
        if let v = slot { return v }
        let v = try make()
        slot = v
        return v
    }

    /// The target (a metric that compares two images calls this).
    public func requireTarget() throws -> Tensor {
        guard let target else { throw MetricError("this metric compares an image with a target") }
        return target
    }
    public func targetFeatures() throws -> FSIM.Features { try cached(&cachedTargetFeatures) { try FSIM.Features(try requireTarget()) } }
    public func outputFeatures() throws -> FSIM.Features { try cached(&cachedOutputFeatures) { try FSIM.Features(output) } }
    public func grid() throws -> GridScore.Result { try cached(&cachedGrid) { try GridScore.compute(output) } }
    /// The photo's clipped pixels (`ClippedRegion.mask`).
    public func clippedMask() throws -> [Bool] {
        try cached(&cachedMask) {
            guard let photo else { throw MetricError("this metric needs the photo the output came from") }
            return ClippedRegion.mask(photo)
        }
    }
}

public struct ImageMetric: @unchecked Sendable {
    /// What a metric reads besides the output (the arguments of its `expect` function).
    public enum Reads: Int, Sendable {
        /// The output alone: grid(A).
        case output = 1
        /// The output and its target: psnr(A, B).
        case target = 2
        /// Output, target and the photo: psnr_clipped(A, B, PHOTO).
        case photo = 3
    }
    public enum Better: Sendable { case higher, lower, nearOne, nearZero }

    /// Whether value `a` is strictly better than `b` by this metric's direction.
    public func isBetter(_ a: Double, than b: Double) -> Bool {
        switch better {
        case .higher: return a > b
        case .lower: return a < b
        case .nearOne: return abs(a - 1) < abs(b - 1)
        case .nearZero: return abs(a) < abs(b)
        }
    }

    /// The JSON key and the `expect` function: psnr, ssim, ...
    public let name: String
    /// The word before a single value ("PSNR"), and the table's column header ("PSNR dB (std)").
    public let label: String
    public let header: String
    public let reads: Reads
    public let better: Better
    /// In words, for `help expect` and `compare`'s help.
    public let about: String
    /// The score of one case; nil where it does not apply (no clipped pixels, say).
    public let compute: (MetricCase) throws -> Double?
    /// A single value as `compare` and the HTML report show it ("15.33 dB").
    public let format: (Double) -> String
    /// The table's cell for one row: all its values of this metric (and of the others, for a
    /// cell that shows two, as grid shows its peak), and the column's width.
    public let cell: (_ values: [Double], _ row: [String: [Double]]) -> String
    public let width: Int
    /// The JSON members for one row: this metric's own summary (e.g. psnr and psnr_std).
    public let json: (_ values: [Double]) -> [(String, Double?)]
    /// Shown as its own column of `drht evaluate` (false: another metric's cell shows it).
    public let column: Bool

    public init(name: String, label: String, header: String, reads: Reads, better: Better, about: String, width: Int = 18, column: Bool = true,
                compute: @escaping (MetricCase) throws -> Double?, format: @escaping (Double) -> String,
                cell: ((_ values: [Double], _ row: [String: [Double]]) -> String)? = nil,
                json: ((_ values: [Double]) -> [(String, Double?)])? = nil) {
        self.name = name; self.label = label; self.header = header; self.reads = reads; self.better = better; self.about = about
        self.width = width; self.column = column; self.compute = compute; self.format = format
        self.cell = cell ?? { values, _ in
            let s = ImageMetric.meanStd(values)
            return values.isEmpty ? "n/a" : format(s.mean).split(separator: " ")[0] + String(format: " (%.3g)", s.std)
        }
        self.json = json ?? { values in
            let s = ImageMetric.meanStd(values)
            return [(name, values.isEmpty ? nil : s.mean), (name + "_std", values.isEmpty ? nil : s.std)]
        }
    }

    /// Mean and standard deviation; an infinite PSNR (identical images) counts as 100 dB.
    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) {
        let finite = v.map { $0.isFinite ? $0 : 100 }
        guard !finite.isEmpty else { return (.nan, .nan) }
        let m = finite.reduce(0, +) / Double(finite.count)
        return (m, (finite.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finite.count)).squareRoot())
    }

    /// Every metric, in the order of the table's columns.
    public static let all: [ImageMetric] = [.psnr, .ssim, .fsim, .grid, .gridPeak, .psnrClipped, .exposureError]

    public static func named(_ name: String) -> ImageMetric? { all.first { $0.name == name } }
}

public struct MetricError: Error, CustomStringConvertible {
    public let description: String
    public init(_ d: String) { description = d }
}
