import Foundation
import XCTest

/// README's "Where to edit" table points at docs/examples/resize-conv.patch for adding a layer
/// kind: a new kind (a resize convolution) with its finite-difference and hand-computed tests,
/// touching the three source files the table names. This keeps the example honest: it must
/// still apply to today's code, and touch exactly those files (plus its tests).
final class WorkedExampleTests: XCTestCase {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    var patch: URL { root.appendingPathComponent("docs/examples/resize-conv.patch") }

    func testTheLayerKindExampleTouchesTheFilesTheTableNames() throws {
        let text = try String(contentsOf: patch, encoding: .utf8)
        let files = text.split(separator: "\n").filter { $0.hasPrefix("+++ b/") }.map { String($0.dropFirst(6)) }
        XCTAssertEqual(files.filter { $0.hasPrefix("Sources/") }.sorted(),
                       ["Sources/DRHTEngine/ResizeConv2D.swift", "Sources/DRHTModel/Architecture.swift", "Sources/DRHTModel/ReceptiveField.swift"])
        XCTAssertEqual(files.filter { !$0.hasPrefix("Sources/") }.allSatisfy { $0.hasPrefix("Tests/") }, true, "\(files)")
    }

    /// `git apply --check`: the example applies to the code as it is now; when this fails, the
    /// code it edits moved: apply it by hand and write the patch again (docs/DESIGN.md says how).
    func testTheLayerKindExampleStillApplies() throws {
        let git = Process()
        git.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        git.arguments = ["git", "apply", "--check", patch.path]
        git.currentDirectoryURL = root
        let err = Pipe()
        git.standardError = err
        try git.run()
        git.waitUntilExit()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(git.terminationStatus, 0, "docs/examples/resize-conv.patch no longer applies: \(message)")
    }
}
