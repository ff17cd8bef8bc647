// The two-stage DRHT pipeline as a list of named steps, run one at a time or all at once.
// Full inference (`runAll`) and stepping (`step`) are the same code: `runAll` is `step` in a
// loop. Step names: hdr.enc1 ... hdr.latent, hdr.dec1 ... hdr.dec5, hdr.head, transform,
// ldr.enc1 ... ldr.head. Outputs are kept by `Output`, a typed name: every block's output
// (post-activation), a decoder's fused skip sum, the transform's H and log(H + eps), and the
// padded input. Each has a printed name (`hdr.dec3.skip`, `transform.H`) for the REPL.
import DRHTEngine
import Foundation

public final class Pipeline {
    /// What to keep after each step.
    public enum Retention: Sendable {
        /// Every output, for looking at (the REPL).
        case everything
        /// Only what later steps still need, freeing each activation after its last use, so
        /// inference memory stays bounded (a 1024 x 1024 image needs well under 1 GB).
        case needed
    }

    /// What a step did.
    public struct Record: Sendable {
        public let step: Step
        public var name: String { step.name }
        /// e.g. "conv 9x9 stride 1, 3->64" or "tau_inv + log".
        public let operation: String
        public let inputShape: [Int]
        public let outputShape: [Int]
        public let milliseconds: Double
        /// 2 x multiply-adds of the step's convolution (0 for the transform).
        public let flops: Double
    }

    /// A step: a block of one of the two networks, or the transform between them.
    public enum Step: Hashable, Sendable {
        public enum Network: String, Sendable, CaseIterable { case hdr, ldr }
        case block(Network, Int)
        case transform

        /// "hdr.enc1", "transform", "ldr.head": the name steps and their outputs go by.
        public var name: String {
            switch self {
            case .block(let net, let i): return "\(net.rawValue).\(Architecture.layers[i].name)"
            case .transform: return "transform"
            }
        }

        /// What step `self` passes on: a decoder's skip sum, else its output.
        public var passedOn: Output {
            switch self {
            case .block(let net, let i): return Architecture.wiring[i].skip != nil ? .skipSum(net, i) : .block(net, i)
            case .transform: return .logRadiance
            }
        }

        /// The step's own output: a block's activation, the transform's log(H + eps).
        public var output: Output {
            switch self {
            case .block(let net, let i): return .block(net, i)
            case .transform: return .logRadiance
            }
        }

        /// What step `self` writes: its output, then (a decoder) its skip sum, or (the transform)
        /// H, then log(H + eps).
        public var writes: [Output] {
            switch self {
            case .block(let net, let i): return Architecture.wiring[i].skip != nil ? [.block(net, i), .skipSum(net, i)] : [.block(net, i)]
            case .transform: return [.radiance, .logRadiance]
            }
        }

        /// What step `self` reads: its input, then its encoder (a skip), then its base (the
        /// head), following `Architecture.wiring`.
        var reads: [Output] {
            guard case .block(let net, let i) = self else { return [.block(.hdr, Architecture.headIndex)] }
            let w = Architecture.wiring[i]
            var inputs = [w.input.map { Step.block(net, $0).passedOn } ?? (net == .hdr ? .input : .logRadiance)]
            if let e = w.skip { inputs.append(.block(net, e)) }
            if w.addsBase { inputs.append(net == .hdr ? .input : .block(.hdr, Architecture.headIndex)) }
            return inputs
        }

        /// The step called `name` ("hdr.enc1", "transform"), if there is one.
        public init?(name: String) {
            guard let step = Pipeline.steps.first(where: { $0.name == name }) else { return nil }
            self = step
        }
    }

    /// Something the pipeline keeps: what one step wrote, or the padded input.
    public enum Output: Hashable, Sendable, CustomStringConvertible {
        /// The input, padded to a multiple of `Architecture.sizeMultiple`.
        case input
        /// A block's output (after its activation; the head's before any clamp).
        case block(Step.Network, Int)
        /// A decoder block's fused skip sum s = d + e + d*e: what it passes on.
        case skipSum(Step.Network, Int)
        /// H = tau_inv(y1), the estimated linear HDR radiance.
        case radiance
        /// log(H + eps), what the second network reads.
        case logRadiance

