// TransposedConv2D: PyTorch `ConvTranspose2d(cin, cout, k, stride 2, padding (k-1)/2,
// output_padding 1)`, so the output is exactly 2H x 2W.
// It is the adjoint of a stride-2 conv from (Cout, 2H, 2W) to (Cin, H, W) with the same
// weight tensor, so forward = GEMM + col2im and backward = im2col + GEMM (darknet's recipe).
//
// Size letters: N batch, Cin/Cout channels, H x W input, Ho = 2H x Wo = 2W output, k kernel,
// K = Cout*k*k rows of the column matrix, T the input positions of one tile.

/// A stride-2 transposed convolution that doubles H and W, with a bias.
public struct TransposedConv2D {
    /// (Cin, Cout, k, k) — PyTorch's transposed-conv weight layout `(in, out, kh, kw)`.
    public var weight: Tensor
    /// (Cout)
    public var bias: Tensor
    public let stride = 2

    public init(weight: Tensor, bias: Tensor) {
        precondition(weight.shape.count == 4 && weight.shape[2] == weight.shape[3]
                     && weight.shape[2] % 2 == 1, "transposed conv weight must be (in, out, k, k), k odd")
        precondition(bias.shape == [weight.shape[1]], "transposed conv bias must be (out)")
        self.weight = weight; self.bias = bias
    }

    public init(inChannels: Int, outChannels: Int, kernel: Int) {
        self.init(weight: Tensor(zeros: [inChannels, outChannels, kernel, kernel]),
                  bias: Tensor(zeros: [outChannels]))
    }

    public var inChannels: Int { weight.shape[0] }
    public var outChannels: Int { weight.shape[1] }
    public var kernel: Int { weight.shape[2] }
    public var padding: Int { (kernel - 1) / 2 }

    /// The geometry of the adjoint conv: windows over the *output* (Cout, 2H, 2W) whose grid
    /// is the input's H x W.
    public func geometry(height: Int, width: Int) -> ConvGeometry {
        let g = ConvGeometry(channels: outChannels, height: 2 * height, width: 2 * width,
                             kernel: kernel, stride: 2, padding: padding)
        assert(g.outHeight == height && g.outWidth == width)
        return g
    }

    /// (N, Cin, H, W) -> (N, Cout, 2H, 2W)
    public func outputShape(for input: [Int]) -> [Int] {
        [input[0], outChannels, 2 * input[2], 2 * input[3]]
    }

    /// Multiply-adds x 2 for one forward pass: every input pixel meets every weight once.
    public func flops(for input: [Int]) -> Double {
        2 * Double(input[0] * input[2] * input[3]) * Double(inChannels * outChannels * kernel * kernel)
    }

    /// y = convT(x) + b.  x (N, Cin, H, W) -> y (N, Cout, 2H, 2W).
    public func forward(_ x: Tensor, workspace: Workspace = .shared) -> Tensor {
        precondition(x.shape.count == 4 && x.c == inChannels,
                     "transposed conv expects (N, \(inChannels), H, W), got \(x.shapeString)")
        let y = Tensor(zeros: outputShape(for: x.shape))
        let g = geometry(height: x.h, width: x.w)
        let hw = x.h * x.w, kk = g.columnRows
        let tileRows = g.rowsPerTile(budget: workspace.tileBudget)
        let cols = workspace.buffer(0, count: kk * tileRows * x.w)
        for b in 0..<x.n {
            let xb = x.data + b * inChannels * hw                 // (Cin, H, W)
            let yb = y.data + b * outChannels * y.h * y.w         // (Cout, 2H, 2W)
            var r0 = 0
            while r0 < x.h {
                let rows = r0..<min(x.h, r0 + tileRows)
                let t = rows.count * x.w
                // cols (K, T) = W^T (K, Cin) * x[:, tile] (Cin, T)
                gemm(cols, ldc: t, weight.data, lda: kk, transposeA: true,
                     xb + r0 * x.w, ldb: hw, transposeB: false, m: kk, n: t, k: inChannels)
                col2im(yb, columns: cols, geometry: g, rows: rows)
                r0 = rows.upperBound
            }
        }
        addBias(y, bias)
        return y
    }

    /// Gradients with respect to x, W and b, given dL/dy.
    /// dy (N, Cout, 2H, 2W), x (N, Cin, H, W) as passed to `forward`.
    public func backward(dOutput dy: Tensor, input x: Tensor, inputGradient: Bool = true,
                         workspace: Workspace = .shared) -> ConvGradients {
        precondition(dy.shape == outputShape(for: x.shape), "dOutput shape mismatch")
        let g = geometry(height: x.h, width: x.w)
        let hw = x.h * x.w, kk = g.columnRows
        let dW = Tensor(zeros: weight.shape)                    // (Cin, Cout, k, k)
        let dX = inputGradient ? Tensor(zeros: x.shape) : nil   // (N, Cin, H, W)
        let tileRows = g.rowsPerTile(budget: workspace.tileBudget)
        let cols = workspace.buffer(0, count: kk * tileRows * x.w)
        for b in 0..<x.n {
            let xb = x.data + b * inChannels * hw
            let dyb = dy.data + b * outChannels * dy.h * dy.w
            var r0 = 0
            while r0 < x.h {
                let rows = r0..<min(x.h, r0 + tileRows)
                let t = rows.count * x.w
                im2col(cols, image: dyb, geometry: g, rows: rows)   // (K, T)
                // dW (Cin, K) += x[:, tile] (Cin, T) * cols^T (T, K)
                gemm(dW.data, ldc: kk, xb + r0 * x.w, lda: hw, transposeA: false,
                     cols, ldb: t, transposeB: true, m: inChannels, n: kk, k: t, beta: 1)
                if let dX {
                    // dx[:, tile] (Cin, T) = W (Cin, K) * cols (K, T)
                    gemm(dX.data + b * inChannels * hw + r0 * x.w, ldc: hw,
                         weight.data, lda: kk, transposeA: false,
                         cols, ldb: t, transposeB: false, m: inChannels, n: t, k: kk)
                }
                r0 = rows.upperBound
            }
        }
        return ConvGradients(dInput: dX, dWeight: dW, dBias: sumOverBatchAndSpace(dy))
    }
}
