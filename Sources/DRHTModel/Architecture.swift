// The DRHT autoencoder as a table — the one in docs/MODEL.md, row for row.
// DRHT: Yang, Xu, Song, Zhang, Wei, Lau, "Image Correction via Deep Reciprocating HDR
// Transformation", CVPR 2018. Both stages (`hdr.*` and `ldr.*`) use this same table.
import DRHTEngine

/// One row of the table: a named block.
public struct LayerSpec: Sendable, Equatable {
    public enum Kind: String, Sendable {
        case conv, transposedConv = "transposed conv", head = "conv (head)"
        /// The short name tables print (`model`, `step`, `drht bench`).
        public var label: String {
            switch self {
            case .conv: return "conv"
            case .transposedConv: return "deconv"
            case .head: return "conv (head)"
            }
        }
        /// The operation, without what a head adds.
        public var operation: String {
            switch self {
            case .conv, .head: return "conv"
            case .transposedConv: return "deconv"
            }
        }
    }
    public let name: String
    public let kind: Kind
    public let kernel: Int
    public let stride: Int
    public let inChannels: Int
    public let outChannels: Int
    /// The encoder block whose output this decoder block's output is fused with (s = d + e + d*e).
    public let skipFrom: String?

    /// Output height for an input (to the whole network) of height `h`.
    public func outputSize(networkInput h: Int) -> Int { h / scaleDivisor }

    /// H / outputSize: 1 for enc1, 2 for enc2, ..., 32 for the latent, back to 1 at dec5 —
    /// the product of the strides of the table's rows up to this one.
    public var scaleDivisor: Int { Architecture.scaleDivisors[name]! }

    /// How this block's convolution moves the sampling grid (see `Sampling`).
    public var sampling: Sampling {
        switch kind {
        case .conv, .head: return .conv(kernel: kernel, stride: stride)
        case .transposedConv: return .transposed(kernel: kernel, stride: stride)
        }
    }

    /// The block's convolution with zero weights, of the kind its row asks for.
    public func makeConvolution() -> any ConvolutionLayer {
        switch kind {
        case .transposedConv: return TransposedConv2D(inChannels: inChannels, outChannels: outChannels, kernel: kernel)
        case .conv, .head: return Conv2D(inChannels: inChannels, outChannels: outChannels, kernel: kernel, stride: stride)
        }
    }

    /// The weight's shape in the kind's layout: conv (out, in, k, k), transposed (in, out, k, k).
    public var weightShape: [Int] {
        switch kind {
        case .conv, .head: return [outChannels, inChannels, kernel, kernel]
        case .transposedConv: return [inChannels, outChannels, kernel, kernel]
        }
    }

    /// Input height of this block for a network input of height `h`.
    public func inputSize(networkInput h: Int) -> Int {
        outputSize(networkInput: h) * sampling.down / sampling.up
    }

    /// FLOPs (2 x multiply-adds) of the block's convolution for an N x N network input.
    public func flops(networkInput n: Int, batch: Int = 1) -> Double {
        let out = outputSize(networkInput: n)
        // The kernel is applied once per cell of the coarser grid: the output of a convolution,
        // the input of a transposed one.
        let grid = out / sampling.up
        let positions = grid * grid
        return 2 * Double(batch * positions) * Double(inChannels * outChannels * kernel * kernel)
    }
}

