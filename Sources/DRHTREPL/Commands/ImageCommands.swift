// Getting images in and looking at them: load, synth, expose, show, info, hist.
import DRHTEngine
import DRHTImageIO
import DRHTTraining
import Foundation

enum ImageCommands {
    static let all: [Command] = [load, synth, expose, show, info, hist]

    static let maxSide = Options.int("--max", "N", "shrink until the longer side is at most N pixels (32..16384)")

    static let load = Command(
        "load", summary: "Load a PNG, JPEG, Radiance .hdr or .npy image into a variable.",
        synopsis: "PATH", example: "load photos/dusk.jpg --max 512 as dusk",
        details: "The name defaults to the file's name without its extension. "
            + "In a lesson or `run` file, a relative path not found from the working directory is read from beside that file. "
            + "A .hdr file becomes HDR radiance; PNG and JPEG become LDR images in [0, 1]; a .npy float array shaped "
            + "HxWx3 or 3xHxW (1x3xHxW as `export NAME x.npy` writes an image) becomes an image, or HDR radiance when its values pass 1. "
            + "--max N shrinks the image (averaging blocks of pixels) until its longer side is at most N: big photos step faster and need less memory. "
            + "NaN and infinite values (a .npy may hold them) are kept and counted: statistics leave them out, pictures draw them magenta, "
            + "and the network, the baselines, the camera and the metrics refuse the image in one line.",
        arguments: [.path], options: [maxSide],
        namesResult: true
    ) { s, a in
        let path = try a.positional(0, "the image's path")
        try a.expectAtMost(1)
        let expanded = s.inputPath(path)
        var image = try ImageIO.read(expanded)
        if let limit = try a.value(maxSide, in: 32...16384) {
            let factor = (max(image.width, image.height) + limit - 1) / limit
            if factor > 1 {
                let before = "\(image.width)x\(image.height)"
                image.pixels = downscale(image.pixels, by: factor)
                s.console.line(s.console.dim("(shrunk \(before) by \(factor) to \(image.width)x\(image.height))"))
            }
        }
        let name = try a.asName ?? defaultName(for: expanded)
        let passesOne = image.format == .npy && (image.pixels.stats.max > 1 || image.pixels.buffer.contains(.infinity))
        let kind: Variable.Kind = image.format == .radiance || passesOne ? .hdr : .image
        s.set(name, Variable(image.pixels, kind: kind, origin: "load \(path)"))
        let size = "\(image.width)x\(image.height)"
        s.console.line("\(s.console.bold(name)): \(kind.rawValue) \(size) (\(image.format.rawValue), \(image.bitDepth)-bit \(channelName(image.channels)))"
                       + ((image.details.isEmpty) ? "" : ", " + image.details.joined(separator: ", ")))
        s.console.line("  " + summary(image.pixels, kind: kind))
        if image.channels == 2 || image.channels == 4 {
            s.console.line("  its alpha channel was composited over black (drht works on RGB): transparent parts are black")
        }
        if max(image.width, image.height) > 1536 {
            let mp = String(format: "%.1f", Double(image.width * image.height) / 1e6)
            s.console.line(s.console.yellow("  large image (\(mp) megapixels): `infer` in gain mode (the default) runs the network on a "
                + "\(s.settings.workSize)-px copy and carries its gain map to every pixel, a second or two; `use` steps through that copy; "
                + "direct mode at full size would take minutes and gigabytes (`load PATH --max 1024` makes a smaller copy)"))
        }
    }

    /// A usable variable name from a file name: "my photo (2).jpg" -> "my_photo_2".
    static func defaultName(for path: String) throws -> String {
        var stem = URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        stem = String(stem.map { $0.isLetter || $0.isNumber ? $0 : "_" })
        while stem.contains("__") { stem = stem.replacingOccurrences(of: "__", with: "_") }
        stem = stem.trimmingCharacters(in: CharacterSet(charactersIn: "_"))
        if stem.isEmpty || !stem.first!.isLetter { stem = "img" + (stem.isEmpty ? "" : "_" + stem) }
        return stem
    }

