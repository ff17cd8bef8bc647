// `drht bench`: times every layer shape of the DRHT table (docs/MODEL.md) at N x N, forward and
// forward+backward, against the machine's measured cblas_sgemm rate.
import ArgumentParser
import CBLAS
import DRHTEngine
import DRHTImageIO
import DRHTModel
import DRHTTraining
import DRHTTasks
import Foundation

/// `drht bench`: four benchmarks, each a subcommand with only its own options. The layer table is
/// the default (`drht bench --size 256` is `drht bench layers --size 256`).
struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Time every DRHT layer against the measured sgemm rate, training steps, whole corrections or the look-inside commands.",
        discussion: """
        Examples: drht bench --size 256 --json        (the layer table)
                  drht bench train --batch 4 --size 128
                  drht bench pipeline --size 1024
                  drht bench pipeline --mode gain     (a 4000 x 3000 photo)
                  drht bench inside --size 512        (saliency, rf, sweep)
        """,
        subcommands: [BenchLayersCommand.self, BenchTrainCommand.self, BenchPipelineCommand.self, BenchInsideCommand.self],
        defaultSubcommand: BenchLayersCommand.self
    )
}

/// Options every benchmark takes.
struct BenchOptions: ParsableArguments {
    @Option(help: "Worker threads for the engine's loops; OpenBLAS runs single-threaded inside each (default: all cores).")
    var threads: Int?

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func validate() throws {
        if let threads, threads < 1 || threads > 64 { throw ValidationError("--threads must be 1...64") }
    }
}

/// `--size N` of the layer, training and look-inside benchmarks: a multiple of 32.
func checkBenchSize(_ n: Int) throws {
    guard n >= 32, n % 32 == 0, n <= 4096 else { throw ValidationError("--size must be a multiple of 32 between 32 and 4096 (got \(n))") }
}

/// `--size` and `--batch` of a benchmark that holds `batch x size^2` pixels within `maxPixels`
/// (`tooBig` says why and what to do).
func checkBenchSizeAndBatch(size: Int, batch: Int, maxPixels: Int, tooBig: () -> String) throws {
    try checkBenchSize(size)
    guard (1...64).contains(batch) else { throw ValidationError("--batch must be 1...64 (got \(batch))") }
    if batch * size * size > maxPixels { throw ValidationError(tooBig()) }
}

struct BenchLayersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layers", abstract: "Every layer of docs/MODEL.md's table at N x N, forward and forward+backward, against cblas_sgemm's rate.")
    @Option(help: "Input size N, a multiple of 32.") var size = 256
    @Option(help: "Images per batch.") var batch = 1
    @OptionGroup var options: BenchOptions

    func validate() throws {
        // The layer table keeps one layer's input, output and gradients: batch x size^2 is held
        // to what one 4096^2 image needs.
        try checkBenchSizeAndBatch(size: size, batch: batch, maxPixels: 4096 * 4096) {
            "the layer table at batch \(batch) and \(size)x\(size) is more than one 4096x4096 image; keep batch x size^2 within 4096^2"
        }
    }

    func run() throws { try Bench(kind: .layers, n: size, batch: batch, options: options).run() }
}

struct BenchTrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train", abstract: "Full training steps (forward, backward, Adam) with a profile of where the step's time goes.")
    @Option(help: "Sample size N, a multiple of 32.") var size = 64
    @Option(help: "Triplets per batch.") var batch = 8
    @OptionGroup var options: BenchOptions

    func validate() throws {
        // A training step keeps every activation of both networks for the backward: the same
        // memory guard as `drht train`.
        try checkBenchSizeAndBatch(size: size, batch: batch, maxPixels: .max) { "" }
        do { try TrainTask.checkMemory(batch: batch, size: size, what: "bench train") } catch let e as TaskError { throw ValidationError(e.description) }
    }

    func run() throws { try Bench(kind: .train, n: size, batch: batch, options: options).run() }
}

