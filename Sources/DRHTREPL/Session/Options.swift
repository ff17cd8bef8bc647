// Declared options: each REPL option is a value with its name, placeholder, help, type,
// default and range. A command lists its options and reads every value through the
// declaration (`try a.value(Self.steps)`), so `help`, the usage line and Tab completion come
// from the same place as the parsing, and a misspelt option name is a compile error.

import DRHTImageIO

/// An option of a command whose value reads as `Value`.
public struct REPLOption<Value>: DeclaredOption {
    public let spec: OptionSpec
    /// The value from the words after the option (nil: the option was not given).
    let read: ([String]?) throws -> Value
}

/// What a command's option list holds: any declared option.
public protocol DeclaredOption {
    var spec: OptionSpec { get }
}

extension OptionSpec: DeclaredOption {
    public var spec: OptionSpec { self }
}

/// Factories for the kinds of option the REPL uses. Each generates the help text's range and
/// default from the same numbers the parser checks.
public enum Options {
    /// A whole number in `range`; `default` when absent.
    public static func int(_ name: String, _ placeholder: String, _ help: String, default value: Int,
                           range: ClosedRange<Int>) -> REPLOption<Int> {
        let spec = OptionSpec(name, [placeholder], "\(help), \(range.lowerBound)..\(range.upperBound) (default \(value))")
        return REPLOption(spec: spec) { words in try words.map { try wholeNumber($0[0], name, range) } ?? value }
    }

    /// A whole number, nil when absent; its range depends on the data (`Arguments.value(_:in:)`).
    public static func int(_ name: String, _ placeholder: String, _ help: String, absent: String? = nil) -> REPLOption<Int?> {
        REPLOption(spec: OptionSpec(name, [placeholder], help + (absent.map { " (default: \($0))" } ?? ""))) { words in
            try words.map { w -> Int in
                guard let v = Int(w[0]) else { throw REPLError("\(name) takes a whole number (got \(printable(w[0], limit: 40)))") }
                return v
            }
        }
    }

    /// A number in `range`; `default` when absent.
    public static func number(_ name: String, _ placeholder: String, _ help: String, default value: Double,
                              range: ClosedRange<Double>, shown: String? = nil) -> REPLOption<Double> {
        let spec = OptionSpec(name, [placeholder], "\(help), \(formatNumber(range.lowerBound))..\(formatNumber(range.upperBound))"
                              + " (default \(shown ?? formatNumber(value)))")
        return REPLOption(spec: spec) { words in try words.map { try Arguments.number($0[0], what: name, range: range) } ?? value }
    }

    /// A number in `range`, nil when absent (`absent` says what happens then, for the help).
    public static func number(_ name: String, _ placeholder: String, _ help: String, range: ClosedRange<Double>,
                              absent: String) -> REPLOption<Double?> {
        let spec = OptionSpec(name, [placeholder], "\(help), \(formatNumber(range.lowerBound))..\(formatNumber(range.upperBound)) (default: \(absent))")
        return REPLOption(spec: spec) { words in try words.map { try Arguments.number($0[0], what: name, range: range) } }
    }

    /// A number in `range` that must be given; `missing` is the error when it is not.
    public static func number(_ name: String, _ placeholder: String, _ help: String, range: ClosedRange<Double>,
                              required missing: String) -> REPLOption<Double> {
        let spec = OptionSpec(name, [placeholder], "\(help), \(formatNumber(range.lowerBound))..\(formatNumber(range.upperBound)) (required)",
                              required: true)
        return REPLOption(spec: spec) { words in
            guard let words else { throw REPLError(missing) }
            return try Arguments.number(words[0], what: name, range: range)
        }
    }

    /// One of an enumeration's cases by its raw name; `default` when absent. The placeholder
    /// and completion list the cases.
    public static func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ help: String, default value: T)
        -> REPLOption<T> where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        let spec = OptionSpec(name, [names.joined(separator: "|")], "\(help) (default \(value.rawValue))",
                              completion: .words(names))
        return REPLOption(spec: spec) { words in
            guard let raw = words?[0] else { return value }
            guard let v = T(rawValue: raw) else {
                throw REPLError("\(name) takes \(alternatives(names)) (got \(printable(raw, limit: 40)))")
            }
            return v
        }
    }

    /// One of an enumeration's cases, nil when absent (`absent` says what happens then).
    public static func choice<T: RawRepresentable & CaseIterable>(_ name: String, _ help: String, absent: String)
        -> REPLOption<T?> where T.RawValue == String {
        let names = T.allCases.map(\.rawValue)
        let spec = OptionSpec(name, [names.joined(separator: "|")], "\(help) (default: \(absent))", completion: .words(names))
        return REPLOption(spec: spec) { words in
            guard let raw = words?[0] else { return nil }
            guard let v = T(rawValue: raw) else {
                throw REPLError("\(name) takes \(alternatives(names)) (got \(printable(raw, limit: 40)))")
            }
            return v
        }
    }

    /// Free text (a path, a data source), nil when absent.
    public static func text(_ name: String, _ placeholder: String, _ help: String,
                            completion: Completion.Kind = .none) -> REPLOption<String?> {
        REPLOption(spec: OptionSpec(name, [placeholder], help, completion: completion)) { $0?[0] }
    }

    /// Free text; `default` when absent (and said so in the help).
    public static func text(_ name: String, _ placeholder: String, _ help: String, default value: String,
                            completion: Completion.Kind = .none) -> REPLOption<String> {
        REPLOption(spec: OptionSpec(name, [placeholder], "\(help) (default \(value))", completion: completion)) { $0?[0] ?? value }
    }

    /// A flag: true when given.
    public static func flag(_ name: String, _ help: String) -> REPLOption<Bool> {
        REPLOption(spec: OptionSpec(name, [], help)) { $0 != nil }
    }

    /// Several words after the option, read by `parse` (nil when absent).
    public static func words<V>(_ name: String, _ placeholders: [String], _ help: String,
                                parse: @escaping ([String]) throws -> V) -> REPLOption<V?> {
        REPLOption(spec: OptionSpec(name, placeholders, help)) { try $0.map(parse) }
    }

    /// "a or b", "a, b or c".
    static func alternatives(_ names: [String]) -> String {
        names.count < 2 ? names.joined() : names.dropLast().joined(separator: ", ") + " or " + names.last!
    }

    static func wholeNumber(_ raw: String, _ name: String, _ range: ClosedRange<Int>) throws -> Int {
        guard let v = Int(raw), range.contains(v) else {
            throw REPLError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound) (got \(printable(raw, limit: 40)))")
        }
        return v
    }
}