    /// "min 0 max 1 mean 0.4312, 3.1% at 0, 12.5% at 1" (LDR) or the HDR equivalent.
    static func summary(_ t: Tensor, kind: Variable.Kind) -> String {
        let s = t.stats
        var text = "min \(formatNumber(Double(s.min))) max \(formatNumber(Double(s.max))) mean \(formatNumber(s.mean)) std \(formatNumber(s.std))"
        if kind == .image {
            let (lo, hi) = clipped(t)
            text += ", \(percent(lo)) black (every channel 0), \(percent(hi)) clipped (a channel at 1)"
        } else if kind == .hdr {
            text += ", dynamic range \(formatNumber(dynamicRangeStops(t), digits: 3)) stops (luminance, 0.5th to 99.5th percentile)"
        }
        if s.nonFinite > 0 {
            text += "; \(s.nonFinite) value\(s.nonFinite == 1 ? " is" : "s are") NaN or infinite: left out of these figures, "
                + "drawn magenta, refused by the network, the baselines and the metrics"
        }
        return text
    }

    static func percent(_ f: Double) -> String { String(format: "%.1f%%", f * 100) }

    /// Fractions of pixels with all three channels at <= 0.5/255 and with any channel >= 254.5/255.
    static func clipped(_ t: Tensor) -> (Double, Double) {
        guard t.shape.count == 4, t.c == 3 else { return (0, 0) }
        let plane = t.h * t.w
        var lo = 0, hi = 0
        for i in 0..<plane {
            let r = t.data[i], g = t.data[plane + i], b = t.data[2 * plane + i]
            if max(r, g, b) <= 0.5 / 255 { lo += 1 }
            if max(r, g, b) >= 254.5 / 255 { hi += 1 }
        }
        return (Double(lo) / Double(plane), Double(hi) / Double(plane))
    }

    /// log2 of the ratio between the 99.5th and 0.5th percentiles of luminance (above 1e-6).
    static func dynamicRangeStops(_ t: Tensor) -> Double {
        let y = luminance(t).filter { $0 > 1e-6 && $0.isFinite }.sorted()
        guard y.count > 1 else { return 0 }
        let lo = y[Int(Double(y.count - 1) * 0.005)], hi = y[Int(Double(y.count - 1) * 0.995)]
        return log2(Double(hi) / Double(lo))
    }

    /// Rec. 709 luminance of a (1, 3, H, W) tensor (the channel itself for one channel).
    static func luminance(_ t: Tensor) -> [Float] {
        let plane = t.h * t.w
        if t.c != 3 { return Array(UnsafeBufferPointer(start: t.data, count: plane)) }
        return (0..<plane).map { 0.2126 * t.data[$0] + 0.7152 * t.data[plane + $0] + 0.0722 * t.data[2 * plane + $0] }
    }

    static let sceneSeed = Options.int("--seed", "N", "which scene", default: 1, range: 0...Int(Int32.max))
    static let sceneEV = Options.number("--ev", "E", "exposure in stops from auto-exposure", range: -6...6, absent: "the scene's random exposure")
    static let sceneSize = Options.int("--size", "S", "width and height in pixels", default: 256, range: 32...1024)