        /// The printed name: "input", "hdr.enc1", "hdr.dec3.skip", "transform.H", "transform".
        public var name: String {
            switch self {
            case .input: return "input"
            case .block(let net, let i): return Step.block(net, i).name
            case .skipSum(let net, let i): return Step.block(net, i).name + ".skip"
            case .radiance: return "transform.H"
            case .logRadiance: return "transform"
            }
        }
        public var description: String { name }

        /// The step that writes this output (nil for the input).
        public var writer: Step? { Pipeline.steps.first { $0.writes.contains(self) } }

        /// Every output a full run writes, in order, after the input.
        public static let all: [Output] = [.input] + Pipeline.steps.flatMap(\.writes)

        /// The output whose printed name is `name`, if there is one.
        public init?(name: String) {
            guard let o = Output.all.first(where: { $0.name == name }) else { return nil }
            self = o
        }

        /// The output of block `layer` ("latent", "dec3") of network `net`.
        public static func of(_ net: Step.Network, _ layer: String) -> Output {
            guard let i = Architecture.index(of: layer) else { preconditionFailure("no layer \(layer) in Architecture.layers") }
            return .block(net, i)
        }
    }

    /// Every step in order.
    public static let steps: [Step] = Architecture.layers.indices.map { .block(.hdr, $0) } + [.transform]
        + Architecture.layers.indices.map { .block(.ldr, $0) }
    public static let stepNames: [String] = steps.map(\.name)

    public let model: DRHT
    public let retention: Retention
    /// The input image's size before padding.
    public let height: Int, width: Int
    public private(set) var outputs: [Output: Tensor] = [:]
    /// Changes to what blocks pass on (Intervention.swift), applied from the next step run.
    public var interventions: [Intervention] = []
    public private(set) var records: [Record] = []
    /// Index into `stepNames` of the next step to run.
    public private(set) var position = 0
    /// The input, padded to a multiple of `Architecture.sizeMultiple` (kept whatever the retention).
    public let paddedInput: Tensor
    private let lastUse: [Output: Int]

    /// image: (1, 3, H, W) in [0, 1], any H and W.
    public init(model: DRHT, image: Tensor, retention: Retention = .everything) {
        precondition(image.shape.count == 4 && image.c == 3, "the pipeline takes a (N, 3, H, W) image")
        self.model = model
        self.retention = retention
        height = image.h; width = image.w
        paddedInput = replicatePad(image, toMultipleOf: Architecture.sizeMultiple)
        lastUse = Pipeline.lastUses()
        reset()
    }

    /// Back to before the first step, keeping the input.
    public func reset() {
        outputs = [.input: paddedInput]
        records = []
        position = 0
    }

    public var isFinished: Bool { position == Pipeline.stepNames.count }
    public var nextStepName: String? { isFinished ? nil : Pipeline.stepNames[position] }

    /// What the pipeline keeps as `o`, or nil when no step has written it yet (or, with
    /// `.needed` retention, it has been freed).
    public subscript(_ o: Output) -> Tensor? { outputs[o] }

    /// `o`, or an error saying which step writes it.
    public func tensor(_ o: Output) throws -> Tensor {
        if let t = outputs[o] { return t }
        throw PipelineError.notComputed(o.name)
    }

    /// For each output, the index of the last step that reads it.
    static func lastUses() -> [Output: Int] {
        var last: [Output: Int] = [:]
        for (i, step) in steps.enumerated() { for r in step.reads { last[r] = i } }
        return last
    }

