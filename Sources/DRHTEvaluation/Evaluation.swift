// `drht evaluate`: every method on a held-out set, scored with PSNR, SSIM, FSIM and the grid
// score against the targets. Rows: the input itself, each classic baseline, and for each
// correction mode (direct, gain at a working size) DRHT's stage-1 HDR estimate (its error
// measured in the log domain, where the second network reads it) and DRHT's final output.
import DRHTEngine
import DRHTImageIO
import DRHTMetrics
import DRHTModel
import DRHTTraining
import Foundation

/// A held-out pass over a `DataSource`: `count` items (`DataSource.item`), from item `first`,
/// each at `size` (procedural scenes: the side; photos: the long side; triplets: as they are),
/// exposed `ev` when given (nil: a random exposure, -3...+3 EV).
public struct EvaluationData: CustomStringConvertible {
    public let source: DataSource
    public let count: Int
    public let size: Int
    public let first: Int
    public let ev: Float?

    public init(source: DataSource, count: Int, size: Int, first: Int = 0, ev: Float? = nil) {
        self.source = source; self.count = count; self.size = size; self.first = first; self.ev = ev
    }

    /// `count` procedural scenes at `size` x `size`, evaluation seeds from `seed`.
    public static func synthetic(count: Int, size: Int, seed: Int, ev: Float? = nil) -> EvaluationData {
        EvaluationData(source: .synthetic, count: count, size: size, first: seed, ev: ev)
    }

    public var description: String {
        switch source {
        case .synthetic:
            return "\(count) held-out procedural scenes at \(size)x\(size) (evaluation seeds from \(first)), " + exposure
        case .triplets(let ids): return "\(ids.count) triplets from a folder"
        case .photos(let paths):
            return "\(count) simulated exposures of \(paths.count) held-out photos, long side \(size) px, " + exposure
        case .panoramas(let paths, let target):
            return "\(count) views (\(size)x\(size)) of \(paths.count) held-out HDR panoramas"
                + (target == .photo ? " (targets: their 0 EV photos)" : "") + ", " + exposure
        case .mixed: return "\(count) items of \(source.description), " + exposure
        }
    }

    var exposure: String { ev.map { String(format: "exposed %+g EV", $0) } ?? "exposed -3...+3 EV at random" }

    /// The same pass with the exposure fixed at `ev` (a triplet folder's exposures are its own).
    public func exposed(_ ev: Float) -> EvaluationData {
        if case .triplets = source { return self }
        return EvaluationData(source: source, count: count, size: size, first: first, ev: ev)
    }

    /// The PNG and JPEG photos in `dir`, each once unless `count` says otherwise.
    public static func photoFolder(_ dir: String, count: Int?, longSide: Int) throws -> EvaluationData {
        let source = try DataSource.parse("photos:" + dir)
        return EvaluationData(source: source, count: count ?? source.itemCount!, size: longSide)
    }

    /// The folder's triplets, each once.
    public static func folder(_ dir: String) throws -> EvaluationData {
        let source = try DataSource.parse(dir)
        guard case .triplets = source else { throw TrainingError("\(dir): evaluation reads synth, photos:DIR or a triplet folder") }
        return EvaluationData(source: source, count: source.itemCount!, size: 0)
    }

    public func triplet(_ i: Int) throws -> (id: String, Triplet) {
        let item = try source.item(first + i, size: size, ev: ev)
        return (item.id, item.triplet)
    }
}

public struct Scores: Sendable {
    public var psnr: [Double] = []
    public var ssim: [Double] = []
    public var fsim: [Double] = []
    /// The 32-pixel grid score and its peak (GridScore: about 1 without a grid).
    public var grid: [Double] = []
    public var gridPeak: [Double] = []
    /// PSNR over the input's clipped pixels (`ClippedRegion`), for the images where they cover
    /// at least 0.5% of the picture.
    public var clippedPSNR: [Double] = []
    /// Stage 1 only: RMS error of log(H + eps) against log(H_gt + eps).
    public var logError: [Double] = []
    public var milliseconds: [Double] = []

    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) {
        let finite = v.map { $0.isFinite ? $0 : 100 }    // identical images: count PSNR as 100 dB
        guard !finite.isEmpty else { return (.nan, .nan) }
        let m = finite.reduce(0, +) / Double(finite.count)
        return (m, (finite.map { ($0 - m) * ($0 - m) }.reduce(0, +) / Double(finite.count)).squareRoot())
    }
}

