// BatchNorm2D: PyTorch `BatchNorm2d(C, eps 1e-5, momentum 0.1)`.
// Training: normalise with the batch's mean and biased variance over (N, H, W) and update
//   running_mean = (1 - m) running_mean + m mean,
//   running_var  = (1 - m) running_var  + m var * n / (n - 1)   (unbiased), n = N*H*W.
// Inference: normalise with the running statistics.
// y = (x - mean) * rstd * weight + bias, rstd = 1 / sqrt(var + eps).
import Foundation

/// Whether a layer uses batch statistics (and updates running ones) or running statistics.
public enum Mode: Sendable { case training, inference }

public struct BatchNorm2D {
    public var weight: Tensor        // (C) gamma
    public var bias: Tensor          // (C) beta
    public var runningMean: Tensor   // (C)
    public var runningVar: Tensor    // (C)
    /// PyTorch's defaults (docs/MODEL.md).
    public var epsilon: Float = 1e-5
    public var momentum: Float = 0.1

    public init(weight: Tensor, bias: Tensor, runningMean: Tensor, runningVar: Tensor) {
        let c = weight.count
        precondition([bias.count, runningMean.count, runningVar.count].allSatisfy { $0 == c })
        self.weight = weight; self.bias = bias
        self.runningMean = runningMean; self.runningVar = runningVar
    }

    /// weight 1, bias 0, running mean 0, running var 1.
    public init(channels: Int) {
        self.init(weight: Tensor(shape: [channels], repeating: 1), bias: Tensor(zeros: [channels]),
                  runningMean: Tensor(zeros: [channels]), runningVar: Tensor(shape: [channels], repeating: 1))
    }

    public var channels: Int { weight.count }

    /// What the backward needs: the per-channel mean and 1/sqrt(var + eps) used in forward.
    public struct Cache {
        public let mean: Tensor   // (C)
        public let rstd: Tensor   // (C)
        public let mode: Mode
    }

    /// BN of one channel as y = scale * x + shift, for statistics (mean, variance): scale =
    /// gamma / sqrt(variance + eps), shift = beta - mean * scale. The forward and the fused
    /// inference epilogue (BlockEpilogue) both use it.
    @inline(__always)
    public func scaleShift(channel ch: Int, mean mu: Float, variance: Float) -> (scale: Float, shift: Float) {
        let r = 1 / (variance + epsilon).squareRoot()
        let gamma = weight.data[ch]
        return (r * gamma, bias.data[ch] - mu * r * gamma)
    }

    /// Channel `ch`'s batch mean and biased variance from the sum and the sum of squares of its
    /// `count` values; updates its running statistics (the variance unbiased, as PyTorch does).
    /// The forward here and the fused one (TrainingEpilogue) both call it.
    public func batchStatistics(channel ch: Int, sum: Double, squares: Double, count: Int) -> (mean: Float, variance: Float) {
        let meanD = sum / Double(count)
        let varD = max(squares / Double(count) - meanD * meanD, 0)
        let mu = Float(meanD)
        let unbiased = count > 1 ? varD * Double(count) / Double(count - 1) : varD
        let (rm, rv, m) = (runningMean.data, runningVar.data, momentum)
        rm[ch] = (1 - m) * rm[ch] + m * mu
        rv[ch] = (1 - m) * rv[ch] + m * Float(unbiased)
        return (mu, Float(varD))
    }

    /// y = BN(x).  x, y: (N, C, H, W). In training mode the running statistics are updated.
    public func forward(_ x: Tensor, mode: Mode) -> (output: Tensor, cache: Cache) {
        precondition(x.shape.count == 4 && x.c == channels, "batch norm expects (N, \(channels), H, W), got \(x.shapeString)")
        let nb = x.n, c = x.c, plane = x.h * x.w
        let count = nb * plane
        let mean = Tensor(zeros: [c]), rstd = Tensor(zeros: [c])
        let y = Tensor(uninitialized: x.shape)   // every element written below
        let eps = epsilon
        parallelFor(c) { ch in
            var mu: Float, variance: Float
            switch mode {
            case .training:
                var s = 0.0, ss = 0.0
                for b in 0..<nb {
                    let p = x.data + (b * c + ch) * plane
                    for i in 0..<plane { let v = Double(p[i]); s += v; ss += v * v }
                }
                (mu, variance) = batchStatistics(channel: ch, sum: s, squares: ss, count: count)
            case .inference:
                (mu, variance) = (runningMean.data[ch], runningVar.data[ch])
            }
            mean.data[ch] = mu; rstd.data[ch] = 1 / (variance + eps).squareRoot()
            let (scale, shift) = scaleShift(channel: ch, mean: mu, variance: variance)
            for b in 0..<nb {
                let src = x.data + (b * c + ch) * plane, dst = y.data + (b * c + ch) * plane
                for i in 0..<plane { dst[i] = src[i] * scale + shift }
            }
        }
        return (y, Cache(mean: mean, rstd: rstd, mode: mode))
    }

    /// Gradients given dL/dy, the forward's input x and its cache.
    /// Training: dx = rstd/n * (n*dxhat - sum(dxhat) - xhat*sum(dxhat*xhat)), dxhat = dy*gamma.
    /// Inference: dx = dy * gamma * rstd (the statistics are constants).
    public func backward(dOutput dy: Tensor, input x: Tensor, cache: Cache)
        -> (dInput: Tensor, dWeight: Tensor, dBias: Tensor) {
        let nb = x.n, c = x.c, plane = x.h * x.w
        let n = Float(nb * plane)
        let dX = Tensor(uninitialized: x.shape), dGamma = Tensor(zeros: [c]), dBeta = Tensor(zeros: [c])
        let gamma = weight.data
        parallelFor(c) { ch in
            let mu = cache.mean.data[ch], r = cache.rstd.data[ch]
            var sumDy = 0.0, sumDyXhat = 0.0
            for b in 0..<nb {
                let g = dy.data + (b * c + ch) * plane, p = x.data + (b * c + ch) * plane
                for i in 0..<plane {
                    sumDy += Double(g[i])
                    sumDyXhat += Double(g[i] * (p[i] - mu) * r)
                }
            }
            dBeta.data[ch] = Float(sumDy)
            dGamma.data[ch] = Float(sumDyXhat)
            let gr = gamma[ch] * r
            switch cache.mode {
            case .inference:
                for b in 0..<nb {
                    let g = dy.data + (b * c + ch) * plane, d = dX.data + (b * c + ch) * plane
                    for i in 0..<plane { d[i] = g[i] * gr }
                }
            case .training:
                let meanDy = Float(sumDy) / n, meanDyXhat = Float(sumDyXhat) / n
                for b in 0..<nb {
                    let g = dy.data + (b * c + ch) * plane, p = x.data + (b * c + ch) * plane
                    let d = dX.data + (b * c + ch) * plane
                    for i in 0..<plane {
                        let xhat = (p[i] - mu) * r
                        d[i] = gr * (g[i] - meanDy - xhat * meanDyXhat)
                    }
                }
            }
        }
        return (dX, dGamma, dBeta)
    }
}
