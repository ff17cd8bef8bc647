// Where the weights come from: --weights, then $DRHT_WEIGHTS, then the project's
// Weights/drht.safetensors, found from the executable's location (so drht works from any
// working directory) or, failing that, from the current directory upwards.
import DRHTModel
import Foundation

enum WeightsLocator {
    static let relativePath = "Weights/drht.safetensors"

    /// The weights file to use and how it was chosen.
    static func resolve(_ option: String?) -> (path: String, source: String) {
        if let option { return (option, "--weights") }
        if let env = ProcessInfo.processInfo.environment["DRHT_WEIGHTS"], !env.isEmpty { return (env, "$DRHT_WEIGHTS") }
        return (projectWeights() ?? relativePath, "the project's \(relativePath)")
    }

    /// Walks up from the executable (…/.build/release/drht) and from the current directory to the
    /// folder holding Package.swift, and returns its Weights/drht.safetensors.
    static func projectWeights() -> String? {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        for start in [URL(fileURLWithPath: exe).deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start.standardizedFileURL
            while dir.path != "/" {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                   FileManager.default.fileExists(atPath: dir.appendingPathComponent("Weights").path) {
                    return dir.appendingPathComponent(relativePath).path
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// Loads the model, or explains how to get weights when the file is missing.
    static func load(_ option: String?) throws -> (DRHT, String) {
        let (path, source) = resolve(option)
        guard FileManager.default.fileExists(atPath: path) else {
            throw UserError("no weights at \(path) (\(source)); make untrained ones with `drht init -o \(path)`, "
                            + "or pass --weights FILE / set DRHT_WEIGHTS")
        }
        return (try DRHT.load(path), path)
    }
}
