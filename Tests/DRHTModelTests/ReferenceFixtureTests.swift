import XCTest
import DRHTEngine
@testable import DRHTModel

/// The engine against an independent PyTorch build of MODEL.md
/// (../shared/fixtures/drht-reference.safetensors): every block of both networks in eval mode,
/// each fed the reference's own previous activation so errors do not compound.
final class ReferenceFixtureTests: XCTestCase {
    /// `$DRHT_SHARED/fixtures/…`, else `../shared/fixtures/…` beside the package root.
    static let fixturePath: String = {
        if let shared = ProcessInfo.processInfo.environment["DRHT_SHARED"] {
            return shared + "/fixtures/drht-reference.safetensors"
        }
        // Tests/DRHTModelTests/ThisFile.swift -> package root -> ../shared/fixtures
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.deletingLastPathComponent().appendingPathComponent("shared/fixtures/drht-reference.safetensors").path
    }()

    static let fixture: SafeTensorsFile? = try? SafeTensorsFile.read(fixturePath)

    func load() throws -> SafeTensorsFile {
        guard let f = Self.fixture else {
            throw XCTSkip("reference fixture not found at \(Self.fixturePath) (it ships in the workplace's shared/ folder)")
        }
        return f
    }

    /// Largest |a - b| / (1e-3 + |b|) style check with a tolerance honest for Float32 sums of
    /// thousands of terms (rtol 1e-4 relative to the tensor's scale).
    func assertMatches(_ a: Tensor, _ b: Tensor, _ what: String, rtol: Float = 1e-4,
                       file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.shape, b.shape, what, file: file, line: line)
        var scale: Float = 0
        for i in 0..<b.count { scale = max(scale, abs(b.data[i])) }
        var worst: Float = 0, at = 0
        for i in 0..<min(a.count, b.count) {
            let d = abs(a.data[i] - b.data[i]) / (abs(b.data[i]) + 1e-2 * scale + 1e-6)
            if !(d <= worst) { worst = d; at = i }
        }
        XCTAssertLessThanOrEqual(worst, rtol, "\(what): element \(at) is \(a.data[at]), reference \(b.data[at])",
                                 file: file, line: line)
    }

    func block(_ f: SafeTensorsFile, _ prefix: String, _ spec: LayerSpec, _ x: Tensor) throws -> Tensor {
        let w = try f.tensor("\(prefix).conv.weight"), b = try f.tensor("\(prefix).conv.bias")
        let conv: Tensor
        switch spec.kind {
        case .transposedConv: conv = TransposedConv2D(weight: w, bias: b).forward(x)
        default: conv = Conv2D(weight: w, bias: b, stride: spec.stride).forward(x)
        }
        let bn = BatchNorm2D(weight: try f.tensor("\(prefix).bn.weight"), bias: try f.tensor("\(prefix).bn.bias"),
                             runningMean: try f.tensor("\(prefix).bn.running_mean"),
                             runningVar: try f.tensor("\(prefix).bn.running_var"))
        let normalised = bn.forward(conv, mode: .inference).output
        return spec.kind == .head ? normalised : ELU.forward(normalised)
    }

    func checkNetwork(_ f: SafeTensorsFile, _ net: String, input: Tensor, base: Tensor) throws -> Tensor {
        var previous = input
        for spec in Architecture.layers {
            let name = "test.eval.\(net).\(spec.name)"
            var out = try block(f, "\(net).\(spec.name)", spec, previous)
            if spec.kind == .head {
                // y = ELU(head(s5) + base)
                out = ELU.forward(out.adding(base))
            }
            assertMatches(out, try f.tensor(name), name)
            previous = try f.tensor(name)
            if let skip = spec.skipFrom {
                let fused = SkipFusion.forward(decoder: previous, encoder: try f.tensor("test.eval.\(net).\(skip)"))
                assertMatches(fused, try f.tensor(name + ".skip"), name + ".skip")
                previous = try f.tensor(name + ".skip")
            }
        }
        return previous
    }

    func testEveryBlockOfBothNetworksMatchesPyTorch() throws {
        let f = try load()
        XCTAssertEqual(f.metadata["format"], "drht-1")
        let x = try f.tensor("test.eval.input", shape: [1, 3, 64, 64])
        let y1 = try checkNetwork(f, "hdr", input: x, base: x)
        // The reciprocal transform: H = tau_inv(y1) = max(y1, 0)^2.2, x2 = log(H + 1/255).
        let h = Pow.forward(y1, exponent: 2.2)
        assertMatches(h, try f.tensor("test.eval.transform.H"), "transform.H")
        let x2 = Log.forward(try f.tensor("test.eval.transform.H"), epsilon: 1.0 / 255)
        assertMatches(x2, try f.tensor("test.eval.transform"), "transform")
        let y2 = try checkNetwork(f, "ldr", input: try f.tensor("test.eval.transform"), base: y1)
        assertMatches(Clamp.forward(y2, min: 0, max: 1), try f.tensor("test.eval.output"), "output")
    }
}

