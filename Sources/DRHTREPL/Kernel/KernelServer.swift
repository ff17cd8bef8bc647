// The REPL's third form, for a program instead of a person: the machine protocol that the
// Jupyter kernel (jupyter/drht_kernel.py) speaks to one long-lived `drht kernel` process. One
// JSON object per line each way. Requests on standard input:
//
//   {"op": "execute", "code": "load a.png as a\nshow a"}   lines run in order, `#` lines narrate
//   {"op": "complete", "code": "show sc", "cursor": 7}      the REPL's own Tab completion
//   {"op": "inspect", "code": "maps hdr", "cursor": 2}      `help COMMAND` of the word at the cursor
//   {"op": "is_complete", "code": "load \"a b"}             complete, or invalid (an unclosed quote)
//
// A request may carry an "id"; its closing event carries it back. Cursors count Unicode code
// points, as Jupyter does. Events on standard output: "stream" (text), "display" (a picture as
// PNG, base64), "progress" (a line to show in place; text null empties it), "error" (one line),
// and for each request exactly one closing event: "done" (execute: status ok or error, whether
// the session changed, whether Ctrl-C stopped it), "completions", "inspection" or "is_complete".
// "ready" is sent once at start. Ctrl-C (SIGINT, the notebook's stop button) stops the running
// command at its next safe point; the cell ends there and the session goes on. Nothing else is
// written to standard output.
import DRHTImageIO
import DRHTTasks
import Foundation

public final class KernelServer {
    /// One line of the protocol from drht.
    struct Event: Encodable {
        var event: String
        var text: String?
        var png: String?
        var width: Int?
        var height: Int?
        var caption: String?
        var message: String?
        var status: String?
        var changed: Bool?
        var matches: [String]?
        var start: Int?
        var end: Int?
        var found: Bool?
        var indent: String?
        var version: String?
        var interrupted: Bool?
        var id: Int?
        init(_ event: String) { self.event = event }
    }

    /// One request to drht.
    struct Request: Decodable {
        var op: String
        var code: String?
        var cursor: Int?
        var id: Int?
    }

    /// Pictures are sent at most this many pixels on their long side: as notebooks keep them.
    public static let displaySide = NotebookRecorder.displaySide

    public let session: Session
    private let emit: (String) -> Void
    /// Where console text goes: a stream event while a command runs, or a buffer (help text for
    /// `inspect`).
    private var capture: String?
    private var pendingText = ""
    private var lastFlush = DispatchTime.now()
    /// The id of the request being answered, echoed by its closing event.
    private var requestID: Int?

    /// A server over a session it makes, writing events through `emit` (a JSON line, without
    /// its newline).
    public init(width: Int = 90, emit: @escaping (String) -> Void) {
        self.emit = emit
        var forward: ((String) -> Void)?
        let console = Console(isTTY: false, colour: false, width: width) { forward?($0) }
        session = Session(console: console)
        forward = { [unowned self] text in self.text(text) }
        console.pictureHandler = { [unowned self] raster, caption in self.picture(raster, caption: caption) }
        console.progressHandler = { [unowned self] line in
            self.flushText()
            var e = Event("progress"); e.text = line
            self.send(e)
        }
        // Nobody waits at a lesson's `pause` in a notebook: it does nothing.
        session.waitForEnter = nil
        // Relative paths not found from the notebook's folder are looked up in Lessons/, so a
        // lesson notebook's `load photos/garden.jpg` works from anywhere.
        if let lessons = ProjectPaths.lessons() { session.scriptDirectories = [lessons] }
    }

    /// Serves requests from `readLine` until it returns nil (the kernel closed the pipe).
    /// `catchSignals`: Ctrl-C requests a stop instead of ending the process (tests leave it).
    public func serve(catchSignals: Bool = true, readLine: () -> String? = KernelServer.readRequestLine) {
        if catchSignals { Interrupt.catchSIGINT(secondExits: false) }
        var ready = Event("ready"); ready.version = "1"
        send(ready)
        while let line = readLine() {
            guard !line.trimmingCharacters(in: .whitespaces).isEmpty else { continue }
            handle(line)
            if session.finished { return }
        }
    }

