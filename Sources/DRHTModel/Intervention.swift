// Interventions: change what one block passes on, then run the network again — "what if this
// skip carried nothing, this channel were silent, this latent were another photo's?". The
// `Pipeline` applies them as it runs each block, so stepping, `infer` and `correct`-style
// corrections all see the same modified network; the weights are never touched.
//
//   activation (step, channels): a[c] *= k for the chosen channels of the block's activation
//                                (what its step publishes; the next block and any skip read it)
//   skip (decoder step):         s = a + k e + a (k e)  (the encoder term of the fused output)
//   replace (step, tensor):      a = the given tensor (e.g. another image's latent)
import DRHTEngine

public struct Intervention: CustomStringConvertible {
    public enum Site: Equatable, Sendable {
        /// Channels `channels` (all when nil) of the activation of `step` (`hdr.enc3`, …).
        case activation(step: String, channels: ClosedRange<Int>?)
        /// The encoder term of decoder `step`'s skip sum (`hdr.dec3` for `hdr.dec3.skip`).
        case skip(step: String)
    }
    public enum Action {
        /// Multiply by k (0: ablate).
        case scale(Float)
        /// Replace the activation by this tensor, of its shape.
        case replace(Tensor, from: String)
    }
    public let site: Site
    public let action: Action

    public init(_ site: Site, _ action: Action) { self.site = site; self.action = action }

    /// The pipeline step whose block it changes.
    public var step: String {
        switch site { case .activation(let s, _), .skip(let s): return s }
    }

    public var description: String {
        let what: String
        switch site {
        case .activation(let s, nil): what = s
        case .activation(let s, let c?): what = c.count == 1 ? "\(s):\(c.lowerBound)" : "\(s):\(c.lowerBound)-\(c.upperBound)"
        case .skip(let s): what = s + ".skip"
        }
        if case .skip = site {
            // The skip's encoder input e, not the fused sum s = d + e + d*e that `step` keeps under this name.
            switch action {
            case .scale(0): return "\(what): its encoder input e zeroed (s = d)"
            case .scale(let k): return "\(what): its encoder input e x\(k)"
            case .replace(_, let from): return "\(what): its encoder input replaced by \(from)'s"
            }
        }
        switch action {
        case .scale(0): return "\(what) zeroed"
        case .scale(let k): return "\(what) x\(k)"
        case .replace(_, let from): return "\(what) replaced by \(from)'s"
        }
    }

    /// Runs `block` as the pipeline would, with the interventions `active` (all for this
    /// block's step) applied.
    static func run(_ block: Block, _ x: Tensor, base: Tensor?, encoder: Tensor?, active: [Intervention]) -> BlockOutput {
        var e = encoder
        for i in active { if case .skip = i.site, case .scale(let k) = i.action { e = e.map { scaled($0, k) } } }
        let r = block.forward(x, base: base, encoder: e, mode: .inference(inPlace: false))
        var a = r.activation!
        var changed = false
        for i in active {
            guard case .activation(_, let channels) = i.site else { continue }
            switch i.action {
            case .scale(let k):
                let plane = a.h * a.w
                for c in channels ?? 0...(a.c - 1) where c < a.c {
                    for n in 0..<a.n { let p = a.data + (n * a.c + c) * plane; for j in 0..<plane { p[j] *= k } }
                }
            case .replace(let t, _):
                precondition(t.shape == a.shape, "a replacement has the activation's shape")
                a = t.copy()
            }
            changed = true
        }
        guard let e else { return BlockOutput(output: a, activation: a, cache: nil) }
        let s = changed ? SkipFusion.forward(decoder: a, encoder: e) : r.output
        return BlockOutput(output: s, activation: a, cache: nil)
    }

    static func scaled(_ t: Tensor, _ k: Float) -> Tensor {
        let out = t.copy()
        for j in 0..<out.count { out.data[j] *= k }
        return out
    }
}
