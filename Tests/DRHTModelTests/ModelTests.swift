import XCTest
import DRHTTestSupport
import DRHTEngine
@testable import DRHTModel

final class ModelTests: TempDirTestCase {

    func testParameterCountAndNamesFollowMODELmd() {
        let m = DRHT.initialized(seed: 1)
        let names = m.namedTensors.map(\.0)
        XCTAssertEqual(names.count, 2 * 12 * 6)
        XCTAssertEqual(names.first, "hdr.enc1.conv.weight")
        XCTAssertTrue(names.contains("ldr.head.bn.running_var"))
        XCTAssertEqual(m.hdr.block("dec1")!.conv.weight.shape, [512, 256, 3, 3], "transposed conv is (in, out, kh, kw)")
        XCTAssertEqual(m.hdr.block("enc1")!.conv.weight.shape, [64, 3, 9, 9], "conv is (out, in, kh, kw)")
        // 4,863,369 learnable parameters per autoencoder: conv weights + biases + BN weights + biases.
        XCTAssertEqual(m.hdr.parameterCount, 4_863_369)
    }

    func testInitIsDeterministicKaimingNormal() {
        let a = DRHT.initialized(seed: 5), b = DRHT.initialized(seed: 5), c = DRHT.initialized(seed: 6)
        XCTAssertEqual(a.hdr.block("enc2")!.conv.weight.array, b.hdr.block("enc2")!.conv.weight.array)
        XCTAssertNotEqual(a.hdr.block("enc2")!.conv.weight.array, c.hdr.block("enc2")!.conv.weight.array)
        let w = a.ldr.block("enc4")!.conv.weight                      // fan_in = 128 * 9
        XCTAssertEqual(w.stats.std, (2.0 / 1152).squareRoot(), accuracy: 0.01 * (2.0 / 1152).squareRoot() * 5)
        XCTAssertEqual(abs(w.stats.mean), 0, accuracy: 1e-3)
        XCTAssertEqual(a.hdr.block("enc4")!.conv.bias.array, [Float](repeating: 0, count: 256))
        XCTAssertEqual(a.hdr.block("enc4")!.bn.runningVar.array, [Float](repeating: 1, count: 256))
    }

