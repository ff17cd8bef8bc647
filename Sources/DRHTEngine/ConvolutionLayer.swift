// What every convolution kind offers a block: the forward, its backward, and the arithmetic
// the architecture table derives from it (output shape, FLOPs, how it moves the sampling
// grid). Conv2D and TransposedConv2D conform; a new kind is one file that conforms, a case of
// `LayerSpec.Kind` (its switches in Architecture.swift) and its rule in ReceptiveField.swift's
// `inputSpan`: docs/examples/resize-conv.patch is a worked example (docs/DESIGN.md).

/// A convolution of some kind with a weight and a bias.
public protocol ConvolutionLayer {
    /// The kind's own layout (conv `(out, in, k, k)`, transposed conv `(in, out, k, k)`).
    var weight: Tensor { get }
    /// (Cout)
    var bias: Tensor { get }
    /// y = layer(x) + b.  x (N, Cin, H, W) -> y (N, Cout, Ho, Wo).
    func forward(_ x: Tensor, workspace: Workspace) -> Tensor
    /// dInput (unless `inputGradient` is false), dWeight (unless `weightGradient` is false:
    /// attribution needs only dInput) and dBias given dL/dy, with x as passed to `forward`.
    func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool, weightGradient: Bool,
                  workspace: Workspace) -> ConvGradients
    /// (N, Cout, Ho, Wo) for an input of shape (N, Cin, H, W).
    func outputShape(for input: [Int]) -> [Int]
    /// 2 x multiply-adds of one forward over an input of shape (N, Cin, H, W).
    func flops(for input: [Int]) -> Double
}

/// How a layer kind changes the sampling grid: output size = input size * up / down. (Receptive
/// fields are followed exactly, cell interval by cell interval, in DRHTModel's ReceptiveField:
/// the textbook recurrence r += (ceil(k/2) - 1) j for a stride-2 transposed conv overstates
/// them, as its even and odd outputs read different numbers of inputs.)
public struct Sampling: Equatable, Sendable {
    /// Output size = input size * up / down.
    public let up: Int, down: Int

    public static func conv(kernel: Int, stride: Int) -> Sampling { Sampling(up: 1, down: stride) }
    public static func transposed(kernel: Int, stride: Int) -> Sampling { Sampling(up: stride, down: 1) }
}

extension Conv2D: ConvolutionLayer {}
extension TransposedConv2D: ConvolutionLayer {}