struct BenchPipelineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline", abstract: "The whole two-stage inference (direct), or `drht correct` of a photo (gain), with peak memory.")
    enum Mode: String, ExpressibleByArgument, CaseIterable { case direct, gain }
    @Option(help: "Input size: N or WxH, e.g. 4000x3000 (default 512 direct, 4000x3000 gain).") var size: String?
    @Option(help: "direct: the network at full resolution; gain: gain-map correction, as `drht correct` does.") var mode: Mode = .direct
    @Option(name: .customLong("work-size"), help: "With --mode gain: the working copy's long side (default \(CorrectionMode.defaultWorkSize)).")
    var workSize: Int?
    @OptionGroup var options: BenchOptions

    /// (height, width).
    func dims() throws -> (h: Int, w: Int) {
        guard let size else { return mode == .gain ? (3000, 4000) : (512, 512) }
        let parts = size.lowercased().split(separator: "x", omittingEmptySubsequences: false).map { Int($0) }
        guard (parts.count == 1 || parts.count == 2), parts.allSatisfy({ $0 != nil }) else { throw sizeError }
        let d = parts.count == 2 ? (parts[1]!, parts[0]!) : (parts[0]!, parts[0]!)
        guard (32...20_000).contains(d.0), (32...20_000).contains(d.1), d.0 * d.1 <= 100_000_000 else { throw sizeError }
        return d
    }
    var sizeError: ValidationError {
        ValidationError("--size takes N or WxH, 32 to 20000 pixels a side, at most 100 megapixels (got \(size ?? ""))")
    }

    func validate() throws {
        _ = try dims()
        do { _ = try CorrectionMode.parse(mode.rawValue, workSize: workSize) } catch let e as CorrectionError { throw ValidationError(e.description) }
    }

    func run() throws {
        let d = try dims()
        try Bench(kind: .pipeline(try CorrectionMode.parse(mode.rawValue, workSize: workSize)), n: d.h, width: d.w, options: options).run()
    }
}

struct BenchInsideCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inside", abstract: "The look-inside commands (saliency, rf, sweep) as the REPL runs them, on an N x N scene.")
    @Option(help: "Scene size N, a multiple of 32.") var size = 256
    @OptionGroup var options: BenchOptions

    func validate() throws { try checkBenchSize(size) }

    func run() throws { try Bench(kind: .inside, n: size, options: options).run() }
}

/// One benchmark run, its settings validated by its subcommand.
struct Bench {
    enum Kind { case layers, train, pipeline(CorrectionMode), inside }
    let kind: Kind
    /// Height (and, but for the pipeline, width) of the input.
    let n: Int
    let width: Int
    let batch: Int
    let json: Bool
    let threads: Int?

    init(kind: Kind, n: Int, width: Int? = nil, batch: Int = 1, options: BenchOptions) {
        self.kind = kind; self.n = n; self.width = width ?? n; self.batch = batch
        json = options.json; threads = options.threads
    }

    var dims: (h: Int, w: Int) { (n, width) }

    func run() throws {
        if let threads { EngineThreads.set(threads) }
        // Notes on stderr at a terminal; Ctrl-C is left to kill a benchmark at once (nothing to save).
        let progress = TaskMonitor.terminal(live: !json && isatty(2) != 0) { FileHandle.standardError.write(Data($0.utf8)) }
        switch kind {
        case .pipeline(let mode): return try runPipeline(progress, mode)
        case .train: return try runTraining(progress)
        case .inside: return try runInside(progress)
        case .layers: break
        }
        // The reference is sampled before, halfway and after the layers, and the median of all
        // samples is used, so a busy spell on a shared machine skews both sides alike.
        let reference = SgemmReference(n: 2048)
        progress.say("bench: measuring cblas_sgemm at 2048^3")
        reference.sample()
        var results: [LayerResult] = []
        for (i, spec) in Architecture.layers.enumerated() {
            progress.say("bench: [\(i + 1)/\(Architecture.layers.count)] \(spec.name)")
            results.append(LayerBench(spec: spec, size: n, batch: batch).run())
            if i == Architecture.layers.count / 2 - 1 { reference.sample() }
        }
        progress.say("bench: measuring cblas_sgemm at 2048^3")
        reference.sample()
        progress.clear()
        let sgemm = reference.gflops
        let report = BenchReport(size: n, batch: batch, threads: EngineThreads.count, sgemmGFLOPS: sgemm, layers: results,
                                 peakRSSMB: Timing.peakRSSMB())
        if json { try printJSON(report.json) } else { print(report.table) }
    }
}

