// Asking "why": which input pixels one number depends on (saliency), and which pixels one unit
// can see and actually looks at (rf). Both take the image chosen with `use` and differentiate
// exactly what inference computes (DRHTModel/Attribution.swift).
import DRHTEngine
import DRHTImageIO
import DRHTModel
import DRHTTasks
import Foundation

enum AttributionCommands {
    static let all: [Command] = [saliency, rf]

    /// A scalar to explain: a probe of one step's output.
    struct Target {
        let step: String
        let probe: Probe
        /// In words, e.g. "channel 137 of hdr.latent, averaged over its 8x8 cells".
        let text: String
        /// The cell it reads, when it reads one (for the picture).
        var cell: (x: Int, y: Int)?
    }

    static let targetHelp = """
        TARGET is one number computed by the network: LAYER:C (channel C of a layer, averaged over its \
        cells, e.g. hdr.latent:137), LAYER:C@X,Y (that channel at one cell), LAYER@X,Y (one cell, all \
        channels averaged), out or out[Y0:Y1,X0:X1] (the mean luma of the corrected image, or of a region \
        in pixels, rows then columns as in NumPy), psnr:NAME or mse:NAME (the corrected image's score \
        against the image NAME, e.g. scene.target).
        """

    /// The network's input of the `use`d image, checked for a backward pass (finite pixels,
    /// memory: `NetworkInput.checkForBackward`).
    static func checkedInput(_ s: Session, _ p: Pipeline, what: String) throws -> NetworkInput {
        let input = NetworkInput(padded: p.paddedInput, height: p.height, width: p.width)
        try input.checkForBackward(what: what, named: s.pipelineInput ?? "the input",
                                   advice: "`use \(s.pipelineInput ?? "NAME")` without --full works on a small copy")
        return input
    }

    /// (channels, height, width) of `step`'s output for a padded input of `h` x `w`.
    static func outputShape(_ step: String, h: Int, w: Int) -> (c: Int, h: Int, w: Int) {
        if step == "transform" || step == "transform.H" { return (3, h, w) }
        let name = String(step.split(separator: ".", maxSplits: 1)[1])
        let spec = Architecture.layers.first { $0.name == name }!
        return (spec.outChannels, h / spec.scaleDivisor, w / spec.scaleDivisor)
    }

    /// "Y0:Y1" within 0...limit (NumPy-style: Y1 excluded; either end may be left out).
    static func slice(_ text: Substring, limit: Int, what: String) throws -> Range<Int> {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 else { throw REPLError("\(what): write START:END (got \(text))") }
        let lo = parts[0].isEmpty ? 0 : Int(parts[0]), hi = parts[1].isEmpty ? limit : Int(parts[1])
        guard let lo, let hi, 0 <= lo, lo < hi, hi <= limit else {
            throw REPLError("\(what) \(text): need 0 <= START < END <= \(limit)")
        }
        return lo..<hi
    }