/// One evaluated image: every method's output, for the HTML report.
public struct EvaluatedImage {
    public let id: String
    public let input: Tensor, target: Tensor
    public var outputs: [(method: String, image: Tensor, psnr: Double, ssim: Double, fsim: Double, grid: Double, clipped: Double?)] = []
}

public final class Evaluation {
    /// The rows of DRHT's final output and of its stage-1 HDR estimate for one mode.
    public static func label(_ mode: CorrectionMode) -> String { "DRHT (\(mode))" }
    public static func stage1Label(_ mode: CorrectionMode) -> String { "DRHT stage 1 (\(mode))" }
    /// The baselines' rows, the input first.
    public static var baselineRows: [String] { Baseline.allCases.map { $0 == .identity ? "input" : $0.rawValue } }
    /// Photos re-exposed by a known camera: that camera's exact inverse exposure, an oracle that
    /// knows the exposure but cannot bring back what clipping lost (not a baseline: no verdict).
    public static let oracleRow = "oracle: exact inverse exposure"
    /// The HDR-estimate baseline on real radiance: the photo through the inverse sRGB curve.
    public static let inverseCurveRow = "inverse sRGB curve"

    public let data: EvaluationData
    public let model: DRHT
    /// The correction modes evaluated, each giving a stage-1 row and a final row.
    public let modes: [CorrectionMode]
    public let options: GainOptions
    public private(set) var scores: [String: Scores] = [:]
    public private(set) var images: [EvaluatedImage] = []
    /// Views of real radiance (panoramas, procedural scenes): each HDR estimate's error in stops
    /// (`HDRStops`) on the input's clipped pixels (images where they cover >= 0.5%) and on the
    /// rest, per image, by row (`inverseCurveRow`, then each mode's stage-1 row).
    public private(set) var hdrStops: [String: (clipped: [Double], rest: [Double])] = [:]
    /// Keep every output for a report (costs memory: 5 images + 1 per mode per triplet).
    public var keepImages = false

    public init(data: EvaluationData, model: DRHT, modes: [CorrectionMode] = [.direct, .default],
                options: GainOptions = GainOptions()) {
        precondition(!modes.isEmpty, "evaluate at least one correction mode")
        self.data = data; self.model = model; self.modes = modes; self.options = options
    }

    /// Row order of the table.
    public var methods: [String] {
        Evaluation.baselineRows + (scores[Evaluation.oracleRow] == nil ? [] : [Evaluation.oracleRow])
            + modes.map(Evaluation.stage1Label) + modes.map(Evaluation.label)
    }

    /// The row the baselines are measured against: the default correction (what `drht correct`
    /// does) when it is evaluated, else the first gain mode, else the first mode. (With
    /// `--work-size 128,256` the verdict is about 256 px, the default, not the first listed.)
    public var primary: String {
        if modes.contains(.default) { return Evaluation.label(.default) }
        return Evaluation.label(modes.first { if case .gain = $0 { return true } else { return false } } ?? modes[0])
    }