extension Bench {
    /// The whole two-stage inference at n x n on random weights and a random image: a warm-up,
    /// then the median of three runs, with the process's peak memory.
    func runPipeline(_ progress: TaskMonitor, _ correctionMode: CorrectionMode) throws {
        if correctionMode != .direct { return try runGain(progress, correctionMode) }
        let model = DRHT.initialized(seed: 1)
        var rng = SeededRandom(seed: 3)
        let image = Tensor.uniform([1, 3, dims.h, dims.w], 0, 1, rng: &rng)
        var times: [Double] = [], stages: [(Double, Double, Double)] = [], flops = 0.0
        var slowest: [(String, Double)] = []
        for run in 0..<4 {
            progress.say(run == 0 ? "warm-up run" : "run \(run)/3")
            let p = Pipeline(model: model, image: image, retention: .needed)
            let t0 = Timing.nowMS()
            p.runAll()
            _ = p.corrected
            if run > 0 {
                times.append(Timing.nowMS() - t0); stages.append(p.stageMilliseconds)
                let worst = p.records.max { $0.milliseconds < $1.milliseconds }!
                slowest.append((worst.name, worst.milliseconds))
            }
            flops = p.totalFlops
        }
        progress.clear()
        let order = times.indices.sorted { times[$0] < times[$1] }
        let mid = order[order.count / 2]
        let ms = times[mid], (h, t, l) = stages[mid]
        let rss = Timing.peakRSSMB()
        if json {
            struct Report: Encodable {
                let size, width, threads: Int
                let pipelineMs, pipelineGflops, gflop, hdrMs, transformMs, ldrMs, slowestStepMs, peakRssMb: JSONNumber
            }
            try printJSON(Report(size: dims.h, width: dims.w, threads: EngineThreads.count, pipelineMs: .init(ms),
                                 pipelineGflops: .init(flops / ms / 1e6), gflop: .init(flops / 1e9), hdrMs: .init(h), transformMs: .init(t),
                                 ldrMs: .init(l), slowestStepMs: .init(slowest[mid].1), peakRssMb: .init(rss)))
        } else {
            print("drht bench pipeline --mode direct: \(dims.w)x\(dims.h), batch 1, \(EngineThreads.count) thread\(EngineThreads.count == 1 ? "" : "s"), median of 3 runs")
            print(String(format: "two-stage inference: %.1f ms for %.1f GFLOP = %.1f GFLOP/s", ms, flops / 1e9, flops / ms / 1e6))
            print(String(format: "  HDR estimation %.1f ms, transform %.1f ms, LDR correction %.1f ms", h, t, l))
            print(String(format: "  slowest single step (what one REPL `step` waits for): %@ %.1f ms", slowest[mid].0, slowest[mid].1))
            print(String(format: "peak memory: %.0f MB", rss))
        }
    }

    /// Gain-mode correction of a W x H photo as `drht correct` runs it: a JPEG of a smooth
    /// picture with noise is written to a temporary file, decoded, corrected (a warm-up, then
    /// the median of three) and written as PNG. Reports the correction alone (working copy,
    /// both networks, gain map applied to every pixel), decoding and encoding, and peak memory.
    func runGain(_ progress: TaskMonitor, _ mode: CorrectionMode) throws {
        let (h, w) = dims
        let model = DRHT.initialized(seed: 1)
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-bench-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        progress.say("bench: writing a \(w)x\(h) JPEG")
        do {
            var rng = SeededRandom(seed: 3)
            let picture = Tensor(uninitialized: [1, 3, h, w])
            for c in 0..<3 { for y in 0..<h { for x in 0..<w {
                let v = 0.5 + 0.35 * sinf(Float(x) / Float(w) * 6 + Float(c)) * cosf(Float(y) / Float(h) * 4) + 0.05 * rng.normal()
                picture.data[(c * h + y) * w + x] = min(1, max(0, v))
            } } }
            try ImageIO.write(picture, to: dir + "/photo.jpg")
        }
        let rssBefore = Timing.peakRSSMB()
        var t0 = Timing.nowMS()
        progress.say("bench: decoding")
        let image = try ImageIO.read(dir + "/photo.jpg").pixels
        let decodeMS = Timing.nowMS() - t0
        var times: [Double] = [], network: [Double] = [], gain: [Double] = []
        var corrected: Tensor?
        var working = (0, 0)
        for run in 0..<4 {
            progress.say(run == 0 ? "warm-up run" : "run \(run)/3")
            t0 = Timing.nowMS()
            let c = Correction(model: model, photo: image, mode: mode)
            c.run()
            corrected = c.corrected()
            if run > 0 {
                times.append(Timing.nowMS() - t0)
                let s = c.pipeline.stageMilliseconds
                network.append(s.hdr + s.transform + s.ldr); gain.append(c.gainMilliseconds)
            }
            working = (c.working.w, c.working.h)
        }
        progress.say("bench: encoding")
        t0 = Timing.nowMS()
        try ImageIO.write(corrected!, to: dir + "/corrected.png")
        let encodeMS = Timing.nowMS() - t0
        progress.clear()
        let mid = times.indices.sorted { times[$0] < times[$1] }[1]
        let rss = Timing.peakRSSMB()
        if json {
            struct Report: Encodable {
                var mode = "gain"
                let width, height, workWidth, workHeight, threads: Int
                let correctionMs, networkMs, gainMs, decodeJpegMs, encodePngMs, peakRssMb, peakRssBeforeDecodeMb: JSONNumber
            }
            try printJSON(Report(width: w, height: h, workWidth: working.0, workHeight: working.1, threads: EngineThreads.count,
                                 correctionMs: .init(times[mid]), networkMs: .init(network[mid]), gainMs: .init(gain[mid]),
                                 decodeJpegMs: .init(decodeMS), encodePngMs: .init(encodeMS), peakRssMb: .init(rss),
                                 peakRssBeforeDecodeMb: .init(rssBefore)))
        } else {
            print("drht bench pipeline --mode gain: a \(w)x\(h) photo, working copy \(working.0)x\(working.1), \(EngineThreads.count) thread\(EngineThreads.count == 1 ? "" : "s"), median of 3 runs")
            print(String(format: "correction: %.1f ms (working copy + both networks %.1f ms, gain map to every pixel %.1f ms)", times[mid], network[mid], gain[mid]))
            print(String(format: "decoding the JPEG %.1f ms, encoding the PNG %.1f ms: %.2f s for the whole `drht correct`", decodeMS, encodeMS,
                         (decodeMS + times[mid] + encodeMS) / 1000))
            print(String(format: "peak memory: %.0f MB (%.0f MB before decoding)", rss, rssBefore))
        }
    }
}

