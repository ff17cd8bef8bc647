// Where the REPL's output goes: the terminal (with colour only when it is one and the user has
// not asked for none) and the notebook recorder, which keeps plain text and images per cell.
import Foundation

public final class Console {
    /// True when output goes to a terminal: colour, pictures, progress bars redrawn in place.
    public let isTTY: Bool
    /// ANSI colour allowed: a TTY, `NO_COLOR` unset, `TERM` not `dumb`.
    public var colour: Bool
    /// 24-bit colour (`COLORTERM` says truecolor/24bit); otherwise the 256-colour palette.
    public var trueColour: Bool
    /// Terminal width in columns (fixed by `set width`, else asked of the terminal).
    public var fixedWidth: Int?
    private let sink: (String) -> Void
    /// Receives plain text (escape codes removed) and pictures for the notebook.
    var recorder: NotebookRecorder?
    /// A front-end that shows pictures itself (the Jupyter kernel: PNG inline) instead of
    /// having them drawn as terminal text.
    public var pictureHandler: ((Raster, String) -> Void)?
    /// A front-end that shows progress itself (the Jupyter kernel): the line to show, nil to
    /// remove it. Without one, progress is a bar redrawn on a terminal.
    public var progressHandler: ((String?) -> Void)?

    /// A console on standard output, sensing the terminal from the environment.
    public static func standard() -> Console {
        let env = ProcessInfo.processInfo.environment
        let tty = isatty(1) != 0
        let colour = tty && env["NO_COLOR"] == nil && env["TERM"] != "dumb"
        let truecolor = ["truecolor", "24bit"].contains(env["COLORTERM"]?.lowercased() ?? "")
        return Console(isTTY: tty, colour: colour, trueColour: truecolor) { text in
            FileHandle.standardOutput.write(Data(text.utf8))
        }
    }

    /// A console that hands everything to `sink` (tests, lesson runs captured in memory).
    public init(isTTY: Bool = false, colour: Bool = false, trueColour: Bool = true, width: Int? = nil,
                sink: @escaping (String) -> Void) {
        self.isTTY = isTTY
        self.colour = colour
        self.trueColour = trueColour
        self.fixedWidth = width
        self.sink = sink
    }

    /// The terminal's size in characters, when output goes to one that says.
    private var windowSize: winsize? {
        guard isTTY else { return nil }
        var ws = winsize()
        return ioctl(1, UInt(TIOCGWINSZ), &ws) == 0 && ws.ws_col > 0 ? ws : nil
    }

    public var width: Int {
        if let fixedWidth { return fixedWidth }
        if let ws = windowSize { return Int(ws.ws_col) }
        if let c = ProcessInfo.processInfo.environment["COLUMNS"].flatMap(Int.init), c > 20 { return c }
        return 80
    }

    /// Terminal height in rows (40 when unknown), so a picture fits on one screen.
    public var height: Int {
        if let ws = windowSize, ws.ws_row > 0 { return Int(ws.ws_row) }
        return 40
    }

    /// Prints one or more lines (a newline is added).
    public func line(_ text: String = "") {
        sink(text + "\n")
        recorder?.text(Console.stripANSI(text) + "\n")
    }

    /// Terminal-only output: progress bars and pictures, never recorded as text.
    public func terminalOnly(_ text: String) { sink(text) }

    /// A picture: `terminal` goes to the screen, `raster` (with a caption) into the notebook
    /// (encoded there at display size).
    public func picture(terminal: String, raster: Raster?, caption: String) {
        if let pictureHandler {
            if let raster { pictureHandler(raster, caption) }
        } else if !terminal.isEmpty {
            sink(terminal)
        }
        if let raster { recorder?.image(raster, caption: caption) }
    }

    // MARK: - Styles (no-ops without colour)

    public func bold(_ s: String) -> String { style(s, "1") }
    public func dim(_ s: String) -> String { style(s, "2") }
    public func red(_ s: String) -> String { style(s, "31") }
    public func green(_ s: String) -> String { style(s, "32") }
    public func yellow(_ s: String) -> String { style(s, "33") }
    public func cyan(_ s: String) -> String { style(s, "36") }
    private func style(_ s: String, _ code: String) -> String { colour ? "\u{1B}[\(code)m\(s)\u{1B}[0m" : s }

    /// Removes ANSI CSI sequences (ESC [ ... letter) and OSC/APC sequences.
    public static func stripANSI(_ s: String) -> String {
        guard s.contains("\u{1B}") else { return s }
        var out = "", it = Array(s.unicodeScalars), i = 0
        while i < it.count {
            if it[i] == "\u{1B}", i + 1 < it.count {
                if it[i + 1] == "[" {
                    i += 2
                    while i < it.count, !(0x40...0x7E).contains(it[i].value) { i += 1 }
                    i += 1
                    continue
                }
                if it[i + 1] == "_" || it[i + 1] == "P" || it[i + 1] == "]" {   // APC (kitty), DCS (sixel), OSC
                    i += 2
                    while i < it.count, !(it[i] == "\u{1B}" && i + 1 < it.count && it[i + 1] == "\\") && it[i] != "\u{07}" { i += 1 }
                    i += it.indices.contains(i) && it[i] == "\u{07}" ? 1 : 2
                    continue
                }
            }
            out.unicodeScalars.append(it[i]); i += 1
        }
        return out
    }
}
