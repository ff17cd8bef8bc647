// Lessons are command files, Lessons/NN-name.drht: `#` lines are narration (a blank `#` line
// breaks paragraphs), other lines are commands, `pause` waits for Enter on a terminal and
// `expect EXPR` checks a fact, so every lesson is also a test.
import DRHTImageIO
import Foundation
import DRHTTasks

public struct LessonFile {
    public let number: Int
    /// The file name without .drht, e.g. "01-ldr-vs-hdr".
    public let name: String
    public let title: String
    public let path: String
}

public enum LessonLibrary {
    /// The numbered lessons in the lessons folder, in order.
    public static func lessons() -> [LessonFile] {
        guard let dir = ProjectPaths.lessons(),
              let files = try? FileManager.default.contentsOfDirectory(atPath: dir) else { return [] }
        return files.sorted().compactMap { file -> LessonFile? in
            guard file.hasSuffix(".drht"), let number = Int(file.prefix { $0.isNumber }), file.prefix(while: { $0.isNumber }).count >= 1 else { return nil }
            let path = (dir as NSString).appendingPathComponent(file)
            return LessonFile(number: number, name: String(file.dropLast(5)), title: title(of: path), path: path)
        }
    }

    /// The first narration line, without its `#`.
    static func title(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        for line in text.split(separator: "\n") where line.hasPrefix("#") {
            let t = line.dropFirst().trimmingCharacters(in: .whitespaces)
            if !t.isEmpty { return t }
        }
        return ""
    }

    /// A lesson by number (1...N, "03" too), by a unique prefix of its name with or without the
    /// number ("03-enc", "encoder", "gamma": the names Tab offers), or a command file's path.
    public static func find(_ which: String) throws -> LessonFile {
        let all = lessons()
        let listing = all.map { "\($0.number) \(topic(of: $0))" }.joined(separator: ", ")
        guard !which.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw REPLError("lesson takes a number, the start of a name or a file; the lessons are \(listing)")
        }
        let numeric = !which.isEmpty && which.allSatisfy(\.isASCII) && which.allSatisfy(\.isNumber)
        // A command file by its path (works without a lessons folder too).
        let expanded = (which as NSString).expandingTildeInPath
        var isDir: ObjCBool = false
        if !numeric, FileManager.default.fileExists(atPath: expanded, isDirectory: &isDir), !isDir.boolValue,
           which.contains("/") || which.hasSuffix(".drht") {
            return LessonFile(number: 0, name: URL(fileURLWithPath: expanded).deletingPathExtension().lastPathComponent,
                              title: title(of: expanded), path: expanded)
        }
        guard !all.isEmpty else { throw REPLError("no lessons were found (set DRHT_LESSONS to the Lessons folder)") }
        if numeric {
            if let n = Int(which), let l = all.first(where: { $0.number == n }) { return l }
            throw REPLError("no lesson \(printable(which, limit: 20)); the lessons are \(listing)")
        }
        // An exact name or topic wins over longer names that start with it.
        if let exact = all.first(where: { $0.name == which || topic(of: $0) == which }) { return exact }
        let matches = all.filter { $0.name.hasPrefix(which) || topic(of: $0).hasPrefix(which) }
        if matches.count == 1 { return matches[0] }
        if FileManager.default.fileExists(atPath: expanded, isDirectory: &isDir), !isDir.boolValue {
            return LessonFile(number: 0, name: URL(fileURLWithPath: expanded).deletingPathExtension().lastPathComponent,
                              title: title(of: expanded), path: expanded)
        }
        if matches.count > 1 {
            throw REPLError("\"\(printable(which, limit: 40))\" names several lessons: "
                            + matches.map { "\($0.number) \(topic(of: $0))" }.joined(separator: ", ") + "; give more of the name or the number")
        }
        throw REPLError("no lesson \"\(printable(which, limit: 40))\"; the lessons are \(listing) (a number, the start of a name, or a file)")
    }

    /// The name without its number: "gamma-and-log" for "02-gamma-and-log".
    static func topic(of lesson: LessonFile) -> String {
        let rest = lesson.name.drop { $0.isNumber }
        return String(rest.first == "-" ? rest.dropFirst() : rest)
    }
}

/// What a learner answered at a `pause`.
public enum PauseAnswer: Equatable, Sendable {
    case goOn, leave

    /// Enter (or anything else) goes on; `q`, `quit`, `exit` leave.
    public static func from(_ line: String?) -> PauseAnswer {
        guard let line else { return .leave }
        return ["q", "quit", "exit"].contains(line.trimmingCharacters(in: .whitespaces).lowercased()) ? .leave : .goOn
    }