extension ReferenceFixtureTests {
    /// The whole pipeline (DRHT.load + Pipeline) on the fixture's weights and input.
    func testPipelineOnTheReferenceWeightsMatchesPyTorch() throws {
        let f = try load()
        let model = try DRHT.load(f, path: Self.fixturePath)    // a PyTorch-written weights file
        XCTAssertEqual(model.constants.gamma, 2.2)
        let p = Pipeline(model: model, image: try f.tensor("test.eval.input"), retention: .everything)
        p.runAll()
        for name in ["hdr.enc1", "hdr.latent", "hdr.dec5.skip", "hdr.head", "transform.H", "transform", "ldr.latent", "ldr.head"] {
            // Errors compound through 25 layers here, so the tolerance is looser than per block.
            assertMatches(p.outputs[name]!, try f.tensor("test.eval.\(name)"), name, rtol: 2e-3)
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

extension ReferenceFixtureTests {
    /// One training-mode forward/backward on the fixture's batch of 2 at 32x32: losses,
    /// every gradient the fixture holds, and BN running statistics after the step.
    func testTrainingLossesGradientsAndRunningStatsMatchPyTorch() throws {
        let f = try load()
        let model = try DRHT.load(f, path: Self.fixturePath)
        let batch = Batch(input: try f.tensor("test.train.input"), hdr: try f.tensor("test.train.hdr_gt"),
                          target: try f.tensor("test.train.ldr_gt"))
        let (losses, grads) = model.lossAndGradients(batch, mode: .training)
        XCTAssertEqual(losses.hdr, Double(try f.tensor("test.train.loss_hdr")[0]), accuracy: 1e-4 * abs(losses.hdr) + 1e-7)
        XCTAssertEqual(losses.ldr, Double(try f.tensor("test.train.loss_ldr")[0]), accuracy: 1e-4 * abs(losses.ldr) + 1e-7)
        XCTAssertEqual(losses.total, Double(try f.tensor("test.train.loss")[0]), accuracy: 1e-4 * abs(losses.total) + 1e-7)
        var checked = 0
        for name in f.names where name.hasPrefix("test.train.grad.") {
            let param = String(name.dropFirst("test.train.grad.".count))
            guard let g = grads[param] else { XCTFail("no gradient for \(param)"); continue }
            let ref = try f.tensor(name)
            XCTAssertEqual(g.shape, ref.shape, param)
            var diff = 0.0, norm = 0.0, ours = 0.0
            for i in 0..<min(g.count, ref.count) {
                diff += pow(Double(g.data[i] - ref.data[i]), 2); norm += pow(Double(ref.data[i]), 2); ours += pow(Double(g.data[i]), 2)
            }
            if norm.squareRoot() < 1e-5 {
                // A conv bias right before a training-mode BN has an exactly zero gradient (BN
                // subtracts the batch mean); both sides hold only rounding noise.
                XCTAssertLessThan(ours.squareRoot(), 1e-5, "grad \(param) should be ~0")
            } else {
                // Relative L2 error: the fixture README's 1e-3 for gradients (seen here: <= 4e-4).
                XCTAssertLessThan((diff / norm).squareRoot(), 1e-3, "grad \(param)")
            }
            checked += 1
        }
        XCTAssertEqual(checked, 84, "every gradient the fixture holds")
        for bn in ["hdr.enc1.bn", "ldr.latent.bn", "ldr.head.bn"] {
            let net = bn.hasPrefix("hdr") ? model.hdr : model.ldr
            let block = net.block(String(bn.split(separator: ".")[1]))!
            assertMatches(block.bn.runningMean, try f.tensor("test.train.after.\(bn).running_mean"), "\(bn).running_mean")
            assertMatches(block.bn.runningVar, try f.tensor("test.train.after.\(bn).running_var"), "\(bn).running_var")
        }
    }
}
