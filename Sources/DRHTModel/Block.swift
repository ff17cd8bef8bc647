// One block of the table, forward and backward side by side — the only place a block is
// computed. Training (`Autoencoder.forward/backward`), the stepping `Pipeline` (and through
// it whole-image inference and `correct`), `drht bench` and the parity tests all call
// `Block.forward`.
//
//   z = conv(x)                         conv or transposed conv, as the row says
//   n = BN(z)                           batch statistics (training) or running ones
//   a = ELU(n)                          the head: a = ELU(n + base)
//   s = a + e + a*e                     decoders only: fused with encoder output e
// The block's output (what the next block reads) is s for decoders, a otherwise.
//
// Shapes: x (N, Cin, H, W); z, n, a, s, e (N, Cout, Ho, Wo); base (N, 3, H, W) = head's shape.
import DRHTEngine

/// How a block's forward runs.
public enum BlockMode: Sendable, Equatable {
    /// For a backward: keep what it needs; BatchNorm in the given mode (`.training` uses the
    /// batch's statistics and updates the running ones, like PyTorch's `model.train()`).
    case differentiable(Mode)
    /// Inference only (running statistics), nothing kept. With `inPlace` the skip sum
    /// overwrites the activation, so a decoder returns one tensor instead of two.
    case inference(inPlace: Bool)
}

/// What one block's forward returns.
public struct BlockOutput {
    /// What the next block reads: the skip sum s for decoders, else the activation a.
    public let output: Tensor
    /// a = ELU(BN(conv(x))) (ELU(... + base) for the head); nil when an in-place skip sum
    /// overwrote it.
    public let activation: Tensor?
    /// What `backward` needs; nil in `.inference` mode.
    public let cache: BlockCache?
}

/// What one block's forward kept for its backward.
public struct BlockCache {
    let input: Tensor          // x (N, Cin, H, W)
    let convOut: Tensor        // z (N, Cout, Ho, Wo), before BN
    let bn: BatchNorm2D.Cache
    let activation: Tensor     // a (N, Cout, Ho, Wo)
    let encoder: Tensor?       // e, for decoders
}

/// One block's gradients.
public struct BlockGradients {
    /// dL/dx; nil when not asked for.
    public var dInput: Tensor?
    /// dL/dbase (the head only).
    public var dBase: Tensor?
    /// dL/de through the skip sum (decoders only).
    public var dEncoder: Tensor?
    public var dWeight: Tensor, dBias: Tensor
    public var dGamma: Tensor, dBeta: Tensor
}

/// A named block: one row of the table made of real layers.
public struct Block {
    public let spec: LayerSpec
    public var conv: any ConvolutionLayer
    public var bn: BatchNorm2D

    /// A block of zero weights and identity BN.
    public init(spec: LayerSpec) {
        self.spec = spec
        conv = spec.makeConvolution()
        bn = BatchNorm2D(channels: spec.outChannels)
    }

    /// The block on x. `base` is required for the head, `encoder` (the output of the block named
    /// by `spec.skipFrom`) for decoders.
    public func forward(_ x: Tensor, base: Tensor? = nil, encoder: Tensor? = nil, mode: BlockMode) -> BlockOutput {
        precondition((spec.kind == .head) == (base != nil), "\(spec.name): base is for the head only")
        precondition((spec.skipFrom != nil) == (encoder != nil), "\(spec.name): encoder output is for skip blocks only")
        let z = StepProfile.measure("\(spec.name) conv forward") { conv.forward(x, workspace: .shared) }
        switch mode {
        case .differentiable(let bnMode):
            // BN, + base, ELU and the skip sum in two passes (TrainingEpilogue.swift; the same
            // arithmetic as BatchNorm2D.forward, ELU.forward and SkipFusion.forward in turn).
            return StepProfile.measure("\(spec.name) BN, ELU, skip forward") {
                let (a, s, bnCache) = TrainingEpilogue.forward(z, batchNorm: bn, mode: bnMode, base: base, encoder: encoder)
                let cache = BlockCache(input: x, convOut: z, bn: bnCache, activation: a, encoder: encoder)
                return BlockOutput(output: s ?? a, activation: a, cache: cache)
            }
        case .inference(let inPlace):
            // BN, + base, ELU (and in place the skip sum) in one pass: BlockEpilogue.swift.
            if let encoder, inPlace {
                BlockEpilogue.applyInPlace(z, batchNorm: bn, base: base, encoder: encoder)   // z now holds s
                return BlockOutput(output: z, activation: nil, cache: nil)
            }
            BlockEpilogue.applyInPlace(z, batchNorm: bn, base: base, encoder: nil)       // z now holds a
            guard let encoder else { return BlockOutput(output: z, activation: z, cache: nil) }
            return BlockOutput(output: SkipFusion.forward(decoder: z, encoder: encoder), activation: z, cache: nil)
        }
    }

