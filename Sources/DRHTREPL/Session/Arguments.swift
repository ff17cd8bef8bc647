// A command line split into words (with "quotes"), then into positional arguments, options
// (`--name value`, `--flag`) and the trailing `as NAME` that names a result.
import DRHTImageIO

/// What the parser, `help` and completion know of an option, e.g. `--steps N` (one value) or
/// `--mean` (a flag). Commands declare options as `Option` values (Options.swift), which carry
/// one of these.
public struct OptionSpec {
    public let name: String          // "--steps"
    public let values: [String]      // value placeholders: ["N"], ["X", "Y"]; [] = a flag
    public let help: String
    public let completion: Completion.Kind
    /// Must be given (shown without brackets in the usage line).
    public let required: Bool
    public init(_ name: String, _ values: [String] = [], _ help: String, completion: Completion.Kind = .none,
                required: Bool = false) {
        self.name = name; self.values = values; self.help = help; self.completion = completion; self.required = required
    }

    /// "[--steps N]", or "--ev E" when required.
    public var usage: String {
        let text = ([name] + values).joined(separator: " ")
        return required ? text : "[\(text)]"
    }
}

public struct Arguments {
    public var positional: [String] = []
    /// The words after each option given, by name. Read through the declarations
    /// (`value(_:)`, `has(_:)` in Options.swift), never by a name typed here.
    fileprivate var options: [String: [String]] = [:]
    /// The name after a trailing `as`, if any.
    public var asName: String?
    /// The command's usage line, for error messages.
    public var usage = ""

    /// Splits `line` into words: whitespace separates, "double" or 'single' quotes group.
    public static func words(_ line: String) throws -> [String] {
        var words: [String] = [], current = "", quote: Character?, inWord = false
        for ch in line {
            if let q = quote {
                if ch == q { quote = nil } else { current.append(ch) }
            } else if ch == "\"" || ch == "'" {
                quote = ch; inWord = true
            } else if ch == " " || ch == "\t" {
                if inWord { words.append(current); current = ""; inWord = false }
            } else {
                current.append(ch); inWord = true
            }
        }
        if quote != nil { throw REPLError("unclosed quote in: \(line)") }
        if inWord { words.append(current) }
        return words
    }

    /// Parses the words after the command name against the command's options.
    public init(_ words: [String], command: Command) throws {
        usage = command.usage
        var i = 0
        while i < words.count {
            let w = words[i]
            if w.hasPrefix("--") && w.count > 2 && Double(w) == nil {
                guard let spec = command.options.first(where: { $0.name == w }) else {
                    let known = command.options.map(\.name).joined(separator: ", ")
                    throw REPLError("\(command.name) has no option \(printable(w, limit: 40))"
                                    + (known.isEmpty ? "; see `help \(command.name)`" : "; options: \(known)"))
                }
                guard i + spec.values.count < words.count || spec.values.isEmpty else {
                    throw REPLError("\(w) needs \(spec.values.joined(separator: " ")); usage: \(command.usage)")
                }
                options[w] = Array(words[(i + 1)..<(i + 1 + spec.values.count)])
                i += 1 + spec.values.count
            } else if w == "as" && command.namesResult {
                guard i + 1 < words.count else { throw REPLError("`as` needs a name after it; usage: \(command.usage)") }
                let name = words[i + 1]
                guard Arguments.isValidName(name) else {
                    throw REPLError("\"\(name)\" is not a usable name; use letters, digits, _ and . (starting with a letter)")
                }
                asName = name
                i += 2
            } else {
                positional.append(w); i += 1
            }
        }
    }

    public static func isValidName(_ s: String) -> Bool {
        guard let first = s.first, first.isLetter else { return false }
        return s.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." } && !s.hasSuffix(".")
    }

    public static func number(_ raw: String, what: String, range: ClosedRange<Double>) throws -> Double {
        guard let v = Double(raw), v.isFinite, range.contains(v) else {
            throw REPLError("\(what) must be a number from \(range.lowerBound) to \(range.upperBound) (got \(raw))")
        }
        return v
    }

    /// The i-th positional argument, or an error naming what is missing.
    public func positional(_ i: Int, _ what: String, usage: String? = nil) throws -> String {
        guard i < positional.count else { throw REPLError("missing \(what); usage: \(usage ?? self.usage)") }
        return positional[i]
    }

    /// Fails when more than `n` positional arguments were given.
    public func expectAtMost(_ n: Int, usage: String? = nil) throws {
        if positional.count > n {
            throw REPLError("unexpected \"\(positional[n])\"; usage: \(usage ?? self.usage)")
        }
    }

    /// The one positional argument, a variable's name, and the variable.
    public func onlyVariable(_ s: Session, _ what: String = "a variable name") throws -> (String, Variable) {
        let name = try positional(0, what)
        try expectAtMost(1)
        return (name, try s.variable(name))
    }
}

// Reading options: only through their declarations.
extension Arguments {
    /// The option's value as its declaration reads it.
    public func value<V>(_ option: REPLOption<V>) throws -> V { try option.read(options[option.spec.name]) }

    /// A whole-number option whose range depends on the data, checked here.
    public func value(_ option: REPLOption<Int?>, in range: ClosedRange<Int>) throws -> Int? {
        guard let raw = options[option.spec.name]?[0] else { return nil }
        return try Options.wholeNumber(raw, option.spec.name, range)
    }

    /// Whether the option was given.
    public func has<V>(_ option: REPLOption<V>) -> Bool { options[option.spec.name] != nil }
}
