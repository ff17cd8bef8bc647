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

/// Where the evaluation triplets come from.
public enum EvaluationData: CustomStringConvertible {
    /// Procedural scenes with seeds no training or validation run uses; `ev` fixes the
    /// camera's exposure (nil: a random one per scene, -3...3 EV).
    case synthetic(count: Int, size: Int, seed: Int, ev: Float? = nil)
    /// A folder written by `drht synth` (id.input.png, id.hdr, id.target.png), full images.
    case triplets([String])
    /// Held-out photographs, each whole, reduced (area average) until its long side is at most
    /// `longSide`, photographed by simulated cameras (evaluation seeds) against the photo as
    /// target; `count` cycles through the photos with a different camera each time; `ev` fixes
    /// the exposure (the camera's response curve and noise stay random).
    case photos([String], count: Int, longSide: Int, ev: Float? = nil)

    /// Evaluation scenes use seeds from 2^49 up: training uses seeds below 2^47, validation 2^48.
    public static func evaluationSeed(_ i: Int) -> UInt64 { (1 << 49) + UInt64(i) }

    public var count: Int {
        switch self {
        case .synthetic(let n, _, _, _): return n
        case .triplets(let ids): return ids.count
        case .photos(_, let count, _, _): return count
        }
    }

    public var description: String {
        switch self {
        case let .synthetic(n, s, seed, ev):
            return "\(n) held-out procedural scenes at \(s)x\(s) (evaluation seeds from \(seed)), " + EvaluationData.exposure(ev)
        case .triplets(let ids): return "\(ids.count) triplets from a folder"
        case let .photos(paths, count, size, ev):
            return "\(count) simulated exposures of \(paths.count) held-out photos, long side \(size) px, " + EvaluationData.exposure(ev)
        }
    }

    static func exposure(_ ev: Float?) -> String {
        ev.map { String(format: "exposed %+g EV", $0) } ?? "exposed -3...+3 EV at random"
    }

    /// The same source with the exposure fixed at `ev`.
    public func exposed(_ ev: Float) -> EvaluationData {
        switch self {
        case let .synthetic(n, s, seed, _): return .synthetic(count: n, size: s, seed: seed, ev: ev)
        case .triplets: return self
        case let .photos(paths, count, size, _): return .photos(paths, count: count, longSide: size, ev: ev)
        }
    }

    /// The PNG and JPEG photos in `dir`.
    public static func photoFolder(_ dir: String, count: Int?, longSide: Int) throws -> EvaluationData {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw TrainingError("\(dir): no such folder; `make photos` writes data/photos/eval")
        }
        let photos = files.filter { ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
            .sorted().map { (dir as NSString).appendingPathComponent($0) }
        guard !photos.isEmpty else { throw TrainingError("\(dir): no PNG or JPEG photos in the folder") }
        return .photos(photos, count: count ?? photos.count, longSide: longSide)
    }

    /// The folder's triplet ids, or an error saying what a triplet folder holds.
    public static func folder(_ dir: String) throws -> EvaluationData {
        guard let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else {
            throw TrainingError("\(dir): no such folder; --data takes synth or a folder written by `drht synth`")
        }
        let ids = files.filter { $0.hasSuffix(".input.png") }.map { (dir as NSString).appendingPathComponent(String($0.dropLast(".input.png".count))) }.sorted()
        guard !ids.isEmpty else { throw TrainingError("\(dir) holds no NAME.input.png / NAME.hdr / NAME.target.png triplets (make some with `drht synth`)") }
        return .triplets(ids)
    }

    public func triplet(_ i: Int) throws -> (id: String, Triplet) {
        switch self {
        case let .synthetic(_, size, seed, ev):
            return ("scene \(EvaluationData.evaluationSeed(seed + i) - (1 << 49))",
                    SyntheticScenes.triplet(seed: EvaluationData.evaluationSeed(seed + i), size: size, ev: ev))
        case .triplets(let ids):
            let parts = try [".input.png", ".hdr", ".target.png"].map { try ImageIO.read(ids[i] + $0).pixels }
            return (URL(fileURLWithPath: ids[i]).lastPathComponent, Triplet(input: parts[0], hdr: parts[1], target: parts[2]))
        case let .photos(paths, _, longSide, ev):
            let path = paths[i % paths.count]
            let photo = try PhotoCache.shared.image(path)
            let s = sizeWithLongSide(longSide, height: photo.h, width: photo.w)
            var rng = SeededRandom(seed: EvaluationData.evaluationSeed(i))
            let t = PhotoTriplet.make(from: resizeArea(photo, height: s.height, width: s.width), rng: &rng, ev: ev)
            return ("\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) #\(i / paths.count + 1)", t)
        }
    }
}

public struct Scores: Sendable {
    public var psnr: [Double] = []
    public var ssim: [Double] = []
    public var fsim: [Double] = []
    /// The 32-pixel grid score and its peak (GridScore: about 1 without a grid).
    public var grid: [Double] = []
    public var gridPeak: [Double] = []
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
    public var outputs: [(method: String, image: Tensor, psnr: Double, ssim: Double, fsim: Double, grid: Double)] = []
}

public final class Evaluation {
    /// The rows of DRHT's final output and of its stage-1 HDR estimate for one mode.
    public static func label(_ mode: CorrectionMode) -> String { "DRHT (\(mode))" }
    public static func stage1Label(_ mode: CorrectionMode) -> String { "DRHT stage 1 (\(mode))" }
    /// The baselines' rows, the input first.
    public static var baselineRows: [String] { Baseline.allCases.map { $0 == .identity ? "input" : $0.rawValue } }

