import XCTest
import DRHTTestSupport
import Foundation

/// Runs the `drht` executable as a user does: exit status, stdout and stderr.
class CLITestCase: TempDirTestCase {
    struct Run { let status: Int32; let out: String; let err: String }

    /// The `drht` built beside the test bundle (.build/<triple>/<config>/drht).
    static var binary: URL {
        let candidates = [Bundle.main.bundleURL, Bundle(for: CLITestCase.self).bundleURL,
                          Bundle(for: CLITestCase.self).bundleURL.deletingLastPathComponent()]
            .map { $0.appendingPathComponent("drht") }
        return candidates.first { FileManager.default.isExecutableFile(atPath: $0.path) } ?? candidates[0]
    }

    func drht(_ args: String...) throws -> Run { try drht(arguments: args) }

    /// `drht` with `stdin` piped in (not a terminal), extra environment, in `directory`.
    func drht(arguments args: [String], stdin: String? = nil, environment: [String: String] = [:],
              directory: String? = nil) throws -> Run {
        let p = Process()
        p.executableURL = Self.binary
        p.arguments = args
        p.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        if let directory { p.currentDirectoryURL = URL(fileURLWithPath: directory) }
        let out = Pipe(), err = Pipe()
        p.standardOutput = out; p.standardError = err
        let input = Pipe()
        p.standardInput = input
        try p.run()
        input.fileHandleForWriting.write(Data((stdin ?? "").utf8))
        try input.fileHandleForWriting.close()
        let o = out.fileHandleForReading.readDataToEndOfFile(), e = err.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Run(status: p.terminationStatus, out: String(decoding: o, as: UTF8.self), err: String(decoding: e, as: UTF8.self))
    }

    /// Writes `bytes` to `dir/name` (see TempDirTestCase.file).
    func write(_ name: String, _ bytes: [UInt8]) -> String { file(name, bytes) }

    /// A valid 2 x 1 RGB PNG (red, blue), built byte by byte.
    static let tinyPNG: [UInt8] = {
        // 2 x 1 RGB 8-bit: red, then blue; zlib stored block.
        func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }
        func crc(_ b: [UInt8]) -> UInt32 {
            var c: UInt32 = 0xFFFF_FFFF
            for x in b { c ^= UInt32(x); for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 } }
            return ~c
        }
        func chunk(_ t: String, _ d: [UInt8]) -> [UInt8] { let body = Array(t.utf8) + d; return be32(UInt32(d.count)) + body + be32(crc(body)) }
        let raw: [UInt8] = [0, 255, 0, 0, 0, 0, 255]
        var a: UInt32 = 1, b: UInt32 = 0
        for x in raw { a = (a + UInt32(x)) % 65521; b = (b + a) % 65521 }
        let z: [UInt8] = [0x78, 0x01, 1, 7, 0, 0xF8, 0xFF] + raw + be32(b << 16 | a)
        return [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", be32(2) + be32(1) + [8, 2, 0, 0, 0])
            + chunk("IDAT", z) + chunk("IEND", [])
    }()

}