    static func target(_ s: Session, _ text: String, _ p: Pipeline) throws -> Target {
        let padded = p.paddedInput
        if text == "out" || text.hasPrefix("out[") {
            var rows = 0..<p.height, columns = 0..<p.width
            if text != "out" {
                guard text.hasSuffix("]") else { throw REPLError("\(text): write out[Y0:Y1,X0:X1], e.g. out[40:80,10:50]") }
                let inner = text.dropFirst(4).dropLast().split(separator: ",", omittingEmptySubsequences: false)
                guard inner.count == 2 else { throw REPLError("\(text): write out[Y0:Y1,X0:X1] (rows, then columns)") }
                rows = try slice(inner[0], limit: p.height, what: "rows")
                columns = try slice(inner[1], limit: p.width, what: "columns")
            }
            let whole = rows.count == p.height && columns.count == p.width
            return Target(step: "ldr.head", probe: .meanLuma(rows: rows, columns: columns),
                          text: "the mean luma of the corrected image" + (whole ? "" : " in rows \(rows.lowerBound)..<\(rows.upperBound), columns \(columns.lowerBound)..<\(columns.upperBound)"))
        }
        for score in ["psnr", "mse"] where text.hasPrefix(score + ":") {
            let name = String(text.dropFirst(score.count + 1))
            let v = try s.image(name)
            guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); \(score): scores against an LDR image") }
            var t = v.tensor
            if t.h != p.height || t.w != p.width {
                guard t.h >= p.height, t.w >= p.width, abs(Double(t.w) / Double(t.h) - Double(p.width) / Double(p.height)) < 0.02 else {
                    throw REPLError("\(name) is \(t.w)x\(t.h) but the network's input is \(p.width)x\(p.height); score against an image of that size")
                }
                t = resizeArea(t, height: p.height, width: p.width)        // the working copy of a large photo
            }
            return Target(step: "ldr.head", probe: .error(against: t, psnr: score == "psnr"),
                          text: score == "psnr" ? "the corrected image's PSNR against \(name)" : "the corrected image's mean squared error against \(name)")
        }
        // LAYER[:C][@X,Y]
        var rest = Substring(text), cell: (Int, Int)? = nil, channel: Int? = nil
        if let at = rest.firstIndex(of: "@") {
            let xy = rest[rest.index(after: at)...].split(separator: ",", omittingEmptySubsequences: false)
            guard xy.count == 2, let x = Int(xy[0]), let y = Int(xy[1]) else { throw REPLError("\(text): write @X,Y for a cell, e.g. hdr.latent:137@3,2") }
            cell = (x, y); rest = rest[..<at]
        }
        if let colon = rest.firstIndex(of: ":") {
            guard let c = Int(rest[rest.index(after: colon)...]) else { throw REPLError("\(text): write LAYER:C with C a channel number, e.g. hdr.latent:137") }
            channel = c; rest = rest[..<colon]
        }
        let step = String(rest)
        guard DRHT.probeSteps.contains(step) else {
            let near = DRHT.probeSteps.filter { Registry.editDistance($0, step) <= 2 }.prefix(3)
            throw REPLError("unknown target \"\(printable(text, limit: 40))\"" + (near.isEmpty ? "" : "; did you mean \(near.joined(separator: ", "))?")
                            + "; targets: LAYER:C, LAYER:C@X,Y, LAYER@X,Y, out[Y0:Y1,X0:X1], psnr:NAME (`help saliency`)")
        }
        guard channel != nil || cell != nil else { throw REPLError("\(step): say which number: \(step):C (a channel) or \(step)@X,Y (a cell)") }
        let shape = outputShape(step, h: padded.h, w: padded.w)
        if let c = channel, !(0..<shape.c).contains(c) { throw REPLError("\(step) has channels 0..\(shape.c - 1) (got \(c))") }
        if let (x, y) = cell, !(0..<shape.w).contains(x) || !(0..<shape.h).contains(y) {
            throw REPLError("\(step) is \(shape.w)x\(shape.h) cells here: 0 <= X < \(shape.w), 0 <= Y < \(shape.h) (got \(x),\(y))")
        }
        switch (channel, cell) {
        case let (c?, (x, y)?):
            return Target(step: step, probe: .channel(c, rows: y..<(y + 1), columns: x..<(x + 1)),
                          text: "channel \(c) of \(step) at cell (\(x), \(y))", cell: (x, y))
        case let (c?, nil):
            return Target(step: step, probe: .channel(c), text: "channel \(c) of \(step), averaged over its \(shape.w)x\(shape.h) cells")
        case let (nil, (x, y)?):
            return Target(step: step, probe: .unit(x: x, y: y), text: "the mean of \(step)'s \(shape.c) channels at cell (\(x), \(y))", cell: (x, y))
        default: fatalError("checked above")
        }
    }

    typealias Method = SaliencyRequest.Method
    static let method = Options.choice("--method", "grad: |dS/dx| summed over R, G, B; gradxinput: x * dS/dx, signed; "
                                         + "integrated: integrated gradients from a black image, signed, summing to S(x) - S(black)",
                                       default: Method.grad)
    static let steps = Options.int("--steps", "N", "integrated: points on the path from black to the image", default: 16, range: 2...256)

    static let saliency = Command(
        "saliency", summary: "Which input pixels one number inside the network depends on: a heat map over the photo.",
        synopsis: "TARGET", example: "saliency hdr.latent:137",
        details: "Differentiates one number TARGET with respect to the image chosen with `use` (the network as inference "
            + "runs it: BatchNorm with its running statistics). " + targetHelp + " "
            + """
                Methods: grad shows how strongly each pixel moves the number (the magnitude of the gradient); \
                gradxinput weighs that by the pixel's own value, signed (red raises it, blue lowers it); \
                integrated averages the gradient along the path from a black image to the photo (Sundararajan et \
                al. 2017), so the map sums to how much the number changes from black to the photo. Keeps OUT \
                (default saliency, the map) and OUT.overlay (the picture, for export). For one cell the picture \
                also outlines its theoretical receptive field in white (see `rf`). Interventions (`ablate`) are \
                not applied here.
                """,
        arguments: [.target], options: [method, steps], namesResult: true
    ) { s, a in
        let text = try a.positional(0, "a target, e.g. hdr.latent:137 or out[40:80,10:50]")
        try a.expectAtMost(1)
        let p = try ModelCommands.pipeline(s)
        let t = try target(s, text, p)
        let network = try checkedInput(s, p, what: "saliency")
        let x = network.padded, image = network.image
        let method = try a.value(Self.method)
        if a.has(steps) && method != .integrated { throw REPLError("--steps is for --method integrated") }
        let start = DispatchTime.now().uptimeNanoseconds
        let result: SaliencyResult
        do {
            result = try SaliencyTask.run(SaliencyRequest(step: t.step, probe: t.probe, method: method, pathSteps: try a.value(steps)),
                                          model: p.model, input: network, monitor: s.monitor)
        } catch let e as TaskStopped {
            throw REPLError("saliency stopped (Ctrl-C) after \(e.done) of \(e.total) steps; nothing was kept")
        }
        let (value, map, paddingShare) = (result.value, result.map, result.paddingShare)
        var note = ""
        if let (total, black) = result.completeness {
            note = "the map sums to \(formatNumber(total, digits: 3)) (with the padding's copies); S(photo) - S(black) = \(formatNumber(value - black, digits: 3))"
                + " (they agree as the steps grow: \(try a.value(steps)) steps here)"
        }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let out = a.asName ?? "saliency"
        let input = s.pipelineInput ?? "the input"
        s.console.line("\(s.console.bold(out)): saliency of \(t.text) (S = \(formatNumber(value, digits: 4))) on \(input), \(p.width)x\(p.height), "
                       + "--method \(method.rawValue), \(String(format: "%.2f", seconds)) s")
        s.console.line("  " + concentration(map))
        if !note.isEmpty { s.console.line("  " + note) }
        if paddingShare > 0 {
            s.console.line("  not drawn: \(String(format: "%.1f", 100 * paddingShare))% of |gradient| reached S through the edge pixels' copies "
                           + "in the padding (the input is padded to \(x.w)x\(x.h), a multiple of 32)")
        }
        let (picture, range, largest) = Raster.overlay(map.data, on: Raster.image(image), signed: method != .grad)
        if let cell = t.cell, t.step != "transform", t.step != "transform.H" {
            // The cell's theoretical receptive field: nothing outside it can move the number.
            let f = ReceptiveField.theoretical(step: t.step, x: cell.x, y: cell.y, height: x.h, width: x.w)
            picture.outline(rows: f.rows.clamped(to: 0...(p.height - 1)), columns: f.columns.clamped(to: 0...(p.width - 1)), colour: (1, 1, 1))
        }
        s.set(out, Variable(map, kind: .attribution, origin: "saliency \(text) --method \(method.rawValue)"))
        // The kept picture carries its own title, legend and colour bar, for `export`.
        let framed = picture.framed(title: "saliency of \(t.text) on \(input)",
                                    legend: (method == .grad ? "|dS/dx| over the photo (grey)" : "contribution to S: blue lowers, red raises")
                                        + "; " + Raster.overlayScale(range, largest: largest),
                                    map: method == .grad ? .viridis : .diverging, range: range)
        s.set(out + ".overlay", Variable(framed.pixels, kind: .image, origin: "saliency \(text) (the picture, with its colour bar)"))
        s.showRaster(picture, caption: "\(out): saliency of \(text)")
        s.console.line(TerminalPicture.colourBar(method == .grad ? .viridis : .diverging, range: range, console: s.console,
                                                 label: (method == .grad ? "|dS/dx| summed over R, G, B" : "contribution to S, blue lowers, red raises")
                                                     + "; " + Raster.overlayScale(range, largest: largest)))
        s.console.line(s.console.dim("kept \(out) (the map) and \(out).overlay (the picture: `export \(out).overlay FILE.png`)"))
    }

    /// How concentrated a map is, and where: the share of pixels holding half of its total
    /// |value|, and its centre of mass.
    static func concentration(_ map: Tensor) -> String {
        let values = map.array.map { Double(abs($0)) }
        let total = values.reduce(0, +)
        guard total > 0 else { return "the map is zero everywhere: this number does not depend on the input here" }
        var sum = 0.0, count = 0
        for v in values.sorted(by: >) { sum += v; count += 1; if sum >= total / 2 { break } }
        var cx = 0.0, cy = 0.0
        for y in 0..<map.h { for x in 0..<map.w { let v = values[y * map.w + x]; cx += v * Double(x); cy += v * Double(y) } }
        let share = 100 * Double(count) / Double(values.count)
        return "half of the attribution lies in \(String(format: share < 1 ? "%.2f" : "%.0f", share))% of the pixels; its centre of mass is at x \(Int(cx / total)), y \(Int(cy / total))"
    }

    static let channel = Options.int("--channel", "C", "follow one channel of the unit instead of the mean of all")

    static let rf = Command(
        "rf", summary: "The receptive field of one unit: what it can see (theory) and what it looks at (gradient).",
        synopsis: "LAYER X Y", example: "rf hdr.latent 3 2",
        details: "X Y is a cell of LAYER's grid (hdr.latent is H/32 x W/32) for the image chosen with `use`. "
            + """
                The theoretical field is every input pixel the unit can depend on, followed back through the \
                layer table with the skips (a decoder sees what its encoder sees too) and stopped at the image's \
                border. The effective field is measured: the gradient of the unit (the mean of its channels, or \
                --channel C) with respect to every input pixel; the square around the gradient's centre of mass \
                that holds 90% of its total magnitude is the effective field. Drawn over the photo: the \
                gradient, the theoretical field in white, the effective one in magenta. Keeps OUT (default rf, \
                the gradient map) and OUT.overlay.
                """,
        arguments: [.layer, .none, .none], options: [channel], namesResult: true
    ) { s, a in
        let layer = try a.positional(0, "a layer name, e.g. hdr.latent")
        let xs = try a.positional(1, "the cell's X and Y"), ys = try a.positional(2, "the cell's Y")
        try a.expectAtMost(3)
        if layer == "transform" || layer == "transform.H" {
            throw REPLError("\(layer) works pixel by pixel (its field is the pixel itself, through hdr.head's); rf takes a layer, hdr.enc1 ... ldr.head")
        }
        guard Pipeline.stepNames.contains(layer) else {
            let near = Pipeline.stepNames.filter { Registry.editDistance($0, layer) <= 2 }.prefix(3)
            throw REPLError("no layer \(layer)" + (near.isEmpty ? "; layers are hdr.enc1 ... ldr.head" : "; did you mean \(near.joined(separator: ", "))?"))
        }
        guard let cx = Int(xs), let cy = Int(ys) else { throw REPLError("rf LAYER X Y takes whole numbers for X and Y (got \(xs) \(ys))") }
        let p = try ModelCommands.pipeline(s)
        let x = p.paddedInput
        let shape = outputShape(layer, h: x.h, w: x.w)
        guard (0..<shape.w).contains(cx), (0..<shape.h).contains(cy) else {
            throw REPLError("\(layer) is \(shape.w)x\(shape.h) cells for this input: 0 <= X < \(shape.w), 0 <= Y < \(shape.h) (got \(cx) \(cy))")
        }
        let c = try a.value(channel, in: 0...(shape.c - 1))
        let input = try checkedInput(s, p, what: "rf")
        let start = DispatchTime.now().uptimeNanoseconds
        let request = ReceptiveFieldRequest(step: layer, x: cx, y: cy, channel: c)
        let field = try ReceptiveFieldTask.run(request, model: p.model, input: input)
        let (map, rows, cols, theory, full, eff) = (field.map, field.rows, field.columns, field.theorySide, field.unclipped, field.effective)
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        s.last.receptiveField = (theory, eff.side)
        let out = a.asName ?? "rf"
        let unit = "\(layer) cell (\(cx), \(cy))" + (c.map { ", channel \($0)" } ?? "")
        s.console.line("\(s.console.bold(out)): receptive field of \(unit) on \(s.pipelineInput ?? "the input") (\(p.width)x\(p.height)), \(String(format: "%.2f", seconds)) s")
        s.console.line("  theoretical: rows \(rows.lowerBound)...\(rows.upperBound), columns \(cols.lowerBound)...\(cols.upperBound) "
                       + "(\(cols.count)x\(rows.count) px; \(full.columns)x\(full.rows) away from the border"
                       + (layer.hasPrefix("hdr.") ? "; the widest unit of the layer: \(Architecture.receptiveFields[String(layer.dropFirst(4))]!), `model`'s RF column)"
                                                  : "; it sees through the first network too)"))
        s.console.line("  effective:   \(Int(request.share * 100))% of |gradient| within a \(eff.side)x\(eff.side) px square around x \(eff.x), y \(eff.y) "
                       + "— \(String(format: "%.0f", 100 * Double(eff.side) / Double(theory)))% of the theoretical side, "
                       + "\(String(format: "%.1f", 100 * Double(eff.side * eff.side) / Double(rows.count * cols.count)))% of its area")
        let photo = Raster.image(crop(x, height: p.height, width: p.width))
        let (picture, range, largest) = Raster.overlay(map.data, on: photo, signed: false)
        picture.outline(rows: rows, columns: cols, colour: (1, 1, 1))
        // The effective square, drawn within the theoretical field (outside it the gradient is 0).
        let h = eff.side / 2
        picture.outline(rows: max(rows.lowerBound, eff.y - h)...min(rows.upperBound, eff.y + h),
                        columns: max(cols.lowerBound, eff.x - h)...min(cols.upperBound, eff.x + h), colour: (1, 0.2, 0.6))
        s.set(out, Variable(map, kind: .attribution, origin: "rf \(layer) \(cx) \(cy)"))
        let framed = picture.framed(title: "receptive field of \(unit)",
                                    legend: "|d unit / dx|; white square: theoretical, magenta: effective; " + Raster.overlayScale(range, largest: largest),
                                    map: .viridis, range: range)
        s.set(out + ".overlay", Variable(framed.pixels, kind: .image, origin: "rf \(layer) \(cx) \(cy) (the picture, with its colour bar)"))
        s.showRaster(picture, caption: "\(out): receptive field of \(unit)")
        s.console.line(TerminalPicture.colourBar(.viridis, range: range, console: s.console,
                                                 label: "|d unit / dx|; white: theoretical, magenta: effective; " + Raster.overlayScale(range, largest: largest)))
    }
}