    /// Runs the next step and returns what it did.
    @discardableResult
    public func step() -> Record {
        precondition(!isFinished, "the pipeline has finished; reset it first")
        let step = Pipeline.steps[position]
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (operation, input, output, flops): (String, [Int], [Int], Double)
        switch step {
        case .transform: (operation, input, output, flops) = runTransform()
        case .block(let net, let i): (operation, input, output, flops) = runBlock(step, net == .hdr ? model.hdr : model.ldr, i)
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let record = Record(step: step, operation: operation, inputShape: input, outputShape: output,
                            milliseconds: ms, flops: flops)
        records.append(record)
        if retention == .needed {
            for (key, last) in lastUse where last == position { outputs[key] = nil }
        }
        position += 1
        return record
    }

    /// Runs steps up to and including `name`.
    @discardableResult
    public func step(to name: String) throws -> [Record] {
        guard let target = Pipeline.stepNames.firstIndex(of: name) else {
            throw PipelineError.unknownStep(name)
        }
        guard target >= position else { throw PipelineError.alreadyRun(name) }
        var done: [Record] = []
        while position <= target { done.append(step()) }
        return done
    }

    /// Runs every remaining step.
    @discardableResult
    public func runAll() -> [Record] {
        var done: [Record] = []
        while !isFinished { done.append(step()) }
        return done
    }

    private func runBlock(_ step: Step, _ net: Autoencoder, _ index: Int) -> (String, [Int], [Int], Double) {
        let inputs = step.reads.map { r -> Tensor in
            guard let t = outputs[r] else { preconditionFailure("\(step.name) reads \(r.name), which no earlier step kept") }
            return t
        }
        let block = net.blocks[index], spec = block.spec, w = Architecture.wiring[index]
        let x = inputs[0]
        let flops = block.flops(for: x.shape)
        let encoder = w.skip != nil ? inputs[1] : nil
        let base = w.addsBase ? inputs.last! : nil
        let active = interventions.filter { $0.step == step.name }
        let r = active.isEmpty ? block.forward(x, base: base, encoder: encoder, mode: .inference(inPlace: retention == .needed))
            : Intervention.run(block, x, base: base, encoder: encoder, active: active)
        guard case .block(let n, _) = step else { preconditionFailure("runBlock runs blocks") }
        if w.skip != nil {
            if let a = r.activation { outputs[.block(n, index)] = a }
            outputs[.skipSum(n, index)] = r.output
        } else {
            outputs[.block(n, index)] = r.output
        }
        let y = r.output
        let kind = spec.kind.operation
        let op = "\(kind) \(spec.kernel)x\(spec.kernel) stride \(spec.stride), \(spec.inChannels)->\(spec.outChannels)"
            + (spec.kind == .head ? " + BN, + base, ELU" : " + BN + ELU") + (spec.skipFrom.map { ", skip from \($0)" } ?? "")
        return (op, x.shape, y.shape, flops)
    }

    private func runTransform() -> (String, [Int], [Int], Double) {
        guard let y1 = outputs[.block(.hdr, Architecture.headIndex)] else { preconditionFailure("the transform reads hdr.head") }
        let h = model.constants.tauInverse(y1)
        outputs[.radiance] = h
        outputs[.logRadiance] = model.constants.log(h)
        let c = model.constants
        return ("H = \(c.scale) * max(y1, 0)^\(c.gamma); log(H + \(String(format: "%.5g", c.epsilon)))", y1.shape, h.shape, 0)
    }

    // MARK: - Results, cropped back to the input's size

    /// y1: the HDR estimate in the LDR domain (after hdr.head).
    public var y1: Tensor? { outputs[.block(.hdr, Architecture.headIndex)].map { crop($0, height: height, width: width) } }
    /// H = tau_inv(y1): the estimated linear HDR radiance.
    public var hdrEstimate: Tensor? { outputs[.radiance].map { crop($0, height: height, width: width) } }
    /// y2 (after ldr.head), unclamped.
    public var y2: Tensor? { outputs[.block(.ldr, Architecture.headIndex)].map { crop($0, height: height, width: width) } }
    /// The corrected image clamp(y2, 0, 1).
    public var corrected: Tensor? { y2.map { Clamp.forward($0, min: 0, max: 1) } }

    /// Milliseconds spent in each stage so far: (hdr network, transform, ldr network).
    public var stageMilliseconds: (hdr: Double, transform: Double, ldr: Double) {
        func sum(_ prefix: String) -> Double { records.filter { $0.name.hasPrefix(prefix) }.reduce(0) { $0 + $1.milliseconds } }
        return (sum("hdr."), sum("transform"), sum("ldr."))
    }

    public var totalFlops: Double { records.reduce(0) { $0 + $1.flops } }
}

public enum PipelineError: Error, CustomStringConvertible, Equatable {
    case unknownStep(String)
    case alreadyRun(String)
    case notComputed(String)

    public var description: String {
        switch self {
        case .notComputed(let s):
            return "\(s) has not been computed yet" + (Pipeline.Output(name: s)?.writer.map { "; `step to \($0.name)` computes it" } ?? "")
        case .unknownStep(let s): return "no step called '\(s)'; steps are hdr.enc1 ... hdr.head, transform, ldr.enc1 ... ldr.head"
        case .alreadyRun(let s): return "step '\(s)' has already run; reset to start again"
        }
    }
}
