// The two-stage DRHT pipeline as a list of named steps, run one at a time or all at once.
// Full inference (`runAll`) and stepping (`step`) are the same code: `runAll` is `step` in a
// loop. Step names: hdr.enc1 ... hdr.latent, hdr.dec1 ... hdr.dec5, hdr.head, transform,
// ldr.enc1 ... ldr.head. Outputs are kept by name: every step's output (post-activation),
// `<net>.decK.skip` for the fused skip sums, `transform.H` for the HDR estimate, `input` for
// the padded input.
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
        public let name: String
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
        public enum Network: String, Sendable { case hdr, ldr }
        case block(Network, Int)
        case transform

        /// "hdr.enc1", "transform", "ldr.head": the name steps and their outputs go by.
        public var name: String {
            switch self {
            case .block(let net, let i): return "\(net.rawValue).\(Architecture.layers[i].name)"
            case .transform: return "transform"
            }
        }

        /// The output name of what step `self` passes on: a decoder's skip sum, else its output.
        var passedOn: String {
            if case .block(_, let i) = self, Architecture.wiring[i].skip != nil { return name + ".skip" }
            return name
        }

        /// The output names step `self` reads: its input, then its encoder (a skip), then its
        /// base (the head), following `Architecture.wiring`.
        var reads: [String] {
            guard case .block(let net, let i) = self else { return ["hdr.head"] }
            let w = Architecture.wiring[i]
            var inputs = [w.input.map { Step.block(net, $0).passedOn } ?? (net == .hdr ? "input" : "transform")]
            if let e = w.skip { inputs.append(Step.block(net, e).name) }
            if w.addsBase { inputs.append(net == .hdr ? "input" : "hdr.head") }
            return inputs
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
    public private(set) var outputs: [String: Tensor] = [:]
    /// Changes to what blocks pass on (Intervention.swift), applied from the next step run.
    public var interventions: [Intervention] = []
    public private(set) var records: [Record] = []
    /// Index into `stepNames` of the next step to run.
    public private(set) var position = 0
    private let padded: Tensor
    private let lastUse: [String: Int]

    /// image: (1, 3, H, W) in [0, 1], any H and W.
    public init(model: DRHT, image: Tensor, retention: Retention = .everything) {
        precondition(image.shape.count == 4 && image.c == 3, "the pipeline takes a (N, 3, H, W) image")
        self.model = model
        self.retention = retention
        height = image.h; width = image.w
        padded = replicatePad(image, toMultipleOf: Architecture.sizeMultiple)
        lastUse = Pipeline.lastUses()
        reset()
    }

    /// Back to before the first step, keeping the input.
    public func reset() {
        outputs = ["input": padded]
        records = []
        position = 0
    }

    public var isFinished: Bool { position == Pipeline.stepNames.count }
    public var nextStepName: String? { isFinished ? nil : Pipeline.stepNames[position] }

    /// The tensors step `name` reads (by output name).
    static func reads(_ name: String) -> [String] { steps[stepNames.firstIndex(of: name)!].reads }

    /// For each output name, the index of the last step that reads it.
    static func lastUses() -> [String: Int] {
        var last: [String: Int] = [:]
        for (i, step) in steps.enumerated() { for r in step.reads { last[r] = i } }
        return last
    }

    /// Runs the next step and returns what it did.
    @discardableResult
    public func step() -> Record {
        precondition(!isFinished, "the pipeline has finished; reset it first")
        let step = Pipeline.steps[position], name = step.name
        let t0 = DispatchTime.now().uptimeNanoseconds
        let (operation, input, output, flops): (String, [Int], [Int], Double)
        switch step {
        case .transform: (operation, input, output, flops) = runTransform()
        case .block(let net, let i): (operation, input, output, flops) = runBlock(step, net == .hdr ? model.hdr : model.ldr, i)
        }
        let ms = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6
        let record = Record(name: name, operation: operation, inputShape: input, outputShape: output,
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
        let name = step.name
        let inputs = step.reads.map { outputs[$0]! }
        let block = net.blocks[index], spec = block.spec, w = Architecture.wiring[index]
        let x = inputs[0]
        let flops = block.flops(for: x.shape)
        let encoder = w.skip != nil ? inputs[1] : nil
        let base = w.addsBase ? inputs.last! : nil
        let active = interventions.filter { $0.step == name }
        let r = active.isEmpty ? block.forward(x, base: base, encoder: encoder, mode: .inference(inPlace: retention == .needed))
            : Intervention.run(block, x, base: base, encoder: encoder, active: active)
        if w.skip != nil {
            if let a = r.activation { outputs[name] = a }
            outputs[step.passedOn] = r.output
        } else {
            outputs[name] = r.output
        }
        let y = r.output
        let kind = spec.kind.operation
        let op = "\(kind) \(spec.kernel)x\(spec.kernel) stride \(spec.stride), \(spec.inChannels)->\(spec.outChannels)"
            + (spec.kind == .head ? " + BN, + base, ELU" : " + BN + ELU") + (spec.skipFrom.map { ", skip from \($0)" } ?? "")
        return (op, x.shape, y.shape, flops)
    }

    private func runTransform() -> (String, [Int], [Int], Double) {
        let y1 = outputs["hdr.head"]!
        let h = model.constants.tauInverse(y1)
        outputs["transform.H"] = h
        outputs["transform"] = model.constants.log(h)
        let c = model.constants
        return ("H = \(c.scale) * max(y1, 0)^\(c.gamma); log(H + \(String(format: "%.5g", c.epsilon)))", y1.shape, h.shape, 0)
    }

    // MARK: - Results, cropped back to the input's size

    /// y1: the HDR estimate in the LDR domain (after hdr.head).
    public var y1: Tensor? { outputs["hdr.head"].map { crop($0, height: height, width: width) } }
    /// H = tau_inv(y1): the estimated linear HDR radiance.
    public var hdrEstimate: Tensor? { outputs["transform.H"].map { crop($0, height: height, width: width) } }
    /// y2 (after ldr.head), unclamped.
    public var y2: Tensor? { outputs["ldr.head"].map { crop($0, height: height, width: width) } }
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

    public var description: String {
        switch self {
        case .unknownStep(let s): return "no step called '\(s)'; steps are hdr.enc1 ... hdr.head, transform, ldr.enc1 ... ldr.head"
        case .alreadyRun(let s): return "step '\(s)' has already run; reset to start again"
        }
    }
}
