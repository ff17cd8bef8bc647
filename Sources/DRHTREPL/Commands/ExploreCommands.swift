// Looking inside: feature-map grids (maps) and the 512-dimensional latent (latent).
import DRHTEngine
import DRHTModel
import Foundation
import DRHTTasks

enum ExploreCommands {
    static let all: [Command] = [maps, latent, sweep]

    static let scale = Options.choice("--scale", "colour range per channel, for the layer, or over every layer so far",
                                      default: FeatureGrid.Scale.channel)
    /// How many channels `maps` draws without --top or --channels.
    static let mapsCount = 16
    static let top = Options.int("--top", "K", "the K channels with the highest mean activation, at most 256", absent: "\(mapsCount)")
    static let channels = Options.words("--channels", ["A-B"], "channels A to B (e.g. 0-15)") { $0[0] }
    static let selectionOptions: [any DeclaredOption] = [top, channels, scale]

    /// A layer's name for pictures: "hdr.enc3 of dark" when it came from stepping `dark`.
    static func title(_ s: Session, _ name: String) -> String {
        guard let input = s.pipelineInput, s.variables[name]?.origin.hasPrefix("step ") == true else { return name }
        return "\(name) of \(input)"
    }

    /// A pipeline layer (or its .skip) not computed yet is stepped to first, as `latent` does;
    /// other names are left to `Session.variable` to report.
    static func stepIfNeeded(_ s: Session, _ name: String) throws {
        guard s.variables[name] == nil, let p = s.pipeline else { return }
        let step = name.hasSuffix(".skip") ? String(name.dropLast(5)) : name
        guard let target = Pipeline.stepNames.firstIndex(of: step) else { return }
        guard p.position <= target else { throw REPLError("\(name) is missing; `reset` and step again") }
        s.console.line(s.console.dim("(stepping to \(step) first)"))
        for r in try p.step(to: step) { ModelCommands.publish(s, r.step) }
    }

    /// The channels and grid chosen by --top / --channels / --scale for tensor `t`.
    static func grid(_ s: Session, _ name: String, _ t: Tensor, _ a: Arguments, defaultCount: Int = mapsCount) throws -> (FeatureGrid, String) {
        guard t.shape.count == 4, t.n == 1 else { throw REPLError("\(name) is \(t.shapeString); maps draws (1, C, H, W) feature maps") }
        var channels: [Int], note: String
        if a.has(Self.top) && a.has(Self.channels) { throw REPLError("use either --top or --channels, not both") }
        if let range = try a.value(Self.channels) {
            let parts = range.split(separator: "-").map { Int($0) }
            guard parts.count <= 2, let lo = parts.first ?? nil, let hi = parts.count == 2 ? parts[1] : lo, lo <= hi, lo >= 0, hi < t.c else {
                throw REPLError("--channels takes A-B with 0 <= A <= B < \(t.c) (got \(range))")
            }
            guard hi - lo < 256 else { throw REPLError("--channels: at most 256 at a time (got \(hi - lo + 1))") }
            channels = Array(lo...hi); note = "channels \(lo)-\(hi) of \(t.c)"
        } else {
            let k = try a.value(Self.top, in: 1...min(256, t.c)) ?? min(defaultCount, t.c)
            let means = (0..<t.c).map { t.channelStats($0).mean }
            channels = (0..<t.c).sorted { means[$0] > means[$1] || (means[$0] == means[$1] && $0 < $1) }.prefix(k).map { $0 }
            note = k == t.c && !a.has(Self.top) ? "all \(t.c) channels, highest mean activation first" : "top \(k) of \(t.c) channels by mean activation"
        }
        let scale = try a.value(Self.scale)
        var lo = Float.infinity, hi = -Float.infinity
        switch scale {
        case .channel:
            for c in channels { let st = t.channelStats(c); lo = min(lo, st.min); hi = max(hi, st.max) }
        case .layer:
            let st = t.stats; lo = st.min; hi = st.max
        case .global:
            for v in s.variables.values where v.kind == .features { let st = v.tensor.stats; lo = min(lo, st.min); hi = max(hi, st.max) }
            let st = t.stats; lo = min(lo, st.min); hi = max(hi, st.max)
        }
        let map = s.colourMap(lo: lo, hi: hi)
        let range: ClosedRange<Float>? = scale == .channel ? nil : map.range(lo: lo, hi: hi)
        return (FeatureGrid(tensor: t, channels: channels, map: map, range: range, title: title(s, name)), note + ", scale: \(scale.rawValue)")
    }

