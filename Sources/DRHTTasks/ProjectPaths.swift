// Where the project's files are (weights, lessons), found from the executable's location, so
// drht works from any working directory, or failing that from the current directory upwards;
// and the one weights resolver: --weights, then $DRHT_WEIGHTS, then Weights/drht.safetensors.
import DRHTModel
import Foundation

public enum ProjectPaths {
    /// The folder holding Package.swift, Weights/ and Lessons/.
    public static func root() -> URL? {
        let exe = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        for start in [URL(fileURLWithPath: exe).deletingLastPathComponent(), URL(fileURLWithPath: FileManager.default.currentDirectoryPath)] {
            var dir = start.standardizedFileURL
            while dir.path != "/" {
                if FileManager.default.fileExists(atPath: dir.appendingPathComponent("Package.swift").path),
                   FileManager.default.fileExists(atPath: dir.appendingPathComponent("Weights").path) {
                    return dir
                }
                dir = dir.deletingLastPathComponent()
            }
        }
        return nil
    }

    /// $DRHT_LESSONS, else the project's Lessons/ folder.
    public static func lessons() -> String? {
        if let env = ProcessInfo.processInfo.environment["DRHT_LESSONS"], !env.isEmpty { return env }
        return root()?.appendingPathComponent("Lessons").path
    }
}

/// Which weights file a job uses, and how it was chosen.
public enum WeightsResolver {
    public static let relativePath = "Weights/drht.safetensors"

    /// `option` (--weights), else $DRHT_WEIGHTS, else the project's Weights/drht.safetensors.
    public static func resolve(_ option: String?) -> (path: String, source: String) {
        if let option { return (option, "--weights") }
        if let env = ProcessInfo.processInfo.environment["DRHT_WEIGHTS"], !env.isEmpty { return (env, "$DRHT_WEIGHTS") }
        return (ProjectPaths.root()?.appendingPathComponent(relativePath).path ?? relativePath, "the project's \(relativePath)")
    }

    /// The resolved file when it exists.
    public static func existing(_ option: String?) -> String? {
        let path = resolve(option).path
        return FileManager.default.fileExists(atPath: path) ? path : nil
    }

    /// Loads the model, or explains in one line how to get weights when the file is missing.
    public static func load(_ option: String?) throws -> (model: DRHT, path: String) {
        let (path, source) = resolve(option)
        guard FileManager.default.fileExists(atPath: path) else {
            throw TaskError("no weights at \(path) (\(source)); make untrained ones with `drht init -o \(path)`, "
                            + "or pass --weights FILE / set DRHT_WEIGHTS")
        }
        return (try DRHT.load(path), path)
    }
}
