// The read-eval-print loop, in its two forms: at a terminal (readline, prompt, colour, Ctrl-C
// returns to the prompt) and not at one (commands read from standard input and echoed, no
// escape codes, the first failing command ends the run with status 1).
import Foundation
import DRHTTasks

public enum REPL {
    /// Interactive at a terminal. Returns the exit status.
    public static func interactive(session: Session) -> Int32 {
        Interrupt.catchSIGINT(secondExits: false)
        let editor = LineEditor(session: session)
        editor.prepareHistoryFile()
        session.waitForEnter = {
            let prompt = session.console.colour ? "\u{1}\u{1B}[2m\u{2}" + PauseAnswer.prompt + "\u{1}\u{1B}[0m\u{2}" : PauseAnswer.prompt
            switch editor.readLine(prompt: prompt, interruptEnds: true, remember: false) {
            case .line(let text): return PauseAnswer.from(text)
            case .endOfInput, .interrupted: return .leave
            }
        }
        let c = session.console
        c.line(c.bold("drht") + " — see how the DRHT network corrects badly exposed photos.")
        c.line("`help` lists commands, `lesson 1` starts the first lesson, Ctrl-D leaves.")
        let prompt = c.colour ? "\u{1}\u{1B}[1;32m\u{2}drht>\u{1}\u{1B}[0m\u{2} " : "drht> "
        while !session.finished {
            switch editor.readLine(prompt: prompt) {
            case .endOfInput:
                FileHandle.standardOutput.write(Data("\n".utf8))
                return 0
            case .interrupted:
                continue
            case .line(let line):
                session.executeReporting(line)
                if Interrupt.isRequested { Interrupt.clear() }
            }
        }
        return 0
    }

    /// Commands from `input` (a pipe or file), echoed as `> command`. Stops at the first
    /// failing command with status 1; with `keepGoing`, runs every command and returns 1 at the
    /// end if any failed.
    public static func piped(session: Session, keepGoing: Bool = false,
                             readLine: () -> String? = { Swift.readLine(strippingNewline: true) }) -> Int32 {
        Interrupt.catchSIGINT(secondExits: true)
        var status: Int32 = 0
        while !session.finished, let line = readLine() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty { continue }
            if trimmed.hasPrefix("#") { session.console.line(trimmed); continue }
            session.console.terminalOnly("> \(trimmed)\n")
            if !session.executeReporting(trimmed) {
                status = 1
                if !keepGoing { return 1 }
            }
            if keepGoing && Interrupt.isRequested { Interrupt.clear() }
        }
        return status
    }

    /// Runs a lesson (number, name or file) without a terminal; optionally saves the notebook.
    /// With `keepGoing`, a failing `expect` is listed and the lesson goes on; the status is 1
    /// if any failed.
    public static func lesson(_ which: String, session: Session, notebook: String?, keepGoing: Bool = false, cellsOnly: Bool = false) -> Int32 {
        Interrupt.catchSIGINT(secondExits: true)
        if cellsOnly {
            do {
                guard let notebook else { throw REPLError("--cells-only writes a notebook: give it --notebook FILE.ipynb") }
                let file = try LessonLibrary.find(which)
                let n = try NotebookExport.save(try LessonRunner.cells(file: file.path), to: notebook, title: file.title)
                session.console.line("wrote \(notebook): \(n.cells) cells, not run (open it in Jupyter with the drht kernel: `make jupyter`)")
                return 0
            } catch {
                FileHandle.standardError.write(Data("drht: \(Session.describe(error))\n".utf8))
                return 1
            }
        }
        if keepGoing { session.expectFailures = [] }
        do {
            let file = try LessonLibrary.find(which)
            try LessonRunner(session: session).run(file: file.path, title: file.title)
            if let notebook {
                let n = try NotebookExport.save(session.notebook, to: notebook, title: file.title)
                session.console.line("wrote \(notebook): \(n.cells) cells, \(n.images) pictures")
            }
            if let failed = session.expectFailures, !failed.isEmpty {
                FileHandle.standardError.write(Data(("drht: \(failed.count) expectation\(failed.count == 1 ? "" : "s") failed in \(file.name):\n"
                                                     + failed.map { "  ✗ " + $0 + "\n" }.joined()).utf8))
                return 1
            }
            return 0
        } catch {
            FileHandle.standardError.write(Data("drht: \(Session.describe(error))\n".utf8))
            if let notebook { _ = try? NotebookExport.save(session.notebook, to: notebook, title: "drht lesson \(which) (stopped)") }
            return 1
        }
    }
}
