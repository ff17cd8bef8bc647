// Asking "what if": silence or scale a skip connection, a channel or a whole layer, then run
// the network again and compare with the intact network (DRHTModel/Intervention.swift). The
// interventions stay in force for `infer`, `step` and `sweep` until `ablate off`.
import DRHTEngine
import DRHTImageIO
import DRHTMetrics
import DRHTModel
import Foundation

enum InterventionCommands {
    static let all: [Command] = [ablate, scale]

    static let on = Options.text("--on", "NAME", "the image to run (default: the one chosen with `use`)", completion: .variable)

    static let targetHelp = """
        TARGET: NET.decK.skip (the encoder term of a decoder's skip sum, e.g. ldr.dec2.skip), LAYER (a \
        whole layer's output, e.g. hdr.latent), LAYER:C or LAYER:A-B (channels of it, e.g. ldr.enc3:12).
        """

    /// The site TARGET names.
    static func site(_ text: String) throws -> Intervention.Site {
        if text.hasSuffix(".skip") {
            let step = String(text.dropLast(5))
            let parts = step.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2, ["hdr", "ldr"].contains(parts[0]),
                  let spec = Architecture.layers.first(where: { $0.name == parts[1] }), spec.skipFrom != nil else {
                let skips = Architecture.layers.filter { $0.skipFrom != nil }.map { "\($0.name).skip" }
                throw REPLError("\(text): only decoders have skips: hdr. or ldr. + \(skips.joined(separator: ", "))")
            }
            return .skip(step: step)
        }
        var step = text, channels: ClosedRange<Int>? = nil
        if let colon = text.firstIndex(of: ":") {
            step = String(text[..<colon])
            let range = text[text.index(after: colon)...].split(separator: "-", omittingEmptySubsequences: false)
            guard range.count <= 2, let lo = Int(range[0]), let hi = range.count == 2 ? Int(range[1]) : lo, lo <= hi, lo >= 0 else {
                throw REPLError("\(text): write LAYER:C or LAYER:A-B with channel numbers, e.g. ldr.enc3:12 or hdr.latent:0-63")
            }
            channels = lo...hi
        }
        guard Pipeline.stepNames.contains(step), step != "transform" else {
            let near = Pipeline.stepNames.filter { Registry.editDistance($0, step) <= 2 }.prefix(3)
            throw REPLError("unknown target \"\(printable(text, limit: 40))\"" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                            + "; targets: LAYER, LAYER:C, LAYER:A-B, NET.decK.skip (`help ablate`)")
        }
        let spec = Architecture.layers.first { $0.name == step.split(separator: ".")[1] }!
        if let c = channels, c.upperBound >= spec.outChannels {
            throw REPLError("\(step) has channels 0..\(spec.outChannels - 1) (got \(c.lowerBound == c.upperBound ? "\(c.lowerBound)" : "\(c.lowerBound)-\(c.upperBound)"))")
        }
        return .activation(step: step, channels: channels)
    }

    static let ablate = Command(
        "ablate", summary: "Zero a skip connection, a channel or a layer and run again: what does it carry?",
        usage: "ablate TARGET [--on NAME] [as OUT]  |  ablate off  |  ablate list", example: "ablate ldr.dec2.skip",
        details: targetHelp + " "
            + """
                Runs the image (the one chosen with `use`, or --on NAME) through the intact network and through the \
                network with every intervention so far, as `infer` would (`set mode`), and shows the two side by \
                side; with NAME.target present both are scored against it. Keeps NAME.intact and OUT (default \
                NAME.ablated). Interventions add up and stay in force for `infer`, `step` and `sweep`; \
                `ablate off` removes them all, `ablate list` lists them. `scale` multiplies instead of zeroing.
                """,
        arguments: [.words(["off", "list"] + Pipeline.stepNames.filter { $0 != "transform" }
                           + Architecture.layers.filter { $0.skipFrom != nil }.flatMap { ["hdr.\($0.name).skip", "ldr.\($0.name).skip"] })],
        options: [on], namesResult: true
    ) { s, a in
        try a.expectAtMost(1)
        switch a.positional.first ?? "list" {
        case "list":
            guard a.asName == nil, !a.has(on) else { throw REPLError("usage: \(a.usage)") }
            if s.interventions.isEmpty { s.console.line("no interventions: the network is intact (`ablate TARGET` adds one)"); return }
            for (i, x) in s.interventions.enumerated() { s.console.line("\(i + 1). \(x)") }
        case "off":
            guard a.asName == nil, !a.has(on) else { throw REPLError("usage: \(a.usage)") }
            let n = s.interventions.count
            s.interventions = []
            resetStepping(s)
            s.console.line(n == 0 ? "no interventions to remove: the network is intact" : "removed \(n) intervention\(n == 1 ? "" : "s"): the network is intact again")
        case let text:
            try apply(s, a, Intervention(try site(text), .scale(0)))
        }
    }