extension Bench {
    /// Full training steps (batch of procedural triplets, joint loss, backward, Adam) at
    /// batch x n x n: a warm-up step, then the median of five.
    func runTraining(_ progress: TaskMonitor) throws {
        let reference = SgemmReference(n: 2048)
        progress.say("bench: measuring cblas_sgemm at 2048^3")
        reference.sample()
        let model = DRHT.initialized(seed: 1)
        let adam = Adam(learningRate: 1e-3)
        let data = stack((0..<batch).map { SyntheticScenes.triplet(seed: UInt64($0), size: n) })
        var times: [Double] = [], faults: [Int] = []
        for run in 0..<6 {
            progress.say(run == 0 ? "warm-up step" : "step \(run)/5")
            let t0 = Timing.nowMS(), f0 = Timing.minorFaults()
            let (_, grads) = model.lossAndGradients(data, mode: .training)
            adam.update(model.parameters, gradients: grads)
            if run > 0 { times.append(Timing.nowMS() - t0); faults.append(Timing.minorFaults() - f0) }
        }
        // Three more steps with the profile on (a clock read around each section), averaged.
        let profileSteps = 3
        StepProfile.reset()
        var profiledMS = 0.0
        for run in 0..<profileSteps {
            progress.say("bench: profiled step \(run + 1)/\(profileSteps)")
            StepProfile.enabled = true
            let t0 = Timing.nowMS()
            let (_, grads) = model.lossAndGradients(data, mode: .training)
            StepProfile.measure("Adam") { adam.update(model.parameters, gradients: grads) }
            profiledMS += Timing.nowMS() - t0
            StepProfile.enabled = false
        }
        let profile = TrainingProfile(sections: StepProfile.sections, stepMS: profiledMS, steps: profileSteps)
        progress.say("bench: measuring cblas_sgemm at 2048^3")
        reference.sample()
        progress.clear()
        let ms = times.sorted()[times.count / 2]
        let freshPages = faults.sorted()[faults.count / 2]
        let flops = Self.trainingFlops(batch: batch, size: n)
        let gflops = flops / ms / 1e6, share = gflops / reference.gflops
        let machine = Machine.current
        if json {
            struct Report: Encodable {
                let batch, size, threads: Int
                let freshPagesPerStep: Int
                let trainStepMs, peakRssMb, trainStepGflop, trainGflops, sgemmGflops, fractionOfSgemm: JSONNumber
                let cpu, vectors, builtFor, blasCore: String
                let profile: TrainingProfile.JSON
            }
            try printJSON(Report(batch: batch, size: n, threads: EngineThreads.count, freshPagesPerStep: freshPages, trainStepMs: .init(ms), peakRssMb: .init(Timing.peakRSSMB()),
                                 trainStepGflop: .init(flops / 1e9), trainGflops: .init(gflops), sgemmGflops: .init(reference.gflops),
                                 fractionOfSgemm: .init(share), cpu: machine.cpu, vectors: machine.vectors, builtFor: machine.builtFor,
                                 blasCore: machine.blasCore, profile: profile.json))
        } else {
            print("drht bench train: batch \(batch), \(n)x\(n), \(EngineThreads.count) thread\(EngineThreads.count == 1 ? "" : "s"), median of 5 steps")
            print("machine: \(machine.summary)")
            print(String(format: "training step (forward, backward, Adam): %.1f ms", ms))
            print(String(format: "convolutions: %.1f GFLOP per step = %.1f GFLOP/s, %.0f%% of cblas_sgemm 2048^3 (%.1f GFLOP/s)",
                         flops / 1e9, gflops, 100 * share, reference.gflops))
            print(String(format: "peak memory: %.0f MB", Timing.peakRSSMB()))
            print("memory pages first touched per step after the warm-up (minor page faults, median): \(freshPages)")
            print("")
            print(profile.table)
        }
    }
}

