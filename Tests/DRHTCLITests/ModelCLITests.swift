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

    func testInitWithICNRDeconvolutionsSaysSoAndRefusesUnknownKinds() throws {
        let weights = dir + "/icnr.safetensors"
        let made = try drht("init", "--seed", "2", "--deconv", "kaiming", "-o", dir + "/k.safetensors")
        XCTAssertTrue(made.out.contains("kaiming-normal, seed 2 (untrained)"), made.out)
        let icnr = try drht("init", "--seed", "2", "-o", weights)    // the default
        XCTAssertEqual(icnr.status, 0, icnr.err)
        XCTAssertTrue(icnr.out.contains("ICNR deconvolutions, seed 2"), icnr.out)
        let info = try drht("info", weights)
        XCTAssertTrue(info.out.contains("ICNR deconvolutions"), info.out)
        let bad = try drht("init", "--deconv", "bilinear", "-o", dir + "/x.safetensors")
        XCTAssertNotEqual(bad.status, 0)
        XCTAssertTrue(bad.err.contains("bilinear"), bad.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/x.safetensors"))
    }

    /// `calibrate` writes a new file whose BatchNorm statistics were measured again (a note says
    /// on what); bad settings and an output over the input are one line and write nothing.
    func testCalibrateWritesRemeasuredStatisticsAndRefusesBadSettings() throws {
        let w = dir + "/w.safetensors", out = dir + "/cal.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "5", "-o", w).status, 0)
        let r = try drht("calibrate", w, "-o", out, "--data", "synth", "--size", "32", "--batches", "2", "--batch", "2", "--threads", "1")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("BatchNorm statistics of 4 samples at 32 px"), r.out)
        // Without --size: the size the file was trained at (an untrained file has none: 256).
        let one = try drht("calibrate", w, "-o", dir + "/one.safetensors", "--data", "synth", "--batches", "1", "--batch", "1", "--threads", "1")
        XCTAssertTrue(one.out.contains("BatchNorm statistics of 1 sample at 256 px"), one.out)
        let info = try drht("info", out)
        XCTAssertTrue(info.out.contains("bn_calibrated = 2 x 2 samples of synth, 32 px (whole), seed 1"), info.out)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: out)), try Data(contentsOf: URL(fileURLWithPath: w)))
        for bad in [["--size", "100"], ["--batch", "0"], ["--data", "nope:/x"]] {
            let b = try drht(arguments: ["calibrate", w, "-o", dir + "/bad.safetensors", "--data", "synth", "--batches", "1"] + bad)
            XCTAssertNotEqual(b.status, 0, bad.joined(separator: " "))
            XCTAssertEqual(b.err.split(separator: "\n").filter { $0.hasPrefix("Error") }.count, 1, b.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.safetensors"))
        }
        let over = try drht("calibrate", w, "-o", dir + "/./w.safetensors", "--data", "synth", "--size", "32", "--batches", "1", "--batch", "1")
        XCTAssertNotEqual(over.status, 0, "never over its input")
        XCTAssertTrue(over.err.contains("is the input"), over.err)
    }

    func testConvertToF16KeepsMetadataAndHalvesTheFile() throws {
        let w32 = dir + "/w32.safetensors", w16 = dir + "/w16.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "4", "-o", w32).status, 0)
        let r = try drht("convert", w32, "-o", w16, "--f16")
        XCTAssertEqual(r.status, 0, r.err)
        let info = try drht("info", w16)
        XCTAssertTrue(info.out.contains("tensors (F16)"), info.out)
        XCTAssertTrue(info.out.contains("init = kaiming-normal, ICNR deconvolutions, seed 4"), info.out)
        let size = { (p: String) in try FileManager.default.attributesOfItem(atPath: p)[.size] as! Int }
        XCTAssertLessThan(try size(w16), try size(w32) / 2 + 100_000)
    }

    func testConvertSetsAndRemovesNotesButNotTheModelsOwn() throws {
        let w = dir + "/w.safetensors", out = dir + "/noted.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "4", "-o", w).status, 0)
        let r = try drht("convert", w, "-o", out, "--note", "stage=5: a test", "--note", "init=")
        XCTAssertEqual(r.status, 0, r.err)
        let info = try drht("info", out).out
        XCTAssertTrue(info.contains("stage = 5: a test"), info)
        XCTAssertFalse(info.contains("init ="), info)
        for bad in ["gamma=3", "novalue", "=x"] {
            let refused = try drht("convert", w, "-o", dir + "/bad.safetensors", "--note", bad)
            XCTAssertNotEqual(refused.status, 0, bad)
            XCTAssertTrue(refused.err.contains("--note"), refused.err)
            XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/bad.safetensors"), bad)
        }
    }

    func testCorrectInGainAndDirectMode() throws {
        let weights = dir + "/w.safetensors"
        XCTAssertEqual(try drht("init", "--seed", "1", "-o", weights).status, 0)
        XCTAssertEqual(try drht("synth", "--count", "1", "--size", "160", "--seed", "2", "-o", dir + "/s").status, 0)
        let photo = try FileManager.default.contentsOfDirectory(atPath: dir + "/s").first { $0.hasSuffix(".input.png") }.map { dir + "/s/" + $0 }!
        let gain = try drht("correct", photo, "--weights", weights, "--work-size", "64", "-o", dir + "/g.png", "--hdr", dir + "/g.hdr")
        XCTAssertEqual(gain.status, 0, gain.err)
        XCTAssertTrue(gain.err.contains("gain mode: the network saw a 64 x 64 copy, long side 64"), gain.err)
        XCTAssertTrue(try drht("info", dir + "/g.png").out.contains("PNG, 160 x 160"))
        XCTAssertTrue(try drht("info", dir + "/g.hdr").out.contains("Radiance HDR, 160 x 160"))
        let whole = try drht("correct", photo, "--weights", weights, "--work-size", "256", "-o", dir + "/w.jpg")
        XCTAssertTrue(try drht("info", dir + "/w.jpg").out.contains("JPEG, 160 x 160"))
        XCTAssertTrue(whole.err.contains("no larger than the working size 256"), whole.err)
        let direct = try drht("correct", photo, "--weights", weights, "--mode", "direct", "-o", dir + "/d.png")
        XCTAssertEqual(direct.status, 0, direct.err)
        XCTAssertTrue(direct.err.contains("(direct: HDR estimation"), direct.err)
        // --margin 0: the paper's network exactly; a different picture from the default margin's.
        let bare = try drht("correct", photo, "--weights", weights, "--mode", "direct", "--margin", "0", "-o", dir + "/d0.npy", "--quiet")
        XCTAssertEqual(bare.status, 0, bare.err)
        XCTAssertEqual(try drht("correct", photo, "--weights", weights, "--mode", "direct", "-o", dir + "/d96.npy", "--quiet").status, 0)
        XCTAssertNotEqual(try Data(contentsOf: URL(fileURLWithPath: dir + "/d0.npy")), try Data(contentsOf: URL(fileURLWithPath: dir + "/d96.npy")))
        for bad in [["--mode", "direct", "--work-size", "64"], ["--work-size", "8"], ["--mode", "fast"], ["--margin", "999"], ["--margin", "-1"]] {
            let r = try drht(arguments: ["correct", photo, "--weights", weights] + bad)
            XCTAssertNotEqual(r.status, 0, bad.joined(separator: " "))
            XCTAssertFalse(r.err.isEmpty)
        }
    }

    /// `drht synth --panorama DIR`: views of the .hdr files in DIR as triplets (triplet k is the
    /// held-out item seed + k: with one panorama and the default seed 1, views 2, 3, ...); a missing or
    /// empty folder is one line.
    func testSynthWritesPanoramaViews() throws {
        XCTAssertEqual(try drht("synth", "--count", "1", "--size", "64", "--seed", "3", "-o", dir + "/scene").status, 0)
        try FileManager.default.createDirectory(atPath: dir + "/pano", withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: dir + "/scene/000003.hdr", toPath: dir + "/pano/sky.hdr")
        let r = try drht("synth", "--panorama", dir + "/pano", "--count", "2", "--size", "32", "--ev", "2", "-o", dir + "/views")
        XCTAssertEqual(r.status, 0, r.err)
        XCTAssertTrue(r.out.contains("wrote 2 panorama view triplets (32x32)"), r.out)
        for id in ["sky-view-2", "sky-view-3"] { for part in [".input.png", ".hdr", ".target.png"] {
            XCTAssertTrue(FileManager.default.fileExists(atPath: dir + "/views/" + id + part), id + part)
        }}
        let missing = try drht(arguments: ["synth", "--panorama", dir + "/nowhere", "-o", dir + "/v2"])
        XCTAssertNotEqual(missing.status, 0)
        XCTAssertTrue(missing.err.contains("--panorama takes a folder of .hdr panoramas"), missing.err)
        XCTAssertEqual(missing.err.split(separator: "\n").count, 1, missing.err)
    }

    func testBenchTimesGainModeOnABigPhoto() throws {
        let r = try drht("bench", "pipeline", "--mode", "gain", "--size", "1200x900", "--json")
        XCTAssertEqual(r.status, 0, r.err)
        let o = try JSONSerialization.jsonObject(with: Data(r.out.utf8)) as! [String: Any]
        XCTAssertEqual(o["width"] as? Int, 1200)
        XCTAssertEqual(o["work_width"] as? Int, 256)
        XCTAssertEqual(o["work_height"] as? Int, 192)
        for key in ["correction_ms", "network_ms", "gain_ms", "decode_jpeg_ms", "encode_png_ms", "peak_rss_mb"] {
            XCTAssertGreaterThan(o[key] as? Double ?? 0, 0, key)
        }
        XCTAssertNotEqual(try drht("bench", "--size", "100x100").status, 0, "layer benchmarks take one multiple of 32")
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
        XCTAssertTrue(wrongExt.err.contains(".png, .jpg or .npy"), wrongExt.err)

        let broken = write("broken.png", Array(CLITestCase.tinyPNG.prefix(30)))
        let r = try drht("correct", broken, "--weights", dir + "/none.safetensors")
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.err.contains("truncated PNG") || r.err.contains("corrupt PNG"), r.err)
        XCTAssertFalse(FileManager.default.fileExists(atPath: dir + "/broken.corrected.png"), "nothing written on failure")
    }
}