final class CLITests: CLITestCase {
    func testInfoDescribesAnImage() throws {
        let r = try drht("info", write("tiny.png", CLITestCase.tinyPNG))
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("PNG, 2 x 1, 8-bit RGB"), r.out)
        let red = r.out.split(separator: "\n").first { $0.hasPrefix("  R ") }?.split(separator: " ")
        XCTAssertEqual(red, ["R", "0", "1", "0.5"], r.out)
    }

    func testEveryBrokenInputIsOneLineAndStatus1() throws {
        let png = CLITestCase.tinyPNG
        var flipped = png; flipped[20] ^= 0xFF
        var huge = png
        huge.replaceSubrange(16..<24, with: [0, 0, 0x4E, 0x20, 0, 0, 0x4E, 0x20])  // 20000 x 20000, CRC now wrong
        let cases: [(String, [UInt8], String)] = [
            ("empty.png", [], "empty"),
            ("text.png", Array("just some text".utf8), "not a PNG, JPEG"),
            ("cut.png", Array(png.prefix(40)), "truncated PNG"),
            ("flipped.png", flipped, "corrupt PNG"),
            ("huge.png", huge, "corrupt PNG"),
            ("cut.jpg", [0xFF, 0xD8, 0xFF, 0xE0, 0, 16], "JPEG"),
            ("cut.hdr", Array("#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n-Y 4 +X 4\n".utf8) + [1, 2], "truncated Radiance HDR"),
            ("big.hdr", Array("#?RADIANCE\n\n-Y 20000 +X 20000\n".utf8), "100-megapixel limit"),
        ]
        for (name, bytes, fragment) in cases {
            let path = write(name, bytes)
            let r = try drht("info", path)
            XCTAssertEqual(r.status, 1, "\(name): \(r.err)")
            XCTAssertEqual(r.out, "", name)
            let lines = r.err.split(separator: "\n", omittingEmptySubsequences: false)
            XCTAssertEqual(lines.count, 2, "\(name): one line then the newline: \(r.err)")
            XCTAssertTrue(r.err.hasPrefix("drht: \(path): "), "\(name): \(r.err)")
            XCTAssertTrue(r.err.contains(fragment), "\(name): '\(r.err)' should say '\(fragment)'")
        }
        let missing = try drht("info", dir + "/nope.png")
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.err.contains("cannot open"), missing.err)
    }

    func testBenchJSONHasTheFieldsToolsRelyOn() throws {
        let r = try drht("bench", "--size", "32", "--batch", "2", "--threads", "1", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["size"] as? Int, 32)
        XCTAssertEqual(json["batch"] as? Int, 2)
        XCTAssertGreaterThan(try XCTUnwrap(json["sgemm_gflops"] as? Double), 0)
        let layers = try XCTUnwrap(json["layers"] as? [[String: Any]])
        XCTAssertEqual(layers.map { $0["name"] as? String }, ["enc1", "enc2", "enc3", "enc4", "enc5", "latent",
                                                              "dec1", "dec2", "dec3", "dec4", "dec5", "head"])
        for l in layers {
            for key in ["forward_ms", "backward_ms", "forward_gflops"] {
                XCTAssertGreaterThan(try XCTUnwrap(l[key] as? Double), 0, "\(l["name"]!) \(key)")
            }
        }
        // Stride-2 convs say how their dx was computed and time the other way too.
        let paths = Dictionary(uniqueKeysWithValues: layers.map { ($0["name"] as! String, $0["dx_algorithm"] as? String) })
        XCTAssertEqual(paths["enc2"], "adjoint")
        XCTAssertEqual(paths["enc3"], "columns")
        XCTAssertNil(paths["enc1"] ?? nil, "stride 1: one way only")
        XCTAssertGreaterThan(try XCTUnwrap(layers[1]["other_dx_backward_ms"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(json["total_forward_ms"] as? Double), 0)
        XCTAssertGreaterThan(try XCTUnwrap(json["total_forward_gflops"] as? Double), 0)
    }

    func testBenchInsideTimesEachLookInsideCommand() throws {
        let r = try drht("bench", "inside", "--size", "64", "--threads", "1", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertEqual(json["size"] as? Int, 64)
        let commands = try XCTUnwrap(json["commands"] as? [[String: Any]])
        XCTAssertEqual(commands.compactMap { ($0["command"] as? String)?.split(separator: " ").first.map(String.init) },
                       ["saliency", "saliency", "saliency", "saliency", "saliency", "rf", "rf", "sweep", "sweep"])
        for c in commands { XCTAssertGreaterThan(try XCTUnwrap(c["ms"] as? Double), 0) }
        XCTAssertTrue((commands.last?["command"] as? String)?.hasSuffix("(direct)") == true)
        let old = try drht("bench", "--inside")
        XCTAssertNotEqual(old.status, 0, "the benchmarks are subcommands now")
        XCTAssertTrue(old.err.contains("--inside"), old.err)
    }

    /// `bench train` profiles its steps: one row per block of the table, sections that add up
    /// to no more than the step, the machine and build it measured, and the fresh memory pages
    /// a step touches.
    func testBenchTrainProfilesTheStep() throws {
        let r = try drht("bench", "train", "--batch", "2", "--size", "32", "--threads", "1", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let json = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as? [String: Any])
        XCTAssertFalse((json["built_for"] as? String ?? "").isEmpty)
        XCTAssertFalse((json["vectors"] as? String ?? "").isEmpty)
        // After the warm-up a step takes its memory from the heap's free lists and the workspace:
        // 0 pages mapped fresh on this machine, 8,132 when activations came fresh from the system
        // (glibc's defaults); a few stray pages (a new thread's stack) would be no regression.
        XCTAssertLessThan(try XCTUnwrap(json["fresh_pages_per_step"] as? Int), 500)
        let profile = try XCTUnwrap(json["profile"] as? [String: Any])
        let blocks = try XCTUnwrap(profile["blocks"] as? [[String: Any]])
        XCTAssertEqual(blocks.compactMap { $0["block"] as? String },
                       ["enc1", "enc2", "enc3", "enc4", "enc5", "latent", "dec1", "dec2", "dec3", "dec4", "dec5", "head"])
        let step = try XCTUnwrap(profile["step_ms"] as? Double)
        var sections = try XCTUnwrap(profile["adam_ms"] as? Double) + XCTUnwrap(profile["transform_and_loss_ms"] as? Double)
        for b in blocks {
            for key in ["conv_forward_ms", "conv_backward_ms", "other_forward_ms", "other_backward_ms"] {
                let ms = try XCTUnwrap(b[key] as? Double, "\(b) \(key)")
                XCTAssertGreaterThanOrEqual(ms, 0, "\(b) \(key)")
                sections += ms
            }
        }
        XCTAssertGreaterThan(step, 0)
        // The sections were really measured: every convolution took time, and together they are
        // most of the step (the rest, "other", is what no section covers: a small part).
        var convolutions = 0.0
        for b in blocks {
            for key in ["conv_forward_ms", "conv_backward_ms"] {
                let ms = try XCTUnwrap(b[key] as? Double)
                XCTAssertGreaterThan(ms, 0, "\(b) \(key)")
                convolutions += ms
            }
        }
        XCTAssertGreaterThan(convolutions, 0.3 * step)
        XCTAssertLessThan(try XCTUnwrap(profile["other_ms"] as? Double), 0.5 * step)
        XCTAssertLessThanOrEqual(sections, step * 1.001)
        XCTAssertEqual(try XCTUnwrap(profile["other_ms"] as? Double), step - sections, accuracy: 0.05)
    }

    func testBadArgumentsAreRefused() throws {
        let r = try drht("bench", "--size", "33")
        XCTAssertNotEqual(r.status, 0)
        XCTAssertTrue(r.err.contains("multiple of 32"), r.err)
        for (args, message) in [(["train", "--batch", "0"], "--batch must be 1...64"),
                                (["pipeline", "--batch", "4"], "Unknown option '--batch'"),
                                (["--batch", "64", "--size", "1024"], "the layer table at batch 64"),
                                (["layers", "--batch", "64", "--size", "1024"], "the layer table at batch 64"),
                                (["train", "--size", "4096", "--batch", "64"], "bench train at batch 64 and 4096x4096 would need about"), (["--threads", "0"], "--threads must be"),
                                (["inside", "--threads", "0"], "--threads must be"), (["inside", "--size", "100"], "multiple of 32"),
                                (["pipeline", "--mode", "bilateral"], "'bilateral'"), (["pipeline", "--size", "10x10"], "at most 100 megapixels"),
                                (["pipeline", "--mode", "direct", "--work-size", "128"], "--work-size applies to --mode gain")] {
            let b = try drht(arguments: ["bench"] + args)
            XCTAssertNotEqual(b.status, 0, "\(args)")
            XCTAssertTrue(b.err.contains(message), "\(args): \(b.err)")
            XCTAssertFalse(b.err.contains("crashed"), b.err)
        }
        let u = try drht("frobnicate")
        XCTAssertNotEqual(u.status, 0)
        XCTAssertTrue(u.err.lowercased().contains("unexpected argument") || u.err.contains("Usage"), u.err)
    }
}
