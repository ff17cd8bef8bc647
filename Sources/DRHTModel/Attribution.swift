// Attribution: the gradient of one scalar read inside the network with respect to the input
// image — "which input pixels does this number depend on, and which way?". The scalar is a
// `Probe` of one pipeline step's output (a latent channel, a feature-map unit, the mean luma of
// a region of the corrected image, the error against a target); the gradient comes from the
// same blocks' backward that training uses, with BatchNorm in inference mode (running
// statistics), so it is the gradient of exactly what inference computes.
//
//   x ──hdr──► y1 ──tau⁻¹, log──► x2 ──ldr──► y2        (the head of each net also adds its base:
//   dS/dx = dInput(hdr) + dBase(hdr)                      x for hdr, y1 for ldr)
import DRHTEngine
import Foundation

/// A scalar S read from one tensor t, with dS/dt.  t (1, C, H, W).
public struct Probe {
    public let describe: String
    let read: (Tensor) -> (value: Double, gradient: Tensor)

    public init(_ describe: String, read: @escaping (Tensor) -> (value: Double, gradient: Tensor)) {
        self.describe = describe; self.read = read
    }

    /// The mean of channel c over the cells of `rows` x `columns` (the whole map when nil).
    public static func channel(_ c: Int, rows: Range<Int>? = nil, columns: Range<Int>? = nil) -> Probe {
        Probe("channel \(c)") { t in
            let ys = rows ?? 0..<t.h, xs = columns ?? 0..<t.w
            let g = Tensor(zeros: t.shape)
            let n = Double(ys.count * xs.count), w = Float(1 / n)
            var sum = 0.0
            for y in ys { for x in xs { sum += Double(t[0, c, y, x]); g[0, c, y, x] = w } }
            return (sum / n, g)
        }
    }

    /// The mean over all channels of the unit at (x, y).
    public static func unit(x: Int, y: Int) -> Probe {
        Probe("unit (\(x), \(y))") { t in
            let g = Tensor(zeros: t.shape)
            var sum = 0.0
            for c in 0..<t.c { sum += Double(t[0, c, y, x]); g[0, c, y, x] = 1 / Float(t.c) }
            return (sum / Double(t.c), g)
        }
    }

    /// Rec. 709 luma weights of R, G, B.
    public static let luma: [Float] = [0.2126, 0.7152, 0.0722]

    /// The mean luma of an RGB tensor over `rows` x `columns`.
    public static func meanLuma(rows: Range<Int>, columns: Range<Int>) -> Probe {
        Probe("mean luma of rows \(rows.lowerBound)..<\(rows.upperBound), columns \(columns.lowerBound)..<\(columns.upperBound)") { t in
            let g = Tensor(zeros: t.shape)
            let n = Double(rows.count * columns.count)
            var sum = 0.0
            for c in 0..<3 { for y in rows { for x in columns {
                sum += Double(luma[c] * t[0, c, y, x]); g[0, c, y, x] = luma[c] / Float(n)
            } } }
            return (sum / n, g)
        }
    }

    /// The mean squared error against `target` (1, 3, h, w), over the target's area (the
    /// top-left of a padded t). With `psnr`, S = -10 log10(MSE) instead.
    public static func error(against target: Tensor, psnr: Bool) -> Probe {
        Probe(psnr ? "PSNR against the target" : "mean squared error against the target") { t in
            let g = Tensor(zeros: t.shape)
            let n = Double(3 * target.h * target.w)
            var sum = 0.0
            for c in 0..<3 { for y in 0..<target.h { for x in 0..<target.w {
                let d = Double(t[0, c, y, x] - target[0, c, y, x])
                sum += d * d; g[0, c, y, x] = Float(2 * d / n)
            } } }
            let mse = sum / n
            guard psnr else { return (mse, g) }
            let k = Float(-10 / (log(10.0) * max(mse, 1e-12)))
            for i in 0..<g.count { g.data[i] *= k }
            return (-10 * log10(max(mse, 1e-12)), g)
        }
    }
}

extension DRHT {
    /// The steps a probe can read: every block's activation, `transform` (log(H + eps)) and
    /// `transform.H`. Heads read y1 and y2 before any clamping.
    public static let probeSteps = Pipeline.stepNames + ["transform.H"]

    /// S = probe(output of `step`) for image x (1, 3, H, W), H and W multiples of 32, and dS/dx.
    /// Runs only as far as the step; BatchNorm uses its running statistics.
    public func inputGradient(_ x: Tensor, step: String, probe: Probe) -> (value: Double, gradient: Tensor) {
        precondition(x.n == 1 && x.c == 3, "one RGB image")
        precondition(DRHT.probeSteps.contains(step), "\(step) is not a step")
        let parts = step.split(separator: ".", maxSplits: 1).map(String.init)
        let blockIndex = { (name: String) in Architecture.layers.firstIndex { $0.name == name }! }

        /// Forward `net` through `last`, read the probe off that block's activation, and go back.
        func probeBlock(_ net: Autoencoder, _ input: Tensor, base: Tensor, _ last: Int)
            -> (value: Double, dInput: Tensor, dBase: Tensor?) {
            let (out, tape) = net.forward(input, base: base, mode: .inference, through: last)
            let (value, g) = probe.read(tape.blocks[last].activation)
            let (dIn, dBase, _) = net.backward(dOutput: Tensor(zeros: out.shape), dActivation: g, tape: tape,
                                               prefix: "", inputGradient: true, parameterGradients: false)
            return (value, dIn!, dBase)
        }

        if parts[0] == "hdr" {
            let r = probeBlock(hdr, x, base: x, blockIndex(parts[1]))
            return (r.value, r.dBase.map { add(r.dInput, $0) } ?? r.dInput)
        }
        // Through the first network and the transform, then (for ldr.*) into the second.
        let (y1, hdrTape) = hdr.forward(x, base: x, mode: .inference)
        let h = constants.tauInverse(y1)
        var value: Double, dh: Tensor, dBaseLDR: Tensor? = nil
        switch step {
        case "transform.H":
            (value, dh) = probe.read(h)
        case "transform":
            let (v, dx2) = probe.read(constants.log(h))
            value = v
            dh = Log.backward(dOutput: dx2, input: h, epsilon: constants.epsilon)
        default:
            let r = probeBlock(ldr, constants.log(h), base: y1, blockIndex(parts[1]))
            value = r.value; dBaseLDR = r.dBase
            dh = Log.backward(dOutput: r.dInput, input: h, epsilon: constants.epsilon)
        }
        var dy1 = Pow.backward(dOutput: dh, input: y1, exponent: constants.gamma, scale: constants.scale)
        if let dBaseLDR { dy1 = add(dy1, dBaseLDR) }
        let (dIn, dBase, _) = hdr.backward(dOutput: dy1, tape: hdrTape, prefix: "", inputGradient: true, parameterGradients: false)
        return (value, add(dIn!, dBase!))
    }
}
