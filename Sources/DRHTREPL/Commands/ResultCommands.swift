// Results: full inference, metrics between two images, and exporting anything to a file.
import DRHTEngine
import DRHTEvaluation
import DRHTImageIO
import DRHTMetrics
import DRHTModel
import Foundation
import DRHTTasks

enum ResultCommands {
    static let all: [Command] = [infer, baseline, compare, hdrerror, grid, export]

    enum ModeName: String, CaseIterable { case gain, direct }
    static let mode: REPLOption<ModeName?> = Options.choice(
        "--mode", "gain: the network sees a small copy, a gain map carries its decision to every pixel; direct: the network at full resolution",
        absent: "the session's, `set mode`")
    static let workSize = Options.int("--work-size", "N", "gain mode: the long side of the copy the network sees "
                                      + "(default \(CorrectionMode.defaultWorkSize), `set work-size`)")
    /// `--mode` and `--work-size`, shared by infer and use.
    static let correctionOptions: [any DeclaredOption] = [mode, workSize]

    /// The correction mode from --mode / --work-size, else the session's (`set mode`, `set work-size`).
    static func correctionMode(_ s: Session, _ a: Arguments) throws -> CorrectionMode {
        let name = try a.value(mode)?.rawValue ?? s.settings.correction.name
        let size = try a.value(workSize) ?? (name == "gain" ? s.settings.workSize : nil)
        do { return try CorrectionMode.parse(name, workSize: size) } catch let e as CorrectionError { throw REPLError(e.description) }
    }

