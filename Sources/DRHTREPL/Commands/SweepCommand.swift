// `sweep`: one photo at several exposures through the network, and how similar each layer's
// activations stay to the 0 EV version's — where does exposure stop mattering?
import DRHTEngine
import DRHTImageIO
import DRHTModel
import DRHTTasks
import DRHTTraining
import Foundation

extension ExploreCommands {
    static let defaultSweepEVs: [Double] = [-3, -2, -1, 0, 1, 2, 3]
    static let sweepEVs = Options.words("--ev", ["E1,E2,..."], "the exposures in stops, -6..6 (default "
                                        + defaultSweepEVs.map { formatNumber($0) }.joined(separator: ",") + "; 0 is always added)") { words in
        let parts = words[0].split(separator: ",", omittingEmptySubsequences: false)
        guard !parts.contains(where: \.isEmpty) else { throw REPLError("--ev takes exposures separated by commas, e.g. -2,0,2 (got \(printable(words[0], limit: 40)))") }
        return try parts.map { try Arguments.number(String($0), what: "--ev", range: -6...6) }
    }
    static let sweepCamera = Options.int("--seed", "N", "which simulated camera (the same for every exposure)", default: 1, range: 0...Int(Int32.max))

    static let sweep = Command(
        "sweep", summary: "One photo at several exposures: how similar each layer stays to the 0 EV version.",
        synopsis: "NAME", example: "sweep garden --ev -3,-2,-1,0,1,2,3",
        details: "Photographs NAME (a well-exposed LDR photo) again at each exposure with one simulated camera (as `expose`), "
            + "runs each through the network as `infer` would (`set mode`; the interventions of `ablate` included), "
            + """
                and compares every layer's activations with those of the 0 EV photo: cosine similarity (1: the \
                same pattern, whatever its scale) and relative L2 distance (|a - a0| / |a0|, 0: identical). A \
                chart draws the cosine per layer for each exposure, and the photos and their corrections are \
                shown side by side. Keeps NAME.sweep (that picture). Ctrl-C stops between layers.
                """,
        arguments: [.variable], options: [sweepEVs, sweepCamera]
    ) { s, a in
        let (name, v) = try a.onlyVariable(s, "a well-exposed photo")
        guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); sweep takes a well-exposed LDR photo (load one)") }
        try Session.requireFinite(v.tensor, name)
        var request = SweepRequest()
        request.exposures = try a.value(sweepEVs) ?? defaultSweepEVs
        let evs = request.orderedExposures
        guard evs.count >= 2, evs.count <= 13 else { throw REPLError("--ev takes 1 to 12 exposures besides 0 (got \(evs.count - 1))") }
        let seed = try a.value(sweepCamera)
        let mode = s.settings.correction
        let start = DispatchTime.now().uptimeNanoseconds
        request.camera = UInt64(seed)
        request.correct = CorrectRequest(mode: mode, interventions: s.interventions, retention: .everything)
        try ResultCommands.checkMemory(v.tensor, request: request.correct, what: "sweep")
        let result: SweepResult
        do {
            result = try SweepTask.run(request, model: try s.model(), photo: v.tensor, monitor: s.monitor, evLabel: { formatNumber($0) })
        } catch let e as TaskStopped {
            throw REPLError("sweep stopped (Ctrl-C) before \(e.next); nothing was kept")
        }
        let (cosine, inputs, outputs) = (result.cosine, result.inputs, result.outputs)
        let relative = result.relative
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        s.last.sweep = cosine
        let others = evs.filter { $0 != 0 }
        s.console.line("\(s.console.bold(name)) at \(evs.map { String(format: "%+g", $0) }.joined(separator: ", ")) EV (camera \(seed)), \(mode), "
                       + "\(String(format: "%.1f", seconds)) s" + (s.interventions.isEmpty ? "" : "; with " + s.interventions.map(\.description).joined(separator: ", ")))
        s.console.line("each layer vs the 0 EV photo's: cosine similarity / relative L2 distance")
        let header = ["layer"] + others.map { String(format: "%+g EV", $0) } + ["mean cosine", "cosine by EV"]
        var rows: [[String]] = []
        for step in ["input"] + Pipeline.stepNames {
            guard let cs = cosine[step], let rl = relative[step] else { continue }
            rows.append([step] + others.map { String(format: "%.3f/%.2f", cs[$0] ?? .nan, rl[$0] ?? .nan) }
                        + [String(format: "%.3f", others.map { cs[$0] ?? 0 }.reduce(0, +) / Double(others.count)),
                           Charts.sparkline(others.map { cs[$0] ?? 0 }, lo: 0, hi: 1)])
        }
        for line in ModelCommands.formatTable(header: header, rows: rows) { s.console.line(line) }
        // The chart: per exposure, the cosine along the layers (left: hdr.enc1, right: ldr.head).
        s.console.line("cosine along the layers, hdr.enc1 ... transform ... ldr.head (▁ 0, █ 1):")
        for ev in others {
            s.console.line(String(format: "  %+5g EV ", ev) + Charts.sparkline(Pipeline.stepNames.map { cosine[$0]?[ev] ?? 0 }, lo: 0, hi: 1))
        }
        let mean = Pipeline.stepNames.compactMap { step in cosine[step].map { (step, $0.values.reduce(0, +) / Double($0.count)) } }
            .sorted { $0.1 < $1.1 }
        if let most = mean.last, mean.count >= 3 {
            let top = mean.prefix(3).map { String(format: "%@ %.3f", $0.0, $0.1) }.joined(separator: ", ")
            s.console.line("most exposure-dependent (lowest mean cosine over the exposures): \(top); least: "
                           + String(format: "%@ (%.3f)", most.0, most.1) + "; the photos themselves: "
                           + String(format: "%.3f", (cosine["input"]?.values.reduce(0, +) ?? .nan) / Double(max(1, cosine["input"]?.count ?? 1))))
        }
        // The photos (top) and their corrections (bottom).
        let height = min(160, v.tensor.h)
        let top = Raster.sideBySide(evs.map { Raster.image(inputs[$0]!) }, maxHeight: height)
        let bottom = Raster.sideBySide(evs.map { Raster.image(outputs[$0]!) }, maxHeight: height)
        let gap = max(2, top.height / 25)
        // Labelled for a PNG: a title, the exposure under each column.
        let head = 16, label = 14
        let title = "\(name): top the photos, bottom their corrections (\(mode))"
        let picture = Raster(width: max(top.width, TinyFont.width(title, scale: 2) + 4), height: head + top.height + gap + bottom.height + label,
                             fill: (1, 1, 1))
        let ink: (Float, Float, Float) = (0.1, 0.1, 0.1)
        TinyFont.draw(title, into: picture, x: 2, y: 2, scale: 2, colour: ink)
        picture.paste(top, x: 0, y: head); picture.paste(bottom, x: 0, y: head + top.height + gap)
        let column = top.width / evs.count
        for (k, ev) in evs.enumerated() {
            let text = String(format: "%+g EV", ev)
            TinyFont.draw(text, into: picture, x: k * column + max(0, (column - TinyFont.width(text, scale: 2)) / 2),
                          y: head + top.height + gap + bottom.height + 2, scale: 2, colour: ink)
        }
        s.set(name + ".sweep", Variable(picture.pixels, kind: .image, origin: "sweep \(name)"))
        s.console.line("top: \(name) at " + evs.map { String(format: "%+g", $0) }.joined(separator: ", ") + " EV; bottom: corrected")
        s.showRaster(picture, caption: "\(name) at " + evs.map { String(format: "%+g EV", $0) }.joined(separator: ", ") + ": photos and corrections")
    }
}