    static let synth = Command(
        "synth", summary: "Make a procedural HDR scene and its badly exposed photo.",
        example: "synth --seed 3 --ev -2 as dark",
        details: """
            Creates NAME (the camera's 8-bit photo), NAME.hdr_gt (the scene's linear radiance) and NAME.target \
            (the well-exposed rendering the network is trained to produce).
            """ + " "
            + "--ev sets the exposure relative to auto-exposure (a procedural scene has no photo to be relative to): 0 scales the scene so its "
            + "log-average luminance is 0.18, -2 is two stops under that, +2 two stops over (default: the seed's random exposure). "
            + "--from HDR photographs real radiance instead (a loaded .hdr: a view of a real HDR panorama), the same way: "
            + "--seed then chooses the camera, and OUT defaults to HDR_shot.",
        options: [sceneSeed, sceneEV, sceneSize, sceneFrom],
        namesResult: true
    ) { s, a in
        try a.expectAtMost(0)
        let seed = try a.value(sceneSeed)
        let size = try a.value(sceneSize)
        let ev = try a.value(sceneEV).map { Float($0) }
        if let from = try a.value(sceneFrom) {
            if a.has(sceneSize) { throw REPLError("synth --from photographs HDR at its own size; --size applies to procedural scenes") }
            try photographRadiance(s, from: from, seed: seed, ev: ev, name: a.asName ?? from + "_shot")
            return
        }
        let name = a.asName ?? "scene"
        let t = SyntheticScenes.triplet(seed: UInt64(seed), size: size, ev: ev)
        let origin = "synth --seed \(seed) --ev \(formatNumber(Double(t.ev ?? 0), digits: 3))" + (size == 256 ? "" : " --size \(size)")
        s.set(name, Variable(t.input, kind: .image, origin: origin))
        s.set(name + ".hdr_gt", Variable(t.hdr, kind: .hdr, origin: origin + " (ground truth)"))
        s.set(name + ".target", Variable(t.target, kind: .image, origin: origin + " (target)"))
        s.console.line("\(s.console.bold(name)): LDR photo \(size)x\(size) of scene \(seed)" + ", exposure \(String(format: "%+.3g", Double(t.ev ?? 0))) EV from auto-exposure" + (ev == nil ? " (the seed's own)" : ""))
        s.console.line("  " + summary(t.input, kind: .image))
        s.console.line("\(s.console.bold(name + ".hdr_gt")): the scene's linear radiance; " + summary(t.hdr, kind: .hdr))
        s.console.line("\(s.console.bold(name + ".target")): the well-exposed target; " + summary(t.target, kind: .image))
    }

    static let sceneFrom = Options.text("--from", "HDR", "photograph this HDR variable (real radiance, e.g. a loaded .hdr) instead of a procedural scene",
                                        completion: .variable)

    /// `synth --from HDR`: the simulated camera photographs real radiance, as `panorama:DIR` does.
    static func photographRadiance(_ s: Session, from: String, seed: Int, ev: Float?, name: String) throws {
        let v = try s.variable(from)
        guard v.kind == .hdr, v.tensor.shape.count == 4, v.tensor.c == 3 else {
            throw REPLError("\(from) is \(v.kind.rawValue) \(v.tensor.shapeString); synth --from takes HDR radiance (load a .hdr file)")
        }
        try Session.requireFinite(v.tensor, from)
        var rng = SeededRandom(seed: UInt64(seed))
        var camera = Camera.random(rng: &rng)
        if let ev { camera.ev = ev }
        let t = SyntheticScenes.photographed(v.tensor, camera: camera, rng: &rng)
        let origin = "synth --from \(from) --seed \(seed) --ev \(formatNumber(Double(camera.ev), digits: 3))"
        s.set(name, Variable(t.input, kind: .image, origin: origin))
        s.set(name + ".hdr_gt", Variable(t.hdr, kind: .hdr, origin: origin + " (ground truth)"))
        s.set(name + ".target", Variable(t.target, kind: .image, origin: origin + " (target)"))
        s.console.line("\(s.console.bold(name)): LDR photo \(t.input.w)x\(t.input.h) of \(from) by simulated camera \(seed), exposure "
                       + String(format: "%+.3g", Double(camera.ev)) + " EV from auto-exposure" + (ev == nil ? " (the camera's own)" : ""))
        s.console.line("  " + summary(t.input, kind: .image))
        s.console.line("\(s.console.bold(name + ".hdr_gt")): \(from) scaled to log-average 0.18; " + summary(t.hdr, kind: .hdr))
        s.console.line("\(s.console.bold(name + ".target")): the well-exposed target (local tone mapping); " + summary(t.target, kind: .image))
    }

    static let exposeEV = Options.number("--ev", "E", "exposure in stops over (+) or under (-)", range: -6...6,
                                         required: "expose needs --ev E: how many stops over (+) or under (-), e.g. --ev -2")
    static let cameraSeed = Options.int("--seed", "N", "which simulated camera", default: 1, range: 0...Int(Int32.max))

