import XCTest
import DRHTTestSupport
import DRHTTasks
@testable import DRHTREPL

/// The machine protocol the Jupyter kernel speaks (KernelServer): one JSON object per line,
/// each request closed by exactly one event. jupyter/tests drives it through Jupyter itself.
final class KernelServerTests: XCTestCase {
    /// Sends `requests` (one per line) and returns every event, decoded.
    func serve(_ requests: [String], prepare: (KernelServer) throws -> Void = { _ in }) throws -> [[String: Any]] {
        var out: [String] = []
        let server = KernelServer(width: 80) { out.append($0) }
        try prepare(server)
        var queue = requests
        server.serve(catchSignals: false) { queue.isEmpty ? nil : queue.removeFirst() }
        return try out.map { line in
            XCTAssertFalse(line.contains("\n"), "one event per line")
            return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    func request(_ fields: [String: Any]) -> String {
        String(decoding: try! JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys]), as: UTF8.self)
    }

    func testACellRunsItsLinesAndSendsTextPicturesAndOneClosingEvent() throws {
        let events = try serve([request(["op": "execute", "code": "model init --seed 2\nsynth --size 64 as scene\n# a note\nshow scene"])])
        XCTAssertEqual(events.first?["event"] as? String, "ready")
        let kinds = events.map { $0["event"] as! String }
        XCTAssertEqual(kinds.filter { $0 == "done" }.count, 1)
        XCTAssertEqual(kinds.last, "done")
        XCTAssertEqual(events.last?["status"] as? String, "ok")
        XCTAssertEqual(events.last?["changed"] as? Bool, true)
        let text = events.compactMap { $0["event"] as? String == "stream" ? $0["text"] as? String : nil }.joined()
        XCTAssertTrue(text.contains("scene: LDR photo 64x64"), text)
        XCTAssertTrue(text.contains("a note\n"), text)
        XCTAssertFalse(text.contains("\u{1B}["), "no escape codes")
        XCTAssertFalse(text.contains("▀") || text.contains("▄"), "no terminal pictures in the text")
        let picture = try XCTUnwrap(events.first { $0["event"] as? String == "display" })
        XCTAssertEqual(picture["width"] as? Int, 64)
        XCTAssertEqual(picture["caption"] as? String, "scene")
        let png = try XCTUnwrap(Data(base64Encoded: picture["png"] as! String))
        XCTAssertEqual(Array(png.prefix(8)), [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
    }

    func testAFailingLineEndsTheCellWithOneLineAndTheSessionGoesOn() throws {
        let events = try serve([request(["op": "execute", "code": "synth --size 32 as a\nfrobnicate\nsynth --size 32 as b"]),
                                request(["op": "execute", "code": "vars"])])
        let errors = events.filter { $0["event"] as? String == "error" }
        XCTAssertEqual(errors.count, 1)
        XCTAssertEqual(errors[0]["message"] as? String, "unknown command \"frobnicate\" (`help` lists commands)")
        let done = events.filter { $0["event"] as? String == "done" }
        XCTAssertEqual(done.map { $0["status"] as? String }, ["error", "ok"])
        XCTAssertEqual(done[1]["changed"] as? Bool, false, "`vars` changes nothing")
        let text = events.compactMap { $0["text"] as? String }.joined()
        XCTAssertTrue(text.contains("a "), text)
        XCTAssertFalse(text.contains("\nb "), "the line after the failing one did not run")
    }

    func testCompletionInspectionAndCompleteness() throws {
        let events = try serve([request(["op": "execute", "code": "synth --size 32 as sunset"]),
                                request(["op": "complete", "code": "show sun", "cursor": 8]),
                                request(["op": "complete", "code": "synth\nmaps hdr.la", "cursor": 17]),
                                request(["op": "inspect", "code": "maps hdr.enc1", "cursor": 1]),
                                request(["op": "inspect", "code": "nonsense", "cursor": 1]),
                                request(["op": "is_complete", "code": "load \"a b"]),
                                request(["op": "is_complete", "code": "show sunset"]),
                                "not json", request(["op": "fly"])])
        let firstDone = try XCTUnwrap(events.firstIndex { $0["event"] as? String == "done" })
        let closing = Array(events[(firstDone + 1)...].filter { ($0["event"] as? String) != "stream" })
        XCTAssertEqual(closing[0]["matches"] as? [String], ["sunset", "sunset.hdr_gt", "sunset.target"])
        XCTAssertEqual(closing[0]["start"] as? Int, 5); XCTAssertEqual(closing[0]["end"] as? Int, 8)
        XCTAssertEqual(closing[1]["matches"] as? [String], ["hdr.latent"])
        XCTAssertEqual(closing[1]["start"] as? Int, 11, "offsets count from the cell's start, over its earlier lines")
        XCTAssertEqual(closing[2]["found"] as? Bool, true)
        XCTAssertTrue((closing[2]["text"] as? String ?? "").hasPrefix("maps LAYER"))
        XCTAssertEqual(closing[3]["found"] as? Bool, false)
        XCTAssertEqual(closing[4]["status"] as? String, "invalid")
        XCTAssertEqual(closing[5]["status"] as? String, "complete")
        XCTAssertEqual(closing[6]["status"] as? String, "error")
        XCTAssertEqual(closing[7]["message"] as? String, "unknown op \"fly\"; ops are execute, complete, inspect, is_complete")
    }

    /// Long work reports progress lines and removes the line at the end; a stop request stops it
    /// at a safe point and the cell still closes.
    func testProgressAndStopping() throws {
        let events = try serve([request(["op": "execute", "code": "model init --seed 2\nsynth --size 64 as p\nsweep p --ev -1,1"]),
                                request(["op": "execute", "code": "train --steps 400 --size 32 --batch 2"])]) { server in
            var seen = 0
            server.session.console.progressHandler = { [progress = server.session.console.progressHandler] line in
                progress?(line)
                if line?.contains("/400") == true { seen += 1; if seen == 3 { Interrupt.requested = 1 } }
            }
        }
        let progress = events.filter { $0["event"] as? String == "progress" }
        XCTAssertTrue(progress.contains { ($0["text"] as? String ?? "").contains("EV ") }, "the sweep's steps")
        XCTAssertTrue(progress.contains { $0["text"] == nil }, "the line removed at the end")
        let text = events.compactMap { $0["event"] as? String == "stream" ? $0["text"] as? String : nil }.joined()
        XCTAssertTrue(text.contains("stopped at step 3 (Ctrl-C)"), text)
        let done = events.filter { $0["event"] as? String == "done" }
        XCTAssertEqual(done.map { $0["status"] as? String }, ["ok", "error"], "a stopped cell ends as an error, so Run All stops too")
        XCTAssertEqual(done.map { $0["interrupted"] as? Bool }, [false, true])
        XCTAssertEqual(done[1]["changed"] as? Bool, true, "the model learned for 3 steps")
        XCTAssertTrue(events.contains { ($0["caption"] as? String ?? "").hasPrefix("training loss per step") })
    }

    /// Cursors count code points (as Jupyter does), requests' ids come back on their closing
    /// events, asking for help leaves no trace, and `quit` does not end a kernel's session.
    func testCodePointsIdsHelpWithoutTraceAndQuit() throws {
        var out: [String] = []
        let server = KernelServer(width: 80) { out.append($0) }
        var queue = [request(["op": "execute", "code": "synth --size 32 as sunset", "id": 1]),
                     request(["op": "complete", "code": "# ☕️ é\nshow sun", "cursor": 15, "id": 2]),
                     request(["op": "inspect", "code": "maps", "cursor": 4, "id": 3]),
                     request(["op": "execute", "code": "quit", "id": 4]),
                     request(["op": "execute", "code": "vars", "id": 5])]
        server.serve(catchSignals: false) { queue.isEmpty ? nil : queue.removeFirst() }
        let events = try out.map { try XCTUnwrap(JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        let closing = events.filter { ["done", "completions", "inspection"].contains($0["event"] as? String ?? "") }
        XCTAssertEqual(closing.map { $0["id"] as? Int }, [1, 2, 3, 4, 5])
        // "# ☕️ é\n" is 7 code points but 6 Swift Characters (☕ and its variation selector are
        // one): "sun" starts at 7 + 5, where counting Characters would say 11.
        XCTAssertEqual(closing[1]["start"] as? Int, 12); XCTAssertEqual(closing[1]["end"] as? Int, 15)
        XCTAssertEqual(closing[1]["matches"] as? [String], ["sunset", "sunset.hdr_gt", "sunset.target"])
        XCTAssertEqual(closing[2]["found"] as? Bool, true)
        XCTAssertEqual(server.session.history, ["synth --size 32 as sunset", "vars"], "help for Shift-Tab is not a command the session ran")
        XCTAssertEqual(closing[3]["status"] as? String, "error")
        XCTAssertTrue((events.first { $0["event"] as? String == "error" }?["message"] as? String ?? "").contains("Kernel > Restart"))
        XCTAssertFalse(server.session.finished)
        XCTAssertEqual(closing[4]["status"] as? String, "ok")
    }

    func testPathCompletion() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("kernel-paths-\(getpid())")
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("photos"), withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        FileManager.default.createFile(atPath: dir.appendingPathComponent("photo.png").path, contents: Data())
        FileManager.default.createFile(atPath: dir.appendingPathComponent(".hidden").path, contents: Data())
        XCTAssertEqual(KernelServer.paths(dir.path + "/pho"), [dir.path + "/photo.png", dir.path + "/photos/"])
        XCTAssertEqual(KernelServer.paths(dir.path + "/"), [dir.path + "/photo.png", dir.path + "/photos/"], "hidden files only when asked for")
        XCTAssertEqual(KernelServer.paths(dir.path + "/.h"), [dir.path + "/.hidden"])
        XCTAssertEqual(KernelServer.paths("~"), ["~/"])
        XCTAssertEqual(KernelServer.paths(".."), ["../"])
    }
}
