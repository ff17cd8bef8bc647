// The command-line front-end: each subcommand parses its options into a typed request, calls
// the job in DRHTTasks and prints the result. Nothing here knows the REPL; the `drht`
// executable puts these commands beside the REPL's own (`drht` alone, `drht lesson`).
import ArgumentParser
import DRHTImageIO
import DRHTModel
import DRHTTasks
import DRHTTraining
import Foundation

public enum CLICommands {
    /// In the order `drht --help` lists them.
    public static let all: [ParsableCommand.Type] = [CorrectCommand.self, InfoCommand.self, InitCommand.self, SynthCommand.self,
                                                     TrainCommand.self, EvaluateCommand.self, ConvertCommand.self, AverageCommand.self, CalibrateCommand.self,
                                                     BenchCommand.self]

    /// The one-line text of the errors drht raises itself (nil for ArgumentParser's own).
    public static func oneLine(_ error: Error) -> String? {
        switch error {
        case let e as ImageIOError: return e.description
        case let e as SafeTensorsError: return e.description
        case let e as PipelineError: return e.description
        case let e as TrainingError: return e.description
        case let e as TaskError: return e.description
        case let e as TaskStopped: return e.description
        default: return nil
        }
    }
}

extension TaskMonitor {
    /// A progress bar on stderr when it is a terminal (and not `quiet`); Ctrl-C stops the job
    /// at its next step, a second one exits at once.
    static func standardError(quiet: Bool = false) -> TaskMonitor {
        Interrupt.catchSIGINT(secondExits: true)
        return .terminal(live: !quiet && isatty(2) != 0) { FileHandle.standardError.write(Data($0.utf8)) }
    }
}

/// A line on stderr (what a job is doing, a summary): stdout stays for results (--json).
func note(_ line: String) { FileHandle.standardError.write(Data((line + "\n").utf8)) }
