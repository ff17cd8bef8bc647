import XCTest
import Foundation

/// drht init / correct / info on weights, as a user runs them.
final class ModelCLITests: CLITestCase {
    func testInitCorrectInfoAndHDROutput() throws {
        let weights = dir + "/w.safetensors"
        let made = try drht("init", "--seed", "3", "-o", weights)
        XCTAssertEqual(made.status, 0, made.err)
        XCTAssertTrue(made.out.contains("9,726,738 parameters"), made.out)

        let info = try drht("info", weights)
        XCTAssertEqual(info.status, 0, info.err)
        XCTAssertTrue(info.out.contains("a complete drht-1 DRHT model"), info.out)
        XCTAssertTrue(info.out.contains("hdr.dec1.conv.weight"), info.out)
        XCTAssertTrue(info.out.contains("512x256x3x3"), info.out)

        let photo = write("photo.png", CLITestCase.tinyPNG)
        let run = try drht("correct", photo, "--weights", weights, "--hdr", dir + "/photo.hdr", "--bits", "16")
        XCTAssertEqual(run.status, 0, run.err)
        XCTAssertTrue(run.err.hasPrefix("corrected \(photo) (2 x 1) in "), run.err)
        XCTAssertTrue(run.err.contains("untrained weights"), run.err)
        let out = try drht("info", dir + "/photo.corrected.png")
        XCTAssertTrue(out.out.contains("PNG, 2 x 1, 16-bit RGB"), out.out)
        let hdr = try drht("info", dir + "/photo.hdr")
        XCTAssertEqual(hdr.status, 0, hdr.err)
        XCTAssertTrue(hdr.out.contains("Radiance HDR, 2 x 1, 32-bit float RGB"), hdr.out)

        let npy = try drht("correct", photo, "--weights", weights, "-o", dir + "/photo.npy", "--quiet")
        XCTAssertEqual(npy.status, 0, npy.err)
        XCTAssertEqual(npy.err, "")
        let arr = try drht("info", dir + "/photo.npy")
        XCTAssertTrue(arr.out.contains("NumPy .npy, 2 x 1, 32-bit float RGB"), arr.out)
    }

    func testConvertToF16KeepsMetadataAndHalvesTheFile() throws {
        let w32 = dir + "/w32.safetensors", w16 = dir + "/w16.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "4", "-o", w32).status, 0)
        let r = try drht("convert", w32, "-o", w16, "--f16")
        XCTAssertEqual(r.status, 0, r.err)
        let info = try drht("info", w16)
        XCTAssertTrue(info.out.contains("tensors (F16)"), info.out)
        XCTAssertTrue(info.out.contains("init = kaiming-normal, seed 4"), info.out)
        let size = { (p: String) in try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int }
        XCTAssertLessThan(try size(w16), try size(w32) / 2 + 100_000)
    }

    func testCorrectExplainsEveryMistakeInOneLine() throws {
        let photo = write("photo.png", CLITestCase.tinyPNG)
        let noWeights = try drht("correct", photo, "--weights", dir + "/none.safetensors")
        XCTAssertEqual(noWeights.status, 1)
        XCTAssertTrue(noWeights.err.contains("drht init"), noWeights.err)
        XCTAssertEqual(noWeights.err.split(separator: "\n").count, 1, noWeights.err)

        let junk = write("junk.safetensors", Array("not weights at all".utf8))
        let bad = try drht("correct", photo, "--weights", junk)
        XCTAssertEqual(bad.status, 1)
        XCTAssertTrue(bad.err.hasPrefix("drht: \(junk): "), bad.err)
        XCTAssertEqual(bad.err.split(separator: "\n").count, 1, bad.err)

        let wrongExt = try drht("correct", photo, "-o", dir + "/x.gif")
        XCTAssertNotEqual(wrongExt.status, 0)
        XCTAssertTrue(wrongExt.err.contains(".png or .npy"), wrongExt.err)

        let broken = write("broken.png", Array(CLITestCase.tinyPNG.prefix(30)))
        let r = try drht("correct", broken, "--weights", dir + "/none.safetensors")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("truncated PNG") || r.err.contains("corrupt PNG"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/broken.corrected.png"), "nothing written on failure")
    }
}