/// A training step's time by section (StepProfile), per step, both networks' blocks of one
/// name together: each block's convolution forward and backward, and its BN, ELU and skip
/// work; then the transform and loss, Adam, and what no section covers.
struct TrainingProfile {
    struct Row { let block: String; var convForward = 0.0, convBackward = 0.0, otherForward = 0.0, otherBackward = 0.0 }
    var rows: [Row] = []
    var transformAndLoss = 0.0, adam = 0.0, stepMS: Double, steps: Int

    init(sections: [(name: String, ms: Double)], stepMS: Double, steps: Int) {
        self.stepMS = stepMS / Double(steps)
        self.steps = steps
        for spec in Architecture.layers { rows.append(Row(block: spec.name)) }
        for (name, total) in sections {
            let ms = total / Double(steps)
            if name == "Adam" { adam += ms; continue }
            if name == "transform and loss" { transformAndLoss += ms; continue }
            let parts = name.split(separator: " ", maxSplits: 1).map(String.init)
            guard parts.count == 2, let i = rows.firstIndex(where: { $0.block == parts[0] }) else { continue }
            switch parts[1] {
            case "conv forward": rows[i].convForward += ms
            case "conv backward": rows[i].convBackward += ms
            case "BN, ELU, skip forward": rows[i].otherForward += ms
            case "BN, ELU, skip backward": rows[i].otherBackward += ms
            default: break        // a section no column claims stays in "other"
            }
        }
    }

    var convMS: Double { rows.reduce(0) { $0 + $1.convForward + $1.convBackward } }
    var blockOtherMS: Double { rows.reduce(0) { $0 + $1.otherForward + $1.otherBackward } }
    var unaccountedMS: Double { stepMS - convMS - blockOtherMS - transformAndLoss - adam }

    var table: String {
        func pct(_ v: Double) -> String { String(format: "%5.1f%%", 100 * v / stepMS) }
        var s = String(format: "profile of a step (mean of %d, both networks; ms): %.1f ms\n", steps, stepMS)
        s += "block    conv fwd  conv bwd  BN/ELU/skip fwd  BN/ELU/skip bwd   total   share\n"
        for r in rows {
            let t = r.convForward + r.convBackward + r.otherForward + r.otherBackward
            s += String(format: "%@ %9.1f %9.1f %16.1f %16.1f %7.1f  %@\n", r.block.padding(toLength: 7, withPad: " ", startingAt: 0),
                        r.convForward, r.convBackward, r.otherForward, r.otherBackward, t, pct(t))
        }
        s += String(format: "convolutions %.1f ms (%@), BN/ELU/skip %.1f ms (%@), transform and loss %.1f ms (%@), Adam %.1f ms (%@), other %.1f ms (%@)",
                    convMS, pct(convMS), blockOtherMS, pct(blockOtherMS), transformAndLoss, pct(transformAndLoss),
                    adam, pct(adam), unaccountedMS, pct(unaccountedMS))
        return s
    }

    struct JSON: Encodable {
        struct Block: Encodable { let block: String; let convForwardMs, convBackwardMs, otherForwardMs, otherBackwardMs: JSONNumber }
        let stepMs, transformAndLossMs, adamMs, otherMs: JSONNumber
        let blocks: [Block]
    }

    var json: JSON {
        JSON(stepMs: .init(stepMS), transformAndLossMs: .init(transformAndLoss), adamMs: .init(adam), otherMs: .init(unaccountedMS),
             blocks: rows.map { JSON.Block(block: $0.block, convForwardMs: .init($0.convForward), convBackwardMs: .init($0.convBackward),
                                           otherForwardMs: .init($0.otherForward), otherBackwardMs: .init($0.otherBackward)) })
    }
}

extension Bench {
    /// The convolution FLOPs of one training step: each block's forward, its weight gradient and
    /// its input gradient (the same multiply-adds each), in both networks, except the input
    /// gradient of hdr.enc1, which the step does not compute. BN, ELU and Adam are not counted.
    static func trainingFlops(batch: Int, size: Int) -> Double {
        let perNetwork = Architecture.layers.reduce(0) { $0 + $1.flops(networkInput: size, batch: batch) }
        return 2 * 3 * perNetwork - Architecture.layers[0].flops(networkInput: size, batch: batch)
    }
}

/// The machine a figure was measured on: the CPU model and the kernel OpenBLAS picked for it.
struct Machine {
    let cpu: String
    let blasCore: String
    /// The widest vector extension the CPU has ("AVX-512", "AVX2", "SSE2"), which decides the
    /// machine kind of docs/PERFORMANCE.md's tables.
    let vectors: String
    /// What the engine was compiled for (Package.swift).
    var builtFor: String { BuildTarget.cpu }
    /// One line for the tables: CPU, vector extension, OpenBLAS's kernel, drht's build target.
    var summary: String {
        let picked = BLASKernels.replaced.map { " (OpenBLAS picked \($0.from) for this CPU; drht asked for \($0.asked))" } ?? ""
        return "\(cpu) (\(vectors)), OpenBLAS core \(blasCore)\(picked), drht built for \(builtFor)"
    }