    static let expose = Command(
        "expose", summary: "Photograph a well-exposed photo again, badly: a simulated camera at E stops, with the photo as the target.",
        synopsis: "NAME", example: "expose meadow --ev -2 as dark",
        details: """
            What `drht evaluate --data photos:DIR` and training do to each photo. 0 EV is the photo as it is: \
            a camera with a random but plausible response curve (chosen by --seed, default 1) linearises the \
            photo through its own curve, multiplies its light by 2^E (E stops over, +, or under, -), and \
            photographs it again through the same curve, clipping at 1, with 8-bit quantisation and, below \
            0 EV, the shot noise a shorter exposure adds; that is OUT (at --ev 0, the photo within \
            quantisation). OUT.hdr_gt is the photo's sRGB-decoded light normalised to a log-average luminance \
            of 0.18 (the HDR ground truth training uses);
            """ + " "
            + "OUT.target is the original photo, so `compare`, `baseline` and `expect psnr(...)` can score a correction. "
            + "OUT defaults to NAME_dark (E < 0), NAME_bright (E > 0) or NAME_shot.",
        arguments: [.variable],
        options: [exposeEV, cameraSeed],
        namesResult: true
    ) { s, a in
        let (name, v) = try a.onlyVariable(s)
        guard v.kind == .image, v.tensor.c == 3 else {
            throw REPLError("\(name) is \(v.kind.rawValue) \(v.tensor.shapeString); expose takes a well-exposed LDR photo (load one)")
        }
        try Session.requireFinite(v.tensor, name)
        let ev = Float(try a.value(exposeEV))
        let seed = try a.value(cameraSeed)
        let out = a.asName ?? name + (ev < 0 ? "_dark" : ev > 0 ? "_bright" : "_shot")
        var rng = SeededRandom(seed: UInt64(seed))
        let t = PhotoTriplet.make(from: v.tensor, rng: &rng, ev: ev)
        let origin = "expose \(name) --ev \(formatNumber(Double(ev))) --seed \(seed)"
        s.set(out, Variable(t.input, kind: .image, origin: origin))
        s.set(out + ".hdr_gt", Variable(t.hdr, kind: .hdr, origin: origin + " (linearised photo)"))
        s.set(out + ".target", Variable(t.target, kind: .image, origin: origin + " (the original photo)"))
        s.console.line("\(s.console.bold(out)): \(name) taken again at \(String(format: "%+g", ev)) EV (0 EV = \(name) as it is) by simulated camera \(seed), \(t.input.w)x\(t.input.h)")
        s.console.line("  " + summary(t.input, kind: .image))
        s.console.line("\(s.console.bold(out + ".hdr_gt")): \(name) linearised (sRGB), scaled to log-average 0.18; " + summary(t.hdr, kind: .hdr))
        s.console.line("\(s.console.bold(out + ".target")): the original photo, the target to score a correction against")
        // The target is the photo as it is: say so when it is not well exposed itself.
        let luma = luminance(v.tensor), mean = luma.reduce(0.0) { $0 + Double($1) } / Double(max(1, luma.count))
        let (_, clippedShare) = clipped(v.tensor)
        if mean < 0.3 || mean > 0.7 || clippedShare > 0.1 {
            s.console.line(s.console.yellow("  note: \(name) itself looks \(mean < 0.3 ? "dark" : "bright") (mean luminance \(String(format: "%.2f", mean))"
                + (clippedShare > 0.1 ? ", \(percent(clippedShare)) clipped" : "") + "); it is the target, so a correction is scored against it as it is"))
        }
    }

    static let channel = Options.int("--channel", "C", "draw channel C alone through a colour map")
    static let linear = Options.flag("--linear", "HDR radiance drawn as it is (0 black, 1 white, above 1 clipped), not through H^(1/2.2)")