    /// A line of standard input, or nil at its end. A Ctrl-C that arrives while drht waits
    /// here (SIGINT is caught without SA_RESTART) interrupts the read: it is not the end, and
    /// there is nothing left to stop, so it reads again.
    public static func readRequestLine() -> String? {
        while true {
            if let line = Swift.readLine(strippingNewline: true) { return line }
            guard ferror(stdin) != 0, feof(stdin) == 0 else { return nil }
            clearerr(stdin)
            Interrupt.clear()
        }
    }

    /// Answers one request line.
    func handle(_ line: String) {
        guard let data = line.data(using: .utf8), let request = try? JSONDecoder().decode(Request.self, from: data) else {
            requestID = nil
            var e = Event("done"); e.status = "error"; e.message = "not a request: one JSON object per line, with an \"op\""
            send(e)
            return
        }
        requestID = request.id
        let code = request.code ?? ""
        switch request.op {
        case "execute": execute(code)
        case "complete": complete(code, cursor: request.cursor ?? code.count)
        case "inspect": inspect(code, cursor: request.cursor ?? code.count)
        case "is_complete": isComplete(code)
        default:
            var e = Event("done"); e.status = "error"; e.message = "unknown op \"\(request.op)\"; ops are execute, complete, inspect, is_complete"
            send(e)
        }
    }

    // MARK: - Requests

    /// Runs the cell's lines in order (`#` lines are printed as narration); stops at the first
    /// failing line, or where Ctrl-C stopped a command, as a cell in a notebook should.
    func execute(_ code: String) {
        let before = session.revision
        var failure: String?, interrupted = false
        Interrupt.clear()
        for raw in code.components(separatedBy: "\n") {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            if line.hasPrefix("#") {
                let words = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                if !words.isEmpty { session.console.line(words) }
                continue
            }
            if Interrupt.isRequested { interrupted = true; break }
            if let first = (try? Arguments.words(line))?.first, ["quit", "exit"].contains(first) {
                failure = "in Jupyter the session lives as long as the kernel: Kernel > Restart starts a fresh one, Kernel > Shut Down ends it"
                break
            }
            do {
                try session.execute(line)
            } catch is LessonLeft {
                continue
            } catch {
                failure = Session.describe(error)
                break
            }
            flushText()
            if Interrupt.isRequested { interrupted = true; break }
        }
        flushText()
        if let failure {
            var e = Event("error"); e.message = failure
            send(e)
        }
        var done = Event("done")
        done.status = failure == nil && !interrupted ? "ok" : "error"
        if interrupted, failure == nil { done.message = "interrupted (Ctrl-C): the cell stopped there; the session keeps what it made" }
        done.interrupted = interrupted
        done.changed = session.revision != before
        send(done)
        Interrupt.clear()
    }

    /// The REPL's completion of the word that ends at `cursor` (in code points).
    func complete(_ code: String, cursor: Int) {
        let (lineStart, before) = lineBefore(code, cursor: cursor)
        let wordStart = before.lastIndex(where: { $0 == " " || $0 == "\t" }).map { $0 + 1 } ?? 0
        let word = String(String.UnicodeScalarView(before[wordStart...])), head = String(String.UnicodeScalarView(before[..<wordStart]))
        var matches: [String]
        switch Completion.complete(before: head, word: word, session: session) {
        case .words(let words): matches = words
        case .paths: matches = KernelServer.paths(word)
        }
        var e = Event("completions"); e.matches = matches
        e.end = lineStart + before.count; e.start = lineStart + wordStart
        send(e)
    }

