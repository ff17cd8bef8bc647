import XCTest
import DRHTTestSupport
import DRHTEngine
@testable import DRHTModel

/// Block.forward / Block.backward: the one place a block is computed.
final class BlockTests: XCTestCase {
    /// A small block of each kind with random weights and BN statistics.
    func block(_ kind: LayerSpec.Kind, skip: Bool = false, seed: UInt64 = 1) -> Block {
        let spec = LayerSpec(name: "b", kind: kind, kernel: 3, stride: kind == .conv ? 2 : (kind == .head ? 1 : 2),
                             inChannels: 2, outChannels: 3, skipFrom: skip ? "e" : nil)
        let b = Block(spec: spec)
        var rng = SeededRandom(seed: seed)
        for t in [b.conv.weight, b.conv.bias, b.bn.weight, b.bn.bias, b.bn.runningMean] {
            for i in 0..<t.count { t.data[i] = rng.uniform(-0.8, 0.8) }
        }
        for i in 0..<b.bn.runningVar.count { b.bn.runningVar.data[i] = rng.uniform(0.5, 2) }
        return b
    }

    /// The three ways inference can run agree: in place, not in place, and the differentiable
    /// forward with BN in inference mode (what training code uses for a loss in eval mode).
    func testInferenceModesAgree() {
        for (kind, skip) in [(LayerSpec.Kind.conv, false), (.transposedConv, true), (.head, false)] {
            let b = block(kind, skip: skip)
            let x = randomTensor([2, 2, 6, 6], seed: 2)
            let outShape = b.conv.outputShape(for: x.shape)
            let base = kind == .head ? randomTensor(outShape, seed: 3) : nil
            let e = skip ? randomTensor(outShape, seed: 4) : nil
            let copy = b.forward(x, base: base, encoder: e, mode: .inference(inPlace: false))
            let inPlace = b.forward(x, base: base, encoder: e, mode: .inference(inPlace: true))
            let diff = b.forward(x, base: base, encoder: e, mode: .differentiable(.inference))
            assertClose(inPlace.output, copy.output, "\(kind) in place")
            assertClose(diff.output, copy.output, "\(kind) differentiable")
            assertClose(diff.activation!, copy.activation!, "\(kind) activation")
            XCTAssertNotNil(diff.cache); XCTAssertNil(copy.cache)
            XCTAssertEqual(skip, inPlace.activation == nil, "only an in-place skip sum drops the activation")
        }
    }

    /// A hand-computed 1x1 head: conv weight 2, bias 0.5, BN identity (running mean 0, var 1 - eps
    /// so rstd = 1), base 1: y = ELU(2x + 0.5 + 1).
    func testHeadByHand() {
        let spec = LayerSpec(name: "head", kind: .head, kernel: 1, stride: 1, inChannels: 1, outChannels: 1, skipFrom: nil)
        var b = Block(spec: spec)
        b.conv.weight.data[0] = 2; b.conv.bias.data[0] = 0.5
        b.bn.runningVar.data[0] = 1 - b.bn.epsilon
        let x = Tensor(shape: [1, 1, 1, 3], values: [0, -1, -2])
        let y = b.forward(x, base: Tensor(shape: [1, 1, 1, 3], repeating: 1), mode: .inference(inPlace: true)).output
        assertClose(y.array, [1.5, Float(expm1(-0.5)), Float(expm1(-2.5))], rtol: 1e-5, atol: 1e-6, "head")
    }

    /// Finite differences through Block.backward (BN in training mode) for the kinds with extra
    /// inputs: a decoder's encoder gradient, the head's base gradient, and an encoder's extra
    /// gradient arriving from a skip.
    func testBackwardMatchesFiniteDifferences() {
        for (kind, skip) in [(LayerSpec.Kind.transposedConv, true), (.head, false), (.conv, false)] {
            let b = block(kind, skip: skip, seed: 5)
            let x = randomTensor([2, 2, 4, 4], seed: 6)
            let outShape = b.conv.outputShape(for: x.shape)
            let base = kind == .head ? randomTensor(outShape, seed: 7) : nil
            let e = skip ? randomTensor(outShape, seed: 8) : nil
            let r = randomTensor(outShape, seed: 9), rExtra = randomTensor(outShape, seed: 10)
            // loss = sum(output * r) + sum(activation * rExtra) for encoders (a skip reads them).
            func loss() -> Double {
                let o = b.forward(x, base: base, encoder: e, mode: .differentiable(.training))
                return dot(o.output, r) + (kind == .conv ? dot(o.activation!, rExtra) : 0)
            }
            let f = b.forward(x, base: base, encoder: e, mode: .differentiable(.training))
            let g = b.backward(dOutput: r, dActivationExtra: kind == .conv ? rExtra : nil, cache: f.cache!, inputGradient: true)
            checkGradient("\(kind) dInput", param: x, analytic: g.dInput!, loss: loss)
            checkGradient("\(kind) dWeight", param: b.conv.weight, analytic: g.dWeight, loss: loss)
            checkGradient("\(kind) dBias", param: b.conv.bias, analytic: g.dBias, loss: loss)
            checkGradient("\(kind) dGamma", param: b.bn.weight, analytic: g.dGamma, loss: loss)
            checkGradient("\(kind) dBeta", param: b.bn.bias, analytic: g.dBeta, loss: loss)
            if let base { checkGradient("head dBase", param: base, analytic: g.dBase!, loss: loss) }
            if let e { checkGradient("decoder dEncoder", param: e, analytic: g.dEncoder!, loss: loss) }
        }
    }

    /// Sizes and receptive fields come from the table's strides and kernels.
    func testArchitectureDerivesFromTheTable() {
        XCTAssertEqual(Architecture.layers.map(\.scaleDivisor), [1, 2, 4, 8, 16, 32, 16, 8, 4, 2, 1, 1])
        XCTAssertEqual(Architecture.sizeMultiple, 32)
        // By hand: enc1 9; enc2 9 + 4 = 13 (jump 2); enc3 13 + 2*2 = 17 (jump 4); enc4 17 + 2*4 = 25;
        // enc5 25 + 2*8 = 41; latent 41 + 2*16 = 73 (jump 32); dec1 reads 2 inputs: 73 + 32 = 105 (jump 16).
        let rf = Architecture.receptiveFields
        XCTAssertEqual([rf["enc1"], rf["enc2"], rf["enc3"], rf["enc4"], rf["enc5"], rf["latent"], rf["dec1"]],
                       [9, 13, 17, 25, 41, 73, 105])
        for spec in Architecture.layers {
            XCTAssertEqual(Block(spec: spec).conv.weight.shape, spec.weightShape, spec.name)
        }
    }
}
