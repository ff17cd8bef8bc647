import XCTest
import DRHTTestSupport
import DRHTEngine
import Foundation
@testable import DRHTModel

final class SafeTensorsReadTests: TempDirTestCase {
    /// A safetensors file from a JSON header and data bytes.
    func safetensors(_ header: String, _ data: [UInt8]) -> [UInt8] {
        let h = Array(header.utf8)
        return (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + data
    }

    func floats(_ v: [Float]) -> [UInt8] { v.flatMap { f in (0..<4).map { UInt8((f.bitPattern >> (8 * $0)) & 0xFF) } } }

    func testReadsF32F16BF16AndMetadata() throws {
        let one16: [UInt8] = [0x00, 0x3C], two16: [UInt8] = [0x00, 0x40]          // F16 1.0, 2.0
        let oneBF: [UInt8] = [0x80, 0x3F], threeBF: [UInt8] = [0x40, 0x40]         // BF16 1.0, 3.0
        let header = #"{"__metadata__": {"format": "drht-1"}, "a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "#
            + #""b": {"dtype": "F16", "shape": [2], "data_offsets": [8, 12]}, "c": {"dtype": "BF16", "shape": [1, 2], "data_offsets": [12, 16]}}"#
        let f = try SafeTensorsFile.parse(safetensors(header, floats([1.5, -2]) + one16 + two16 + oneBF + threeBF), path: "w")
        XCTAssertEqual(f.metadata["format"], "drht-1")
        XCTAssertEqual(f.names, ["a", "b", "c"])
        XCTAssertEqual(try f.tensor("a").array, [1.5, -2])
        XCTAssertEqual(try f.tensor("b").array, [1, 2])
        XCTAssertEqual(try f.tensor("c", shape: [1, 2]).array, [1, 3])
        XCTAssertThrowsError(try f.tensor("c", shape: [2])) { XCTAssertTrue("\($0)".contains("'c' has shape [1, 2]")) }
        XCTAssertThrowsError(try f.tensor("zzz")) { XCTAssertTrue("\($0)".contains("'zzz' is missing")) }
    }

    func testIntegerTensorsAreReadButNotUsableAsFloats() throws {
        let f = try SafeTensorsFile.parse(safetensors(#"{"n": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}}"#, floats([0, 0])), path: "w")
        XCTAssertEqual(f.tensors["n"]?.dtype, "I64")
        XCTAssertThrowsError(try f.tensor("n")) { XCTAssertTrue("\($0)".contains("'n' is I64"), "\($0)") }
    }

    /// Issue 13: a newline in a dtype or the format value made the one-line error two lines; an
    /// ESC sequence reached the terminal raw. Both are escaped now.
    func testFileDerivedTextInErrorsIsEscaped() {
        let newline = safetensors(#"{"a": {"dtype": "F\n32", "shape": [1], "data_offsets": [0, 4]}}"#, floats([1]))
        expectError(newline, #"F\n32"#)
        let esc = safetensors(#"{"__metadata__": {"format": "\u001b[31mevil\n"}, "a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}"#, floats([1]))
        do {
            let f = try SafeTensorsFile.parse(esc, path: "w.safetensors")
            XCTAssertThrowsError(try DRHT.load(f, path: "w.safetensors")) { e in
                XCTAssertFalse("\(e)".contains("\u{1B}"), "\(e)")
                XCTAssertFalse("\(e)".contains("\n"), "\(e)")
                XCTAssertTrue("\(e)".contains(#"\x1b[31mevil\n"#), "\(e)")
            }
        } catch { XCTFail("\(error)") }
    }

    /// Issue 13: lenient reading let damaged files through. Now: strict JSON, exact coverage of
    /// the data region, exact integers; each from its reported case.
    func testStrictSafetensorsFormat() {
        let good = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        XCTAssertNoThrow(try SafeTensorsFile.parse(safetensors(good, floats([1, 2])), path: "w"))
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8],}}"#, floats([1, 2])), "trailing comma")
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [2,], "data_offsets": [0, 8]}}"#, floats([1, 2])), "trailing comma")
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF] + Array(good.utf8)
        expectError((0..<8).map { UInt8((bom.count >> (8 * $0)) & 0xFF) } + bom + floats([1, 2]), "byte-order mark")
        expectError(safetensors(good, floats([1, 2]) + [0]), "not fully covered")                       // extra byte at the end
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#, floats([1, 2])), "not fully covered")   // a gap
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [1], "data_offsets": [18446744073709551616, 4]}}"#, floats([1])), "bad shape or data_offsets")
        // The header length one byte short (padding space dropped): every tensor would be read a byte off.
        let padded = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}   "#
        var bytes = safetensors(padded, floats([1, 2]))
        bytes[0] -= 1
        expectError(bytes, "not fully covered")
    }

    /// Issue 13: one NaN weight or a negative BatchNorm variance made `drht correct` write a black
    /// image with exit 0; loading now refuses them and names the tensor.
    func testNonFiniteWeightsAndNegativeVariancesAreRefused() throws {
        let model = DRHT.initialized(seed: 1)
        let tensors = Dictionary(uniqueKeysWithValues: model.namedTensors)
        tensors["ldr.dec3.conv.weight"]!.data[17] = .nan
        try model.save(to: dir + "/nan.safetensors")
        XCTAssertThrowsError(try DRHT.load(dir + "/nan.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("'ldr.dec3.conv.weight' holds a non-finite value"), "\(e)")
        }
        tensors["ldr.dec3.conv.weight"]!.data[17] = 0
        tensors["hdr.enc2.bn.running_var"]!.data[3] = -1
        try model.save(to: dir + "/var.safetensors")
        XCTAssertThrowsError(try DRHT.load(dir + "/var.safetensors")) { e in
            XCTAssertTrue("\(e)".contains("'hdr.enc2.bn.running_var' holds a negative variance"), "\(e)")
        }
        tensors["hdr.enc2.bn.running_var"]!.data[3] = 1
        try model.save(to: dir + "/ok.safetensors")
        XCTAssertNoThrow(try DRHT.load(dir + "/ok.safetensors"))
    }

    func expectError(_ bytes: [UInt8], _ fragment: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try SafeTensorsFile.parse(bytes, path: "w.safetensors"), file: file, line: line) { e in
            let text = "\(e)"
            XCTAssertTrue(text.contains(fragment), "'\(text)' should mention '\(fragment)'", file: file, line: line)
            XCTAssertFalse(text.contains("\n"), file: file, line: line)
        }
    }

    func testMalformedFilesAreRejectedWithTheirProblem() {
        let t = #"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}"#
        expectError([], "empty")
        expectError([1, 2, 3], "truncated")
        expectError([0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0], "header length")
        expectError(Array(safetensors(t, floats([1, 2])).prefix(20)), "truncated")
        expectError(safetensors("{not json", []), "not a valid JSON")
        expectError(safetensors(t, floats([1])), "outside the 4 data bytes")
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}"#, floats([1, 2])), "needs 12")
        expectError(safetensors(#"{"a": {"dtype": "Q99", "shape": [1], "data_offsets": [0, 8]}}"#, floats([1, 2])), "unknown dtype Q99")
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}, "b": {"dtype": "F32", "shape": [1], "data_offsets": [4, 8]}}"#,
                         floats([1, 2])), "overlap")
        expectError(safetensors(#"{"a": {"dtype": "F32", "shape": [2]}}"#, floats([1, 2])), "data_offsets")
    }
}
