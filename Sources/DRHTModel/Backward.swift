// Training: each autoencoder's forward with BatchNorm in training mode, keeping what the
// backward needs, and the backward — the forward read in reverse. Then the whole DRHT loss
//   L = mse(y1, tau(H_gt)) + mse(y2, L_gt)
// with the second term's gradient flowing back through the transform into the first network.
import DRHTEngine

/// What one block's forward kept for its backward.
struct BlockTape {
    let input: Tensor          // (N, Cin, H, W) the block's input
    let convOut: Tensor        // (N, Cout, H', W') before BN
    let bnCache: BatchNorm2D.Cache
    let activated: Tensor      // after ELU (for the head: ELU(BN + base))
    let skipSum: Tensor?       // s = d + e + d*e for decoders
}

/// What an autoencoder's forward kept.
public struct AutoencoderTape {
    var blocks: [BlockTape] = []
}

/// Gradients by MODEL.md tensor name ("hdr.enc1.conv.weight", …).
public typealias Gradients = [String: Tensor]

extension Autoencoder {
    /// y = net(x, base) with BN in `mode`; in training mode BN uses batch statistics and
    /// updates its running statistics, like PyTorch's `model.train()`.
    public func forward(_ x: Tensor, base: Tensor, mode: Mode) -> (output: Tensor, tape: AutoencoderTape) {
        var tape = AutoencoderTape()
        var encoderOutputs: [String: Tensor] = [:]
        var h = x
        for block in blocks {
            let spec = block.spec
            let z = block.conv.forward(h)
            let (n, cache) = block.bn.forward(z, mode: mode)
            var a: Tensor
            var skip: Tensor? = nil
            if spec.kind == .head {
                a = ELU.forward(add(n, base))
            } else {
                a = ELU.forward(n)
            }
            if let from = spec.skipFrom {
                skip = SkipFusion.forward(decoder: a, encoder: encoderOutputs[from]!)
            } else if spec.kind == .conv {
                encoderOutputs[spec.name] = a
            }
            tape.blocks.append(BlockTape(input: h, convOut: z, bnCache: cache, activated: a, skipSum: skip))
            h = skip ?? a
        }
        return (h, tape)
    }

    /// Gradients of a loss given dL/dy: every parameter's (named `prefix.block.…`), the input's
    /// (when `inputGradient`), and the base's.
    public func backward(dOutput dy: Tensor, tape: AutoencoderTape, prefix: String,
                         inputGradient: Bool) -> (dInput: Tensor?, dBase: Tensor, gradients: Gradients) {
        var grads: Gradients = [:]
        var dEncoder: [String: Tensor] = [:]     // gradients reaching encoder outputs through skips
        var g = dy
        var dBase = dy
        var dInput: Tensor? = nil
        for (index, block) in blocks.enumerated().reversed() {
            let spec = block.spec, t = tape.blocks[index]
            var dActivated = g
            if let from = spec.skipFrom {
                // s = d + e + d*e
                let encoderIndex = blocks.firstIndex { $0.spec.name == from }!
                let e = tape.blocks[encoderIndex].activated
                let (dd, de) = SkipFusion.backward(dOutput: g, decoder: t.activated, encoder: e)
                dActivated = dd
                dEncoder[from] = de
            } else if let extra = dEncoder[spec.name] {
                dActivated = add(g, extra)
            }
            let dn = ELU.backward(dOutput: dActivated, output: t.activated)
            if spec.kind == .head { dBase = dn }
            let (dz, dGamma, dBeta) = block.bn.backward(dOutput: dn, input: t.convOut, cache: t.bnCache)
            let needInput = index > 0 || inputGradient
            let cg: ConvGradients
            switch block.conv {
            case .conv(let c): cg = c.backward(dOutput: dz, input: t.input, inputGradient: needInput)
            case .transposed(let c): cg = c.backward(dOutput: dz, input: t.input, inputGradient: needInput)
            }
            let name = "\(prefix).\(spec.name)"
            grads["\(name).conv.weight"] = cg.dWeight
            grads["\(name).conv.bias"] = cg.dBias
            grads["\(name).bn.weight"] = dGamma
            grads["\(name).bn.bias"] = dBeta
            if index > 0 { g = cg.dInput! } else { dInput = cg.dInput }
        }
        return (dInput, dBase, grads)
    }
}

/// a + b, elementwise (same shape).
func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    precondition(a.shape == b.shape, "add: \(a.shapeString) vs \(b.shapeString)")
    let c = Tensor(uninitialized: a.shape)
    let pa = a.data, pb = b.data, pc = c.data
    parallelChunks(a.count, minChunk: 1 << 15) { r in for i in r { pc[i] = pa[i] + pb[i] } }
    return c
}

/// The losses of one training step.
public struct Losses: Sendable {
    /// mse(y1, tau(H_gt))
    public var hdr: Double
    /// mse(y2, L_gt)
    public var ldr: Double
    public var total: Double { hdr + ldr }
}

/// One batch of training triplets.
public struct Batch {
    /// (N, 3, S, S) LDR input in [0, 1]
    public var input: Tensor
    /// (N, 3, S, S) linear HDR ground truth (log-average luminance 0.18)
    public var hdr: Tensor
    /// (N, 3, S, S) well-exposed LDR target in [0, 1]
    public var target: Tensor
    public init(input: Tensor, hdr: Tensor, target: Tensor) { self.input = input; self.hdr = hdr; self.target = target }
}

extension DRHT {
    /// The joint loss of a batch and, unless `gradients` is false, the gradient of every
    /// learnable tensor. `mode: .training` uses batch statistics in BN and updates the
    /// running ones (as PyTorch's `model.train()` does); `.inference` uses running statistics.
    public func lossAndGradients(_ batch: Batch, mode: Mode, gradients: Bool = true) -> (Losses, Gradients) {
        let x = batch.input
        let (y1, hdrTape) = hdr.forward(x, base: x, mode: mode)
        let h = constants.tauInverse(y1)                     // H = k max(y1, 0)^g
        let x2 = constants.log(h)                            // log(H + eps)
        let (y2, ldrTape) = ldr.forward(x2, base: y1, mode: mode)
        let hdrTarget = constants.tau(batch.hdr)             // tau(H_gt)
        let losses = Losses(hdr: MSELoss.forward(prediction: y1, target: hdrTarget),
                            ldr: MSELoss.forward(prediction: y2, target: batch.target))
        guard gradients else { return (losses, [:]) }

        let dy2 = MSELoss.backward(prediction: y2, target: batch.target)
        let (dx2, dBaseLDR, ldrGrads) = ldr.backward(dOutput: dy2, tape: ldrTape, prefix: "ldr", inputGradient: true)
        let dh = Log.backward(dOutput: dx2!, input: h, epsilon: constants.epsilon)
        let dTransform = Pow.backward(dOutput: dh, input: y1, exponent: constants.gamma, scale: constants.scale)
        let dy1 = add(add(dTransform, dBaseLDR), MSELoss.backward(prediction: y1, target: hdrTarget))
        let (_, _, hdrGrads) = hdr.backward(dOutput: dy1, tape: hdrTape, prefix: "hdr", inputGradient: false)
        return (losses, hdrGrads.merging(ldrGrads) { a, _ in a })
    }

    /// The learnable tensors (conv weights and biases, BN weights and biases) by name.
    public var parameters: [(String, Tensor)] {
        namedTensors.filter { !$0.0.hasSuffix("running_mean") && !$0.0.hasSuffix("running_var") }
    }
}
