// The reciprocal transform of docs/MODEL.md one piece at a time: gamma, log, and both together.
import DRHTEngine
import DRHTModel
import Foundation

enum TransformCommands {
    static let all: [Command] = [gamma, log, transform]

    static func stats(_ t: Tensor) -> String {
        let s = t.stats
        return "min \(formatNumber(Double(s.min))) max \(formatNumber(Double(s.max))) mean \(formatNumber(s.mean))"
    }

    static func beforeAfter(_ s: Session, _ inName: String, _ input: Tensor, _ outName: String, _ output: Tensor, kind: Variable.Kind) {
        s.console.line("  before  \(inName): \(stats(input))")
        s.console.line("  after   \(s.console.bold(outName)): \(stats(output))  (\(kind.rawValue))")
    }

    static let gamma = Command(
        "gamma", summary: "Raise every value to a power: x^G (2.2 linearises, 1/2.2 = 0.4545 encodes).",
        usage: "gamma NAME G [as OUT]", example: "gamma scene 2.2 as linear",
        details: "OUT = max(NAME, 0)^G. "
            + "With G > 1 an LDR image becomes (approximately) linear radiance: this is tau_inv of docs/MODEL.md with k = 1. "
            + "The result is named NAME.gamma unless you say `as OUT`.",
        arguments: [.variable, .words(["2.2", "0.4545"])], namesResult: true
    ) { s, a in
        let name = try a.positional(0, "a variable name")
        let g = try Arguments.number(try a.positional(1, "the exponent G"), what: "the exponent G", range: 0.01...100)
        try a.expectAtMost(2)
        let v = try s.variable(name)
        let out = Pow.forward(v.tensor, exponent: Float(g), scale: 1)
        // An LDR image through G > 1 becomes radiance; radiance through G < 1 an image only if it
        // stays within 0..1 (otherwise it is still radiance, just compressed).
        let kind: Variable.Kind = v.kind == .image && g > 1 ? .hdr
            : (v.kind == .hdr && g < 1 && v.tensor.stats.max <= 1 ? .image : v.kind)
        let outName = a.asName ?? name + ".gamma"
        s.set(outName, Variable(out, kind: kind, origin: "gamma \(name) \(formatNumber(g))"))
        s.console.line("\(outName) = max(\(name), 0)^\(formatNumber(g))")
        beforeAfter(s, name, v.tensor, outName, out, kind: kind)
        let mid = Foundation.pow(0.5, g)
        s.console.line("  mid-gray 0.5 -> \(formatNumber(mid)); " + (g > 1 ? "dark values are pushed down, the curve bends towards linear light"
                                                                      : "dark values are lifted, the curve bends towards perceptual (encoded) values"))
    }

    static let eps = Options.number("--eps", "E", "added before the log", default: 1.0 / 255, range: 1e-12...10,
                                    shown: "1/255 = 0.003922, docs/MODEL.md's")

    static let log = Command(
        "log", summary: "Natural logarithm log(x + eps): compresses a huge range into a small one.",
        synopsis: "NAME", example: "log linear as loglin",
        details: "OUT = log(max(NAME, 0) + eps), eps defaulting to docs/MODEL.md's 1/255. "
            + "Each doubling of radiance becomes the same step (log 2 = 0.693), which is how the LDR network sees the HDR estimate.",
        arguments: [.variable], options: [eps],
        namesResult: true
    ) { s, a in
        let name = try a.positional(0, "a variable name")
        try a.expectAtMost(1)
        let eps = try a.value(Self.eps)
        let v = try s.variable(name)
        let clampedInput = Clamp.forward(v.tensor, min: 0, max: .greatestFiniteMagnitude)
        let out = Log.forward(clampedInput, epsilon: Float(eps))
        let outName = a.asName ?? name + ".log"
        let kind: Variable.Kind = v.kind == .features ? .features : .logHDR
        s.set(outName, Variable(out, kind: kind, origin: "log \(name)"))
        s.console.line("\(outName) = log(\(name) + \(formatNumber(eps)))")
        beforeAfter(s, name, v.tensor, outName, out, kind: kind)
        let st = v.tensor.stats
        if st.max > 0 {
            let ratio = Double(st.max) / max(Double(st.min), eps)
            s.console.line("  a \(formatNumber(ratio, digits: 3)):1 range of values becomes a spread of \(formatNumber(Double(out.stats.max - out.stats.min), digits: 3))")
        }
    }

    static let transform = Command(
        "transform", summary: "docs/MODEL.md's transform between the stages: H = k max(y,0)^g, then log(H + eps).",
        usage: "transform NAME [as OUT]", example: "transform scene as x2",
        details: "What the pipeline does to the HDR network's output y1 before the LDR network: gamma back to linear HDR radiance (OUT.H), then the log (OUT). "
            + "Uses the loaded model's constants (g = 2.2, k = 1, eps = 1/255 by default).",
        arguments: [.variable], namesResult: true
    ) { s, a in
        let name = try a.positional(0, "a variable name")
        try a.expectAtMost(1)
        let v = try s.variable(name)
        let c = s.hasModel ? try s.model().constants : TransformConstants()
        let h = c.tauInverse(v.tensor)
        let x2 = c.log(h)
        let outName = a.asName ?? name + ".transform"
        s.set(outName + ".H", Variable(h, kind: .hdr, origin: "transform \(name) (H)"))
        s.set(outName, Variable(x2, kind: .logHDR, origin: "transform \(name)"))
        let formula = "\(formatNumber(Double(c.scale))) * max(\(name), 0)^\(formatNumber(Double(c.gamma)))"
        s.console.line("step 1  \(s.console.bold(outName + ".H")) = \(formula)   (gamma: back to linear HDR radiance)")
        s.console.line("        \(stats(v.tensor))  ->  \(stats(h))")
        s.console.line("step 2  \(s.console.bold(outName)) = log(\(outName).H + \(formatNumber(Double(c.epsilon))))   (log: what the LDR network reads)")
        s.console.line("        \(stats(h))  ->  \(stats(x2))")
    }
}