    public let data: EvaluationData
    public let model: DRHT
    /// The correction modes evaluated, each giving a stage-1 row and a final row.
    public let modes: [CorrectionMode]
    public let options: GainOptions
    public private(set) var scores: [String: Scores] = [:]
    public private(set) var images: [EvaluatedImage] = []
    /// Keep every output for a report (costs memory: 5 images + 1 per mode per triplet).
    public var keepImages = false

    public init(data: EvaluationData, model: DRHT, modes: [CorrectionMode] = [.direct, .default],
                options: GainOptions = GainOptions()) {
        precondition(!modes.isEmpty, "evaluate at least one correction mode")
        self.data = data; self.model = model; self.modes = modes; self.options = options
    }

    /// Row order of the table.
    public var methods: [String] { Evaluation.baselineRows + modes.map(Evaluation.stage1Label) + modes.map(Evaluation.label) }

    /// The row the baselines are measured against: the first gain mode, else the first mode.
    public var primary: String {
        Evaluation.label(modes.first { if case .gain = $0 { return true } else { return false } } ?? modes[0])
    }

    /// Evaluates every triplet; `progress(done, total)` after each; stops early when asked.
    public func run(progress: (Int, Int) -> Void = { _, _ in }, shouldStop: () -> Bool = { false }) throws {
        for i in 0..<data.count {
            if shouldStop() { break }
            let (id, t) = try data.triplet(i)
            var record = EvaluatedImage(id: id, input: t.input, target: t.target)
            let target = try FSIM.Features(t.target)      // once per image, not once per method
            for b in Baseline.allCases {
                let start = DispatchTime.now().uptimeNanoseconds
                let out = b.apply(t.input)
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(b == .identity ? "input" : b.rawValue, out, target, ms: ms, into: &record)
            }
            let eps = model.constants.epsilon
            let truth = Log.forward(t.hdr, epsilon: eps)
            for mode in modes {
                if shouldStop() { break }
                let start = DispatchTime.now().uptimeNanoseconds
                let c = Correction(model: model, photo: t.input, mode: mode, options: options)
                c.run()
                let out = c.corrected()
                let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
                try score(Evaluation.label(mode), out, target, ms: ms, into: &record)
                let estimate = Log.forward(c.hdrEstimate(), epsilon: eps)
                var sum = 0.0
                for k in 0..<estimate.count { let d = Double(estimate.data[k] - truth.data[k]); sum += d * d }
                scores[Evaluation.stage1Label(mode), default: Scores()].logError.append((sum / Double(estimate.count)).squareRoot())
                scores[Evaluation.stage1Label(mode), default: Scores()].milliseconds.append(c.pipeline.stageMilliseconds.hdr)
            }
            if keepImages { images.append(record) }
            progress(i + 1, data.count)
        }
    }

    private func score(_ method: String, _ out: Tensor, _ target: FSIM.Features, ms: Double, into record: inout EvaluatedImage) throws {
        let psnr = try PSNR.compute(out, target.pixels), ssim = try SSIM.compute(out, target.pixels)
        let fsim = try FSIM.compute(FSIM.Features(out), target).fsim
        let grid = try GridScore.compute(out)
        scores[method, default: Scores()].psnr.append(psnr)
        scores[method, default: Scores()].ssim.append(ssim)
        scores[method, default: Scores()].fsim.append(fsim)
        scores[method, default: Scores()].grid.append(grid.score)
        scores[method, default: Scores()].gridPeak.append(grid.peak)
        scores[method, default: Scores()].milliseconds.append(ms)
        if keepImages { record.outputs.append((method, out, psnr, ssim, fsim, grid.score)) }
    }

    /// The table as text lines.
    public func table() -> [String] {
        func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
        func left(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
        let name = max(20, methods.map(\.count).max()! + 1)
        var lines = [pad("method", name) + left("PSNR dB (std)", 16) + left("SSIM (std)", 18) + left("FSIM (std)", 18)
                     + left("grid (peak)", 14) + left("ms/image", 10)]
        lines.append(String(repeating: "-", count: lines[0].count))
        for m in methods {
            guard let s = scores[m] else { continue }
            let t = left(String(format: "%.1f", Scores.meanStd(s.milliseconds).mean), 10)
            if !s.logError.isEmpty {
                let e = Scores.meanStd(s.logError)
                lines.append(pad(m, name) + left(String(format: "log-domain RMSE %.3f (%.3f)", e.mean, e.std), 52) + left("", 14) + t)
            } else {
                let p = Scores.meanStd(s.psnr), q = Scores.meanStd(s.ssim), f = Scores.meanStd(s.fsim)
                let g = Scores.meanStd(s.grid), gp = Scores.meanStd(s.gridPeak)
                lines.append(pad(m, name) + left(String(format: "%.2f (%.2f)", p.mean, p.std), 16)
                             + left(String(format: "%.4f (%.3f)", q.mean, q.std), 18)
                             + left(String(format: "%.4f (%.3f)", f.mean, f.std), 18)
                             + left(String(format: "%.2f (%.1f)", g.mean, gp.mean), 14) + t)
            }
        }
        return lines
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
        "{\"images\": \(scores[primary]?.psnr.count ?? 0), \"results\": " + jsonResults() + "}"
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
                parts.append(String(format: "{\"method\": \"%@\", \"psnr\": %.4f, \"psnr_std\": %.4f, \"ssim\": %.5f, \"ssim_std\": %.5f, \"fsim\": %.5f, \"fsim_std\": %.5f, \"grid\": %.4f, \"grid_peak\": %.3f, \"ms\": %.2f}", m, p.mean, p.std, q.mean, q.std, f.mean, f.std, g.mean, gp.mean, t))
            }
        }
        return "[" + parts.joined(separator: ", ") + "]"
    }
}
