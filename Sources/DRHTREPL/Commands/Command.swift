// A REPL command is a small value: name, one-line summary, usage, an example, what its
// arguments complete to, and the function that runs it. `help` and Tab completion are
// generated from these values, so they cannot drift from what the commands accept.

public struct Command {
    public let name: String
    public let summary: String
    /// e.g. "load PATH [as NAME]".
    public let usage: String
    public let example: String
    /// A longer explanation shown by `help NAME` (optional).
    public let details: String
    /// What each positional argument completes to, in order (the last one repeats for `...`).
    public let arguments: [Completion.Kind]
    public let options: [OptionSpec]
    /// Accepts a trailing `as NAME`.
    public let namesResult: Bool
    public let run: (Session, Arguments) throws -> Void

    /// `usage` defaults to one generated from `synopsis` (the positional arguments, e.g.
    /// "NAME [NAME...]"), the options and `as NAME`; give it only for a grammar that is not
    /// "arguments, options, as NAME" (sub-commands, alternative forms).
    public init(_ name: String, summary: String, usage: String? = nil, synopsis: String = "", example: String,
                details: String = "", arguments: [Completion.Kind] = [], options: [any DeclaredOption] = [],
                namesResult: Bool = false, run: @escaping (Session, Arguments) throws -> Void) {
        let specs = options.map(\.spec)
        self.name = name; self.summary = summary; self.example = example
        self.usage = usage ?? ([name, synopsis] + specs.map(\.usage) + (namesResult ? ["[as OUT]"] : []))
            .filter { !$0.isEmpty }.joined(separator: " ")
        self.details = details; self.arguments = arguments; self.options = specs
        self.namesResult = namesResult; self.run = run
    }
}

/// Every command, in the order `help` lists them.
public enum Registry {
    public static let commands: [Command] =
        ImageCommands.all + TransformCommands.all + ModelCommands.all + ExploreCommands.all + AttributionCommands.all
        + InterventionCommands.all + ResultCommands.all + TrainCommands.all + SessionCommands.all

    public static func find(_ name: String) -> Command? { commands.first { $0.name == name } }

    /// The closest command names to a mistyped one (edit distance <= 2, or a shared prefix).
    public static func suggestions(for name: String) -> [String] {
        let scored = commands.map { ($0.name, editDistance($0.name, name)) }
            .filter { $0.1 <= max(1, min(2, name.count / 2)) || ($0.0.hasPrefix(name) && name.count >= 2) }
            .sorted { $0.1 < $1.1 }
        return scored.map(\.0)
    }

    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var prev = Array(0...b.count), cur = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            cur[0] = i
            for j in 1...b.count {
                cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            swap(&prev, &cur)
        }
        return prev[b.count]
    }
}
