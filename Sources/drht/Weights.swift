// Where the weights come from: --weights, then $DRHT_WEIGHTS, then the project's
// Weights/drht.safetensors, found from the executable's location (so drht works from any
// working directory) or, failing that, from the current directory upwards.
import DRHTModel
import DRHTREPL
import Foundation

enum WeightsLocator {
    static let relativePath = "Weights/drht.safetensors"

    /// The weights file to use and how it was chosen.
    static func resolve(_ option: String?) -> (path: String, source: String) {
        if let option { return (option, "--weights") }
        if let env = ProcessInfo.processInfo.environment["DRHT_WEIGHTS"], !env.isEmpty { return (env, "$DRHT_WEIGHTS") }
        return (projectWeights() ?? relativePath, "the project's \(relativePath)")
    }

    /// The project's Weights/drht.safetensors, found from the executable or the current directory.
    static func projectWeights() -> String? {
        ProjectPaths.root()?.appendingPathComponent(relativePath).path
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