    func testSaveLoadRoundTripF32AndF16() throws {
        let m = DRHT.initialized(seed: 2)
        m.notes["steps"] = "0"
        let p32 = dir + "/m32.safetensors", p16 = dir + "/m16.safetensors"
        try m.save(to: p32)
        try m.save(to: p16, dtype: .f16)
        let back = try DRHT.load(p32), half = try DRHT.load(p16)
        XCTAssertEqual(back.notes["steps"], "0")
        XCTAssertEqual(back.constants, m.constants)
        for ((name, a), ((_, b), (_, c))) in zip(m.namedTensors, zip(back.namedTensors, half.namedTensors)) {
            XCTAssertEqual(a.array, b.array, name)
            for i in 0..<a.count where abs(a.data[i] - c.data[i]) > abs(a.data[i]) * 1e-3 + 1e-7 {
                XCTFail("\(name)[\(i)]: F16 \(c.data[i]) vs \(a.data[i])"); break
            }
        }
        let size32 = try FileManager.default.attributesOfItem(atPath: p32)[.size] as! Int
        let size16 = try FileManager.default.attributesOfItem(atPath: p16)[.size] as! Int
        XCTAssertLessThan(size16, size32 / 2 + 100_000)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir).sorted(), ["m16.safetensors", "m32.safetensors"])
    }

    func testMalformedWeightsFilesNameTheProblem() throws {
        let m = DRHT.initialized(seed: 3)
        func write(_ tensors: [(String, Tensor)], _ meta: [String: String]) -> String {
            let path = dir + "/bad.safetensors"
            FileManager.default.createFile(atPath: path, contents: Data(SafeTensorsFile.encode(tensors, metadata: meta)))
            return path
        }
        let all = m.namedTensors
        XCTAssertThrowsError(try DRHT.load(write(all.filter { $0.0 != "ldr.dec3.bn.bias" }, m.metadata))) {
            XCTAssertTrue("\($0)".contains("'ldr.dec3.bn.bias' is missing"), "\($0)")
        }
        let wrongShape = all.map { $0.0 == "hdr.enc2.conv.weight" ? ($0.0, Tensor(zeros: [64, 64, 3, 3])) : $0 }
        XCTAssertThrowsError(try DRHT.load(write(wrongShape, m.metadata))) {
            XCTAssertTrue("\($0)".contains("'hdr.enc2.conv.weight' has shape [64, 64, 3, 3], expected [64, 64, 5, 5]"), "\($0)")
        }
        var meta = m.metadata; meta["format"] = "drht-9"
        XCTAssertThrowsError(try DRHT.load(write(all, meta))) { XCTAssertTrue("\($0)".contains("drht-9"), "\($0)") }
        meta = m.metadata; meta["gamma"] = "banana"
        XCTAssertThrowsError(try DRHT.load(write(all, meta))) { XCTAssertTrue("\($0)".contains("gamma"), "\($0)") }
        XCTAssertThrowsError(try DRHT.load(dir + "/missing.safetensors")) { XCTAssertTrue("\($0)".contains("cannot open"), "\($0)") }
    }

    func testNumBatchesTrackedIsAcceptedAndIgnored() throws {
        let m = DRHT.initialized(seed: 4)
        var tensors = m.namedTensors.map { ($0.0, $0.1) }
        // An I64 scalar per BN, as PyTorch's state_dict has; written by hand since drht writes floats.
        let base = SafeTensorsFile.encode(tensors, metadata: m.metadata)
        _ = base
        tensors.append(("hdr.enc1.bn.num_batches_tracked", Tensor(zeros: [])))
        var header = #"{"hdr.enc1.bn.num_batches_tracked": {"dtype": "I64", "shape": [], "data_offsets": [0, 8]}"#
        var data = [UInt8](repeating: 0, count: 8)
        var offset = 8
        for (name, t) in m.namedTensors {
            header += #", "\#(name)": {"dtype": "F32", "shape": [\#(t.shape.map(String.init).joined(separator: ","))], "data_offsets": [\#(offset), \#(offset + 4 * t.count)]}"#
            for i in 0..<t.count { let b = t.data[i].bitPattern; data += [UInt8(b & 0xFF), UInt8(b >> 8 & 0xFF), UInt8(b >> 16 & 0xFF), UInt8(b >> 24)] }
            offset += 4 * t.count
        }
        header += "}"
        let h = Array(header.utf8)
        let bytes = (0..<8).map { UInt8((h.count >> (8 * $0)) & 0xFF) } + h + data
        let loaded = try DRHT.load(try SafeTensorsFile.parse(bytes, path: "pt"), path: "pt")
        XCTAssertEqual(loaded.ldr.block("head")!.conv.weight.array, m.ldr.block("head")!.conv.weight.array)
    }

    func testReplicatePadAndCrop() {
        let x = Tensor(shape: [1, 1, 2, 3], values: [1, 2, 3, 4, 5, 6])
        let p = replicatePad(x, toMultipleOf: 4)
        XCTAssertEqual(p.shape, [1, 1, 4, 4])
        XCTAssertEqual(p.array, [1, 2, 3, 3, 4, 5, 6, 6, 4, 5, 6, 6, 4, 5, 6, 6])
        XCTAssertEqual(crop(p, height: 2, width: 3).array, x.array)
    }

    func testAnySizeRunsAndEveryStepIsNamed() throws {
        let m = DRHT.initialized(seed: 5)
        var rng = SeededRandom(seed: 6)
        let image = Tensor.uniform([1, 3, 37, 50], 0, 1, rng: &rng)
        let p = Pipeline(model: m, image: image)
        let records = p.runAll()
        XCTAssertEqual(records.map(\.name), Pipeline.stepNames)
        XCTAssertEqual(Pipeline.stepNames.count, 25)
        XCTAssertEqual(p[.of(.hdr, "latent")]!.shape, [1, 512, 2, 2], "64x64 padded -> 2x2 latent")
        XCTAssertEqual(p.corrected!.shape, [1, 3, 37, 50])
        XCTAssertEqual(p.hdrEstimate!.shape, [1, 3, 37, 50])
        let c = p.corrected!.stats
        XCTAssertGreaterThanOrEqual(c.min, 0); XCTAssertLessThanOrEqual(c.max, 1)
        XCTAssertNotNil(p[.skipSum(.hdr, Architecture.index(of: "dec3")!)]); XCTAssertNotNil(p[.of(.ldr, "dec3")])
        XCTAssertEqual(records.first { $0.name == "hdr.enc1" }!.flops, 2 * 64 * 64 * 64 * 3 * 81)
        XCTAssertThrowsError(try p.step(to: "ldr.enc2")) { XCTAssertEqual($0 as? PipelineError, .alreadyRun("ldr.enc2")) }
        p.reset()
        XCTAssertThrowsError(try p.step(to: "hdr.enc9")) { XCTAssertEqual($0 as? PipelineError, .unknownStep("hdr.enc9")) }
        XCTAssertEqual(try p.step(to: "hdr.latent").count, 6)
        XCTAssertEqual(p.nextStepName, "hdr.dec1")
    }

    /// Stepping with every output kept and one-shot inference that frees as it goes are one
    /// code path: the corrected images are identical to the bit.
    func testSteppingEqualsInferenceBitForBit() throws {
        let m = DRHT.initialized(seed: 7)
        var rng = SeededRandom(seed: 8)
        let image = Tensor.uniform([1, 3, 64, 96], 0, 1, rng: &rng)
        let stepped = Pipeline(model: m, image: image, retention: .everything)
        while !stepped.isFinished { stepped.step() }
        let oneShot = Pipeline(model: m, image: image, retention: .needed)
        oneShot.runAll()
        XCTAssertEqual(stepped.corrected!.array, oneShot.corrected!.array)
        XCTAssertEqual(stepped.hdrEstimate!.array, oneShot.hdrEstimate!.array)
        XCTAssertLessThan(oneShot.outputs.count, 6, "inference keeps only the results: \(oneShot.outputs.keys.map(\.name).sorted())")
        XCTAssertEqual(stepped.outputs.count, 1 + 25 + 10 + 1, "input, every step, 10 skip sums, transform.H")
    }
}
