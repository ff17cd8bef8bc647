// Declared options: parsing, help and usage come from one declaration.
@testable import DRHTREPL
import XCTest

final class OptionsTests: XCTestCase {
    enum Colour: String, CaseIterable { case red, green, blue }
    static let count = Options.int("--count", "N", "how many", default: 3, range: 1...9)
    static let ratio = Options.number("--ratio", "R", "a share", range: 0...1, absent: "none")
    static let ev = Options.number("--ev", "E", "stops", range: -6...6, required: "needs --ev E")
    static let colour = Options.choice("--colour", "which colour", default: Colour.green)
    static let loud = Options.flag("--loud", "shout")
    static let probe = Command("probe", summary: "test", synopsis: "NAME", example: "probe x --ev 1",
                               options: [count, ratio, ev, colour, loud], namesResult: true) { _, _ in }

    func parse(_ line: String) throws -> Arguments { try Arguments(try Arguments.words(line), command: Self.probe) }

    func testUsageAndHelpAreGeneratedFromTheDeclarations() {
        XCTAssertEqual(Self.probe.usage, "probe NAME [--count N] [--ratio R] --ev E [--colour red|green|blue] [--loud] [as OUT]")
        XCTAssertEqual(Self.count.spec.help, "how many, 1..9 (default 3)")
        XCTAssertEqual(Self.ratio.spec.help, "a share, 0..1 (default: none)")
        XCTAssertEqual(Self.colour.spec.help, "which colour (default green)")
        guard case .words(let w) = Self.colour.spec.completion else { return XCTFail("choices complete to their names") }
        XCTAssertEqual(w, ["red", "green", "blue"])
    }

    func testValuesDefaultsRangesAndErrors() throws {
        let a = try parse("x --ev -2 --count 7 --colour blue --loud")
        XCTAssertEqual(try a.value(Self.count), 7)
        XCTAssertEqual(try a.value(Self.ev), -2)
        XCTAssertNil(try a.value(Self.ratio))
        XCTAssertEqual(try a.value(Self.colour), .blue)
        XCTAssertTrue(try a.value(Self.loud))
        let b = try parse("x")
        XCTAssertEqual(try b.value(Self.count), 3, "the default")
        XCTAssertEqual(try b.value(Self.colour), .green)
        XCTAssertFalse(try b.value(Self.loud))
        XCTAssertThrowsError(try b.value(Self.ev)) { XCTAssertEqual("\($0)", "needs --ev E") }
        XCTAssertThrowsError(try parse("x --count 10").value(Self.count)) {
            XCTAssertEqual("\($0)", "--count must be a whole number from 1 to 9 (got 10)")
        }
        XCTAssertThrowsError(try parse("x --colour teal").value(Self.colour)) {
            XCTAssertEqual("\($0)", "--colour takes red, green or blue (got teal)")
        }
        XCTAssertThrowsError(try parse("x --ratio 2").value(Self.ratio))
        XCTAssertThrowsError(try parse("x --colur red")) { XCTAssertTrue("\($0)".contains("probe has no option --colur"), "\($0)") }
    }

    /// Every command's usage line names every option it accepts (they are generated together).
    func testEveryCommandsUsageListsItsOptions() {
        for command in Registry.commands {
            for option in command.options {
                XCTAssertTrue(command.usage.contains(option.name), "\(command.name): usage lacks \(option.name)")
            }
        }
    }
}
