// README's table of shell commands is generated from the subcommands' own declarations (their
// names, positional arguments and abstracts, as `drht --experimental-dump-help` reports them),
// so it cannot drift from `drht --help`. When a command changes, this test fails and prints the
// table it expects; `DRHT_UPDATE_README=1 swift test --filter ReadmeCommandTableTests` writes it.
import Foundation
import XCTest

final class ReadmeCommandTableTests: CLITestCase {
    static let begin = "<!-- drht commands: generated from the subcommands' declarations (Tests/DRHTCLITests/ReadmeCommandTableTests.swift) -->"
    static let end = "<!-- end of the generated drht commands -->"

    struct Dump: Decodable {
        struct Argument: Decodable { let kind: String; let valueName: String?; let isOptional: Bool; let isRepeating: Bool }
        struct Command: Decodable {
            let commandName: String
            let abstract: String?
            let shouldDisplay: Bool
            let arguments: [Argument]?
            let subcommands: [Command]?
        }
        let command: Command
    }

    /// The table's rows: every displayed subcommand (not `help`), its positional arguments in
    /// capitals ([optional], repeating...), its abstract.
    func generatedTable() throws -> String {
        let run = try drht("--experimental-dump-help")
        XCTAssertEqual(run.status, 0, run.err)
        let root = try JSONDecoder().decode(Dump.self, from: Data(run.out.utf8)).command
        var lines = [Self.begin, "| command | what it does |", "|---|---|"]
        for c in root.subcommands ?? [] where c.shouldDisplay && c.commandName != "help" {
            let positionals = (c.arguments ?? []).filter { $0.kind == "positional" }.map { a -> String in
                let name = (a.valueName ?? "value").uppercased() + (a.isRepeating ? "..." : "")
                return a.isOptional ? "[\(name)]" : name
            }
            let usage = (["drht", c.commandName] + positionals).joined(separator: " ")
            // Markdown: a | ends the cell, <id> would read as an HTML tag.
            let abstract = (c.abstract ?? "").replacingOccurrences(of: "|", with: "\\|")
                .replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
            lines.append("| `\(usage)` | \(abstract) |")
        }
        lines.append(Self.end)
        return lines.joined(separator: "\n")
    }

    func testREADMEsCommandTableIsTheDeclarations() throws {
        let readme = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("README.md")
        let text = try String(contentsOf: readme, encoding: .utf8)
        let expected = try generatedTable()
        XCTAssertTrue(expected.contains("`drht correct INPUT`"), expected)
        XCTAssertTrue(expected.contains("`drht average INPUTS...`"), expected)
        XCTAssertFalse(expected.contains("drht fuzz"), "hidden commands stay out")
        guard let start = text.range(of: Self.begin), let stop = text.range(of: Self.end, range: start.upperBound..<text.endIndex) else {
            return XCTFail("README.md has no generated command table between\n\(Self.begin)\nand\n\(Self.end)")
        }
        let current = String(text[start.lowerBound..<stop.upperBound])
        if current != expected, ProcessInfo.processInfo.environment["DRHT_UPDATE_README"] == "1" {
            try text.replacingCharacters(in: start.lowerBound..<stop.upperBound, with: expected).write(to: readme, atomically: true, encoding: .utf8)
            return
        }
        XCTAssertEqual(current, expected, "README's command table drifted from the declarations; it should read:\n\(expected)")
    }
}
