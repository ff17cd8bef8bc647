// The session itself: variables, history, help, settings, lessons and command files, the
// notebook, and the two lesson directives (`expect`, `pause`).
import DRHTEngine
import DRHTMetrics
import DRHTModel
import Foundation
import DRHTTasks

enum SessionCommands {
    static let all: [Command] = [vars, del, history, help, set, lesson, run, notebook, expect, pause, quit]

    static let vars = Command("vars", summary: "List the session's variables.", usage: "vars", example: "vars") { s, a in
        try a.expectAtMost(0)
        guard !s.variableNames.isEmpty else { s.console.line("no variables yet; `load PATH` or `synth` makes one"); return }
        let rows = s.variableNames.map { name -> [String] in
            let v = s.variables[name]!
            let st = v.tensor.stats
            return [name, v.kind.rawValue, v.tensor.shapeString, "\(formatNumber(Double(st.min)))..\(formatNumber(Double(st.max)))", v.origin]
        }
        for line in ModelCommands.formatTable(header: ["name", "kind", "shape", "range", "from"], rows: rows) { s.console.line(line) }
    }

    static let del = Command("del", summary: "Delete variables.", usage: "del NAME...", example: "del scene.hdr_gt",
                             arguments: [.variable]) { s, a in
        guard !a.positional.isEmpty else { throw REPLError("missing a variable name; usage: del NAME...") }
        for name in a.positional { _ = try s.variable(name) }
        for name in a.positional { s.remove(name) }
        s.console.line("deleted " + a.positional.joined(separator: ", "))
    }

    static let history = Command("history", summary: "The commands run so far in this session.", usage: "history", example: "history") { s, a in
        try a.expectAtMost(0)
        for (i, line) in s.history.dropLast().enumerated() { s.console.line(String(format: "%4d  ", i + 1) + line) }
    }

    static let help = Command(
        "help", summary: "List the commands, or explain one.", usage: "help [COMMAND]", example: "help maps",
        arguments: [.command]
    ) { s, a in
        try a.expectAtMost(1)
        if let name = a.positional.first {
            guard let c = Registry.find(name) else {
                let sug = Registry.suggestions(for: name)
                throw REPLError("no command \"\(name)\"" + (sug.isEmpty ? "; `help` lists them" : "; did you mean \(sug.prefix(3).joined(separator: ", "))?"))
            }
            s.console.line("\(s.console.bold(c.usage))")
            s.console.line("  \(c.summary)")
            if !c.details.isEmpty { for line in wrap(c.details, width: min(s.console.width, 100) - 2) { s.console.line("  " + line) } }
            if !c.options.isEmpty {
                s.console.line("options:")
                let w = c.options.map { ($0.name + " " + $0.values.joined(separator: " ")).count }.max()!
                for o in c.options {
                    s.console.line("  " + (o.name + " " + o.values.joined(separator: " ")).padding(toLength: w + 2, withPad: " ", startingAt: 0) + o.help)
                }
            }
            s.console.line("example: \(c.example)")
            return
        }
        s.console.line("Commands (`help COMMAND` for details, Tab completes names, variables, layers and paths):")
        let w = Registry.commands.map(\.name.count).max()!
        for c in Registry.commands { s.console.line("  " + s.console.bold(c.name.padding(toLength: w, withPad: " ", startingAt: 0)) + "  " + c.summary) }
        s.console.line("Start with `lesson 1`, or: synth, show scene, use scene, step, maps hdr.enc1, infer scene.")
    }

