// One DRHT autoencoder: the table in Architecture.swift made of real layers.
// Every block is conv (or transposed conv) -> BatchNorm -> ELU; the head is conv -> BN and
// its output is ELU(head(s5) + base). Decoder outputs are fused with the encoder output of
// the same size: s = d + e + d*e.
import DRHTEngine

/// A convolution of either kind, so a block can hold whichever its row of the table asks for.
public enum BlockConv {
    case conv(Conv2D)
    case transposed(TransposedConv2D)

    public var weight: Tensor {
        switch self { case .conv(let c): return c.weight; case .transposed(let t): return t.weight }
    }
    public var bias: Tensor {
        switch self { case .conv(let c): return c.bias; case .transposed(let t): return t.bias }
    }
    public func forward(_ x: Tensor, workspace: Workspace = .shared) -> Tensor {
        switch self { case .conv(let c): return c.forward(x, workspace: workspace)
                      case .transposed(let t): return t.forward(x, workspace: workspace) }
    }
    public func flops(for input: [Int]) -> Double {
        switch self { case .conv(let c): return c.flops(for: input); case .transposed(let t): return t.flops(for: input) }
    }
    public func outputShape(for input: [Int]) -> [Int] {
        switch self { case .conv(let c): return c.outputShape(for: input)
                      case .transposed(let t): return t.outputShape(for: input) }
    }
}

/// A named block: one row of the table.
public struct Block {
    public let spec: LayerSpec
    public var conv: BlockConv
    public var bn: BatchNorm2D

    /// A block of zero weights and identity BN.
    public init(spec: LayerSpec) {
        self.spec = spec
        switch spec.kind {
        case .transposedConv:
            conv = .transposed(TransposedConv2D(inChannels: spec.inChannels, outChannels: spec.outChannels, kernel: spec.kernel))
        case .conv, .head:
            conv = .conv(Conv2D(inChannels: spec.inChannels, outChannels: spec.outChannels, kernel: spec.kernel, stride: spec.stride))
        }
        bn = BatchNorm2D(channels: spec.outChannels)
    }

    /// Inference: conv -> BN (running statistics) -> ELU, BN and ELU in place on the conv output.
    /// The head skips the ELU (the caller adds the base first).
    public func inference(_ x: Tensor) -> Tensor {
        let y = conv.forward(x)
        bn.normalizeInPlace(y)
        if spec.kind != .head { ELU.applyInPlace(y) }
        return y
    }

    /// The block's tensors under their state_dict names (without the network prefix).
    public var namedTensors: [(String, Tensor)] {
        [("\(spec.name).conv.weight", conv.weight), ("\(spec.name).conv.bias", conv.bias),
         ("\(spec.name).bn.weight", bn.weight), ("\(spec.name).bn.bias", bn.bias),
         ("\(spec.name).bn.running_mean", bn.runningMean), ("\(spec.name).bn.running_var", bn.runningVar)]
    }

    /// The shapes MODEL.md requires, by the same names.
    public var expectedShapes: [(String, [Int])] {
        let s = spec, c = s.outChannels
        let w = s.kind == .transposedConv ? [s.inChannels, c, s.kernel, s.kernel] : [c, s.inChannels, s.kernel, s.kernel]
        return [("\(s.name).conv.weight", w), ("\(s.name).conv.bias", [c]), ("\(s.name).bn.weight", [c]),
                ("\(s.name).bn.bias", [c]), ("\(s.name).bn.running_mean", [c]), ("\(s.name).bn.running_var", [c])]
    }
}

/// One autoencoder: twelve blocks in table order.
public final class Autoencoder {
    public var blocks: [Block]

    public init() { blocks = Architecture.layers.map(Block.init(spec:)) }

    public func block(_ name: String) -> Block? { blocks.first { $0.spec.name == name } }

    /// Number of learnable parameters (conv weights and biases, BN weights and biases).
    public var parameterCount: Int {
        blocks.reduce(0) { $0 + $1.conv.weight.count + $1.conv.bias.count + $1.bn.weight.count + $1.bn.bias.count }
    }
}
