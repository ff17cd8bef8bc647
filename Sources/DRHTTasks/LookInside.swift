// The look-inside jobs as typed requests: saliency (which pixels one number depends on), the
// receptive field of a unit (what it can see, what it looks at), and the exposure sweep (how
// each layer's activations change with exposure). `ablate` and `latent swap` are corrections
// with interventions (`CorrectRequest.interventions`). Each returns numbers and maps; the
// REPL draws them, `drht bench inside` times them.
import DRHTEngine
import DRHTModel
import DRHTTraining
import Foundation

/// The network's padded input, as a backward pass needs it (the pipeline pads to a multiple
/// of 32 by repeating edge pixels), and the image's own size inside it.
public struct NetworkInput {
    public let padded: Tensor
    public let height: Int, width: Int
    public init(padded: Tensor, height: Int, width: Int) { self.padded = padded; self.height = height; self.width = width }
    /// `image` padded the way the pipeline pads it.
    public init(image: Tensor) { self.init(padded: replicatePad(image, toMultipleOf: 32), height: image.h, width: image.w) }
    public var image: Tensor { crop(padded, height: height, width: width) }

    /// Finite pixels (one NaN makes every gradient NaN) and room for a backward pass.
    public func checkForBackward(what: String, named name: String, advice: String) throws {
        guard padded.buffer.allSatisfy(\.isFinite) else {
            throw TaskError("\(name) has NaN or infinite pixels: every gradient through them is NaN; \(what) needs a finite image")
        }
        try MemoryGuard.check(MemoryGuard.estimate(.backward, height: padded.h, width: padded.w),
                              what: "\(what) on \(width)x\(height)", advice: advice)
    }
}

// MARK: - Saliency

public struct SaliencyRequest {
    public enum Method: String, CaseIterable, Sendable {
        /// |dS/dx| summed over R, G, B.
        case grad
        /// x * dS/dx, signed.
        case gradxinput
        /// Integrated gradients from a black image (Sundararajan et al. 2017), signed.
        case integrated
    }
    /// The layer whose output the probe reads (`DRHT.probeSteps`).
    public var step: String
    public var probe: Probe
    public var method: Method = .grad
    /// integrated: points on the path from black to the image; 16 keeps the sum within a few
    /// per cent of S(x) - S(black) on the lessons' scenes.
    public var pathSteps = 16
    public init(step: String, probe: Probe, method: Method = .grad, pathSteps: Int = 16) {
        self.step = step; self.probe = probe; self.method = method; self.pathSteps = pathSteps
    }
}

public struct SaliencyResult {
    /// S, the number, at the image.
    public let value: Double
    /// (1, 1, H, W): the attribution at each pixel of the image (the padding left out).
    public let map: Tensor
    /// The share of |gradient| that reached S through the padding's copies of edge pixels.
    public let paddingShare: Double
    /// integrated: the map's sum with the padding's copies folded back, and S(black).
    public let completeness: (sum: Double, black: Double)?
}

public enum SaliencyTask {
    public static func run(_ r: SaliencyRequest, model m: DRHT, input: NetworkInput, monitor: TaskMonitor) throws -> SaliencyResult {
        let x = input.padded, image = input.image
        let unpad = { (g: Tensor) in crop(g, height: input.height, width: input.width) }
        switch r.method {
        case .grad, .gradxinput:
            let (v, g) = m.inputGradient(x, step: r.step, probe: r.probe)
            return SaliencyResult(value: v, map: channelSum(unpad(g), x: r.method == .grad ? nil : image),
                                  paddingShare: paddingShare(g, height: input.height, width: input.width), completeness: nil)
        case .integrated:
            let n = r.pathSteps
            let mean = Tensor(zeros: x.shape)
            try monitor.steps(n, label: { _ in "integrated gradients" }) { k in
                let alpha = (Float(k) + 0.5) / Float(n)
                let xa = x.copy()
                for i in 0..<xa.count { xa.data[i] *= alpha }
                let g = m.inputGradient(xa, step: r.step, probe: r.probe).gradient
                for i in 0..<mean.count { mean.data[i] += g.data[i] / Float(n) }
            }
            let value = m.inputGradient(x, step: r.step, probe: r.probe).value
            let black = m.inputGradient(Tensor(zeros: x.shape), step: r.step, probe: r.probe).value
            // Completeness holds for the whole padded input: count the padding's copies too.
            let folded = channelSum(replicatePadBackward(mean, height: input.height, width: input.width), x: image)
            return SaliencyResult(value: value, map: channelSum(unpad(mean), x: image),
                                  paddingShare: paddingShare(mean, height: input.height, width: input.width),
                                  completeness: (folded.array.reduce(0.0) { $0 + Double($1) }, black))
        }
    }