    static var current: Machine {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }
            .map { $0.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) } ?? "" } ?? "unknown CPU"
        BLASKernels.chooseOnce()
        let core = BLASKernels.current
        let flags = BLASKernels.cpuFlags()
        let vectors = flags.contains("avx512f") ? "AVX-512" : flags.contains("avx2") ? "AVX2" : flags.contains("sse2") ? "SSE2" : "unknown"
        return Machine(cpu: model.replacingOccurrences(of: "\"", with: "'"), blasCore: core, vectors: vectors)
    }
}

/// One layer's figures.
struct LayerResult {
    let spec: LayerSpec
    let input: [Int], output: [Int]
    let flops: Double
    let forwardMS: Double         // the conv / transposed conv alone
    let backwardMS: Double        // its backward (dInput, dWeight, dBias)
    let blockMS: Double           // Block.forward in inference mode: conv + BN + ELU (+ base, + skip sum)
    /// The path the layer takes: "gemm", "fft" (dec5) or "winograd" (the 5 x 5 stride-2 layers).
    let algorithm: String
    /// Why it takes that path (nil for the GEMM path).
    let reason: String?
    /// For a layer that does not take the GEMM path: the GEMM path's forward and backward times.
    let gemmForwardMS: Double?
    let gemmBackwardMS: Double?
    /// For a stride-2 conv: how its backward computes dx (Conv2D.InputGradientAlgorithm,
    /// "columns" or "adjoint") and the backward's time by the other way.
    let inputGradientPath: String?
    let otherPathBackwardMS: Double?
    var forwardGFLOPS: Double { flops / forwardMS / 1e6 }
}

/// Times one row of the table with random weights and inputs.
struct LayerBench {
    let spec: LayerSpec
    let size: Int
    let batch: Int

    func run() -> LayerResult {
        var rng = SeededRandom(seed: 1)
        let inSize = spec.inputSize(networkInput: size)
        let x = Tensor.uniform([batch, spec.inChannels, inSize, inSize], -1, 1, rng: &rng)
        let fanIn = Float(spec.inChannels * spec.kernel * spec.kernel)
        let block = Block(spec: spec)                      // zero bias, identity BN
        let w = block.conv.weight
        let std = (2 / fanIn).squareRoot()
        for i in 0..<w.count { w.data[i] = std * rng.normal() }
        let y = block.conv.forward(x, workspace: .shared)
        let base = spec.kind == .head ? Tensor.uniform(y.shape, -1, 1, rng: &rng) : nil
        let skip = spec.skipFrom != nil ? Tensor.uniform(y.shape, -1, 1, rng: &rng) : nil
        let dy = Tensor.uniform(y.shape, -1, 1, rng: &rng)
        let forwardMS = Timing.medianMS { _ = block.conv.forward(x, workspace: .shared) }
        let backwardMS = Timing.medianMS { _ = block.conv.backward(dOutput: dy, input: x, inputGradient: true, weightGradient: true, workspace: .shared) }
        // Exactly what inference runs (Pipeline, retention .needed): Block.forward in place.
        let blockMS = Timing.medianMS { _ = block.forward(x, base: base, encoder: skip, mode: .inference(inPlace: true)) }
        var gemmMS: Double? = nil, gemmBackwardMS: Double? = nil
        var algorithm = "gemm"
        var reason: String? = nil
        if let t = block.conv as? TransposedConv2D, t.resolved(for: x.shape) != .gemm {
            algorithm = t.resolved(for: x.shape) == .fft ? "fft" : "winograd"
            reason = algorithm == "fft" ? "a \(t.kernel)x\(t.kernel) kernel and \(x.n * x.h * x.w) input points; the path is taken for k >= 7 from 64^2 points on"
                : Winograd.reason(batch: x.n, height: x.h, width: x.w)
            gemmMS = Timing.medianMS { _ = t.forward(x, algorithm: .gemm) }
            gemmBackwardMS = Timing.medianMS { _ = t.backward(dOutput: dy, input: x, algorithm: .gemm) }
        }
        if let c = block.conv as? Conv2D, c.resolvedAlgorithm(for: x.shape) == .winograd {
            algorithm = "winograd"
            reason = Winograd.reason(batch: x.n, height: x.h / 2, width: x.w / 2)
            gemmMS = Timing.medianMS { _ = c.forward(x, algorithm: .gemm) }
            gemmBackwardMS = Timing.medianMS { _ = c.backward(dOutput: dy, input: x, algorithm: .gemm) }
        }
        var path: String? = nil, otherMS: Double? = nil
        if let c = block.conv as? Conv2D, c.stride == 2, x.h % 2 == 0, x.w % 2 == 0, algorithm == "gemm" {
            let chosen = c.resolved(.automatic, for: x.shape)
            path = chosen == .adjoint ? "adjoint" : "columns"
            otherMS = Timing.medianMS {
                _ = c.backward(dOutput: dy, input: x, inputAlgorithm: chosen == .adjoint ? .columns : .adjoint, workspace: .shared)
            }
        }
        return LayerResult(spec: spec, input: x.shape, output: y.shape, flops: spec.flops(networkInput: size, batch: batch),
                           forwardMS: forwardMS, backwardMS: backwardMS, blockMS: blockMS, algorithm: algorithm, reason: reason, gemmForwardMS: gemmMS,
                           gemmBackwardMS: gemmBackwardMS, inputGradientPath: path, otherPathBackwardMS: otherMS)
    }
}