    /// Evaluates every triplet; `progress(done, total)` after each; stops early when asked.
    public func run(progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws {
        for i in 0..<data.count {
            if shouldStop() { break }
            let (id, t) = try data.triplet(i)
            var record = EvaluatedImage(id: id, input: t.input, target: t.target)
            let target = try FSIM.Features(t.target)      // once per image, not once per method
            let clipped = ClippedRegion.mask(t.input)
            for b in Baseline.allCases {
                let start = DispatchTime.now().uptimeNanoseconds
                let out = b.apply(t.input)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(b == .identity ? "input" : b.rawValue, out, target, clipped, ms: ms, into: &record)
            }
            // Photos only (a mix would average the oracle over fewer images than the other rows).
            if case .photos = data.source, t.reexposedPhoto, let camera = t.camera {
                let start = DispatchTime.now().uptimeNanoseconds
                let out = camera.undo(t.input)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(Evaluation.oracleRow, out, target, clipped, ms: ms, into: &record)
            }
            let eps = model.constants.epsilon
            let truth = Log.forward(t.hdr, epsilon: eps)
            // H_gt is the scene's real radiance (not a photo's linearised pixels): score HDR estimates.
            let realRadiance = t.camera != nil && !t.reexposedPhoto
            let clippedPixels = ClippedRegion.mask(t.input, dilation: 0)
            func stops(_ row: String, _ estimate: Tensor) throws {
                let e = try HDRStops.error(estimate, t.hdr, clippedMask: clippedPixels)
                if let c = e.clipped { hdrStops[row, default: ([], [])].clipped.append(c) }
                if let r = e.rest { hdrStops[row, default: ([], [])].rest.append(r) }
            }
            if realRadiance { try stops(Evaluation.inverseCurveRow, HDRStops.inverseCurve(t.input)) }
            for mode in modes {
                if shouldStop() { break }
                let start = DispatchTime.now().uptimeNanoseconds
                let c = Correction(model: model, photo: t.input, mode: mode, options: options)
                c.run()
                let out = c.corrected()
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(Evaluation.label(mode), out, target, clipped, ms: ms, into: &record)
                let hdrEstimate = c.hdrEstimate()
                if realRadiance { try stops(Evaluation.stage1Label(mode), hdrEstimate) }
                let estimate = Log.forward(hdrEstimate, epsilon: eps)
                var sum = 0.0
                for k in 0..<estimate.count { let d = Double(estimate.data[k] - truth.data[k]); sum += d * d }
                scores[Evaluation.stage1Label(mode), default: Scores()].logError.append((sum / Double(estimate.count)).squareRoot())
                scores[Evaluation.stage1Label(mode), default: Scores()].milliseconds.append(c.pipeline.stageMilliseconds.hdr)
            }
            if keepImages { images.append(record) }
            progress(i + 1, data.count)
        }
    }

    private func score(_ method: String, _ out: Tensor, _ target: FSIM.Features, _ clipped: [Bool], ms: Double,
                       into record: inout EvaluatedImage) throws {
        let psnr = try PSNR.compute(out, target.pixels), ssim = try SSIM.compute(out, target.pixels)
        let clippedPSNR = try ClippedRegion.psnr(out, target.pixels, mask: clipped)
        if let clippedPSNR { scores[method, default: Scores()].clippedPSNR.append(clippedPSNR) }
        let fsim = try FSIM.compute(FSIM.Features(out), target).fsim
        let grid = try GridScore.compute(out)
        scores[method, default: Scores()].psnr.append(psnr)
        scores[method, default: Scores()].ssim.append(ssim)
        scores[method, default: Scores()].fsim.append(fsim)
        scores[method, default: Scores()].grid.append(grid.score)
        scores[method, default: Scores()].gridPeak.append(grid.peak)
        scores[method, default: Scores()].milliseconds.append(ms)
        if keepImages { record.outputs.append((method, out, psnr, ssim, fsim, grid.score, clippedPSNR)) }
    }

    /// The table as text lines.
    public func table() -> [String] {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        let name = max(20, methods.map(\.count).max()! + 1)
        var lines = [pad("method", name) + left("PSNR dB (std)", 16) + left("SSIM (std)", 18) + left("FSIM (std)", 18)
                     + left("grid (peak)", 14) + left("clipped dB (n)", 16) + left("ms/image", 10)]
        lines.append(String(repeating: "-", count: lines[0].count))
        for m in methods {
            guard let s = scores[m] else { continue }
            let t = left(String(format: "%.1f", Scores.meanStd(s.milliseconds).mean), 10)
            if !s.logError.isEmpty {
                let e = Scores.meanStd(s.logError)
                lines.append(pad(m, name) + left(String(format: "log-domain RMSE %.3f (%.3f)", e.mean, e.std), 52) + left("", 14) + left("", 16) + t)
            } else {
                let p = Scores.meanStd(s.psnr), q = Scores.meanStd(s.ssim), f = Scores.meanStd(s.fsim)
                let g = Scores.meanStd(s.grid), gp = Scores.meanStd(s.gridPeak)
                lines.append(pad(m, name) + left(String(format: "%.2f (%.2f)", p.mean, p.std), 16)
                             + left(String(format: "%.4f (%.3f)", q.mean, q.std), 18)
                             + left(String(format: "%.4f (%.3f)", f.mean, f.std), 18)
                             + left(String(format: "%.2f (%.1f)", g.mean, gp.mean), 14)
                             + left(s.clippedPSNR.isEmpty ? "n/a" : String(format: "%.2f (%d)", Scores.meanStd(s.clippedPSNR).mean, s.clippedPSNR.count), 16) + t)
            }
        }
        return lines
    }

    /// The HDR estimates' errors against the real radiance, as text lines (empty without any).
    public func hdrStopsTable() -> [String] {
        let rows = ([Evaluation.inverseCurveRow] + modes.map(Evaluation.stage1Label)).filter { hdrStops[$0] != nil }
        guard !rows.isEmpty else { return [] }
        let name = max(28, rows.map(\.count).max()! + 1)
        func pad(_ s: String) -> String { s.padding(toLength: name, withPad: " ", startingAt: 0) }
        var lines = ["HDR estimate against the real radiance: mean |error| in stops (luminance, each scaled to log-average 0.18)",
                     pad("estimate") + "  clipped pixels (images)   other pixels"]
        for r in rows {
            let v = hdrStops[r]!
            let c = v.clipped.isEmpty ? "n/a" : String(format: "%.2f (%d)", Scores.meanStd(v.clipped).mean, v.clipped.count)
            lines.append(pad(r) + "  " + c.padding(toLength: 24, withPad: " ", startingAt: 0) + "  "
                         + (v.rest.isEmpty ? "n/a" : String(format: "%.2f", Scores.meanStd(v.rest).mean)))
        }
        return lines
    }

    /// The same as a JSON array: {"method", "stops_clipped" (null: none), "clipped_images", "stops_other"}.
    public func jsonHDRStops() -> String {
        let rows = ([Evaluation.inverseCurveRow] + modes.map(Evaluation.stage1Label)).filter { hdrStops[$0] != nil }
        return "[" + rows.map { r in
            let v = hdrStops[r]!
            return String(format: "{\"method\": \"%@\", \"stops_clipped\": %@, \"clipped_images\": %d, \"stops_other\": %@}", r,
                          v.clipped.isEmpty ? "null" : String(format: "%.4f", Scores.meanStd(v.clipped).mean), v.clipped.count,
                          v.rest.isEmpty ? "null" : String(format: "%.4f", Scores.meanStd(v.rest).mean))
        }.joined(separator: ", ") + "]"
    }

    /// Baselines the primary DRHT row does not beat in mean PSNR and in mean SSIM (empty = ahead of all).
    public func methodsNotBeaten() -> [String] {
        guard let d = scores[primary] else { return [] }
        let dp = Scores.meanStd(d.psnr).mean, ds = Scores.meanStd(d.ssim).mean
        return Evaluation.baselineRows.filter { m in
            guard let s = scores[m] else { return false }
            return Scores.meanStd(s.psnr).mean >= dp || Scores.meanStd(s.ssim).mean >= ds
        }
    }

    /// The summary line under the table.
    public func verdict() -> String {
        let behind = methodsNotBeaten()
        return behind.isEmpty ? "\(primary) is ahead of every baseline in mean PSNR and SSIM."
                              : "\(primary) does not beat: \(behind.joined(separator: ", ")) (in mean PSNR or SSIM)."
    }

    /// {"images": N, "results": [...]}: one object per row.
    public func json() -> String {
        "{\"images\": \(scores[primary]?.psnr.count ?? 0), \"results\": " + jsonResults()
            + (hdrStops.isEmpty ? "" : ", \"hdr_stops\": " + jsonHDRStops()) + "}"
    }

    /// The rows as a JSON array.
    public func jsonResults() -> String {
        var parts: [String] = []
        for m in methods {
            guard let s = scores[m] else { continue }
            let t = Scores.meanStd(s.milliseconds).mean
            if !s.logError.isEmpty {
                let e = Scores.meanStd(s.logError)
                parts.append(String(format: "{\"method\": \"%@\", \"log_rmse\": %.5f, \"log_rmse_std\": %.5f, \"ms\": %.2f}", m, e.mean, e.std, t))
            } else {
                let p = Scores.meanStd(s.psnr), q = Scores.meanStd(s.ssim), f = Scores.meanStd(s.fsim)
                let g = Scores.meanStd(s.grid), gp = Scores.meanStd(s.gridPeak)
                parts.append(String(format: """
                    {\"method\": \"%@\", \"psnr\": %.4f, \"psnr_std\": %.4f, \"ssim\": %.5f, \"ssim_std\": %.5f, \
                    \"fsim\": %.5f, \"fsim_std\": %.5f, \"grid\": %.4f, \"grid_peak\": %.3f, \"psnr_clipped\": %@, \
                    \"clipped_images\": %d, \"ms\": %.2f}
                    """, m, p.mean, p.std, q.mean, q.std, f.mean, f.std, g.mean, gp.mean,
                    s.clippedPSNR.isEmpty ? "null" : String(format: "%.4f", Scores.meanStd(s.clippedPSNR).mean), s.clippedPSNR.count, t))
            }
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