    /// The share of |g| (over the padded input) that falls on the padding, outside height x width.
    public static func paddingShare(_ g: Tensor, height: Int, width: Int) -> Double {
        guard g.h != height || g.w != width else { return 0 }
        var total = 0.0, inside = 0.0
        for plane in 0..<(g.n * g.c) {
            for y in 0..<g.h { for x in 0..<g.w {
                let v = Double(abs(g.data[(plane * g.h + y) * g.w + x]))
                total += v
                if y < height && x < width { inside += v }
            }}
        }
        return total > 0 ? (total - inside) / total : 0
    }

    /// Per pixel: the sum over R, G, B of |g| (x nil), or of x * g.  (1, 3, H, W) -> (1, 1, H, W)
    public static func channelSum(_ g: Tensor, x: Tensor?) -> Tensor {
        let plane = g.h * g.w
        let out = Tensor(zeros: [1, 1, g.h, g.w])
        for c in 0..<3 {
            for i in 0..<plane {
                let v = g.data[c * plane + i]
                out.data[i] += x.map { $0.data[c * plane + i] * v } ?? abs(v)
            }
        }
        return out
    }
}

// MARK: - Receptive field

public struct ReceptiveFieldRequest {
    /// A layer, hdr.enc1 ... ldr.head, and a cell of its grid.
    public var step: String
    public var x: Int, y: Int
    /// One channel of the unit; nil: the mean of all.
    public var channel: Int?
    /// The share of the gradient's total magnitude the effective field holds.
    public var share = 0.9
    public init(step: String, x: Int, y: Int, channel: Int? = nil) { self.step = step; self.x = x; self.y = y; self.channel = channel }
}

public struct ReceptiveFieldResult {
    /// (1, 1, H, W): |d unit / dx| summed over R, G, B (the padding's copies folded back).
    public let map: Tensor
    /// The theoretical field, clipped to the image, and its size away from any border.
    public let rows: CellSpan, columns: CellSpan
    public let unclipped: (rows: Int, columns: Int)
    /// The smallest square around the gradient's centre of mass holding `share` of it.
    public let effective: (x: Int, y: Int, side: Int)
    public var theorySide: Int { max(rows.count, columns.count) }
}

public enum ReceptiveFieldTask {
    public static func run(_ r: ReceptiveFieldRequest, model: DRHT, input: NetworkInput) throws -> ReceptiveFieldResult {
        let x = input.padded
        let probe: Probe = r.channel.map { .channel($0, rows: r.y..<(r.y + 1), columns: r.x..<(r.x + 1)) } ?? .unit(x: r.x, y: r.y)
        let g = replicatePadBackward(model.inputGradient(x, step: r.step, probe: probe).gradient, height: input.height, width: input.width)
        let map = SaliencyTask.channelSum(g, x: nil)
        // Theory, clipped to the image (the padding beyond it repeats its edge).
        let f = ReceptiveField.theoretical(step: r.step, x: r.x, y: r.y, height: x.h, width: x.w)
        guard let eff = effectiveField(map, share: r.share) else {
            let st = map.stats
            if st.nonFinite > 0 || !(Double(max(abs(st.min), abs(st.max))) * Double(map.count)).isFinite {
                throw TaskError("the gradient of \(r.step) at (\(r.x), \(r.y)) overflows (NaN or infinite values): the input or an intervention is too large")
            }
            throw TaskError("the gradient of \(r.step) at (\(r.x), \(r.y)) is zero everywhere: the unit is flat here (try --channel C or another cell)")
        }
        return ReceptiveFieldResult(map: map, rows: f.rows.clamped(to: 0...(input.height - 1)), columns: f.columns.clamped(to: 0...(input.width - 1)),
                                    unclipped: ReceptiveField.unclipped(step: r.step, x: r.x, y: r.y), effective: eff)
    }