    static let infer = Command(
        "infer", summary: "Full two-stage inference: the corrected image, the HDR estimate and the gain map.",
        synopsis: "NAME", example: "infer scene as fixed",
        details: "Runs all 25 steps and keeps OUT (the corrected LDR image) and OUT.hdr (the estimated linear HDR radiance). "
            + "OUT defaults to NAME.out. "
            + """
                In gain mode (the default, `set mode` changes it) the network sees a copy of NAME reduced to the \
                working size (\(CorrectionMode.defaultWorkSize) px on its long side, `set work-size`); the ratio of its output's luminance to its input's, in \
                linear light, is the gain map OUT.gain (in stops: red brightened, blue darkened), which is \
                upsampled and applied to every pixel of NAME: the network decides how bright, the photo keeps its \
                detail.
                """ + " "
            + "In direct mode (the paper's way) the network runs on NAME at full resolution and its output is the result. "
            + "Ctrl-C stops between layers and keeps nothing.",
        arguments: [.variable], options: correctionOptions, namesResult: true
    ) { s, a in
        let name = try a.positional(0, "an image variable")
        try a.expectAtMost(1)
        let v = try s.image(name)
        guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); the network corrects LDR images in [0, 1]") }
        let mode = try correctionMode(s, a)
        let start = DispatchTime.now().uptimeNanoseconds
        let c = try correct(s, v.tensor, mode: mode, interventions: s.interventions, what: "inference")
        let p = c.pipeline
        let corrected = c.corrected(), estimate = c.hdrEstimate(), gain = c.gainStops()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
        let out = a.asName ?? name + ".out"
        s.set(out, Variable(corrected, kind: .image, origin: "infer \(name) (\(mode))"))
        s.set(out + ".hdr", Variable(estimate, kind: .hdr, origin: "infer \(name) (HDR estimate, \(mode))"))
        if s.variables[out + ".gain"] != nil && gain == nil { s.remove(out + ".gain") }
        let ms = p.stageMilliseconds
        let networks = String(format: "HDR network %.0f ms, transform %.0f ms, LDR network %.0f ms; %.1f GFLOP", ms.hdr, ms.transform, ms.ldr, p.totalFlops / 1e9)
        if case .gain(let size) = mode {
            let w = c.working
            s.console.line("\(s.console.bold(out)): corrected \(v.tensor.w)x\(v.tensor.h) in \(String(format: "%.2f", seconds)) s in gain mode: "
                           + (c.isReduced ? "the network saw a \(w.w)x\(w.h) copy (\(networks)) and its gain map was applied to every "
                                            + "pixel (\(String(format: "%.0f", c.gainMilliseconds)) ms)"
                                          : "\(name) is no larger than the working size \(size), so the network saw it whole (\(networks))"))
        } else {
            s.console.line("\(s.console.bold(out)): corrected \(v.tensor.w)x\(v.tensor.h) in \(String(format: "%.2f", seconds)) s, direct"
                           + (c.margin > 0 ? ", the network seeing it with a mirrored margin of \(c.margin) px (\(networks))" : " (\(networks))"))
        }
        s.console.line("  " + ImageCommands.summary(corrected, kind: .image))
        s.console.line("\(s.console.bold(out + ".hdr")): the HDR estimate; " + ImageCommands.summary(estimate, kind: .hdr))
        if !s.interventions.isEmpty {
            s.console.line(s.console.yellow("  with interventions: " + s.interventions.map(\.description).joined(separator: ", ") + " (`ablate off` restores)"))
        }
        // Before and after: drawn at a terminal, always kept in the notebook.
        let pair = Raster.sideBySide([Raster.image(v.tensor), Raster.image(corrected)])
        if s.console.isTTY {
            s.console.line("left: \(name), right: \(out)")
            s.showRaster(pair, caption: "\(name) | \(out)")
        } else {
            s.console.picture(terminal: "", raster: pair, caption: "\(name) | \(out)")
        }
        if let gain {
            s.set(out + ".gain", Variable(gain, kind: .gain, origin: "infer \(name) (gain map, \(mode))"))
            s.showGain(out + ".gain", gain)
        }
    }

    /// Runs the network on `photo` step by step (`CorrectTask`: a progress bar at a terminal,
    /// this run being number `progress.done` of `progress.total`; Ctrl-C stops between layers
    /// and throws, saying `what` was stopped). `afterStep` sees each step and the pipeline.
    static func correct(_ s: Session, _ photo: Tensor, mode: CorrectionMode, interventions: [Intervention], what: String,
                        progress: (done: Int, total: Int)? = nil, label: String = "", retention: Pipeline.Retention = .needed,
                        afterStep: ((Pipeline.Step, Pipeline) -> Void)? = nil) throws -> Correction {
        let request = CorrectRequest(mode: mode, interventions: interventions, retention: retention)
        try checkMemory(photo, request: request, what: what)
        do {
            return try CorrectTask.run(request, model: try s.model(), photo: photo, monitor: s.monitor, place: progress, label: label, afterStep: afterStep)
        } catch let e as TaskStopped {
            throw REPLError("\(what) stopped (Ctrl-C) before \(e.next); nothing was kept")
        }
    }

    /// Refuses a direct-mode run that would not fit in memory (`MemoryGuard`), before anything
    /// is allocated.
    static func checkMemory(_ photo: Tensor, request: CorrectRequest, what: String) throws {
        try CorrectTask.checkMemory(request, height: photo.h, width: photo.w, what: what,
                                    advice: "`set mode gain`, or a smaller copy (load PATH --max 1024)")
    }

    /// Variable-name suffix of each baseline (names cannot hold '-').
    static func suffix(_ b: Baseline) -> String {
        switch b {
        case .identity: return "identity"
        case .autoExposure: return "autoexp"
        case .histogramEqualisation: return "histeq"
        case .reinhard: return "reinhard"
        }
    }

    static let baseline = Command(
        "baseline", summary: "Classic corrections to compare DRHT with: auto-exposure, histeq, reinhard.",
        usage: "baseline NAME [auto-exposure | histeq | reinhard] [as OUT]", example: "baseline dark reinhard",
        details: "auto-exposure: linearise (sRGB), scale so the mean luminance is 0.18, back to sRGB. histeq: equalise the luminance histogram, keeping colour ratios. reinhard: "
            + "Reinhard et al. 2002's global operator on the linearised input. "
            + "Without a method all three run, as NAME.autoexp, NAME.histeq and NAME.reinhard; with NAME.target present each is scored against it.",
        arguments: [.variable, .words(Baseline.allCases.filter { $0 != .identity }.map(\.rawValue))], namesResult: true
    ) { s, a in
        let name = try a.positional(0, "an image variable")
        try a.expectAtMost(2)
        let v = try s.image(name)
        guard v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); baselines correct LDR images") }
        var methods = Baseline.allCases.filter { $0 != .identity }
        if a.positional.count > 1 {
            guard let m = Baseline(rawValue: a.positional[1]), m != .identity else {
                throw REPLError("no baseline \(a.positional[1]); baselines: auto-exposure, histeq, reinhard")
            }
            methods = [m]
        } else if a.asName != nil {
            throw REPLError("`as OUT` names one result; choose a method, e.g. baseline \(name) reinhard as OUT")
        }
        let target = s.variables[name + ".target"]
        for m in methods {
            let out = m.apply(v.tensor)
            let outName = a.asName ?? "\(name).\(suffix(m))"
            s.set(outName, Variable(out, kind: .image, origin: "baseline \(name) \(m.rawValue)"))
            var line = "\(s.console.bold(outName)): \(m.rawValue) — \(m.summary)"
            if let target, target.tensor.shape == out.shape {
                line += String(format: "; vs %@.target: PSNR %.2f dB, SSIM %.4f", name, try PSNR.compute(out, target.tensor), try SSIM.compute(out, target.tensor))
            }
            s.console.line(line)
        }
    }

    /// The metrics that compare two images (`ImageMetric.all`): `compare` shows each.
    static var pairMetrics: [ImageMetric] { ImageMetric.all.filter { $0.reads == .target } }

    static let compare = Command(
        "compare", summary: "PSNR, SSIM, FSIM and the exposure error between two images (e.g. a result and its target).",
        usage: "compare A B", example: "compare scene.out scene.target",
        details: pairMetrics.map { $0.label + ": " + $0.about + "." }.joined(separator: " ")
            + " FSIMc adds the I and Q chroma channels to FSIM (1 = identical).",
        arguments: [.variable, .variable]
    ) { s, a in
        let nameA = try a.positional(0, "two image variables")
        let nameB = try a.positional(1, "a second image variable")
        try a.expectAtMost(2)
        let va = try s.image(nameA), vb = try s.image(nameB)
        if va.kind != vb.kind { s.console.line(s.console.yellow("note: comparing \(va.kind.rawValue) with \(vb.kind.rawValue); metrics read both as [0, 1] images")) }
        let c = MetricCase(output: va.tensor, target: vb.tensor)
        let fsimc = try FSIM.compute(c.outputFeatures(), c.targetFeatures()).fsimc
        let values = try pairMetrics.flatMap { m -> [String] in
            let value = try m.compute(c).map { m.label + " " + m.format($0) }
            return (value.map { [$0] } ?? []) + (m.name == ImageMetric.fsim.name ? [String(format: "FSIMc %.4f", fsimc)] : [])
        }
        s.console.line("\(nameA) vs \(nameB):  " + values.joined(separator: "   "))
    }

    static let hdrerror = Command(
        "hdrerror", summary: "How far an HDR estimate is from the real radiance, in stops, where the photo was clipped and elsewhere.",
        usage: "hdrerror ESTIMATE TRUTH PHOTO [as NAME]", example: "hdrerror fixed.hdr bright.hdr_gt bright as error",
        details: """
            Both HDR images are scaled to a log-average luminance of 0.18 (only their shape counts, not their \
            overall brightness); the error at each pixel is log2 of the estimate's luminance over the truth's \
            (each plus 0.001): +1 means twice too bright, -1 half. Printed: the mean size of the error over the \
            pixels where PHOTO has a channel at 255 (clipped: the camera lost their light) and over the rest, \
            beside the simplest estimate, PHOTO through the inverse sRGB curve. NAME (default ESTIMATE_error) \
            is the signed map, drawn blue (too dark) - white (right) - red (too bright).
            """,
        arguments: [.variable, .variable, .variable],
        namesResult: true
    ) { s, a in
        let names = try (0..<3).map { try a.positional($0, ["an HDR estimate", "the true HDR radiance", "the photo it was estimated from"][$0]) }
        try a.expectAtMost(3)
        let estimate = try s.image(names[0]).tensor, truth = try s.image(names[1]).tensor, photo = try s.image(names[2]).tensor
        guard estimate.shape == truth.shape, truth.shape == photo.shape else {
            throw REPLError("hdrerror needs three images of one size (got \(estimate.shapeString), \(truth.shapeString), \(photo.shapeString))")
        }
        let mask = ClippedRegion.mask(photo, dilation: 0)
        let map = try HDRStops.map(estimate, truth)
        let e = HDRStops.summarise(map, clippedMask: mask)
        let curve = try HDRStops.error(HDRStops.inverseCurve(photo), truth, clippedMask: mask)
        let out = a.asName ?? names[0] + "_error"
        s.set(out, Variable(map, kind: .hdrError, origin: "hdrerror \(names.joined(separator: " "))"))
        let share = Double(mask.lazy.filter { $0 }.count) / Double(max(1, mask.count))
        func f(_ v: Double?) -> String { v.map { String(format: "%.2f stops", $0) } ?? "n/a (under 0.5% of the picture)" }
        s.console.line("\(names[0]) against \(names[1]), mean |error| (luminance, log-average 0.18 each):")
        s.console.line("  clipped pixels of \(names[2]) (\(ImageCommands.percent(share))): \(f(e.clipped))   elsewhere: \(f(e.rest))")
        s.console.line("  \(names[2]) through the inverse sRGB curve:  clipped \(f(curve.clipped))   elsewhere: \(f(curve.rest))")
        s.showHDRError(out, map)
    }

    static let grid = Command(
        "grid", summary: "The 32-pixel grid score of an image (or a one-channel map): are the deconvolutions' dots visible?",
        usage: "grid NAME", example: "grid fixed",
        details: "The fine detail of the image's luma (minus a Gaussian blur, sigma 1 px) is folded onto one 32x32 tile by averaging every tile-aligned 32x32 block. "
            + """
                Without a pattern that repeats every 32 pixels the blocks average out and the score (the tile's RMS \
                over what chance leaves) is about 1; the dots that DRHT's five stride-2 deconvolutions print once \
                per latent cell survive the averaging and raise it (1.5 and more is visible).
                """ + " "
            + "Peak: the tile's largest value over chance. The tile is drawn blown up, blue-white-red.",
        arguments: [.variable]
    ) { s, a in
        let (name, v) = try a.onlyVariable(s, "an image variable")
        let r = try GridScore.compute(try gridInput(name, v))
        s.console.line("\(s.console.bold(name)): grid score \(String(format: "%.2f", r.score)) (peak \(String(format: "%.1f", r.peak))); "
                       + "about 1 for most photos, higher where something repeats every 32 pixels (the deconvolutions' dots, but also "
                       + "a straight edge along a tile row): compare with the input's score")
        let tile = r.tile.map { Float($0) }
        let m = max(tile.map { abs($0) }.max() ?? 0, 1e-6)
        let raster = tile.withUnsafeBufferPointer { Raster.mapped($0.baseAddress!, width: GridScore.period, height: GridScore.period, map: .diverging, range: -m...m) }
        s.showRaster(raster.resized(width: 8 * GridScore.period, height: 8 * GridScore.period), caption: "\(name): its detail folded onto one 32x32 tile",
                     columns: min(s.pictureColumns, 2 * GridScore.period), maxRows: GridScore.period)
        s.console.line(TerminalPicture.colourBar(.diverging, range: -m...m, console: s.console, label: "mean detail per tile pixel (luma)"))
    }

    /// What the grid score reads: an LDR image as it is; a one-channel map (saliency, a gain map)
    /// stretched from its min..max to 0..1 first, so neither a sign nor a scale is cut off.
    static func gridInput(_ name: String, _ v: Variable) throws -> Tensor {
        try Session.requireFinite(v.tensor, name)
        if v.kind == .image { return v.tensor }
        let t = v.tensor
        guard t.shape.count == 4, t.n == 1, t.c == 1 else {
            throw REPLError("\(name) is \(v.kind.rawValue) \(t.shapeString); grid scores LDR images and one-channel maps")
        }
        let st = t.stats, span = max(st.max - st.min, 1e-30)
        let out = Tensor(zeros: t.shape)
        for i in 0..<t.count { out.data[i] = (t.data[i] - st.min) / span }
        return out
    }

    static let each = Options.text("--each", "DIR", "one PNG per channel into DIR", completion: .path)
    /// How many channels a grid PNG holds without --top or --channels (--each writes every channel).
    static let exportGridCount = 64
    static let exportTop = Options.int("--top", "K", "the K channels with the highest mean activation, at most 256",
                                       absent: "\(exportGridCount) in a grid PNG, every channel with --each")
    static let export = Command(
        "export", summary: "Write a variable to .png, .jpg, .npy or .hdr; a layer as a grid PNG.",
        synopsis: "NAME PATH",
        example: "export hdr.enc1 enc1.png",
        details: "Images go out as they are (HDR radiance: .hdr keeps it linear, .png shows H^(1/2.2)). "
            + "Feature maps: .png writes a labelled grid with a colour bar, .npy the raw tensor; "
            + "--each DIR writes one PNG per channel. "
            + "Files are written atomically: an interrupted export leaves no half-written file.",
        arguments: [.variable, .path],
        options: [each, exportTop, ExploreCommands.channels, ExploreCommands.scale]
    ) { s, a in
        let name = try a.positional(0, "a variable name")
        try ExploreCommands.stepIfNeeded(s, name)
        let v = try s.variable(name)
        if let dir = try a.value(each) {
            try a.expectAtMost(1)
            let t = v.tensor
            guard t.shape.count == 4, t.n == 1 else { throw REPLError("--each writes (1, C, H, W) tensors one channel at a time") }
            let expanded = (dir as NSString).expandingTildeInPath
            do { try FileManager.default.createDirectory(atPath: expanded, withIntermediateDirectories: true) }
            catch { throw REPLError("cannot create \(dir): \(error.localizedDescription)") }
            let (g, _) = try ExploreCommands.grid(s, name, t, a, defaultCount: t.c)      // --each: every channel
            let plane = t.h * t.w
            for (k, c) in g.channels.enumerated() {
                if Interrupt.isRequested { throw REPLError("export stopped (Ctrl-C) after \(k) of \(g.channels.count) files in \(dir)") }
                let png = Raster.mapped(t.data + c * plane, width: t.w, height: t.h, map: g.map, range: g.range(of: c)).png()
                try AtomicFile.write(png, to: (expanded as NSString).appendingPathComponent(String(format: "%@-c%03d.png", name, c)))
            }
            s.console.line("wrote \(g.channels.count) PNGs (\(t.w)x\(t.h), \(g.map.rawValue)) to \(dir)/\(name)-cNNN.png")
            return
        }
        let path = try a.positional(1, "a file path (.png, .jpg, .npy or .hdr)")
        try a.expectAtMost(2)
        let expanded = (path as NSString).expandingTildeInPath
        let ext = URL(fileURLWithPath: path).pathExtension.lowercased()
        // The extension first: a name without one ("b") made Foundation's
        // NSString.deletingLastPathComponent trap (drht fuzz, issue 31); the parent through URL.
        guard ["png", "jpg", "jpeg", "npy", "hdr"].contains(ext) else {
            throw REPLError("\(printable(path, limit: 80)): unknown extension; use .png, .jpg, .npy or .hdr")
        }
        let parent = URL(fileURLWithPath: expanded).deletingLastPathComponent().path
        if !parent.isEmpty && !FileManager.default.fileExists(atPath: parent) {
            do { try FileManager.default.createDirectory(atPath: parent, withIntermediateDirectories: true) }
            catch { throw REPLError("cannot create \(parent): \(error.localizedDescription)") }
        }
        if ext == "npy" {
            try ImageIO.write(v.tensor, to: expanded)
            s.console.line("wrote \(path) (\(v.tensor.shapeString) float32)")
        } else if v.isImage {
            let (raster, note) = s.imageRaster(v)             // written as .png/.jpg, and kept for the notebook
            if ext == "hdr" {
                guard v.kind == .hdr || v.kind == .image else { throw REPLError("\(name) is \(v.kind.rawValue); .hdr holds radiance") }
                try Session.requireFinite(v.tensor, name, because: "Radiance .hdr cannot hold them (export .npy keeps them)")
                try ImageIO.write(v.tensor, to: expanded)
                s.console.line("wrote \(path) (linear radiance, Radiance RGBE)")
            } else {
                try ImageIO.write(raster.pixels, to: expanded)
                s.console.line("wrote \(path) (\(v.tensor.w)x\(v.tensor.h)" + (note.isEmpty ? "" : ", \(note)") + ")")
            }
            s.console.picture(terminal: "", raster: raster, caption: path)
        } else if (v.kind == .gain || v.kind == .hdrError) && v.tensor.c == 1 {
            guard ext == "png" else { throw REPLError("\(name) is \(v.kind == .gain ? "a gain map" : "an HDR error map"); export it as .png (a picture) or .npy (the stops)") }
            let (map, range) = s.gainRaster(v.tensor, maxSide: Int.max)
            let raster = v.kind == .gain
                ? map.framed(title: "\(name): the gain map, in stops", legend: "blue: darkened, white: unchanged, red: brightened (stops = log2 of the gain)",
                             map: .diverging, range: range)
                : map.framed(title: "\(name): HDR estimate / real radiance, in stops", legend: Session.hdrErrorLegend, map: .diverging, range: range)
            try AtomicFile.write(raster.png(), to: expanded)
            s.console.picture(terminal: "", raster: raster, caption: path)
            s.console.line("""
                wrote \(path) (\(map.width)x\(map.height) and a colour bar, blue-white-red from \
                \(formatNumber(Double(range.lowerBound))) to \(formatNumber(Double(range.upperBound))) stops)
                """)
        } else {
            guard ext == "png" else { throw REPLError("\(name) is \(v.kind.rawValue); export it as .png (a grid) or .npy (the raw tensor)") }
            let (g, note) = try ExploreCommands.grid(s, name, v.tensor, a, defaultCount: exportGridCount)
            let raster = g.pngRaster()
            try AtomicFile.write(raster.png(), to: expanded)
            s.console.picture(terminal: "", raster: raster, caption: path)
            let maps = g.channels.count == 1 ? "one map" : "a grid of \(g.channels.count) maps"
            s.console.line("wrote \(path): \(maps) of \(g.title) (\(note)), each labelled with its channel; colours: \(g.legend)")
        }
    }
}