    /// The forward read in reverse. `dOutput` is dL/d(output); `dActivationExtra` is what
    /// reaches this block's activation from elsewhere (an encoder's gradient through the skip
    /// sums that read it).
    public func backward(dOutput: Tensor, dActivationExtra: Tensor? = nil, cache: BlockCache,
                         inputGradient: Bool, weightGradient: Bool = true) -> BlockGradients {
        // The skip sum's, ELU's and BN's backward in two passes (TrainingEpilogue.swift; the same
        // arithmetic as SkipFusion.backward, ELU.backward and BatchNorm2D.backward in turn).
        // dn = dL/d(BN(z) + base) is the head's dL/dbase.
        let (dz, dn, dEncoder, dGamma, dBeta) = StepProfile.measure("\(spec.name) BN, ELU, skip backward") {
            TrainingEpilogue.backward(dOutput: dOutput, extra: dActivationExtra, activation: cache.activation,
                                      encoder: cache.encoder, convOutput: cache.convOut, batchNorm: bn, cache: cache.bn,
                                      keepActivationGradient: spec.kind == .head)
        }
        let g = StepProfile.measure("\(spec.name) conv backward") {
            conv.backward(dOutput: dz, input: cache.input, inputGradient: inputGradient, weightGradient: weightGradient,
                          workspace: .shared)
        }
        return BlockGradients(dInput: g.dInput, dBase: dn, dEncoder: dEncoder,
                              dWeight: g.dWeight, dBias: g.dBias, dGamma: dGamma, dBeta: dBeta)
    }

    /// 2 x multiply-adds of the block's convolution on an input of shape (N, Cin, H, W).
    public func flops(for input: [Int]) -> Double { conv.flops(for: input) }

    /// The block's tensors under their state_dict names (without the network prefix).
    public var namedTensors: [(String, Tensor)] {
        [("\(spec.name).conv.weight", conv.weight), ("\(spec.name).conv.bias", conv.bias),
         ("\(spec.name).bn.weight", bn.weight), ("\(spec.name).bn.bias", bn.bias),
         ("\(spec.name).bn.running_mean", bn.runningMean), ("\(spec.name).bn.running_var", bn.runningVar)]
    }

    /// The shapes docs/MODEL.md requires, by the same names.
    public var expectedShapes: [(String, [Int])] {
        let s = spec, c = s.outChannels
        return [("\(s.name).conv.weight", s.weightShape), ("\(s.name).conv.bias", [c]), ("\(s.name).bn.weight", [c]),
                ("\(s.name).bn.bias", [c]), ("\(s.name).bn.running_mean", [c]), ("\(s.name).bn.running_var", [c])]
    }
}

/// a += b, elementwise (same shape).  a, b (N, C, H, W)
func addInPlace(_ a: Tensor, _ b: Tensor) {
    precondition(a.shape == b.shape, "add: \(a.shapeString) vs \(b.shapeString)")
    let pa = a.data, pb = b.data
    parallelChunks(a.count, minChunk: 1 << 15) { r in for i in r { pa[i] += pb[i] } }
}

/// a + b, elementwise (same shape).
func add(_ a: Tensor, _ b: Tensor) -> Tensor {
    let c = a.copy()
    addInPlace(c, b)
    return c
}