public enum Architecture {
    /// docs/MODEL.md's table. Every block is conv -> BatchNorm -> ELU except the head (conv -> BN).
    public static let layers: [LayerSpec] = [
        LayerSpec(name: "enc1", kind: .conv, kernel: 9, stride: 1, inChannels: 3, outChannels: 64, skipFrom: nil),
        LayerSpec(name: "enc2", kind: .conv, kernel: 5, stride: 2, inChannels: 64, outChannels: 64, skipFrom: nil),
        LayerSpec(name: "enc3", kind: .conv, kernel: 3, stride: 2, inChannels: 64, outChannels: 128, skipFrom: nil),
        LayerSpec(name: "enc4", kind: .conv, kernel: 3, stride: 2, inChannels: 128, outChannels: 256, skipFrom: nil),
        LayerSpec(name: "enc5", kind: .conv, kernel: 3, stride: 2, inChannels: 256, outChannels: 256, skipFrom: nil),
        LayerSpec(name: "latent", kind: .conv, kernel: 3, stride: 2, inChannels: 256, outChannels: 512, skipFrom: nil),
        LayerSpec(name: "dec1", kind: .transposedConv, kernel: 3, stride: 2, inChannels: 512, outChannels: 256, skipFrom: "enc5"),
        LayerSpec(name: "dec2", kind: .transposedConv, kernel: 3, stride: 2, inChannels: 256, outChannels: 256, skipFrom: "enc4"),
        LayerSpec(name: "dec3", kind: .transposedConv, kernel: 3, stride: 2, inChannels: 256, outChannels: 128, skipFrom: "enc3"),
        LayerSpec(name: "dec4", kind: .transposedConv, kernel: 5, stride: 2, inChannels: 128, outChannels: 64, skipFrom: "enc2"),
        LayerSpec(name: "dec5", kind: .transposedConv, kernel: 9, stride: 2, inChannels: 64, outChannels: 64, skipFrom: "enc1"),
        LayerSpec(name: "head", kind: .head, kernel: 1, stride: 1, inChannels: 64, outChannels: 3, skipFrom: nil),
    ]

    /// How each block of an autoencoder is fed, by index into `layers`: the one wiring that
    /// training's forward and backward (Backward.swift) and the stepping Pipeline both follow.
    public struct Wiring: Sendable, Equatable {
        /// The block whose output (after its skip sum, if it has one) is this block's input;
        /// nil: the autoencoder's input.
        public let input: Int?
        /// The encoder block fused with this block's output (s = d + e + d*e).
        public let skip: Int?
        /// The head adds the autoencoder's base (the photo for the first network, y1 for the second).
        public let addsBase: Bool
    }

    /// `layers`' wiring, derived from the table (a row's `skipFrom`, its kind, its order).
    public static let wiring: [Wiring] = layers.indices.map { i in
        Wiring(input: i == 0 ? nil : i - 1,
               skip: layers[i].skipFrom.map { from in layers.firstIndex { $0.name == from }! },
               addsBase: layers[i].kind == .head)
    }

    /// The row called `name` ("enc1", "latent"), if there is one.
    public static func index(of name: String) -> Int? { layers.firstIndex { $0.name == name } }

    /// The last row: the head, which adds the autoencoder's base.
    public static let headIndex = layers.lastIndex { $0.kind == .head }!

    /// Inputs must be a multiple of this (the latent is H/32 x W/32): the largest scale divisor.
    public static let sizeMultiple = scaleDivisors.values.max()!

    /// Each row's scale divisor, walking the table: a row's sampling multiplies the grid
    /// spacing by down / up.
    static let scaleDivisors: [String: Int] = {
        var divisor = 1
        var out: [String: Int] = [:]
        for spec in layers {
            divisor = divisor * spec.sampling.down / spec.sampling.up
            out[spec.name] = divisor
        }
        return out
    }()

    /// The receptive field (input pixels, one side) of each row's output, skips included: the
    /// largest over the layer's units of the exact field (ReceptiveField.swift: a decoder's
    /// fused output sees what its decoder branch sees and what its encoder sees; a stride-2
    /// transposed conv's even and odd outputs read different numbers of inputs, so units of one
    /// decoder differ and this is the widest, over all 32 sampling phases).
    public static let receptiveFields: [String: Int] = {
        var fields: [String: Int] = [:]
        for spec in layers {
            fields[spec.name] = (0..<sizeMultiple).map { ReceptiveField.unclipped(step: "hdr.\(spec.name)", x: $0, y: 0).columns }.max()!
        }
        return fields
    }()
}