enum Timing {
    static func nowMS() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e6 }

    /// Median wall time of `body` over enough runs to fill ~0.3 s (3 to 15 runs), after a warm-up.
    static func medianMS(_ body: () -> Void) -> Double {
        body()
        var times: [Double] = []
        let start = nowMS()
        while times.count < 3 || (times.count < 15 && nowMS() - start < 300) {
            let t0 = nowMS(); body(); times.append(nowMS() - t0)
        }
        return times.sorted()[times.count / 2]
    }

    /// Minor page faults of this process so far (pages the kernel had to map and zero on first
    /// touch: memory that came fresh from the system rather than from the heap's free lists).
    static func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    /// Peak resident memory of this process (VmHWM), in MB.
    static func peakRSSMB() -> Double {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
              let kb = Double(line.split(separator: " ").dropFirst().first ?? "") else { return 0 }
        return kb / 1024
    }
}

/// cblas_sgemm at n^3 on all engine threads, sampled several times during a benchmark.
final class SgemmReference {
    let n: Int
    let a: Tensor, b: Tensor, c: Tensor
    var times: [Double] = []

    init(n: Int) {
        self.n = n
        var rng = SeededRandom(seed: 2)
        a = Tensor.uniform([n, n], -1, 1, rng: &rng); b = Tensor.uniform([n, n], -1, 1, rng: &rng)
        c = Tensor(zeros: [n, n])
    }

    func run() {
        gemm(c.data, ldc: n, a.data, lda: n, transposeA: false, b.data, ldb: n, transposeB: false, m: n, n: n, k: n)
    }

    /// A warm-up, then three timed runs.
    func sample() {
        run()
        for _ in 0..<3 { let t0 = Timing.nowMS(); run(); times.append(Timing.nowMS() - t0) }
    }

    /// GFLOP/s at the median of all samples.
    var gflops: Double { 2 * pow(Double(n), 3) / times.sorted()[times.count / 2] / 1e6 }
}

struct BenchReport {
    let size: Int
    let batch: Int
    let threads: Int
    let sgemmGFLOPS: Double
    let layers: [LayerResult]
    let peakRSSMB: Double

    var totalFlops: Double { layers.reduce(0) { $0 + $1.flops } }
    var totalForwardMS: Double { layers.reduce(0) { $0 + $1.forwardMS } }
    var totalBackwardMS: Double { layers.reduce(0) { $0 + $1.backwardMS } }
    var totalBlockMS: Double { layers.reduce(0) { $0 + $1.blockMS } }
    var totalForwardGFLOPS: Double { totalFlops / totalForwardMS / 1e6 }
    var percentOfSgemm: Double { 100 * totalForwardGFLOPS / sgemmGFLOPS }