    static let maps = Command(
        "maps", summary: "A grid of a layer's feature maps, drawn through a colour map.",
        synopsis: "LAYER", example: "maps hdr.enc2 --top 8",
        details: "Viridis for values that do not change sign, a blue-white-red map centred on 0 for signed ones (`set colormap` overrides). "
            + """
                --scale channel stretches each tile over its own range (shapes), layer uses one range for the layer \
                (which channels are strong), global one range over every layer computed so far.
                """,
        arguments: [.layer], options: selectionOptions
    ) { s, a in
        let name = try a.positional(0, "a layer name")
        try a.expectAtMost(1)
        try stepIfNeeded(s, name)
        let v = try s.variable(name)
        let t = v.tensor
        let (g, note) = try grid(s, name, t, a)
        let cols = s.pictureColumns
        let tile = max(6, min(32, max(t.w, 8), cols / min(g.channels.count, 8) - 1))
        let perRow = max(1, min(g.channels.count, (cols + 1) / (tile + 1)))
        s.console.line("\(s.console.bold(g.title)): \(t.c) maps of \(t.h)x\(t.w); \(note)")
        let raster = g.raster(tile: tile, gap: 1, perRow: perRow, labels: false)
        let text = TerminalPicture.render(raster, display: s.settings.display, console: s.console, columns: raster.width, maxRows: 400)
        s.console.picture(terminal: text, raster: g.pngRaster(), caption: "\(g.title) feature maps")
        for line in legendLines(s, g, perRow: perRow) { s.console.line(line) }
        let bad = t.stats.nonFinite
        if bad > 0 { s.console.line("magenta: \(bad) NaN or infinite value\(bad == 1 ? "" : "s"), left out of the ranges") }
    }

    /// Under a grid in the terminal: which channel each tile is, and how its values map to colours
    /// (the shared colour bar, or each tile's own range row by row).
    static func legendLines(_ s: Session, _ g: FeatureGrid, perRow: Int) -> [String] {
        if let r = g.range {
            return ["tiles left to right, top to bottom: channels " + g.channels.map(String.init).joined(separator: " "),
                    TerminalPicture.colourBar(g.map, range: r, console: s.console, label: "\(g.map.rawValue), one range for every tile")]
        }
        let unit: ClosedRange<Float> = g.map == .diverging ? -1...1 : 0...1
        let words = g.map == .diverging ? ("-m", "+m", "each tile its own range: m = its largest |value|, 0 white")
                                        : ("min", "max", "each tile its own range, its min to its max")
        var lines = [TerminalPicture.colourBar(g.map, range: unit, console: s.console, label: "\(g.map.rawValue): " + words.2 + ", per tile below",
                                               ends: (words.0, words.1))]
        for row in stride(from: 0, to: g.channels.count, by: perRow) {
            let cells = g.channels[row..<min(row + perRow, g.channels.count)].map { "c\($0) \(g.rangeText($0))" }
            lines.append("  row \(row / perRow + 1): " + cells.joined(separator: "   "))
        }
        return lines
    }

    typealias Network = Pipeline.Step.Network
    static let at = Options.words("--at", ["X", "Y"], "the vector at grid cell (X, Y)") { $0 }
    static let mean = Options.flag("--mean", "the mean over all cells (the default)")
    static let net = Options.choice("--net", "which network's latent", default: Network.hdr)

