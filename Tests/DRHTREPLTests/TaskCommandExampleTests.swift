import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTModel
import DRHTTasks
@testable import DRHTREPL

/// A REPL command that wraps a job, as a worked example: parse, call the task, print. This one
/// is declared in this test file; a real one goes into a Commands/ file's `all` list (and a
/// transcript: every command has one).
final class TaskCommandExampleTests: XCTestCase {
    static let brightness = Command(
        "brightness", summary: "The mean of a corrected image.", synopsis: "NAME", example: "brightness scene",
        arguments: [.variable]
    ) { s, a in
        let name = try a.positional(0, "an image variable")
        try a.expectAtMost(1)
        let photo = try s.image(name).tensor
        let c = try CorrectTask.run(CorrectRequest(mode: s.settings.correction), model: s.model(), photo: photo, monitor: s.monitor)
        s.console.line(String(format: "%@ corrected: mean %.4f", name, c.corrected().stats.mean))
    }

    func testACommandWrappingATaskPrintsWhatTheTaskReturns() throws {
        var lines: [String] = []
        let s = Session(console: Console { lines.append($0) })
        try s.execute("model init --seed 2")
        try s.execute("synth --size 64 as scene")
        try Self.brightness.run(s, try Arguments(["scene"], command: Self.brightness))
        let expected = try CorrectTask.run(CorrectRequest(mode: s.settings.correction), model: s.model(), photo: s.image("scene").tensor,
                                           monitor: .silent).corrected().stats.mean
        XCTAssertTrue(lines.joined().contains(String(format: "scene corrected: mean %.4f", expected)), lines.joined())
    }
}
