import XCTest
import DRHTEngine
@testable import DRHTModel

/// Finite differences through the whole two-stage model (both networks, the skips, BN in
/// training mode, the transform with its clamp and log), for the conv weights and BN weights
/// of every layer of both networks, as directional derivatives: along u = normalise(g/|g| + r)
/// with r a random unit vector, dL/de at e = 0 must equal g . u. (Single elements of a Float32
/// network move the loss by less than its rounding noise; a direction moves it measurably.)
/// BN runs in inference mode here (an affine map with the running statistics): with batch
/// statistics a 32x32 batch's 1x1 latent BN normalises a handful of values and the loss curves
/// too sharply for finite differences. Training-mode BN's backward is checked on its own
/// (BatchNormTests) and, through the whole model, against PyTorch (ParityFixtureTests).
/// The head's BN weight is small so y1 stays near the input, away from tau_inv's clamp at 0
/// and log's steep region near H = 0.
final class WholeModelGradientTests: XCTestCase {
    func testWholeModelFiniteDifferences() {
        checkFiniteDifferences(DRHT.initialized(seed: 11, deconv: .kaiming), relativeStep: 1e-3)
    }

    /// The same from the ICNR start (the default). There the loss curves more sharply along these
    /// directions: central differences with the 1e-3 step disagree by 4-9% (measured), with a
    /// step of 2.5e-4 they agree to 2%, so the step is smaller here.
    func testWholeModelFiniteDifferencesFromTheICNRStart() {
        checkFiniteDifferences(DRHT.initialized(seed: 11, deconv: .icnr), relativeStep: 2.5e-4)
    }

    func checkFiniteDifferences(_ model: DRHT, relativeStep: Double) {
        model.hdr.block("head")!.bn.weight.buffer.update(repeating: 0.1)
        var rng = SeededRandom(seed: 12)
        let input = Tensor.uniform([4, 3, 32, 32], 0.2, 0.9, rng: &rng)
        let hdr = Tensor.uniform([4, 3, 32, 32], 0.01, 4, rng: &rng)
        let target = Tensor.uniform([4, 3, 32, 32], 0, 1, rng: &rng)
        let batch = Batch(input: input, hdr: hdr, target: target)
        let (_, grads) = model.lossAndGradients(batch, mode: .inference)
        let params = Dictionary(uniqueKeysWithValues: model.parameters)
        func norm(_ v: [Double]) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        var checked = 0
        for (prefix, net) in model.networks {
            for block in net.blocks {
                for suffix in ["conv.weight", "bn.weight"] {
                    let name = "\(prefix).\(block.spec.name).\(suffix)"
                    let p = params[name]!, g = grads[name]!.array.map(Double.init)
                    let r = (0..<p.count).map { _ in Double(rng.normal()) }
                    let gn = norm(g), rn = norm(r)
                    var u = zip(g, r).map { $0 / gn + $1 / rn }
                    let un = norm(u); u = u.map { $0 / un }
                    let analytic = zip(g, u).reduce(0) { $0 + $1.0 * $1.1 }
                    let saved = p.array
                    let eps = relativeStep * max(norm(saved.map(Double.init)), 1)
                    func loss(_ e: Double) -> Double {
                        for i in 0..<p.count { p.data[i] = saved[i] + Float(e * u[i]) }
                        return model.lossAndGradients(batch, mode: .inference, gradients: false).0.total
                    }
                    let numeric = (loss(eps) - loss(-eps)) / (2 * eps)
                    p.data.update(from: saved, count: saved.count)
                    XCTAssertEqual(numeric, analytic, accuracy: 2e-2 * abs(analytic) + 1e-6, name)
                    checked += 1
                }
            }
        }
        XCTAssertEqual(checked, 48)
    }
}
