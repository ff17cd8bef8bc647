// One DRHT autoencoder: the table in Architecture.swift made of real blocks (Block.swift),
// run forward in table order and backward in reverse. Decoder outputs are fused with the
// encoder output of the same size (s = d + e + d*e); the head's output is ELU(head + base).
import DRHTEngine

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
