// `expect EXPR`: a tiny expression language for facts about the session, so a lesson is also a
// test. Grammar:
//   comparison := sum (("==" | "!=" | "<" | "<=" | ">" | ">=") sum)
//   sum := product (("+" | "-") product)*      product := unary (("*" | "/") unary)*
//   unary := "-" unary | atom                  atom := NUMBER | SHAPE | CALL | NAME[.property] | "(" sum ")"
// Values are numbers or shapes (1x512x8x8); shapes compare only with == and !=.
import DRHTEngine
import DRHTMetrics
import DRHTModel
import Foundation

public enum Expectation {
    /// The functions `expect` knows, with how many variables each takes (the odd-input matrix
    /// calls every one; `similarity` takes a layer, `heldout_*` and `rf_*` nothing).
    /// Every metric of `ImageMetric.all` is one (psnr(A, B), grid(A), psnr_clipped(A, B, PHOTO)).
    public static let functions: [(name: String, variables: Int)] = ImageMetric.all.map { ($0.name, $0.reads.rawValue) } + [
        ("mean", 1), ("clipped", 1), ("black", 1), ("white", 1),
        ("stops", 1), ("stops_clipped", 3), ("stops_other", 3), ("cosine", 2),
        ("heldout_before", 0), ("heldout_after", 0), ("rf_theoretical", 0), ("rf_effective", 0), ("similarity", 1),
    ]

    enum Value: CustomStringConvertible {
        case number(Double)
        case shape([Int])
        var description: String {
            switch self {
            case .number(let v): return formatNumber(v)
            case .shape(let s): return s.map(String.init).joined(separator: "x")
            }
        }
    }

    struct Result { let holds: Bool; let detail: String }

    static func evaluate(_ text: String, session: Session) throws -> Result {
        var p = Parser(tokens: try tokenize(text), session: session)
        let left = try p.sum()
        guard let op = p.peek(), ["==", "!=", "<", "<=", ">", ">="].contains(op) else {
            throw REPLError("expect needs a comparison such as A > B (in: \(text))")
        }
        p.index += 1
        let right = try p.sum()
        guard p.peek() == nil else { throw REPLError("unexpected \"\(p.peek()!)\" in: \(text)") }
        let holds: Bool
        switch (left, right) {
        case let (.number(a), .number(b)):
            switch op {
            case "==": holds = abs(a - b) <= 1e-6 * max(1, abs(a), abs(b))
            case "!=": holds = abs(a - b) > 1e-6 * max(1, abs(a), abs(b))
            case "<": holds = a < b
            case "<=": holds = a <= b
            case ">": holds = a > b
            default: holds = a >= b
            }
        case let (.shape(a), .shape(b)):
            guard op == "==" || op == "!=" else { throw REPLError("shapes compare only with == or != (in: \(text))") }
            holds = (a == b) == (op == "==")
        default:
            throw REPLError("cannot compare a shape with a number (in: \(text))")
        }
        return Result(holds: holds, detail: "\(left) \(op) \(right)")
    }