    var table: String {
        func pad(_ text: String, _ width: Int) -> String { text.padding(toLength: max(width, text.count), withPad: " ", startingAt: 0) }
        let machine = Machine.current
        var s = "drht bench: \(size)x\(size), batch \(batch), \(threads) thread\(threads == 1 ? "" : "s")\n"
        s += "machine: \(machine.summary)\n"
        s += String(format: "cblas_sgemm 2048^3: %.1f GFLOP/s (the reference)\n\n", sgemmGFLOPS)
        s += "layer   kind     kernel  channels   output     GFLOP   fwd ms  GFLOP/s  %sgemm   bwd ms  block ms\n"
        for l in layers {
            let sp = l.spec
            let fft = ["fft": "*", "winograd": "+"][l.algorithm] ?? ""
            s += pad(sp.name, 8) + pad(sp.kind.operation + fft, 9)
                + pad("\(sp.kernel)x\(sp.kernel) s\(sp.stride)", 8) + pad("\(sp.inChannels)->\(sp.outChannels)", 11)
                + pad("\(l.output[2])x\(l.output[3])", 9)
            s += String(format: "%7.2f %8.2f %8.1f %6.0f%% %8.2f %9.2f\n", l.flops / 1e9, l.forwardMS, l.forwardGFLOPS,
                        100 * l.forwardGFLOPS / sgemmGFLOPS, l.backwardMS, l.blockMS)
        }
        for l in layers {
            guard let gemmMS = l.gemmForwardMS else { continue }
            let how = l.algorithm == "fft" ? "* %@ runs through small FFTs" : "+ %@ runs through Winograd's F(4x4, 3x3) per phase"
            s += String(format: "\n" + how + " (GFLOP/s counted as the direct method's work); "
                        + "the GEMM path takes %.2f ms forward (%.1f GFLOP/s, %.0f%% of sgemm), %.2f ms backward", l.spec.name, gemmMS,
                        l.flops / gemmMS / 1e6, 100 * l.flops / gemmMS / 1e6 / sgemmGFLOPS, l.gemmBackwardMS ?? .nan)
            if let reason = l.reason { s += " (" + reason + ")" }
        }
        let paths = layers.compactMap { l in
            l.inputGradientPath.map { "\(l.spec.name) \($0) (the other way \(String(format: "%.2f", l.otherPathBackwardMS ?? .nan)) ms)" }
        }
        if !paths.isEmpty {
            s += "\nstride-2 convs' dx (backward): columns = W^T dy + col2im, adjoint = the transposed conv of dy; "
                + paths.joined(separator: ", ")
        }
        s += String(format: "\nconv + deconv forward, one network: %.1f ms for %.1f GFLOP = %.1f GFLOP/s, %.0f%% of sgemm\n",
                    totalForwardMS, totalFlops / 1e9, totalForwardGFLOPS, percentOfSgemm)
        s += String(format: "backward (dInput, dWeight, dBias), one network: %.1f ms\n", totalBackwardMS)
        s += String(format: "blocks (conv + BN + ELU + skip) forward: one network %.1f ms; both stages ~ %.1f ms for %.1f GFLOP\n",
                    totalBlockMS, 2 * totalBlockMS, 2 * totalFlops / 1e9)
        s += String(format: "peak memory: %.0f MB", peakRSSMB)
        return s
    }

    struct JSON: Encodable {
        struct Layer: Encodable {
            let name, kind, algorithm: String
            let gflop, forwardMs, backwardMs, blockForwardMs, forwardGflops: JSONNumber
            /// Only for the layers they apply to (absent otherwise).
            let gemmForwardMs, gemmBackwardMs, otherDxBackwardMs: JSONNumber?
            let dxAlgorithm: String?
        }
        let size, batch, threads: Int
        let sgemmGflops: JSONNumber
        let cpu, vectors, builtFor, blasCore: String
        let layers: [Layer]
        let totalForwardMs, totalForwardGflops, forwardPercentOfSgemm, totalBackwardMs, twoStageBlockForwardMs, peakRssMb: JSONNumber
    }

    var json: JSON {
        let machine = Machine.current
        return JSON(
            size: size, batch: batch, threads: threads, sgemmGflops: .init(sgemmGFLOPS), cpu: machine.cpu, vectors: machine.vectors,
            builtFor: machine.builtFor, blasCore: machine.blasCore,
            layers: layers.map { l in
                JSON.Layer(name: l.spec.name, kind: l.spec.kind.rawValue, algorithm: l.algorithm,
                           gflop: .init(l.flops / 1e9), forwardMs: .init(l.forwardMS), backwardMs: .init(l.backwardMS),
                           blockForwardMs: .init(l.blockMS), forwardGflops: .init(l.forwardGFLOPS),
                           gemmForwardMs: l.gemmForwardMS.map(JSONNumber.init), gemmBackwardMs: l.gemmBackwardMS.map(JSONNumber.init),
                           otherDxBackwardMs: l.otherPathBackwardMS.map(JSONNumber.init), dxAlgorithm: l.inputGradientPath)
            },
            totalForwardMs: .init(totalForwardMS), totalForwardGflops: .init(totalForwardGFLOPS), forwardPercentOfSgemm: .init(percentOfSgemm),
            totalBackwardMs: .init(totalBackwardMS), twoStageBlockForwardMs: .init(2 * totalBlockMS), peakRssMb: .init(peakRSSMB))
    }
}

/// A number in a JSON report: null when not finite (JSON has no NaN).
struct JSONNumber: Encodable {
    let value: Double
    init(_ value: Double) { self.value = value }
    func encode(to encoder: Encoder) throws {
        var c = encoder.singleValueContainer()
        if value.isFinite { try c.encode(value) } else { try c.encodeNil() }
    }
}

/// Prints `value` as one line of JSON, its property names in snake_case (`peakRssMb`: `peak_rss_mb`).
func printJSON<T: Encodable>(_ value: T) throws {
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]     // the same order every run
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}
