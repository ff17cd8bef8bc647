import XCTest
import DRHTTestSupport
import DRHTEngine
@testable import DRHTModel

/// The engine against PyTorch: Tests/DRHTModelTests/Fixtures/parity.safetensors, written by
/// pytorch/make_fixture.py from pytorch/model.py (itself checked there against an independent
/// PyTorch build of docs/MODEL.md, the workplace's shared fixture: largest difference 2e-5). Every block
/// of both networks in eval mode, each fed the fixture's own previous activation so errors do
/// not compound; the whole pipeline; one training step's losses, gradients and BN statistics.
/// The weights are not in the file: both sides build them from the same integer hash.
final class ParityFixtureTests: XCTestCase {
    static let fixturePath = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Fixtures/parity.safetensors").path

    static let fixture: Result<SafeTensorsFile, Error> = Result { try SafeTensorsFile.read(fixturePath) }

    func load() throws -> SafeTensorsFile { try Self.fixture.get() }

    /// pytorch/model.py's `hashed_init`, bit for bit: u = (splitmix64(index << 32 | i) mod 2001
    /// - 1000) / 1000 in Double, scaled per tensor kind, rounded to Float.
    static func hashedModel() -> DRHT {
        func splitmix64(_ x: UInt64) -> UInt64 {
            var z = x &+ 0x9E37_79B9_7F4A_7C15
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let model = DRHT()
        for (index, (name, t)) in model.namedTensors.enumerated() {
            let fanIn = t.shape.count == 4 ? Double(t.shape[1] * t.shape[2] * t.shape[3]) : 1
            for i in 0..<t.count {
                let u = Double(Int(splitmix64(UInt64(index) << 32 | UInt64(i)) % 2001) - 1000) / 1000.0
                let v: Double
                if name.hasSuffix("conv.weight") { v = u * (6.0 / fanIn).squareRoot() }
                else if name.hasSuffix("bn.weight") { let s = 0.25 * u; v = 1 + s }
                else if name.hasSuffix("running_var") { let s = 0.5 * u; v = 1 + s }
                else if name.hasSuffix("running_mean") { v = 0.2 * u }
                else { v = 0.1 * u }
                t.data[i] = Float(v)
            }
        }
        return model
    }

    func testTheHashedWeightsAreThePythonOnes() throws {
        // Spot values printed by pytorch/model.py (hashed_init) for hdr.enc1.conv.weight.
        let w = Self.hashedModel().hdr.block("enc1")!.conv.weight
        let s = (6.0 / 243.0).squareRoot()
        XCTAssertEqual(w.data[0], Float(-0.777 * s))
        XCTAssertEqual(w.data[1], Float(0.682 * s))
        XCTAssertEqual(w.data[2], Float(0.915 * s))
    }

    func assertMatches(_ a: Tensor, _ b: Tensor, _ what: String, rtol: Float = 1e-4,
                       file: StaticString = #filePath, line: UInt = #line) {
        assertClose(a, b, scaledTolerance: rtol, what, file: file, line: line)
    }

    /// Each block through `Block.forward` (inference), fed PyTorch's own activations, so an
    /// error is caught at the block that makes it.
    func checkNetwork(_ f: SafeTensorsFile, _ model: DRHT, _ net: String, input: Tensor, base: Tensor) throws -> Tensor {
        let autoencoder = net == "hdr" ? model.hdr : model.ldr
        var previous = input
        for block in autoencoder.blocks {
            let spec = block.spec
            let name = "test.eval.\(net).\(spec.name)"
            let encoder = try spec.skipFrom.map { try f.tensor("test.eval.\(net).\($0)") }
            let r = block.forward(previous, base: spec.kind == .head ? base : nil, encoder: encoder,
                                  mode: .inference(inPlace: false))
            assertMatches(r.activation!, try f.tensor(name), name)
            previous = try f.tensor(name)
            if spec.skipFrom != nil {
                assertMatches(r.output, try f.tensor(name + ".skip"), name + ".skip")
                previous = try f.tensor(name + ".skip")
            }
        }
        return previous
    }

    func testEveryBlockOfBothNetworksMatchesPyTorch() throws {
        let f = try load()
        XCTAssertEqual(f.metadata["format"], "drht-1")
        XCTAssertEqual(f.metadata["weights"], "model.hashed_init")
        let model = Self.hashedModel()
        // The fixture's activations are of the input padded to 32 x 64 (edge pixels repeated).
        let x = replicatePad(try f.tensor("test.eval.input", shape: [1, 3, 32, 48]), toMultipleOf: 32)
        XCTAssertEqual(x.shape, [1, 3, 32, 64])
        let y1 = try checkNetwork(f, model, "hdr", input: x, base: x)
        // The reciprocal transform: H = tau_inv(y1) = max(y1, 0)^2.2, x2 = log(H + 1/255).
        let h = Pow.forward(y1, exponent: 2.2)
        assertMatches(h, try f.tensor("test.eval.transform.H"), "transform.H")
        let x2 = Log.forward(try f.tensor("test.eval.transform.H"), epsilon: 1.0 / 255)
        assertMatches(x2, try f.tensor("test.eval.transform"), "transform")
        let y2 = try checkNetwork(f, model, "ldr", input: try f.tensor("test.eval.transform"), base: y1)
        assertMatches(Clamp.forward(crop(y2, height: 32, width: 48), min: 0, max: 1), try f.tensor("test.eval.output"), "output")
    }
}

extension ParityFixtureTests {
    /// The whole pipeline (Pipeline, as `infer` and `drht correct --mode direct` run it).
    func testPipelineMatchesPyTorch() throws {
        let f = try load()
        let model = Self.hashedModel()
        let p = Pipeline(model: model, image: try f.tensor("test.eval.input"), retention: .everything)
        p.runAll()
        for name in ["hdr.enc1", "hdr.latent", "hdr.dec5.skip", "hdr.head", "transform.H", "transform", "ldr.latent", "ldr.head"] {
            // Errors compound through 25 layers here, so the tolerance is looser than per block.
            assertMatches(try p.tensor(XCTUnwrap(Pipeline.Output(name: name))), try f.tensor("test.eval.\(name)"), name, rtol: 2e-3)
        }
        assertMatches(p.corrected!, try f.tensor("test.eval.output"), "output", rtol: 2e-3)
    }
}

extension Tensor {
    /// Elementwise sum (test helper).
    func adding(_ other: Tensor) -> Tensor {
        let t = copy()
        for i in 0..<count { t.data[i] += other.data[i] }
        return t
    }
}

extension ParityFixtureTests {
    /// One training-mode forward/backward on the fixture's batch of 4 at 32x32: losses, the norm
    /// and 16 sampled entries of every gradient, and every BN's running statistics after it.
    func testTrainingLossesGradientsAndRunningStatsMatchPyTorch() throws {
        let f = try load()
        let model = Self.hashedModel()
        let batch = Batch(input: try f.tensor("test.train.input"), hdr: try f.tensor("test.train.hdr_gt"),
                          target: try f.tensor("test.train.ldr_gt"))
        let (losses, grads) = model.lossAndGradients(batch, mode: .training)
        for term in Losses.terms {
            let expected = Double(try f.tensor("test.train.loss_\(term.name)")[0])
            XCTAssertEqual(losses[term.name], expected, accuracy: 1e-4 * abs(expected) + 1e-7, term.name)
        }
        XCTAssertEqual(losses.total, Double(try f.tensor("test.train.loss")[0]), accuracy: 1e-4 * abs(losses.total) + 1e-7)
        var checked = 0
        for name in f.names where name.hasPrefix("test.train.grad_norm.") {
            let param = String(name.dropFirst("test.train.grad_norm.".count))
            guard let g = grads[param] else { XCTFail("no gradient for \(param)"); continue }
            let refNorm = Double(try f.tensor(name)[0])
            var ours = 0.0
            for i in 0..<g.count { ours += Double(g.data[i]) * Double(g.data[i]) }
            ours = ours.squareRoot()
            let index = try f.tensor("test.train.grad_index.\(param)"), sample = try f.tensor("test.train.grad_sample.\(param)")
            if refNorm < 1e-5 {
                // A conv bias right before a training-mode BN has an exactly zero gradient (BN
                // subtracts the batch mean); both sides hold only rounding noise.
                XCTAssertLessThan(ours, 1e-5, "grad \(param) should be ~0")
            } else {
                XCTAssertEqual(ours, refNorm, accuracy: 1e-3 * refNorm, "grad norm \(param)")
                // Sampled entries, each within 1e-3 of its size plus 1e-3 of the tensor's RMS.
                let rms = refNorm / Double(g.count).squareRoot()
                for k in 0..<index.count {
                    let i = Int(index[k]), ref = Double(sample[k]), mine = Double(g.data[i])
                    XCTAssertEqual(mine, ref, accuracy: 1e-3 * (abs(ref) + rms), "grad \(param)[\(i)]")
                }
            }
            checked += 1
        }
        XCTAssertEqual(checked, 96, "every learnable tensor: 4 per block, 12 blocks, 2 networks")
        var statistics = 0
        for (net, ae) in [("hdr", model.hdr), ("ldr", model.ldr)] {
            for spec in Architecture.layers {
                let bn = ae.block(spec.name)!.bn, key = "test.train.after.\(net).\(spec.name).bn"
                assertMatches(bn.runningMean, try f.tensor(key + ".running_mean"), key + ".running_mean")
                assertMatches(bn.runningVar, try f.tensor(key + ".running_var"), key + ".running_var")
                statistics += 1
            }
        }
        XCTAssertEqual(statistics, 24)
    }
}
