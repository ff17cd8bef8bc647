// Tab completion as a pure function of the line so far: which words fit the word being typed.
// The readline glue (LineEditor.swift) only asks this and hands readline the answer.
import DRHTModel
import Foundation

public enum Completion {
    /// What an argument completes to.
    public enum Kind: Equatable {
        case none
        case command
        case variable
        /// A pipeline step / layer name (`hdr.enc3`), plus variables holding feature maps.
        case layer
        case path
        case lesson
        /// A number to explain (`saliency`): `hdr.latent:`, `out[`, `psnr:NAME`, ...
        case target
        case words([String])
        /// Words that depend on the argument before (`set mode <Tab>` offers gain, direct).
        case keyed([String: [String]])
    }

    public enum Result: Equatable {
        case words([String])
        /// Let readline complete file names.
        case paths
    }

    /// Candidates for `word`, the word under the cursor, given the text of the line before it.
    public static func complete(before: String, word: String, session: Session) -> Result {
        let previous = (try? Arguments.words(before)) ?? before.split(separator: " ").map(String.init)
        if previous.isEmpty {
            return .words(filter(Registry.commands.map(\.name), word))
        }
        guard let command = Registry.find(previous[0]) else { return .words([]) }
        let args = Array(previous.dropFirst())
        if args.last == "as" && command.namesResult { return .words([]) }
        if word.hasPrefix("-") { return .words(filter(command.options.map(\.name), word)) }
        // Inside an option's values?
        var i = 0, positionalIndex = 0
        while i < args.count {
            if let spec = command.options.first(where: { $0.name == args[i] }) {
                if args.count - i - 1 < spec.values.count { return candidates(spec.completion, word, session) }
                i += 1 + spec.values.count
            } else if args[i] == "as" && command.namesResult {
                i += 2
            } else {
                positionalIndex += 1; i += 1
            }
        }
        guard !command.arguments.isEmpty else { return .words([]) }
        let kind = command.arguments[min(positionalIndex, command.arguments.count - 1)]
        if case .keyed(let byKey) = kind {
            return .words(filter(args.last.flatMap { byKey[$0] } ?? [], word))
        }
        return candidates(kind, word, session)
    }

    static func candidates(_ kind: Kind, _ word: String, _ session: Session) -> Result {
        switch kind {
        case .none: return .words([])
        case .path: return .paths
        case .command: return .words(filter(Registry.commands.map(\.name), word))
        case .variable: return .words(filter(session.variableNames, word))
        case .layer:
            let layers = Pipeline.stepNames.filter { $0 != "transform" }
            let features = session.variableNames.filter { session.variables[$0]?.kind == .features }
            return .words(filter(Array(Set(layers + features)).sorted(), word))
        case .lesson:
            // Every word `lesson` accepts: numbers, names, and names without their number.
            let lessons = LessonLibrary.lessons().flatMap { [String($0.number), $0.name, LessonLibrary.topic(of: $0)] } + ["list"]
            return .words(filter(lessons, word))
        case .target:
            for prefix in ["psnr:", "mse:"] where word.hasPrefix(prefix) {
                return .words(filter(session.variableNames.map { prefix + $0 }, word))
            }
            return .words(filter(DRHT.probeSteps.map { $0 + ":" } + ["out", "out[", "psnr:", "mse:"], word))
        case .words(let list): return .words(filter(list, word))
        case .keyed: return .words([])
        }
    }

    static func filter(_ list: [String], _ prefix: String) -> [String] {
        list.filter { $0.hasPrefix(prefix) }
    }
}
