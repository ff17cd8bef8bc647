// The network itself: its table (model), which weights (model load/init/save), and stepping
// through the two-stage pipeline one layer at a time (use, step, reset).
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation
import DRHTTasks

enum ModelCommands {
    static let all: [Command] = [model, use, step, reset]

    static let seed = Options.int("--seed", "N", "seed for `model init`", default: 1, range: 0...Int(Int32.max))
    static let deconv = Options.choice("--deconv", "`model init`: how the transposed convolutions start; icnr makes their "
                                         + "four output phases identical (fewer grid dots), kaiming as every other conv",
                                       default: DRHT.DeconvInit.standard)

    static let model = Command(
        "model", summary: "The network's layer table, or load/initialise/save its weights.",
        usage: "model [info | load FILE | default | init [--seed N] [--deconv kaiming|icnr] | save FILE]", example: "model info",
        details: """
            `model` prints one row per layer of one autoencoder (both stages have the same layers, with their \
            own weights): kind, kernel, stride, channels, output size for the current input, parameters, FLOPs \
            and receptive field in input pixels. `model default` goes back to the weights the session started with (the shipped ones, or `drht --weights FILE`) after `init` or `load`.
            """,
        arguments: [.words(["info", "load", "default", "init", "save"]), .path],
        options: [seed, deconv]
    ) { s, a in
        let sub = a.positional.first ?? "info"
        switch sub {
        case "info":
            try a.expectAtMost(1)
            try table(s)
            let notes = try s.model().notes.filter { DRHT.runNotes.contains($0.key) || ["data", "framing", "size", "batch", "learning_rate"].contains($0.key) }
            if !notes.isEmpty {
                s.console.line("the weights file's training notes:")
                for (key, value) in notes.sorted(by: { $0.key < $1.key }) { s.console.line("  \(key): \(printable(value, limit: 200))") }
            }
        case "load":
            let path = try a.positional(1, "a .safetensors file")
            try a.expectAtMost(2)
            try s.loadModel(path)
        case "default":
            try a.expectAtMost(1)
            let m = try s.useDefaultModel()
            s.console.line("model: \(s.modelSource) (\(formatCount(m.parameterCount)) parameters\(m.trainingSummary.map { ", \($0)" } ?? ""))")
        case "init":
            try a.expectAtMost(1)
            let seed = try a.value(Self.seed)
            let deconv = try a.value(Self.deconv)
            s.setModel(DRHT.initialized(seed: UInt64(seed), deconv: deconv),
                       source: "random initialisation, seed \(seed)" + (deconv == .icnr ? ", ICNR deconvolutions" : ""))
            s.console.line("model: random weights (seed \(seed)\(deconv == .icnr ? ", ICNR deconvolutions" : "")), untrained "
                           + "(in gain mode, `infer`'s default, the photo keeps its own pixels, so an untrained network's faults show best in `set mode direct`)")
        case "save":
            let path = try a.positional(1, "a .safetensors path")
            try a.expectAtMost(2)
            let m = try s.model()
            try m.save(to: (path as NSString).expandingTildeInPath)
            s.console.line("saved \(path)")
        default:
            throw REPLError("unknown model action \"\(sub)\"; usage: \(a.usage)")
        }
    }

    static func formatCount(_ n: Int) -> String {
        n >= 1_000_000 ? String(format: "%.2fM", Double(n) / 1e6) : (n >= 1000 ? String(format: "%.1fk", Double(n) / 1e3) : "\(n)")
    }

    static func table(_ s: Session) throws {
        let m = try s.model()
        let height = s.pipeline.map { replicatePaddedSize($0.height) } ?? 256, width = s.pipeline.map { replicatePaddedSize($0.width) } ?? 256
        let inputNote = s.pipeline == nil ? "a 256x256 input (`use IMAGE` for yours)"
            : "the current input, \(s.pipeline!.width)x\(s.pipeline!.height)" + (height != s.pipeline!.height || width != s.pipeline!.width ? ", padded to \(width)x\(height)" : "")
        s.console.line("DRHT: two autoencoders with the same layers (hdr.*, then ldr.*), \(formatCount(m.parameterCount)) parameters in all")
        s.console.line("model weights: \(s.modelSource); sizes and FLOPs for \(inputNote)")
        let header = ["layer", "kind", "kernel", "stride", "channels", "output", "params", "FLOPs", "RF"]
        var rows: [[String]] = []
        let rf = Architecture.receptiveFields
        var totalParams = 0, totalFlops = 0.0
        for spec in Architecture.layers {
            let params = spec.kernel * spec.kernel * spec.inChannels * spec.outChannels + 3 * spec.outChannels
            let oh = spec.outputSize(networkInput: height), ow = spec.outputSize(networkInput: width)
            let flops = spec.flops(networkInput: height) * Double(width) / Double(height)     // positions scale with H x W
            totalParams += params; totalFlops += flops
            let kind = spec.kind.label
            rows.append([spec.name + (spec.skipFrom.map { " +\($0)" } ?? ""), kind, "\(spec.kernel)x\(spec.kernel)", "\(spec.stride)",
                         "\(spec.inChannels)->\(spec.outChannels)", "\(ow)x\(oh)", formatCount(params),
                         formatFlops(flops), "\(rf[spec.name]!)"])
        }
        rows.append(["total (one net)", "", "", "", "", "", formatCount(totalParams), formatFlops(totalFlops), ""])
        for line in formatTable(header: header, rows: rows) { s.console.line(line) }
        s.console.line("+encN: the decoder's output is fused with encN's (s = d + e + d*e). RF: receptive field in input pixels.")
    }