    static let show = Command(
        "show", summary: "Draw an image or one channel in the terminal, with its value range; several images side by side.",
        synopsis: "NAME [NAME...]", example: "show scene",
        details: "Pictures use 24-bit colour half blocks (256 colours when COLORTERM lacks truecolor); "
            + "`set display kitty|sixel|ascii|none` changes that. "
            + "HDR radiance is drawn through H^(1/2.2), as a screen would show the photo it stands for "
            + "(--linear draws its values as they are, so dark values look as small as they are in linear light); "
            + "feature maps, gain maps and single channels through a colour map with a colour bar. "
            + "`show A B C` draws images side by side, left to right, each scaled to the same height.",
        arguments: [.variable], options: [channel, linear]
    ) { s, a in
        if a.positional.count > 1 { try sideBySide(s, a.positional); return }
        let (name, v) = try a.onlyVariable(s)
        let t = v.tensor
        guard t.shape.count == 4, t.n == 1 else { throw REPLError("\(name) is \(t.shapeString); show draws (1, C, H, W) tensors") }
        if v.kind == .gain && t.c == 1 && !a.has(channel) { s.showGain(name, t); return }
        if v.kind == .hdrError && t.c == 1 && !a.has(channel) { s.showHDRError(name, t); return }
        if a.has(channel) || !v.isImage {
            let c = try a.value(channel, in: 0...(t.c - 1)) ?? 0
            if !a.has(channel) && t.c > 1 {
                s.console.line("\(name) has \(t.c) channels: showing channel 0 (`maps \(name)` shows many, `show \(name) --channel C` another)")
            }
            let st = t.channelStats(c)
            let map = s.colourMap(lo: st.min, hi: st.max)
            let range = map.range(lo: st.min, hi: st.max)
            s.console.line("""
                \(s.console.bold(name)) channel \(c) (\(t.h)x\(t.w)): min \(formatNumber(Double(st.min))) max \
                \(formatNumber(Double(st.max))) mean \(formatNumber(st.mean))
                """)
            s.showRaster(Raster.mapped(t.data + c * t.h * t.w, width: t.w, height: t.h, map: map, range: range), caption: "\(name) channel \(c)")
            s.console.line(TerminalPicture.colourBar(map, range: range, console: s.console, label: map.rawValue))
            return
        }
        if a.has(linear) && v.kind != .hdr {
            throw REPLError("--linear is for HDR radiance; \(name) is \(v.kind.rawValue)\(v.kind == .image ? ", whose values are drawn as they are already" : "")")
        }
        let (raster, note) = a.has(linear) ? (Raster.image(v.tensor), "drawn as it is: 0 black, 1 white, above 1 clipped") : s.imageRaster(v)
        s.console.line("\(s.console.bold(name)): \(v.kind.rawValue) \(t.w)x\(t.h)" + (note.isEmpty ? "" : " (\(note))"))
        s.showRaster(raster, caption: name)
        let names = ["R", "G", "B"]
        s.console.line((0..<3).map { c -> String in
            let st = t.channelStats(c)
            return "\(names[c]) \(formatNumber(Double(st.min)))..\(formatNumber(Double(st.max)))"
        }.joined(separator: "   "))
    }

    /// Images side by side at one height, 4% of that height apart, captioned left to right.
    static func sideBySide(_ s: Session, _ names: [String]) throws {
        guard names.count <= 6 else { throw REPLError("show draws at most 6 images side by side (got \(names.count))") }
        let rasters = try names.map { name -> Raster in
            let v = try s.variable(name)
            guard v.isImage else { throw REPLError("\(name) is \(v.kind.rawValue); side by side takes images (show \(name) alone draws it)") }
            return s.imageRaster(v).0
        }
        s.console.line("left to right: " + names.map { name in
            let v = s.variables[name]!, t = v.tensor, st = t.stats
            let note = s.imageRaster(v).1
            return "\(s.console.bold(name)) (\(t.w)x\(t.h), values \(formatNumber(Double(st.min)))..\(formatNumber(Double(st.max)))"
                + (note.isEmpty ? "" : "; \(note)") + ")"
        }.joined(separator: ", "))
        s.showRaster(Raster.sideBySide(rasters), caption: names.joined(separator: " | "))
    }