    /// The prompt shown at a pause.
    public static let prompt = "(Enter to go on, q to leave the lesson) "
}

/// Thrown by `pause` when the learner leaves: the lesson ends, the session and its variables stay.
struct LessonLeft: Error, CustomStringConvertible {
    var description: String { "left the lesson" }
}

/// Runs a command file in a session: narration printed as paragraphs, commands echoed and run.
public struct LessonRunner {
    let session: Session

    public init(session: Session) { self.session = session }

    /// One item of a command file.
    enum Item: Equatable {
        case narration([String])    // paragraphs
        case command(String, line: Int)
    }

    static func parse(_ text: String) -> [Item] {
        var items: [Item] = []
        var paragraphs: [String] = [], current = ""
        func flushParagraph() { if !current.isEmpty { paragraphs.append(current); current = "" } }
        func flushNarration() { flushParagraph(); if !paragraphs.isEmpty { items.append(.narration(paragraphs)); paragraphs = [] } }
        for (i, raw) in text.components(separatedBy: "\n").enumerated() {
            let line = raw.trimmingCharacters(in: .whitespaces)
            if line.hasPrefix("#") {
                let words = line.drop { $0 == "#" }.trimmingCharacters(in: .whitespaces)
                if words.isEmpty { flushParagraph() } else { current += (current.isEmpty ? "" : " ") + words }
            } else if line.isEmpty {
                flushNarration()
            } else {
                flushNarration()
                items.append(.command(line, line: i + 1))
            }
        }
        flushNarration()
        return items
    }

    /// How deep `run FILE` may nest (a file that runs itself would recurse until the stack overflows).
    public static let maxNesting = 16

    /// Passed up through every level unwrapped, so the message stays one short line.
    struct TooDeep: Error, CustomStringConvertible {
        let file: String
        var description: String {
            "\(URL(fileURLWithPath: file).lastPathComponent): command files run each other more than \(LessonRunner.maxNesting) deep (does one `run` itself?)"
        }
    }

    /// A lesson's notebook without running it: its narration and its commands as cells (no
    /// `pause`, which does nothing in a notebook), to run in Jupyter with the drht kernel.
    public static func cells(file path: String) throws -> NotebookRecorder {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw REPLError(Session.describe(error)) }
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw REPLError("\(path) is not a text file; a lesson is lines of commands and # narration") }
        let notebook = NotebookRecorder()
        for item in parse(text) {
            switch item {
            case .narration(let paragraphs): for p in paragraphs { notebook.narration(p) }
            case .command(let line, _): if line != "pause" { notebook.unrunCell(line) }
            }
        }
        return notebook
    }

    public func run(file path: String, title: String?) throws {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path) } catch { throw REPLError(Session.describe(error)) }
        guard let text = String(bytes: bytes, encoding: .utf8) else { throw REPLError("\(path) is not a text file; a lesson is lines of commands and # narration") }
        let items = LessonRunner.parse(text)
        guard session.scriptDirectories.count < LessonRunner.maxNesting else { throw TooDeep(file: path) }
        session.scriptDirectories.append(URL(fileURLWithPath: path).deletingLastPathComponent().path)
        defer { session.scriptDirectories.removeLast() }
        let console = session.console
        let name = URL(fileURLWithPath: path).lastPathComponent
        if let title { console.line(console.bold("── \(title) ") + console.dim("(\(name))")) }
        let width = min(console.width, 88) - 2
        for item in items {
            if Interrupt.isRequested { throw REPLError("\(name) stopped (Ctrl-C)") }
            switch item {
            case .narration(let paragraphs):
                for p in paragraphs {
                    session.notebook.narration(p)
                    for line in SessionCommands.wrap(p, width: width) { console.terminalOnly((console.colour ? console.cyan(line) : line) + "\n") }
                    console.terminalOnly("\n")
                }
            case .command(let line, let number):
                if line == "pause" && !(session.settings.pauses && session.waitForEnter != nil) { continue }
                if line != "pause" {
                    console.terminalOnly(console.isTTY ? console.bold("drht> ") + line + "\n" : "> " + line + "\n")
                }
                do {
                    try session.execute(line)
                } catch let error as TooDeep {
                    throw error
                } catch let left as LessonLeft {
                    // Only the outermost file reports it; nested `run`s pass it up.
                    guard session.scriptDirectories.count == 1 else { throw left }
                    console.line("left \(name) at line \(number); the session keeps its variables (`vars` lists them)")
                    return
                } catch {
                    throw REPLError("\(name):\(number): `\(line)`: \(Session.describe(error))")
                }
                if session.finished { return }
            }
        }
    }
}
