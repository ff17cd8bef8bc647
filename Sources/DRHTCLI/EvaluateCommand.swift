// `drht evaluate`: DRHT against classic baselines on held-out data, with PSNR, SSIM, FSIM and
// the grid score, for each correction mode.
import ArgumentParser
import DRHTEngine
import DRHTEvaluation
import DRHTImageIO
import DRHTModel
import DRHTTraining
import DRHTTasks
import Foundation

struct EvaluateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "evaluate",
        abstract: "Score DRHT and classic baselines (PSNR, SSIM, FSIM, grid score, exposure error) on held-out scenes, photos or panoramas.",
        discussion: """
        Examples: drht evaluate --count 64
                  drht evaluate --data photos:data/photos/eval --ev -2,-1,1,1.5
                  drht evaluate --data triplets/ --html report.html
        Rows: the input itself, auto-exposure + gamma, histogram equalisation, Reinhard 2002 on the \
        linearised input, for photos an oracle (the exact inverse of the exposure that was applied: \
        it knows the exposure but cannot bring back what clipping lost), then for each correction \
        mode DRHT's stage-1 HDR estimate (RMS error in the log domain) and DRHT's output. Grid: the \
        32-pixel grid score (about 1 for a photo; higher where the deconvolutions' dots show) and, in \
        brackets, its peak. Clipped: PSNR over the pixels where any input channel is 255 (dilated by \
        2 px), averaged over the n images where they cover at least 0.5% of the picture; n/a if none. \
        EV error: how many stops each output's mean linear luminance is from its target's, the mean \
        of its size and, in brackets, its signed mean (negative: too dark on average).
        """
    )

    @Option(help: "synth (held-out procedural scenes), photos:DIR (held-out photos, e.g. data/photos/eval from `make photos`), panorama:DIR (views of held-out HDR panoramas, e.g. data/panoramas/eval; panorama-photo:DIR scores against their 0 EV photos instead of their tone mapping) or a folder written by `drht synth`.") var data = "synth"
    @Option(help: "How many images (default: 64 procedural scenes; each photo 4 times, or once per exposure with --ev).") var count: Int?
    @Option(help: "Procedural scenes and panorama views: their size (default 256). Photos: the long side they are reduced to (default 512).") var size: Int?
    @Option(help: "First evaluation seed (scenes use seeds never used for training or validation).") var seed = 0
    @Option(parsing: .unconditional, help: "Exposures to evaluate one at a time, in EV (e.g. -2,-1,1,1.5): for photos relative to the photo itself (0 = as it is), for procedural scenes to auto-exposure; default: a random exposure per image.") var ev: CommaList<Float>?
    @Option(help: "Correction modes, comma-separated: direct (the network at full resolution), gain (a gain map from a working copy).")
    var mode = CommaList<ModeName>([.direct, .gain])
    @Option(name: .customLong("work-size"), help: "Long side(s) of gain mode's working copy, comma-separated (default \(CorrectionMode.defaultWorkSize)).")
    var workSize: CommaList<Int>?
    @Option(help: ArgumentHelp("Gain maps: dark-pixel guard (linear luminance).", visibility: .hidden)) var gainDelta: Float?
    @Option(help: ArgumentHelp("Gain maps: bilinear or guided upsampling.", visibility: .hidden)) var upsample: GainOptions.Upsampling?
    @Option(help: ArgumentHelp("Gain maps: blend the network's output where the photo is clipped (on/off).", visibility: .hidden)) var blendClipped: Switch?
    @Option(help: ArgumentHelp("Gain maps: guided filter radius and epsilon (R,EPS).", visibility: .hidden)) var guided: GuidedParameters?
    @Option(help: ArgumentHelp("Gain maps: Gaussian blur sigma at the working size.", visibility: .hidden)) var gainSmoothing: Float?
    @Option(help: ArgumentHelp("Both modes: mirrored margin (pixels) around what the network sees.", visibility: .hidden)) var margin: Int?
    @Option(help: ArgumentHelp("Both modes: average the network's outputs over the image and its mirror image (on/off).", visibility: .hidden)) var flipAverage: Switch?
    @Option(help: ArgumentHelp("Gain maps: multiply the corrected image's gains (stops) by this (0.5...2).", visibility: .hidden)) var gainStrength: Float?
    @Option(help: "Weights to evaluate (default: $DRHT_WEIGHTS, else Weights/drht.safetensors).",
            completion: .file(extensions: ["safetensors"]))
    var weights: String?
    @Option(help: "Also write an HTML report with every image side by side.", completion: .file(extensions: ["html"]))
    var html: String?
    @Flag(help: "Print the results as JSON.") var json = false
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    func validate() throws {
        if let count { guard (1...10_000).contains(count) else { throw ValidationError("--count must be 1...10000 (got \(count))") } }
        if let size { guard (32...2048).contains(size) else { throw ValidationError("--size must be 32...2048 (got \(size))") } }
        guard seed >= 0 else { throw ValidationError("--seed must be >= 0") }
        _ = try exposures()
        _ = try modes()
        _ = try gainOptions()
    }

    func exposures() throws -> [Float]? {
        guard let ev else { return nil }
        do { try EvaluateTask.checkExposures(ev.values) } catch let e as TaskError { throw ValidationError(e.description) }
        return ev.values
    }

    func modes() throws -> [CorrectionMode] {
        let sizes: [Int?] = workSize?.values ?? [nil]
        var out: [CorrectionMode] = []
        for name in mode.values {
            do {
                if name == .direct { out.append(.direct) } else { for s in sizes { out.append(try CorrectionMode.parse(name.rawValue, workSize: s)) } }
            } catch let e as CorrectionError { throw ValidationError(e.description) }
        }
        return out
    }

    func gainOptions() throws -> GainOptions {
        var o = GainOptions()
        if let gainDelta { guard gainDelta > 0 && gainDelta.isFinite else { throw ValidationError("--gain-delta must be > 0") }; o.delta = gainDelta }
        if let upsample { o.upsampling = upsample }
        if let blendClipped { o.blendClipped = blendClipped.isOn }
        if let flipAverage { o.flipAverage = flipAverage.isOn }
        if let margin { guard (0...256).contains(margin) else { throw ValidationError("--margin must be 0...256 pixels") }; o.margin = margin }
        if let gainSmoothing { guard gainSmoothing >= 0 && gainSmoothing <= 16 else { throw ValidationError("--gain-smoothing must be 0...16") }; o.smoothing = gainSmoothing }
        if let gainStrength { guard (0.5...2).contains(gainStrength) else { throw ValidationError("--gain-strength must be 0.5...2") }; o.strength = gainStrength }
        if let guided { o.guidedRadius = guided.radius; o.guidedEpsilon = guided.epsilon }
        return o
    }

    var request: EvaluateRequest {
        get throws {
            var r = EvaluateRequest()
            r.data = data; r.count = count; r.size = size; r.seed = seed
            r.exposures = try exposures()
            r.modes = try modes()
            r.options = try gainOptions()
            r.keepImages = html != nil
            return r
        }
    }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        let (model, path) = try WeightsResolver.load(weights)
        let request = try request
        let exposures = request.exposures
        let result = try EvaluateTask.run(request, model: model, monitor: .standardError()) { data in
            note("evaluating \(path) on \(data.description)")
        }
        if result.stopped { note("stopped (Ctrl-C): results for the images done so far") }
        let evaluations = result.evaluations.map { (ev: $0.ev, e: $0.evaluation) }
        if json {
            print(exposures == nil ? evaluations[0].e.json()
                  : JSONObject([("exposures", .array(evaluations.map { $0.e.jsonObject(ev: $0.ev) }))]).text)
        } else {
            for (k, (ev, e)) in evaluations.enumerated() {
                if k > 0 { print("") }
                if let ev { print(String(format: "exposure %+g EV (%d images)", ev, e.imageCount)) }
                for line in e.table() { print(line) }
                print(e.verdict())
                let stops = e.hdrStopsTable()
                if !stops.isEmpty { print(""); for line in stops { print(line) } }
            }
        }
        if let html {
            let sections = evaluations.map { ev, e in (ev.map { String(format: "exposure %+g EV", $0) }, e) }
            try AtomicFile.write(Array(EvaluationReport.html(sections, title: "drht evaluate").utf8), to: html)
            FileHandle.standardError.write(Data("wrote \(html)\n".utf8))
        }
    }
}