    /// Words of `text` in lines of at most `width` characters.
    static func wrap(_ text: String, width: Int) -> [String] {
        var lines: [String] = [], current = ""
        for word in text.split(separator: " ") {
            if !current.isEmpty && current.count + 1 + word.count > width { lines.append(current); current = "" }
            current += (current.isEmpty ? "" : " ") + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines
    }

    static let set = Command(
        "set", summary: "Change a setting: display, colormap, threads, width, colour, pauses, mode, work-size.",
        usage: "set [KEY VALUE]", example: "set display kitty",
        details: """
            display blocks|kitty|sixel|ascii|none — how pictures are drawn (blocks: colour half blocks). \
            colormap auto|viridis|gray|diverging. threads N — worker threads. width N|auto — picture width in \
            columns. colour on|off. pauses on|off — whether lessons wait at `pause`. mode gain|direct — how \
            `infer` corrects (gain: the network on a small copy, a gain map to every pixel; direct: the network \
            at full resolution). work-size N — the long side of gain mode's copy (32..2048, default \(CorrectionMode.defaultWorkSize)).
            """ + " "
            + "`set` alone shows the current values.",
        arguments: [.words(["display", "colormap", "threads", "width", "colour", "pauses", "mode", "work-size"]),
                    .keyed(["display": Settings.Display.allCases.map(\.rawValue), "colormap": Settings.ColourMap.allCases.map(\.rawValue),
                            "width": ["auto"], "colour": ["on", "off"], "pauses": ["on", "off"], "mode": ["gain", "direct"]])]
    ) { s, a in
        try a.expectAtMost(2)
        guard let key = a.positional.first else {
            let drawn = s.settings.display == .blocks && !s.console.colour ? " (drawn as ASCII here: no colour)" : ""
            s.console.line("display \(s.settings.display.rawValue)\(drawn), colormap \(s.settings.colourMap.rawValue), threads \(EngineThreads.count), "
                           + "width \(s.console.fixedWidth.map(String.init) ?? "auto (\(s.console.width))"), "
                           + "colour \(s.console.colour ? "on" : "off"), pauses \(s.settings.pauses ? "on" : "off"), "
                           + "mode \(s.settings.correction.name), work-size \(s.settings.workSize)")
            return
        }
        let value = try a.positional(1, "a value for \(key)")
        func onOff() throws -> Bool {
            guard value == "on" || value == "off" else { throw REPLError("\(key) takes on or off (got \(value))") }
            return value == "on"
        }
        switch key {
        case "display":
            guard let d = Settings.Display(rawValue: value) else { throw REPLError("display takes blocks, kitty, sixel, ascii or none (got \(value))") }
            s.settings.display = d
        case "colormap", "colourmap":
            guard let m = Settings.ColourMap(rawValue: value) else { throw REPLError("colormap takes auto, viridis, gray or diverging (got \(value))") }
            s.settings.colourMap = m
        case "threads":
            guard let n = Int(value), (1...64).contains(n) else { throw REPLError("threads takes a number from 1 to 64 (got \(value))") }
            EngineThreads.set(n)
        case "width":
            if value == "auto" { s.console.fixedWidth = nil } else {
                guard let n = Int(value), (20...1000).contains(n) else { throw REPLError("width takes 20..1000 or auto (got \(value))") }
                s.console.fixedWidth = n
            }
        case "colour", "color":
            let on = try onOff()
            if on && !s.console.isTTY { throw REPLError("colour needs a terminal; output here is not one") }
            s.console.colour = on
        case "pauses": s.settings.pauses = try onOff()
        case "mode":
            guard value == "gain" || value == "direct" else { throw REPLError("mode takes gain or direct (got \(value))") }
            s.settings.directMode = value == "direct"
        case "work-size":
            guard let n = Int(value), CorrectionMode.workSizes.contains(n) else {
                throw REPLError("work-size takes \(CorrectionMode.workSizes.lowerBound)..\(CorrectionMode.workSizes.upperBound) pixels (got \(value))")
            }
            s.settings.workSize = n
        default: throw REPLError("unknown setting \(key); settings: display, colormap, threads, width, colour, pauses, mode, work-size")
        }
        s.console.line("\(key) = \(value)")
    }

    static let lesson = Command(
        "lesson", summary: "List the lessons, or run one (by number, name or file).",
        usage: "lesson [list | N | NAME | FILE]", example: "lesson 1",
        details: """
            N is a lesson's number (1 to the last; `lesson list` shows them), NAME the start of its name, with \
            or without the number (`lesson gamma`, `lesson 02-gamma`), FILE any command file. At a terminal a \
            lesson waits at each pause: Enter goes on, q (or Ctrl-C, Ctrl-D) leaves the lesson and keeps the \
            session and its variables. Ctrl-C during a command stops that command and the lesson. Outside a \
            terminal (`drht lesson N`, a pipe) pauses are skipped.
            """,
        arguments: [.lesson]
    ) { s, a in
        try a.expectAtMost(1)
        let which = a.positional.first ?? "list"
        if which == "list" {
            let lessons = LessonLibrary.lessons()
            guard !lessons.isEmpty else { throw REPLError("no lessons found (looked in \(ProjectPaths.lessons() ?? "Lessons/")); set DRHT_LESSONS to the folder") }
            for l in lessons { s.console.line(String(format: "%3d  ", l.number) + l.title + s.console.dim("   (\(l.name))")) }
            s.console.line("`lesson N` runs one; at a terminal lessons pause at each step: Enter goes on, q leaves the lesson.")
            return
        }
        let file = try LessonLibrary.find(which)
        try LessonRunner(session: s).run(file: file.path, title: file.title)
    }

    static let run = Command(
        "run", summary: "Run the commands in a file (a lesson without the numbering).",
        usage: "run FILE", example: "run my-steps.drht", arguments: [.path]
    ) { s, a in
        let path = try a.positional(0, "a command file")
        try a.expectAtMost(1)
        try LessonRunner(session: s).run(file: s.inputPath(path), title: nil)
    }

    static let fullPictures = Options.flag("--full", "also write pictures larger than the display size at full resolution, into PATH_files")

    static let notebook = Command(
        "notebook", summary: "Save the session as a notebook: Jupyter (.ipynb), HTML (self-contained) or Markdown.",
        usage: "notebook save PATH.ipynb|PATH.html|PATH.md [--full]", example: "notebook save session.ipynb",
        details: "Every command becomes a cell with its output and its pictures. "
            + "A .ipynb is a Jupyter notebook (nbformat 4): it opens in Jupyter, nbviewer, VS Code and on GitHub, "
            + "narration as markdown cells, commands as code cells with their outputs (the cells hold drht commands, not Python). "
            + "HTML embeds the pictures, so the one file opens in any browser; "
            + "Markdown writes them into a PATH_files folder beside it. "
            + "Pictures are embedded at most \(NotebookRecorder.displaySide) pixels on their long side; "
            + "--full also writes the larger ones at full resolution into PATH_files. A failed command's cell keeps its error.",
        arguments: [.words(["save"]), .path], options: [fullPictures]
    ) { s, a in
        guard a.positional.first == "save" else { throw REPLError("usage: \(a.usage)") }
        let path = try a.positional(1, "a .ipynb, .html or .md path")
        try a.expectAtMost(2)
        let n = try NotebookExport.save(s.notebook, to: (path as NSString).expandingTildeInPath, title: "drht session", full: a.has(fullPictures))
        s.console.line("wrote \(path): \(n.cells) cells, \(n.images) pictures")
    }

    static let expect = Command(
        "expect", summary: "Check a fact about the session (lessons use it as a test).",
        usage: "expect EXPR", example: "expect hdr.latent.shape == 1x512x8x8",
        details: "EXPR compares two values with == != < <= > >=. "
            + "Values: numbers, shapes (1x512x8x8), NAME.shape/.min/.max/.mean/.std/.channels/.height/.width; the metrics "
            + ImageMetric.all.map { m in
                m.name + "(" + ["A", "B", "PHOTO"].prefix(m.reads.rawValue).joined(separator: ", ") + ") (" + m.about + ")"
            }.joined(separator: ", ") + "; "
            + """
                mean(A), clipped(A) (share \
                of pixels black or clipped; black(A): every channel at 0, white(A): a channel at 1), stops(A) (dynamic \
                range in stops: log2 of luminance's 99.5th over its 0.5th percentile, as `info` prints it), \
                stops_clipped(EST, TRUE, PHOTO) and stops_other(EST, TRUE, PHOTO) (`hdrerror`'s mean |error| in stops \
                on PHOTO's clipped pixels and elsewhere), cosine(A, B) (of two images' HDR latents), heldout_before(), heldout_after(), \
                rf_theoretical() and rf_effective() (the last `rf`'s field sides in pixels), similarity(LAYER, EV) \
                (the last `sweep`'s cosine similarity of LAYER at EV to 0 EV; similarity(LAYER) its mean over the \
                exposures; LAYER `input` is the photos themselves), and + - * / ( ).
                """,
        arguments: [.variable]
    ) { s, a in
        let text = a.positional.joined(separator: " ")
        guard !text.isEmpty else { throw REPLError("usage: expect EXPR, e.g. expect scene.shape == 1x3x256x256") }
        let result = try Expectation.evaluate(text, session: s)
        if result.holds {
            s.console.line(s.console.green("✓ ") + text + s.console.dim("   (\(result.detail))"))
        } else if s.expectFailures != nil {
            s.expectFailures!.append("\(text)  (\(result.detail))")
            s.console.line(s.console.red("✗ ") + text + s.console.dim("   (\(result.detail))"))
        } else {
            throw REPLError("expectation failed: \(text)  (\(result.detail))")
        }
    }

    static let pause = Command(
        "pause", summary: "Wait for Enter (in lessons; skipped when not at a terminal); q, Ctrl-C or Ctrl-D leave the lesson.",
        usage: "pause", example: "pause"
    ) { s, a in
        try a.expectAtMost(0)
        if s.settings.pauses, let wait = s.waitForEnter, wait() == .leave { throw LessonLeft() }
    }

    static let quit = Command("quit", summary: "Leave drht (Ctrl-D does too).", usage: "quit", example: "quit") { s, a in
        try a.expectAtMost(0)
        s.finished = true
    }
}