    static let latent = Command(
        "latent", summary: "The 512-dim latent: statistics, bars, top channels; or compare or swap two images' latents.",
        usage: "latent [--at X Y | --mean] [--net hdr|ldr]  |  latent compare A B [--net hdr|ldr]  |  latent swap A B [--net hdr|ldr] [as OUT]",
        example: "latent compare dark bright",
        details: "The bottleneck (layer `latent`) holds one 512-dim vector per cell of an H/32 x W/32 grid. "
            + "Without --at the vectors are averaged over the grid. "
            + """
                `latent compare A B` runs the HDR network's encoder on both images and reports the cosine \
                similarity and L2 distance of their mean latents (and per cell, when the sizes match).
                """ + " "
            + """
                `latent swap A B` corrects A with its latent replaced by B's (resampled to A's grid when the sizes                 differ), as `infer` would, and shows it beside A's own correction: what the decoder makes of                 another photo's summary with this photo's skips. Keeps A.intact and OUT (default A.swapped).
                """,
        arguments: [.words(["compare", "swap"]), .variable, .variable],
        options: [at, mean, net], namesResult: true
    ) { s, a in
        let net = try a.value(Self.net)
        if a.positional.first == "swap" {
            try swap(s, a, net: net)
            return
        }
        if a.asName != nil { throw REPLError("`as OUT` is for latent swap A B") }
        if a.positional.first == "compare" {
            try compare(s, a, net: net)
            return
        }
        try a.expectAtMost(0)
        let layer = "\(net).latent"
        if s.variables[layer] == nil {
            let p = try ModelCommands.pipeline(s)
            guard let target = Pipeline.stepNames.firstIndex(of: layer), p.position <= target else { throw REPLError("\(layer) is missing; `reset` and step again") }
            s.console.line(s.console.dim("(stepping to \(layer) first)"))
            for r in try p.step(to: layer) { ModelCommands.publish(s, r.step) }
        }
        let t = try s.variable(layer).tensor      // (1, 512, gh, gw)
        var vector: [Double], what: String
        if let at = try a.value(Self.at) {
            guard let x = Int(at[0]), let y = Int(at[1]), (0..<t.w).contains(x), (0..<t.h).contains(y) else {
                throw REPLError("--at X Y: the grid is \(t.w)x\(t.h), so 0 <= X < \(t.w) and 0 <= Y < \(t.h) (got \(at.joined(separator: " ")))")
            }
            vector = (0..<t.c).map { Double(t[0, $0, y, x]) }
            // The cell's theoretical receptive field in the (padded) input, clipped to the image.
            let f = ReceptiveField.theoretical(step: layer, x: x, y: y, height: t.h * 32, width: t.w * 32)
            let (h, w) = (s.pipeline?.height ?? t.h * 32, s.pipeline?.width ?? t.w * 32)
            let rows = f.rows.clamped(to: 0...(h - 1)), cols = f.columns.clamped(to: 0...(w - 1))
            what = "cell (\(x), \(y)) of the \(t.w)x\(t.h) grid — it can see input rows \(rows.lowerBound)...\(rows.upperBound), "
                + "columns \(cols.lowerBound)...\(cols.upperBound) (its receptive field; `rf \(layer) \(x) \(y)` draws it)"
        } else {
            vector = meanVector(t)
            what = "mean over the \(t.w)x\(t.h) grid (\(t.w * t.h) vector\(t.w * t.h == 1 ? "" : "s"))"
        }
        describe(s, layer, vector, what: what)
    }

    static func meanVector(_ t: Tensor) -> [Double] { (0..<t.c).map { t.channelStats($0).mean } }

