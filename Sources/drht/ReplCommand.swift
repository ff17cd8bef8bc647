// `drht` with no arguments: the notebook-style REPL. At a terminal it is interactive (readline,
// Tab completion, history); with commands piped in it runs them, echoing each, and stops with
// status 1 at the first failing one (or, with --keep-going, runs them all and ends with status 1).
import ArgumentParser
import DRHTEngine
import DRHTREPL
import Foundation

struct ReplCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "repl",
        abstract: "The interactive notebook-style REPL (what `drht` alone starts).",
        discussion: "Examples: drht            (at a terminal: interactive)\n          drht < steps.drht   (runs the commands, echoing each)"
    )

    @Flag(help: "With commands piped in: go on after a failing command (the exit status is still 1).")
    var keepGoing = false
    @OptionGroup var common: SessionOptions

    func run() throws {
        let session = try common.session()
        let status = isatty(0) != 0 && isatty(1) != 0 ? REPL.interactive(session: session) : REPL.piped(session: session, keepGoing: keepGoing)
        if status != 0 { throw ExitCode(status) }
    }
}

struct LessonCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lesson",
        abstract: "Run a lesson from Lessons/ (or any command file) from start to end.",
        discussion: "Examples: drht lesson list\n          drht lesson 1 --notebook lesson1.ipynb"
    )

    @Argument(help: "A lesson number, name or file, or `list`.") var which: String = "list"
    @Option(help: "Also save the run as a notebook (.ipynb for Jupyter, .html or .md).", completion: .file(extensions: ["ipynb", "html", "md"]))
    var notebook: String?
    @Flag(help: "Run every expect even after one fails, list the failures at the end (exit status 1 if any).")
    var keepGoing = false
    @Flag(help: "With --notebook: write the lesson's cells without running it, to run in Jupyter (the drht kernel).")
    var cellsOnly = false
    @OptionGroup var common: SessionOptions

    func run() throws {
        let session = try common.session()
        if isatty(0) != 0 && isatty(1) != 0 {
            session.waitForEnter = {
                FileHandle.standardOutput.write(Data(PauseAnswer.prompt.utf8))
                return PauseAnswer.from(readLine())
            }
        }
        if which == "list" {
            guard session.executeReporting("lesson list") else { throw ExitCode(1) }
            return
        }
        let status = REPL.lesson(which, session: session, notebook: notebook, keepGoing: keepGoing, cellsOnly: cellsOnly)
        if status != 0 { throw ExitCode(status) }
    }
}

/// Options shared by the REPL and `drht lesson`.
struct SessionOptions: ParsableArguments {
    @Option(help: "Weights to load (default: $DRHT_WEIGHTS, else the project's Weights/drht.safetensors).",
            completion: .file(extensions: ["safetensors"]))
    var weights: String?
    @Option(help: "Worker threads (default: all cores).") var threads: Int?

    /// A session on standard output with these options applied.
    func session() throws -> Session {
        if let threads { EngineThreads.set(threads) }
        let session = Session(console: Console.standard())
        if let weights {
            session.defaultWeightsPath = (weights as NSString).expandingTildeInPath      // what `model default` returns to
            try session.loadModel(weights, recording: true)
        }
        return session
    }
}