    static let info = Command(
        "info", summary: "Shape, statistics and clipping of a variable.",
        usage: "info NAME", example: "info scene", arguments: [.variable]
    ) { s, a in
        let (name, v) = try a.onlyVariable(s)
        let t = v.tensor
        s.console.line("\(s.console.bold(name)): \(v.kind.rawValue), shape \(t.shapeString), from `\(v.origin)`")
        s.console.line("  " + summary(t, kind: v.kind))
        if v.isImage {
            let names = ["R", "G", "B"]
            for c in 0..<3 {
                let st = t.channelStats(c)
                s.console.line("  \(names[c]): min \(formatNumber(Double(st.min))) max \(formatNumber(Double(st.max))) mean \(formatNumber(st.mean)) std \(formatNumber(st.std))")
            }
        } else if t.shape.count == 4 {
            let means = (0..<t.c).map { t.channelStats($0).mean }
            let dead = (0..<t.c).filter { t.channelStats($0).max <= -0.99 }.count
            s.console.line("  \(t.c) channels: channel means \(formatNumber(means.min() ?? 0))..\(formatNumber(means.max() ?? 0)), \(dead) channel(s) entirely at ELU's floor (-1)")
        }
    }

    static let bins = Options.int("--bins", "N", "number of bins", default: 48, range: 8...128)

    static let hist = Command(
        "hist", summary: "A luminance histogram drawn in the terminal (values for feature maps).",
        synopsis: "NAME", example: "hist scene",
        details: "LDR images: Rec. 709 luminance over 0..1, with the share of clipped pixels. HDR radiance: log10 luminance. "
            + "Feature maps: all values.",
        arguments: [.variable], options: [bins]
    ) { s, a in
        let name = try a.positional(0, "a variable name")
        try a.expectAtMost(1)
        let bins = try a.value(Self.bins)
        let v = try s.variable(name)
        var values: [Float]
        var (lo, hi): (Double, Double)
        var what: String
        switch v.kind {
        case .image:
            values = luminance(v.tensor); (lo, hi) = (0, 1); what = "luminance"
        case .hdr:
            values = luminance(v.tensor).map { log10(max($0, 1e-6)) }
            let sorted = values.sorted()
            (lo, hi) = (Double(sorted.first ?? -6), Double(sorted.last ?? 0)); what = "log10 luminance"
        case .logHDR, .features, .gain, .attribution, .hdrError:
            values = Array(UnsafeBufferPointer(start: v.tensor.data, count: v.tensor.count))
            let st = v.tensor.stats
            (lo, hi) = (Double(st.min), Double(st.max)); what = "values"
        }
        let all = values.count
        values = values.filter(\.isFinite)
        guard !values.isEmpty else {
            throw REPLError("\(name) has no finite values (\(all) values, all NaN or infinite); nothing to count")
        }
        if !lo.isFinite || !hi.isFinite {    // stats over non-finite values: take the finite ones' range
            (lo, hi) = (Double(values.min()!), Double(values.max()!))
        }
        if hi <= lo { hi = lo + 1 }
        let counts = values.withUnsafeBufferPointer { Charts.histogram($0, bins: bins, lo: lo, hi: hi) }
        s.console.line("\(s.console.bold(name)): histogram of \(what), \(values.count) values in \(bins) bins"
                       + (values.count < all ? " (\(all - values.count) NaN or infinite left out)" : ""))
        for line in Charts.bars(counts.map { $0 / Double(values.count) }, height: 8) { s.console.line("  │" + line) }
        s.console.line("  └" + String(repeating: "─", count: bins))
        let left = formatNumber(lo), right = formatNumber(hi)
        s.console.line("   " + left + String(repeating: " ", count: max(1, bins - left.count - right.count)) + right)
        if v.kind == .image {
            let (c0, c1) = clipped(v.tensor)
            s.console.line("  \(percent(c0)) black (every channel 0), \(percent(c1)) clipped (a channel at 1)"
                           + (c0 + c1 > 0.05 ? " — detail lost there is what the HDR network must guess" : ""))
        }
    }
}