    static func describe(_ s: Session, _ layer: String, _ v: [Double], what: String) {
        let mean = v.reduce(0, +) / Double(v.count)
        let std = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count)).squareRoot()
        let lo = v.min()!, hi = v.max()!
        let norm = v.map { $0 * $0 }.reduce(0, +).squareRoot()
        let floor = v.filter { $0 < -0.9 }.count, positive = v.filter { $0 > 0 }.count
        s.console.line("\(s.console.bold(layer)): \(v.count)-dim vector, \(what)")
        s.console.line("  min \(formatNumber(lo)) max \(formatNumber(hi)) mean \(formatNumber(mean)) std \(formatNumber(std)) L2 norm \(formatNumber(norm))")
        s.console.line("  \(positive) channels positive, \(floor) near ELU's floor of -1")
        s.console.line("  channel values, 64 per row (▁ = \(formatNumber(lo)), █ = \(formatNumber(hi))):")
        for row in stride(from: 0, to: v.count, by: 64) {
            s.console.line(String(format: "  %3d ", row) + Charts.sparkline(Array(v[row..<min(row + 64, v.count)]), lo: lo, hi: hi))
        }
        let top = v.indices.sorted { v[$0] > v[$1] }.prefix(8)
        s.console.line("  strongest: " + top.map { "\($0) (\(formatNumber(v[$0], digits: 3)))" }.joined(separator: ", "))
    }

    static func compare(_ s: Session, _ a: Arguments, net: Network) throws {
        let nameA = try a.positional(1, "two image variables")
        let nameB = try a.positional(2, "a second image variable")
        try a.expectAtMost(3)
        let m = try s.model()
        var latents: [Tensor] = []
        for name in [nameA, nameB] {
            let v = try s.image(name)
            guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); latent compare takes LDR images") }
            let p = Pipeline(model: m, image: v.tensor, retention: .needed)
            try p.step(to: "\(net).latent")
            latents.append(try p.tensor(.of(net, "latent")))
        }
        let (va, vb) = (meanVector(latents[0]), meanVector(latents[1]))
        let cos = cosine(va, vb)
        let l2 = zip(va, vb).map { ($0 - $1) * ($0 - $1) }.reduce(0, +).squareRoot()
        s.console.line("\(net).latent of \(nameA) vs \(nameB) (mean vectors over the grid):")
        s.console.line("  cosine similarity \(String(format: "%.4f", cos))   L2 distance \(formatNumber(l2))   (norms \(formatNumber(norm(va))) and \(formatNumber(norm(vb))))")
        if latents[0].shape == latents[1].shape && latents[0].h * latents[0].w > 1 {
            let t0 = latents[0], t1 = latents[1]
            var sims: [Double] = []
            for y in 0..<t0.h { for x in 0..<t0.w {
                sims.append(cosine((0..<t0.c).map { Double(t0[0, $0, y, x]) }, (0..<t0.c).map { Double(t1[0, $0, y, x]) }))
            } }
            let mean = sims.reduce(0, +) / Double(sims.count)
            s.console.line(String(format: "  per cell: cosine %.4f..%.4f, mean %.4f", sims.min()!, sims.max()!, mean))
        }
        let diff = zip(va, vb).map { abs($0 - $1) }
        let top = diff.indices.sorted { diff[$0] > diff[$1] }.prefix(5)
        s.console.line("  channels that differ most: " + top.map { "\($0) (\(formatNumber(va[$0], digits: 3)) vs \(formatNumber(vb[$0], digits: 3)))" }.joined(separator: ", "))
    }

    static func swap(_ s: Session, _ a: Arguments, net: Network) throws {
        let nameA = try a.positional(1, "two image variables")
        let nameB = try a.positional(2, "a second image variable")
        try a.expectAtMost(3)
        let images = try [nameA, nameB].map { name -> Tensor in
            let v = try s.image(name)
            guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); latent swap takes LDR images") }
            return v.tensor
        }
        let layer = "\(net).latent", mode = s.settings.correction
        for image in images { try ResultCommands.checkMemory(image, request: CorrectRequest(mode: mode, retention: .everything), what: "latent swap") }
        let b = Correction(model: try s.model(), photo: images[1], mode: mode, retention: .everything, interventions: s.interventions)
        try b.pipeline.step(to: layer)
        // A's latent grid: its working copy with the same mirrored margin, padded to a multiple of 32.
        let working = Correction.workingCopy(of: images[0], mode: mode), m = 2 * b.margin
        let (gh, gw) = ((working.h + m + 31) / 32, (working.w + m + 31) / 32)
        let bGrid = try b.pipeline.tensor(.of(net, "latent"))
        let latentB = resampleNearest(bGrid, height: gh, width: gw)
        let swapped = Intervention(.activation(step: layer, channels: nil), .replace(latentB, from: nameB))
        let intact = try ResultCommands.correct(s, images[0], mode: mode, interventions: s.interventions, what: "latent swap", progress: (0, 2)).corrected()
        let changed = try ResultCommands.correct(s, images[0], mode: mode, interventions: s.interventions + [swapped], what: "latent swap",
                                                 progress: (1, 2)).corrected()
        let out = a.asName ?? nameA + ".swapped"
        s.set(nameA + ".intact", Variable(intact, kind: .image, origin: "\(nameA) through the intact network (\(mode))"))
        s.set(out, Variable(changed, kind: .image, origin: "\(nameA) with \(nameB)'s \(layer)"))
        s.console.line("\(s.console.bold(out)): \(nameA) corrected with \(nameB)'s \(layer) (\(mode))"
                       + (bGrid.h != gh || bGrid.w != gw ? "; \(nameB)'s \(bGrid.w)x\(bGrid.h) grid resampled to \(gw)x\(gh)" : ""))
        InterventionCommands.report(s, intact: intact, changed: changed, name: nameA, out: out)
    }

    /// t (N, C, h, w) sampled at the nearest cell to (height, width).
    static func resampleNearest(_ t: Tensor, height: Int, width: Int) -> Tensor {
        if t.h == height && t.w == width { return t }
        let out = Tensor(zeros: [t.n, t.c, height, width])
        for n in 0..<t.n { for c in 0..<t.c { for y in 0..<height { for x in 0..<width {
            out[n, c, y, x] = t[n, c, min(t.h - 1, (2 * y + 1) * t.h / (2 * height)), min(t.w - 1, (2 * x + 1) * t.w / (2 * width))]
        } } } }
        return out
    }

    static func norm(_ v: [Double]) -> Double { v.map { $0 * $0 }.reduce(0, +).squareRoot() }

    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        let d = zip(a, b).map(*).reduce(0, +)
        let n = norm(a) * norm(b)
        return n > 0 ? d / n : 0
    }
}