    static func tokenize(_ text: String) throws -> [String] {
        var tokens: [String] = []
        let chars = Array(text)
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == " " { i += 1; continue }
            if "()+-*/,".contains(c) { tokens.append(String(c)); i += 1; continue }
            if "<>=!".contains(c) {
                if i + 1 < chars.count && chars[i + 1] == "=" { tokens.append(String(c) + "="); i += 2 }
                else if c == "=" || c == "!" { throw REPLError("use == or != (in: \(text))") }
                else { tokens.append(String(c)); i += 1 }
                continue
            }
            var j = i
            while j < chars.count, chars[j].isLetter || chars[j].isNumber || chars[j] == "_" || chars[j] == "." {
                // a number's exponent sign: 1e-3
                j += 1
                if j < chars.count, (chars[j] == "-" || chars[j] == "+"), chars[j - 1] == "e", Double(String(chars[i..<(j - 1)])) != nil { j += 1 }
            }
            guard j > i else { throw REPLError("unexpected \"\(c)\" in: \(text)") }
            tokens.append(String(chars[i..<j]))
            i = j
        }
        return tokens
    }

    struct Parser {
        let tokens: [String]
        let session: Session
        var index = 0
        /// Open parentheses and unary minuses around the current point: the parser recurses on
        /// each, so their depth is bounded (a 20,000-deep expression would overflow the stack).
        var depth = 0
        static let maxDepth = 64
        init(tokens: [String], session: Session) { self.tokens = tokens; self.session = session }

        mutating func nest() throws {
            depth += 1
            guard depth <= Parser.maxDepth else {
                throw REPLError("the expression nests more than \(Parser.maxDepth) deep (parentheses or minus signs)")
            }
        }

        func peek() -> String? { index < tokens.count ? tokens[index] : nil }
        mutating func next() throws -> String {
            guard index < tokens.count else { throw REPLError("the expression ends too early") }
            index += 1
            return tokens[index - 1]
        }
        mutating func expect(_ t: String) throws {
            let got = try next()
            guard got == t else { throw REPLError("expected \"\(t)\" but found \"\(got)\"") }
        }

        mutating func sum() throws -> Value {
            var v = try product()
            while let op = peek(), op == "+" || op == "-" {
                index += 1
                let r = try number(try product())
                v = .number(op == "+" ? try number(v) + r : try number(v) - r)
            }
            return v
        }

        mutating func product() throws -> Value {
            var v = try unary()
            while let op = peek(), op == "*" || op == "/" {
                index += 1
                let r = try number(try unary())
                v = .number(op == "*" ? try number(v) * r : try number(v) / r)
            }
            return v
        }

        mutating func unary() throws -> Value {
            if peek() == "-" {
                index += 1
                try nest(); defer { depth -= 1 }
                return .number(-(try number(try unary())))
            }
            return try atom()
        }

        func number(_ v: Value) throws -> Double {
            guard case .number(let d) = v else { throw REPLError("a shape (\(v)) cannot be used in arithmetic") }
            return d
        }

        mutating func atom() throws -> Value {
            let t = try next()
            if t == "(" {
                try nest(); defer { depth -= 1 }
                let v = try sum(); try expect(")"); return v
            }
            if let d = Double(t) { return .number(d) }
            let dims = t.split(separator: "x", omittingEmptySubsequences: false)
            if dims.count > 1, dims.allSatisfy({ Int($0) != nil }) { return .shape(dims.map { Int($0)! }) }
            if peek() == "(" {
                index += 1
                var args: [String] = []
                while peek() != ")" {
                    args.append(try next())
                    if peek() == "," { index += 1 }
                }
                try expect(")")
                return try call(t, args)
            }
            return try property(t)
        }

        /// NAME.property, or NAME alone (its mean).
        func property(_ t: String) throws -> Value {
            let properties = ["shape", "min", "max", "mean", "std", "channels", "height", "width"]
            var name = t, prop = "mean"
            if let dot = t.lastIndex(of: "."), properties.contains(String(t[t.index(after: dot)...])), session.variables[t] == nil {
                name = String(t[..<dot]); prop = String(t[t.index(after: dot)...])
            }
            let v = try session.variable(name).tensor
            switch prop {
            case "shape": return .shape(v.shape)
            case "min": return .number(Double(v.stats.min))
            case "max": return .number(Double(v.stats.max))
            case "std": return .number(v.stats.std)
            case "channels": return .number(Double(v.shape.count == 4 ? v.c : 0))
            case "height": return .number(Double(v.shape.count == 4 ? v.h : 0))
            case "width": return .number(Double(v.shape.count == 4 ? v.w : 0))
            default: return .number(v.stats.mean)
            }
        }

        func call(_ f: String, _ args: [String]) throws -> Value {
            // The list is the contract (help, the odd-input matrix): a function missing from it is unknown.
            guard Expectation.functions.contains(where: { $0.name == f }) else {
                throw REPLError("unknown function \(f); functions: " + Expectation.functions.map(\.name).joined(separator: ", "))
            }
            func arity(_ n: Int) throws {
                guard args.count == n else { throw REPLError("\(f) takes \(n) argument\(n == 1 ? "" : "s") (got \(args.count))") }
            }
            func image(_ i: Int) throws -> Tensor { try session.image(args[i]).tensor }
            /// The third argument of the clipped-region functions: a photo of the first one's size.
            func photo() throws -> Tensor {
                let p = try image(2), a = try image(0)
                guard p.h == a.h, p.w == a.w else {
                    throw REPLError("\(f): \(args[2]) is \(p.w)x\(p.h) but \(args[0]) is \(a.w)x\(a.h); the photo must be the same size")
                }
                return p
            }
            if let metric = ImageMetric.named(f) {
                try arity(metric.reads.rawValue)
                // A metric of one image also reads one-channel maps (a saliency map, a gain map):
                // the grid's dots are a pattern in either.
                let first = metric.reads == .output ? try ResultCommands.gridInput(args[0], try session.variable(args[0])) : try image(0)
                let c = MetricCase(output: first, target: metric.reads == .output ? nil : try image(1),
                                   photo: metric.reads == .photo ? try photo() : nil)
                guard let v = try metric.compute(c) else {
                    throw REPLError(metric.reads == .photo ? "\(f): \(args[2]) has too few clipped pixels (under 0.5%)" : "\(f) has no value for \(args.joined(separator: ", "))")
                }
                return .number(v)
            }
            switch f {
            case "mean": try arity(1); return .number(try session.variable(args[0]).tensor.stats.mean)
            case "clipped":
                try arity(1)
                let (lo, hi) = ImageCommands.clipped(try image(0))
                return .number(lo + hi)
            case "black", "white":
                try arity(1)
                let (lo, hi) = ImageCommands.clipped(try image(0))
                return .number(f == "black" ? lo : hi)
            case "stops":
                try arity(1)
                return .number(ImageCommands.dynamicRangeStops(try session.variable(args[0]).tensor))
            case "stops_clipped", "stops_other":
                // stops_clipped(ESTIMATE, TRUTH, PHOTO): `hdrerror`'s mean |error| in stops.
                try arity(3)
                let photo = try photo()
                let e = try HDRStops.error(try image(0), try image(1), clippedMask: ClippedRegion.mask(photo, dilation: 0))
                guard let v = f == "stops_clipped" ? e.clipped : e.rest else {
                    throw REPLError("\(f): \(args[2]) has \(f == "stops_clipped" ? "too few clipped pixels (under 0.5%)" : "no pixels that are not clipped")")
                }
                return .number(v)
            case "cosine":
                try arity(2)
                let m = try session.model()
                let vectors = try (0..<2).map { i -> [Double] in
                    let p = Pipeline(model: m, image: try image(i), retention: .needed)
                    try p.step(to: "hdr.latent")
                    return ExploreCommands.meanVector(try p.tensor(.of(.hdr, "latent")))
                }
                return .number(ExploreCommands.cosine(vectors[0], vectors[1]))
            case "heldout_before", "heldout_after":
                try arity(0)
                guard let t = session.last.training else { throw REPLError("\(f)() needs a `train` run first") }
                return .number(f == "heldout_before" ? t.before : t.after)
            case "rf_theoretical", "rf_effective":
                try arity(0)
                guard let r = session.last.receptiveField else { throw REPLError("\(f)() needs an `rf` first") }
                return .number(Double(f == "rf_theoretical" ? r.theoretical : r.effective))
            case "similarity":
                // similarity(LAYER, EV): EV may be negative, which tokenises as "-" and the number.
                // similarity(LAYER) alone: the mean over the sweep's exposures (what its summary ranks).
                let words = args.count == 3 && args[1] == "-" ? [args[0], "-" + args[2]] : args
                guard !session.last.sweep.isEmpty else { throw REPLError("similarity() needs a `sweep` first") }
                guard let layer = words.first, let byEV = session.last.sweep[layer] else {
                    throw REPLError("similarity: no layer \(words.first ?? "") in the last sweep")
                }
                if words.count == 1 { return .number(byEV.values.reduce(0, +) / Double(byEV.count)) }
                guard words.count == 2, let ev = Double(words[1]) else { throw REPLError("similarity takes a layer and an exposure, e.g. similarity(hdr.latent, -2), or a layer alone (the mean)") }
                guard let v = byEV[ev] else {
                    throw REPLError("similarity: the last sweep has no \(formatNumber(ev)) EV (it has \(byEV.keys.sorted().map { formatNumber($0) }.joined(separator: ", ")))")
                }
                return .number(v)
            default:
                throw REPLError("\(f) is listed in Expectation.functions but not computed here")
            }
        }
    }
}
