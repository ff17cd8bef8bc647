// drht — the command-line entry point. Each subcommand is a small struct in its own file.
import ArgumentParser
import DRHTImageIO
import DRHTModel
import DRHTTraining
import Foundation

@main
struct DRHTTool: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "drht",
        abstract: "Learn how the DRHT network (CVPR 2018) corrects badly exposed photos.",
        discussion: """
        DRHT estimates the HDR image behind an LDR photo with one autoencoder, carries it into \
        the HDR domain with a gamma + log transform, and maps it back to a corrected LDR image \
        with a second autoencoder.
        """,
        subcommands: [CorrectCommand.self, InfoCommand.self, InitCommand.self, SynthCommand.self, TrainCommand.self, BenchCommand.self]
    )

    /// Errors the user can act on print as one line, `drht: <file>: <problem>; <what to do>`,
    /// and exit with status 1; argument mistakes get ArgumentParser's usage message.
    static func main() {
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as ImageIOError {
            FileHandle.standardError.write(Data("drht: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as SafeTensorsError {
            FileHandle.standardError.write(Data("drht: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as PipelineError {
            FileHandle.standardError.write(Data("drht: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as TrainingError {
            FileHandle.standardError.write(Data("drht: \(error)\n".utf8))
            Foundation.exit(1)
        } catch let error as UserError {
            FileHandle.standardError.write(Data("drht: \(error.message)\n".utf8))
            Foundation.exit(1)
        } catch {
            exit(withError: error)
        }
    }
}

/// A one-line error for the user, with what to do next.
struct UserError: Error {
    let message: String
    init(_ message: String) { self.message = message }
}
