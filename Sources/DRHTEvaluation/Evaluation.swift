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

    public var description: String { source.source.describePass(count: count, size: size, first: first, exposure: exposure) }

    var exposure: String { ev.map { String(format: "exposed %+g EV", $0) } ?? "exposed -3...+3 EV at random" }

    /// The same pass with the exposure fixed at `ev` (a triplet folder's exposures are its own).
    public func exposed(_ ev: Float) -> EvaluationData {
        if source.source.fixedExposure { return self }
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
        guard source.source is TripletFolderSource else { throw TrainingError("\(dir): evaluation reads synth, photos:DIR or a triplet folder") }
        return EvaluationData(source: source, count: source.itemCount!, size: 0)
    }

    public func triplet(_ i: Int) throws -> (id: String, Triplet) {
        let item = try source.item(first + i, size: size, ev: ev)
        return (item.id, item.triplet)
    }
}

/// One row's scores: each metric's values (`ImageMetric.all`, by name), one per image where
/// it applies; for stage-1 rows the HDR estimate's log-domain error instead.
public struct Scores: Sendable {
    public var values: [String: [Double]] = [:]
    /// Stage 1 only: RMS error of log(H + eps) against log(H_gt + eps).
    public var logError: [Double] = []
    public var milliseconds: [Double] = []

    public subscript(metric: ImageMetric) -> [Double] { values[metric.name] ?? [] }
    public var psnr: [Double] { self[.psnr] }
    public var ssim: [Double] { self[.ssim] }
    public var grid: [Double] { self[.grid] }
    public var clippedPSNR: [Double] { self[.psnrClipped] }

    public static func meanStd(_ v: [Double]) -> (mean: Double, std: Double) { ImageMetric.meanStd(v) }
}

/// One evaluated image: every method's output, for the HTML report.
public struct EvaluatedImage {
    public let id: String
    public let input: Tensor, target: Tensor
    /// Each method's output and its value of each metric (absent where a metric does not apply).
    public var outputs: [(method: String, image: Tensor, values: [String: Double])] = []
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

    /// The columns: `ImageMetric.all` unless a caller adds its own.
    public let metrics: [ImageMetric]

    public init(data: EvaluationData, model: DRHT, modes: [CorrectionMode] = [.direct, .default],
                options: GainOptions = GainOptions(), metrics: [ImageMetric] = ImageMetric.all) {
        precondition(!modes.isEmpty, "evaluate at least one correction mode")
        self.data = data; self.model = model; self.modes = modes; self.options = options; self.metrics = metrics
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
            // Once per image, not once per method.
            let target = try FSIM.Features(t.target), clipped = ClippedRegion.mask(t.input)
            for b in Baseline.allCases {
                let start = DispatchTime.now().uptimeNanoseconds
                let out = b.apply(t.input)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(b == .identity ? "input" : b.rawValue, out, target, clipped, ms: ms, into: &record)
            }
            // Photos only (a mix would average the oracle over fewer images than the other rows).
            if data.source.source.reexposesPhotos, t.reexposedPhoto, let camera = t.camera {
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
        let c = MetricCase(output: out, target: target.pixels, photo: record.input, targetFeatures: target, clippedMask: clipped)
        var values: [String: Double] = [:]
        for metric in metrics {
            guard let v = try metric.compute(c) else { continue }
            values[metric.name] = v
            scores[method, default: Scores()].values[metric.name, default: []].append(v)
        }
        scores[method, default: Scores()].milliseconds.append(ms)
        if keepImages { record.outputs.append((method, out, values)) }
    }

    /// The table as text lines: a column per metric, then the time per image.
    public func table() -> [String] {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        let columns = metrics.filter(\.column)
        let name = max(20, methods.map(\.count).max()! + 1)
        var lines = [pad("method", name) + columns.map { left($0.header, $0.width) }.joined()
                     + left("ms/image", 10)]
        lines.append(String(repeating: "-", count: lines[0].count))
        let width = columns.map(\.width).reduce(0, +)
        for m in methods {
            guard let s = scores[m] else { continue }
            let t = left(String(format: "%.1f", Scores.meanStd(s.milliseconds).mean), 10)
            if !s.logError.isEmpty {
                let e = Scores.meanStd(s.logError)
                lines.append(pad(m, name) + pad(left(String(format: "log-domain RMSE %.3f (%.3f)", e.mean, e.std), 52), width) + t)
            } else {
                lines.append(pad(m, name) + columns.map { left($0.cell(s[$0], s.values), $0.width) }.joined() + t)
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

    /// The HDR-estimate rows for JSON: method, stops_clipped (null: none), clipped_images, stops_other.
    public var hdrStopsJSON: [JSONObject] {
        ([Evaluation.inverseCurveRow] + modes.map(Evaluation.stage1Label)).compactMap { r in
            guard let v = hdrStops[r] else { return nil }
            return JSONObject([("method", .text(r)), ("stops_clipped", .number(v.clipped.isEmpty ? nil : Scores.meanStd(v.clipped).mean)),
                               ("clipped_images", .number(Double(v.clipped.count))), ("stops_other", .number(v.rest.isEmpty ? nil : Scores.meanStd(v.rest).mean))])
        }
    }

    /// Baselines the primary DRHT row does not beat in mean PSNR and in mean SSIM (empty = ahead of all).
    public func methodsNotBeaten() -> [String] {
        guard let d = scores[primary] else { return [] }
        return Evaluation.baselineRows.filter { m in
            guard let s = scores[m] else { return false }
            return [ImageMetric.psnr, .ssim].contains { !$0.isBetter(Scores.meanStd(d[$0]).mean, than: Scores.meanStd(s[$0]).mean) }
        }
    }

    /// The summary line under the table.
    public func verdict() -> String {
        let behind = methodsNotBeaten()
        return behind.isEmpty ? "\(primary) is ahead of every baseline in mean PSNR and SSIM."
                              : "\(primary) does not beat: \(behind.joined(separator: ", ")) (in mean PSNR or SSIM)."
    }

    /// The rows for JSON: the method, each metric's members (`ImageMetric.json`), ms; stage-1
    /// rows log_rmse and log_rmse_std instead of the metrics.
    public var resultsJSON: [JSONObject] {
        methods.compactMap { m in
            guard let s = scores[m] else { return nil }
            var members: [(String, JSONValue)] = [("method", .text(m))]
            if !s.logError.isEmpty {
                let e = Scores.meanStd(s.logError)
                members += [("log_rmse", .number(e.mean)), ("log_rmse_std", .number(e.std))]
            } else {
                for metric in metrics { members += metric.json(s[metric]).map { ($0.0, .number($0.1)) } }
            }
            members.append(("ms", .number(Scores.meanStd(s.milliseconds).mean)))
            return JSONObject(members)
        }
    }

    /// The number of images scored (the primary row's).
    public var imageCount: Int { scores[primary]?.milliseconds.count ?? 0 }

    /// {"images": N, "results": [...], "hdr_stops": [...]} (the last only with real radiance),
    /// with "ev" first when `ev` is given.
    public func jsonObject(ev: Float? = nil) -> JSONObject {
        // The exposure as written (%g): 0.3, not the float's 0.30000001192092896.
        var members: [(String, JSONValue)] = ev.map { [("ev", .number(Double(String(format: "%g", $0))))] } ?? []
        members += [("images", .number(Double(imageCount))), ("results", .array(resultsJSON))]
        if !hdrStops.isEmpty { members.append(("hdr_stops", .array(hdrStopsJSON))) }
        return JSONObject(members)
    }

    /// `jsonObject` as text.
    public func json() -> String { jsonObject().text }
}