    static func replicatePaddedSize(_ n: Int) -> Int { (n + Architecture.sizeMultiple - 1) / Architecture.sizeMultiple * Architecture.sizeMultiple }

    static func formatFlops(_ f: Double) -> String {
        f >= 1e9 ? String(format: "%.2fG", f / 1e9) : String(format: "%.1fM", f / 1e6)
    }

    /// Left-aligned columns, two spaces apart, with a rule under the header.
    static func formatTable(header: [String], rows: [[String]]) -> [String] {
        var widths = header.map(\.count)
        for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (i, c) in cells.enumerated() { text += c.padding(toLength: widths[i] + (i == cells.count - 1 ? 0 : 2), withPad: " ", startingAt: 0) }
            while text.hasSuffix(" ") { text.removeLast() }
            return text
        }
        return [line(header), String(repeating: "-", count: widths.reduce(0, +) + 2 * (widths.count - 1))] + rows.map(line)
    }

    /// Photos up to this long side are stepped through at full resolution by default; larger
    /// ones through gain mode's working copy (keeping every layer costs ~2.2 KB per pixel).
    static let stepFullUpTo = 512

    static let full = Options.flag("--full", "step at the image's full resolution")
    static let work = Options.flag("--work", "step through gain mode's working copy")

    static let use = Command(
        "use", summary: "Choose the image the pipeline steps through.",
        synopsis: "NAME", example: "use scene",
        details: "Images up to 512 px on their long side are stepped through at full resolution. "
            + """
                A larger photo is stepped through the copy that `infer` in gain mode gives the network (long side \
                \(CorrectionMode.defaultWorkSize) px, `set work-size` changes it), and `use` says so: that is all the network ever sees of it.
                """ + " "
            + "--full steps at full resolution (memory permitting), --work through the working copy whatever the size.",
        arguments: [.variable],
        options: [full, work]
    ) { s, a in
        let name = try a.positional(0, "an image variable")
        try a.expectAtMost(1)
        if try a.value(full) && a.value(work) { throw REPLError("use takes --full or --work, not both") }
        let v = try s.image(name)
        guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); the network's input is an LDR image in [0, 1]") }
        let workSize = s.settings.workSize
        let long = max(v.tensor.h, v.tensor.w)
        let reduce = try a.value(work) || (!a.value(full) && long > stepFullUpTo)
        let input = reduce ? Correction.workingCopy(of: v.tensor, mode: .gain(workSize: workSize)) : v.tensor
        // Stepping keeps every layer's output of both networks.
        try MemoryGuard.check(MemoryGuard.estimate(.stepping, height: input.h, width: input.w),
                              what: "\(name) is \(v.tensor.w)x\(v.tensor.h): keeping every layer",
                              advice: "`use \(name)` without --full steps through a \(workSize)-px copy, or run `infer \(name)`")
        let m = try s.model()
        s.pipelineInput = name
        s.pipelineWorkSize = reduce ? workSize : nil
        s.pipeline = s.makePipeline(m, input)
        s.clearStepVariables()
        let p = s.pipeline!
        let padded = p.paddedInput
        if input !== v.tensor {
            s.console.line("input: \(name) is \(v.tensor.w)x\(v.tensor.h); stepping through a \(input.w)x\(input.h) copy (long side \(workSize)), "
                           + "the copy `infer` in gain mode gives the network (`use \(name) --full` for full resolution)")
        } else {
            let wasPadded = padded.h != p.height || padded.w != p.width
            s.console.line("input: \(name) \(p.width)x\(p.height)"
                           + (wasPadded ? ", padded to \(padded.w)x\(padded.h) by repeating edge pixels (sizes must be multiples of 32)" : ""))
        }
        s.console.line("next: \(p.nextStepName!) — `step` runs it, `step 5` five steps, `step to hdr.latent` up to a layer")
    }

    /// The pipeline, or an error telling what to do.
    static func pipeline(_ s: Session) throws -> Pipeline {
        guard let p = s.pipeline else { throw REPLError("no input chosen; `use NAME` first (e.g. `synth` then `use scene`)") }
        return p
    }

    static let step = Command(
        "step", summary: "Run the next layer(s) of the two-stage pipeline and keep each output.",
        usage: "step [N | to LAYER]", example: "step to hdr.latent",
        details: """
            Each step prints the layer, what it computes, its input and output shapes, its time and its \
            activation statistics, and keeps the output as a variable named after the layer (hdr.enc1 ... \
            hdr.head, transform, transform.H, ldr.enc1 ... ldr.head).
            """ + " "
            + "Ctrl-C stops after the current layer.",
        arguments: [.words(["to"]), .layer]
    ) { s, a in
        let p = try pipeline(s)
        var count = 1, target: String?
        if a.positional.first == "to" {
            target = try a.positional(1, "a layer name")
            try a.expectAtMost(2)
            guard let t = Pipeline.stepNames.firstIndex(of: target!) else {
                let near = Pipeline.stepNames.map { ($0, Registry.editDistance($0, target!)) }.filter { $0.1 <= 2 }
                    .sorted { $0.1 < $1.1 }.prefix(3).map(\.0)
                throw REPLError("no layer \(target!)" + (near.isEmpty ? "; `model` lists them (hdr.enc1 ... ldr.head)" : "; did you mean \(near.joined(separator: ", "))?"))
            }
            guard t >= p.position else { throw REPLError("\(target!) has already run; `reset` starts again") }
            count = t - p.position + 1
        } else if let raw = a.positional.first {
            try a.expectAtMost(1)
            guard let n = Int(raw), n >= 1 else { throw REPLError("step takes a positive count or `to LAYER` (got \(raw))") }
            count = n
        }
        guard !p.isFinished else { throw REPLError("the pipeline has finished (ldr.head was the last step); `reset` to start again") }
        count = min(count, Pipeline.stepNames.count - p.position)
        for k in 0..<count {
            if Interrupt.isRequested {
                s.console.line(s.console.yellow("stopped (Ctrl-C) before \(p.nextStepName!); `step` continues from there"))
                break
            }
            let record = p.step()
            publish(s, record.step)
            printRecord(s, record, index: p.position)
            if k == count - 1 && !p.isFinished && count > 1 { s.console.line(s.console.dim("next: \(p.nextStepName!)")) }
        }
        if p.isFinished {
            let ms = p.stageMilliseconds
            s.console.line("done: corrected image in ldr.head (\(String(format: "%.0f", ms.hdr + ms.transform + ms.ldr)) ms for all steps); `show ldr.head`")
        }
    }

    /// Makes a step's outputs variables: feature maps as they are, the heads and the transform
    /// cropped back to the input's size.
    static func publish(_ s: Session, _ step: Pipeline.Step) {
        guard let p = s.pipeline else { return }
        let origin = "step \(step.name)"
        switch step {
        case .block(.hdr, Architecture.headIndex):
            s.set(step.name, Variable(p.y1!, kind: .image, origin: origin + " (y1: the HDR estimate in the LDR domain)"))
        case .block(.ldr, Architecture.headIndex):
            s.set(step.name, Variable(p.corrected!, kind: .image, origin: origin + " (the corrected image, clamped)"))
        case .transform:
            s.set(Pipeline.Output.radiance.name, Variable(p.hdrEstimate!, kind: .hdr, origin: origin + " (H = tau_inv(y1))"))
            if let log = p[.logRadiance] {
                s.set(step.name, Variable(crop(log, height: p.height, width: p.width), kind: .logHDR, origin: origin + " (log(H + eps))"))
            }
        case .block:
            for o in step.writes {
                guard let t = p[o] else { continue }
                if case .skipSum = o {
                    s.set(o.name, Variable(t, kind: .features, origin: origin + " (skip sum)"))
                } else {
                    s.set(o.name, Variable(t, kind: .features, origin: origin))
                }
            }
        }
    }

    static func printRecord(_ s: Session, _ r: Pipeline.Record, index: Int) {
        let shape = { (x: [Int]) in x.map(String.init).joined(separator: "x") }
        guard let out = s.variables[r.name]?.tensor ?? s.pipeline?[r.step.output] else { return }
        let st = out.stats
        let flops = r.flops > 0 ? ", \(formatFlops(r.flops))FLOP" : ""
        s.console.line("\(String(format: "%2d", index)) \(s.console.bold(r.name))  \(r.operation)")
        let stats = "min \(formatNumber(Double(st.min))) max \(formatNumber(Double(st.max))) mean \(formatNumber(st.mean)) std \(formatNumber(st.std))"
        s.console.line("   \(shape(r.inputShape)) -> \(shape(r.outputShape))  \(String(format: "%.1f", r.milliseconds)) ms\(flops)  \(stats)")
        if let skip = s.variables[r.name + ".skip"] {
            let k = skip.tensor.stats
            s.console.line("   \(r.name).skip = d + e + d*e: min \(formatNumber(Double(k.min))) max \(formatNumber(Double(k.max))) mean \(formatNumber(k.mean))")
        }
    }

    static let reset = Command(
        "reset", summary: "Back to before the first step (the input stays chosen).",
        usage: "reset", example: "reset"
    ) { s, a in
        try a.expectAtMost(0)
        let p = try pipeline(s)
        p.reset()
        s.clearStepVariables()
        s.console.line("pipeline reset; next: \(p.nextStepName!)")
    }
}