    /// Shift-Tab: the help of the command on the cursor's line (not kept in the history or the
    /// session's notebook: asking is not doing).
    func inspect(_ code: String, cursor: Int) {
        let scalars = Array(code.unicodeScalars)
        var start = min(max(0, cursor), scalars.count)
        while start > 0, scalars[start - 1] != "\n" { start -= 1 }
        let line = String(String.UnicodeScalarView(scalars[start...].prefix { $0 != "\n" }))
        let name = line.split(separator: " ").first.map(String.init) ?? ""
        var e = Event("inspection")
        e.found = false
        if Registry.find(name) != nil, let help = Registry.find("help"), let args = try? Arguments([name], command: help) {
            capture = ""
            try? help.run(session, args)
            e.text = capture; e.found = true
            capture = nil
        }
        send(e)
    }

    /// Whether a cell can run as it is: each line is one command, so a cell is complete unless a
    /// line cannot be split into words (an unclosed quote: "invalid", it would fail).
    func isComplete(_ code: String) {
        var e = Event("is_complete")
        let lines = code.components(separatedBy: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("#") }
        e.status = lines.allSatisfy { (try? Arguments.words($0)) != nil } ? "complete" : "invalid"
        e.indent = ""
        send(e)
    }

    // MARK: - Output

    private func text(_ s: String) {
        if capture != nil { capture! += s; return }
        pendingText += s
        // Whole lines go out at once, or at least every 0.2 s, so a slow command's lines appear
        // as they come without one message per line of a long table.
        let waited = DispatchTime.now().uptimeNanoseconds - lastFlush.uptimeNanoseconds
        if pendingText.utf8.count > 4096 || s.hasSuffix("\n") && waited > 200_000_000 { flushText() }
    }

    private func flushText() {
        guard !pendingText.isEmpty else { return }
        var e = Event("stream"); e.text = pendingText
        pendingText = ""
        lastFlush = DispatchTime.now()
        send(e)
    }

    private func picture(_ raster: Raster, caption: String) {
        guard raster.width > 0, raster.height > 0 else { return }
        flushText()
        let long = max(raster.width, raster.height), side = KernelServer.displaySide
        let shown = long <= side ? raster
            : raster.resized(width: max(1, (side * raster.width + long / 2) / long), height: max(1, (side * raster.height + long / 2) / long))
        let png = shown.png()
        guard !png.isEmpty else { return }
        var e = Event("display")
        e.png = Data(png).base64EncodedString(); e.width = shown.width; e.height = shown.height; e.caption = caption
        send(e)
    }

    private func send(_ event: Event) {
        var e = event
        if ["done", "completions", "inspection", "is_complete"].contains(e.event) { e.id = requestID }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(e) else { return }
        emit(String(decoding: data, as: UTF8.self))
    }

    // MARK: - Helpers

    /// The offset of the cursor's line and that line's code points before the cursor (Jupyter
    /// counts code points; an emoji or an accent earlier in the cell moves nothing).
    private func lineBefore(_ code: String, cursor: Int) -> (Int, [Unicode.Scalar]) {
        let scalars = Array(code.unicodeScalars)
        let end = min(max(0, cursor), scalars.count)
        var start = end
        while start > 0, scalars[start - 1] != "\n" { start -= 1 }
        return (start, Array(scalars[start..<end]))
    }

    /// File and folder names that start with `word` (folders end in /), for path arguments.
    static func paths(_ word: String) -> [String] {
        if ["~", ".", ".."].contains(word) || word.hasSuffix("/.") || word.hasSuffix("/..") { return [word + "/"] }
        let expanded = (word as NSString).expandingTildeInPath
        let (dir, prefix): (String, String) = expanded.hasSuffix("/") ? (expanded, "")
            : ((expanded as NSString).deletingLastPathComponent, (expanded as NSString).lastPathComponent)
        let folder = dir.isEmpty ? "." : dir
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        let typedDir = word.hasSuffix("/") ? word : String(word.dropLast(prefix.count))
        return names.filter { $0.hasPrefix(prefix) && (!$0.hasPrefix(".") || prefix.hasPrefix(".")) }.sorted().map { name in
            var isDir: ObjCBool = false
            FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(name), isDirectory: &isDir)
            return typedDir + name + (isDir.boolValue ? "/" : "")
        }
    }
}
