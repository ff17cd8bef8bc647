// Adam (Kingma & Ba 2015) as PyTorch's torch.optim.Adam computes it:
//   g <- g + weight_decay * p                     (L2 penalty, off by default)
//   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2
//   p <- p - lr * (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
// computed as PyTorch folds it, with the two bias corrections taken out of the loop:
//   p <- p - s * m / (sqrt(v) * r + eps),   s = lr / (1 - b1^t),  r = 1 / sqrt(1 - b2^t)
// (one division and one square root per element; three divisions made the update 1.8x slower).
import DRHTEngine
import Foundation

public final class Adam {
    /// Hyper-parameters; defaults are docs/MODEL.md's (beta1 0.9, beta2 0.999, eps 1e-8).
    public var learningRate: Float
    public var beta1: Float = 0.9
    public var beta2: Float = 0.999
    public var epsilon: Float = 1e-8
    public var weightDecay: Float = 0
    /// Steps taken so far (t).
    public private(set) var step = 0
    /// First and second moments by parameter name.
    public private(set) var m: [String: Tensor] = [:]
    public private(set) var v: [String: Tensor] = [:]

    public init(learningRate: Float) { self.learningRate = learningRate }

    /// One update of every parameter that has a gradient.
    public func update(_ parameters: [(String, Tensor)], gradients: [String: Tensor]) {
        step += 1
        // The step's scalars in double precision, rounded once.
        let c1 = 1 - pow(Double(beta1), Double(step)), c2 = 1 - pow(Double(beta2), Double(step))
        let s = Float(Double(learningRate) / c1), r = Float(1 / c2.squareRoot())
        let (b1, b2, eps, wd) = (beta1, beta2, epsilon, weightDecay)
        for (name, p) in parameters {
            guard let g = gradients[name] else { continue }
            let mt = m[name] ?? Tensor(zeros: p.shape), vt = v[name] ?? Tensor(zeros: p.shape)
            m[name] = mt; v[name] = vt
            let pp = p.data, pg = g.data, pm = mt.data, pv = vt.data
            parallelChunks(p.count, minChunk: 1 << 14) { range in
                // Sixteen at a time (the compiler cannot vectorise the scalar loop: the four
                // pointers might alias); the same operations in the same order per element.
                typealias V = SIMD16<Float>
                var i = range.lowerBound
                while i + V.scalarCount <= range.upperBound {
                    let raw = (UnsafeMutableRawPointer(pp + i), UnsafeRawPointer(pg + i),
                               UnsafeMutableRawPointer(pm + i), UnsafeMutableRawPointer(pv + i))
                    let p0 = raw.0.loadUnaligned(as: V.self)
                    let gi = raw.1.loadUnaligned(as: V.self) + wd * p0
                    let mi = b1 * raw.2.loadUnaligned(as: V.self) + (1 - b1) * gi
                    let vi = b2 * raw.3.loadUnaligned(as: V.self) + (1 - b2) * gi * gi
                    raw.2.storeBytes(of: mi, as: V.self); raw.3.storeBytes(of: vi, as: V.self)
                    raw.0.storeBytes(of: p0 - s * mi / (vi.squareRoot() * r + eps), as: V.self)
                    i += V.scalarCount
                }
                for i in i..<range.upperBound {
                    let gi = pg[i] + wd * pp[i]
                    pm[i] = b1 * pm[i] + (1 - b1) * gi
                    pv[i] = b2 * pv[i] + (1 - b2) * gi * gi
                    pp[i] -= s * pm[i] / (pv[i].squareRoot() * r + eps)
                }
            }
        }
    }

    /// The state as named tensors (`m.<name>`, `v.<name>`) and metadata, for a checkpoint.
    public var state: (tensors: [(String, Tensor)], metadata: [String: String]) {
        let names = m.keys.sorted()
        return (names.map { ("m.\($0)", m[$0]!) } + names.map { ("v.\($0)", v[$0]!) },
                ["adam_step": "\(step)", "beta1": "\(beta1)", "beta2": "\(beta2)", "epsilon": "\(epsilon)",
                 "weight_decay": "\(weightDecay)", "learning_rate": "\(learningRate)"])
    }

    /// Restores moments and step from a checkpoint's tensors and metadata.
    public func restore(tensors: [String: Tensor], metadata: [String: String]) throws {
        guard let s = metadata["adam_step"].flatMap(Int.init) else {
            throw TrainingError("the optimizer state has no adam_step; it was not written by drht train")
        }
        step = s
        m = [:]; v = [:]
        for (name, t) in tensors {
            if name.hasPrefix("m.") { m[String(name.dropFirst(2))] = t }
            if name.hasPrefix("v.") { v[String(name.dropFirst(2))] = t }
        }
    }
}

/// A training problem the user can act on, said in one line.
public struct TrainingError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