    static let scale = Command(
        "scale", summary: "Multiply a skip connection, a channel or a layer by K and run again.",
        synopsis: "TARGET K", example: "scale hdr.latent 0.5",
        details: targetHelp + " K is from -10 to 10 (0 is `ablate`, 1 changes nothing, 2 doubles). "
            + "Shows and scores the result as `ablate` does; `ablate off` removes every intervention.",
        arguments: [.words(Pipeline.stepNames.filter { $0 != "transform" }), .none],
        options: [on], namesResult: true
    ) { s, a in
        let text = try a.positional(0, "a target and a factor, e.g. scale hdr.latent 0.5")
        let raw = try a.positional(1, "a factor K, e.g. 0.5")
        try a.expectAtMost(2)
        let k = try Arguments.number(raw, what: "the factor", range: -10...10)
        try apply(s, a, Intervention(try site(text), .scale(Float(k))))
    }

    static func apply(_ s: Session, _ a: Arguments, _ intervention: Intervention) throws {
        guard let name = try a.value(on) ?? s.pipelineInput else { throw REPLError("which image? `use NAME` first, or --on NAME") }
        let v = try s.image(name)
        guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); the network corrects LDR images") }
        let all = s.interventions + [intervention]
        let mode = s.settings.correction
        let intact = try ResultCommands.correct(s, v.tensor, mode: mode, interventions: [], what: "ablate", progress: (0, 2)).corrected()
        let changed = try ResultCommands.correct(s, v.tensor, mode: mode, interventions: all, what: "ablate", progress: (1, 2)).corrected()
        s.interventions = all                     // only once both runs finished
        resetStepping(s)
        let out = a.asName ?? name + ".ablated"
        s.set(name + ".intact", Variable(intact, kind: .image, origin: "\(name) through the intact network (\(mode))"))
        s.set(out, Variable(changed, kind: .image, origin: "\(name) with " + all.map(\.description).joined(separator: ", ")))
        s.console.line("\(s.console.bold(out)): \(name) with " + all.map(\.description).joined(separator: ", ") + " (\(mode))")
        report(s, intact: intact, changed: changed, name: name, out: out)
    }

    /// How much `changed` differs from `intact`, their scores against NAME.target when it
    /// exists, and the two side by side.
    static func report(_ s: Session, intact: Tensor, changed: Tensor, name: String, out: String) {
        var sum = 0.0, peak: Float = 0
        for i in 0..<intact.count { let d = abs(changed.data[i] - intact.data[i]); sum += Double(d); peak = max(peak, d) }
        // The mean over R, G and B, as `expect mean(NAME)` measures it.
        s.console.line(String(format: "  change: mean |difference| %.4f, largest %.3f; mean %.3f -> %.3f",
                              sum / Double(intact.count), peak, intact.stats.mean, changed.stats.mean))
        if let t = s.variables[name + ".target"], t.tensor.shape == intact.shape,
           let p0 = try? PSNR.compute(intact, t.tensor), let p1 = try? PSNR.compute(changed, t.tensor),
           let s0 = try? SSIM.compute(intact, t.tensor), let s1 = try? SSIM.compute(changed, t.tensor) {
            s.console.line(String(format: "  vs %@.target: PSNR %.2f -> %.2f dB (%+.2f), SSIM %.4f -> %.4f (%+.4f)", name, p0, p1, p1 - p0, s0, s1, s1 - s0))
        }
        s.console.line("left: \(name).intact, right: \(out)")
        s.showRaster(Raster.sideBySide([Raster.image(intact), Raster.image(changed)]), caption: "\(name).intact | \(out)")
    }

    /// The stepping pipeline starts again under the new interventions (its outputs were made
    /// without them).
    static func resetStepping(_ s: Session) {
        guard s.rebuildPipeline() else { return }
        s.console.line(s.console.dim(s.interventions.isEmpty ? "(the stepping pipeline was reset to run the intact network; `step` starts again)"
                                                             : "(the stepping pipeline was reset to run under the interventions; `step` starts again)"))
    }
}