    /// The smallest square (odd side) around the map's centre of mass holding `share` of its
    /// total magnitude; nil when the map is zero.
    public static func effectiveField(_ map: Tensor, share: Double) -> (x: Int, y: Int, side: Int)? {
        let w = map.w, h = map.h
        var total = 0.0, cx = 0.0, cy = 0.0
        for y in 0..<h { for x in 0..<w { let v = Double(abs(map.data[y * w + x])); total += v; cx += v * Double(x); cy += v * Double(y) } }
        guard total > 0, total.isFinite, cx.isFinite, cy.isFinite else { return nil }
        let (mx, my) = (Int((cx / total).rounded()), Int((cy / total).rounded()))
        // Summed-area table, so each candidate square costs four lookups.
        var sat = [Double](repeating: 0, count: (w + 1) * (h + 1))
        for y in 0..<h {
            var row = 0.0
            for x in 0..<w { row += Double(abs(map.data[y * w + x])); sat[(y + 1) * (w + 1) + x + 1] = sat[y * (w + 1) + x + 1] + row }
        }
        func mass(_ r: Int) -> Double {
            let x0 = max(0, mx - r), x1 = min(w, mx + r + 1), y0 = max(0, my - r), y1 = min(h, my + r + 1)
            return sat[y1 * (w + 1) + x1] - sat[y0 * (w + 1) + x1] - sat[y1 * (w + 1) + x0] + sat[y0 * (w + 1) + x0]
        }
        var r = 0
        while mass(r) < share * total && r < max(w, h) { r += 1 }
        // The side of the square as it lies within the image.
        return (mx, my, max(min(w, mx + r + 1) - max(0, mx - r), min(h, my + r + 1) - max(0, my - r)))
    }
}

// MARK: - Exposure sweep

public struct SweepRequest {
    /// The exposures in EV; 0 (the photo as it is) is always added, as everything is compared with it.
    public var exposures: [Double] = [-3, -2, -1, 0, 1, 2, 3]
    /// Which simulated camera photographs every exposure.
    public var camera: UInt64 = 1
    /// How each photo is corrected (its retention is set to keep every layer).
    public var correct = CorrectRequest()
    public init() {}
    /// The exposures in order, 0 included, each once.
    public var orderedExposures: [Double] { Array(Set(exposures + [0])).sorted() }
}

public struct SweepResult {
    public let exposures: [Double]
    /// Per layer ("input" for the photos themselves), per exposure other than 0: cosine
    /// similarity and relative L2 distance to the 0 EV run's activations.
    public let cosine: [String: [Double: Double]]
    public let relative: [String: [Double: Double]]
    public let inputs: [Double: Tensor], outputs: [Double: Tensor]
}

public enum SweepTask {
    public static func run(_ r: SweepRequest, model: DRHT, photo: Tensor, monitor: TaskMonitor,
                           evLabel: (Double) -> String = { String(format: "%g", $0) }) throws -> SweepResult {
        let evs = r.orderedExposures
        var request = r.correct
        request.retention = .everything
        // The 0 EV run first: every other exposure is compared with it, layer by layer.
        let order = [0.0] + evs.filter { $0 != 0 }
        var reference: [String: Tensor] = [:]
        var cosine: [String: [Double: Double]] = [:], relative: [String: [Double: Double]] = [:]
        var inputs: [Double: Tensor] = [:], outputs: [Double: Tensor] = [:]
        for (k, ev) in order.enumerated() {
            var rng = SeededRandom(seed: r.camera)
            let exposed = PhotoTriplet.reexposed(photo, rng: &rng, ev: Float(ev)).input
            let c = try CorrectTask.run(request, model: model, photo: exposed, monitor: monitor, place: (k, order.count),
                                        label: "\(evLabel(ev)) EV ") { step, p in
                let name = step.name
                guard let out = p[step.output] else { return }
                if ev == 0 { reference[name] = out } else if let ref = reference[name], ref.shape == out.shape {
                    let (cs, rl) = DRHTEngine.similarity(out, ref)
                    cosine[name, default: [:]][ev] = cs; relative[name, default: [:]][ev] = rl
                }
            }
            inputs[ev] = exposed; outputs[ev] = c.corrected()
        }
        // The photos themselves, for scale: cosine ignores brightness, so even they stay close.
        if let photo0 = inputs[0] {
            for ev in evs where ev != 0 {
                guard let exposed = inputs[ev] else { continue }
                let (cs, rl) = DRHTEngine.similarity(exposed, photo0)
                cosine["input", default: [:]][ev] = cs; relative["input", default: [:]][ev] = rl
            }
        }
        return SweepResult(exposures: evs, cosine: cosine, relative: relative, inputs: inputs, outputs: outputs)
    }
}
