// Training: each autoencoder's forward keeping what the backward needs (every block's
// `BlockCache`), and the backward — the same blocks in reverse. Then the whole DRHT loss
//   L = mse(y1, tau(H_gt)) + mse(y2, L_gt)
// with the second term's gradient flowing back through the transform into the first network.
import DRHTEngine
import DRHTImageIO

/// What an autoencoder's forward kept: one cache per block, in table order.
public struct AutoencoderTape {
    var blocks: [BlockCache] = []
}

/// Gradients by docs/MODEL.md tensor name ("hdr.enc1.conv.weight", …).
public typealias Gradients = [String: Tensor]

extension Autoencoder {
    /// y = net(x, base) with BN in `mode`; in training mode BN uses batch statistics and
    /// updates its running statistics, like PyTorch's `model.train()`.
    /// x (N, Cin, H, W), base and y (N, 3, H, W).
    /// With `through` set, stops after that block (the tape then ends there and `output` is
    /// its output), for gradients of something inside the network (Attribution.swift).
    public func forward(_ x: Tensor, base: Tensor, mode: Mode, through last: Int? = nil)
        -> (output: Tensor, tape: AutoencoderTape) {
        var tape = AutoencoderTape()
        var outputs: [Tensor] = []               // by block index (`Architecture.wiring`)
        for (i, block) in blocks.prefix((last ?? blocks.count - 1) + 1).enumerated() {
            let w = Architecture.wiring[i]
            let r = block.forward(w.input.map { outputs[$0] } ?? x, base: w.addsBase ? base : nil,
                                  encoder: w.skip.map { outputs[$0] }, mode: .differentiable(mode))
            outputs.append(r.output)
            tape.blocks.append(r.cache!)
        }
        return (outputs.last!, tape)
    }

    /// Gradients of a loss given dL/dy, y the output of the tape's last block: every
    /// parameter's (named `prefix.block.…`), the input's (when `inputGradient`), and the base's
    /// (nil when the tape stops before the head). `dActivation` adds a gradient on the last
    /// block's activation, before its skip sum (a decoder's own output). Without
    /// `parameterGradients` the conv weights' gradients are not computed (zero).
    public func backward(dOutput dy: Tensor, dActivation: Tensor? = nil, tape: AutoencoderTape, prefix: String,
                         inputGradient: Bool, parameterGradients: Bool = true) -> (dInput: Tensor?, dBase: Tensor?, gradients: Gradients) {
        var grads: Gradients = [:]
        var dEncoder: [Int: Tensor] = [:]        // gradients reaching encoder outputs through skips, by block index
        var g = dy
        var dBase: Tensor? = nil
        var dInput: Tensor? = nil
        let last = tape.blocks.count - 1
        if let dActivation { dEncoder[last] = dActivation }
        for (index, block) in blocks.prefix(last + 1).enumerated().reversed() {
            let spec = block.spec
            let bg = block.backward(dOutput: g, dActivationExtra: dEncoder[index], cache: tape.blocks[index],
                                    inputGradient: index > 0 || inputGradient, weightGradient: parameterGradients)
            if let from = Architecture.wiring[index].skip { dEncoder[from] = bg.dEncoder }
            if let d = bg.dBase { dBase = d }
            let name = "\(prefix).\(spec.name)"
            grads["\(name).conv.weight"] = bg.dWeight
            grads["\(name).conv.bias"] = bg.dBias
            grads["\(name).bn.weight"] = bg.dGamma
            grads["\(name).bn.bias"] = bg.dBeta
            if index > 0 { g = bg.dInput! } else { dInput = bg.dInput }
        }
        return (dInput, dBase, grads)
    }
}

/// The losses of one training step: docs/MODEL.md's loss as named terms, L = the sum of the terms.
/// Everything that reports a loss follows `Losses.terms`: the training CSV's columns
/// (`loss_<name>`), the checkpoint notes, and the progress lines of `drht train` and `train`.
public struct Losses: Sendable {
    /// One term of the loss.
    public struct Term: Sendable {
        /// Short name: the CSV column is `loss_<name>`.
        public let name: String
        /// What it measures, in docs/MODEL.md's symbols.
        public let formula: String
    }

    /// docs/MODEL.md's terms, in order.
    public static let terms = [Term(name: "hdr", formula: "mse(y1, tau(H_gt))"),
                               Term(name: "ldr", formula: "mse(y2, L_gt)")]

    /// Each term's value, in `terms` order.
    public let values: [Double]

    public init(values: [Double]) {
        precondition(values.count == Losses.terms.count, "one value per term of Losses.terms")
        self.values = values
    }

    /// The value of the term called `name`.
    public subscript(_ name: String) -> Double {
        values[Losses.terms.firstIndex { $0.name == name }!]
    }

    public var total: Double { values.reduce(0, +) }

    /// "hdr 0.0123 + ldr 0.0456", each value formatted by `format`.
    public static func describe(_ values: [Double], format: (Double) -> String) -> String {
        zip(terms, values).map { "\($0.name) \(format($1))" }.joined(separator: " + ")
    }
}

/// One batch of training triplets.
public struct Batch {
    /// (N, 3, S, S) LDR input in [0, 1]
    public var input: Tensor
    /// (N, 3, S, S) linear HDR ground truth (log-average luminance 0.18)
    public var hdr: Tensor
    /// (N, 3, S, S) well-exposed LDR target in [0, 1]
    public var target: Tensor
    /// (N, 3, S, S), 1 where `hdr` is only a lower bound of the light (a photo's own clipped
    /// channels: `hdrLowerBound(target:)`), 0 elsewhere; nil: `hdr` is exact everywhere.
    public var hdrLowerBound: Tensor?
    public init(input: Tensor, hdr: Tensor, target: Tensor, hdrLowerBound: Tensor? = nil) {
        self.input = input; self.hdr = hdr; self.target = target; self.hdrLowerBound = hdrLowerBound
    }

    /// Where a photo used as its own truth says only "at least this bright": the channels at
    /// 255 in the photo itself, (1, 3, H, W) of 0 and 1 (`ClippedPixels.threshold`, no dilation).
    /// Its H_gt there is white made linear, while the scene was brighter by an unknown amount.
    public static func hdrLowerBound(target photo: Tensor) -> Tensor {
        let out = Tensor(zeros: photo.shape)
        for i in 0..<photo.count where photo.data[i] >= ClippedPixels.threshold { out.data[i] = 1 }
        return out
    }

    /// The marks of `hdrLowerBound` that `scope` keeps: all of them (`.photo`), or only the
    /// channels the input clipped too (`.input`); nil when the batch marks nothing (no photo).
    public func hdrLowerBound(scope: HDRBoundScope) -> Tensor? {
        guard let marks = hdrLowerBound else { return nil }
        switch scope {
        case .photo: return marks
        case .input:
            let out = Tensor(zeros: marks.shape)
            for i in 0..<marks.count where marks.data[i] != 0 && input.data[i] >= ClippedPixels.threshold { out.data[i] = 1 }
            return out
        }
    }
}

/// Which of a photo's clipped channels `drht train --hdr-bound` takes as lower bounds of the
/// light (`--hdr-bound-scope`).
public enum HDRBoundScope: String, CaseIterable, Sendable {
    /// Every channel at 255 in the photo itself (`Batch.hdrLowerBound(target:)`).
    case photo
    /// Only those the input clipped as well. An over-exposed sample keeps every mark (a channel
    /// the photo clipped is clipped brighter too); an under-exposed one keeps none: its input
    /// shows the photo's white dimmed and flat, which is all the photo recorded, so MODEL.md's
    /// term teaches the first network to give back exactly that.
    case input
}

extension DRHT {
    /// The joint loss of a batch and, unless `gradients` is false, the gradient of every
    /// learnable tensor. `mode: .training` uses batch statistics in BN and updates the
    /// running ones (as PyTorch's `model.train()` does); `.inference` uses running statistics.
    /// `clipWeight` c > 0 departs from docs/MODEL.md's loss (an option of `drht train`, off by
    /// default): the LDR term weighs each pixel 1 + c where the input is clipped
    /// (`clippedWeight`), so what clipping lost counts more than its share of the picture.
    /// `hdrBound` departs from it too (`drht train --hdr-bound`, off by default): where the batch
    /// marks H_gt as a lower bound (`Batch.hdrLowerBound`), the HDR term counts only an estimate
    /// below it (`MSELoss`'s one-sided difference), so a photo's clipped sky no longer teaches
    /// the first network that the light stops at white.
    /// `hdrBoundScope` says which of the marks count (`HDRBoundScope`).
    public func lossAndGradients(_ batch: Batch, mode: Mode, gradients: Bool = true, clipWeight: Float = 0,
                                 hdrBound: Bool = false, hdrBoundScope: HDRBoundScope = .photo) -> (Losses, Gradients) {
        let weight = clipWeight > 0 ? DRHT.clippedWeight(batch.input, clipWeight) : nil
        let bound = hdrBound ? batch.hdrLowerBound(scope: hdrBoundScope) : nil
        let x = batch.input
        let (y1, hdrTape) = hdr.forward(x, base: x, mode: mode)
        let (h, x2) = StepProfile.measure("transform and loss") {
            let h = constants.tauInverse(y1)                 // H = k max(y1, 0)^g
            return (h, constants.log(h))                     // log(H + eps)
        }
        let (y2, ldrTape) = ldr.forward(x2, base: y1, mode: mode)
        let (hdrTarget, losses) = StepProfile.measure("transform and loss") {
            let hdrTarget = constants.tau(batch.hdr)         // tau(H_gt)
            return (hdrTarget, Losses(values: [MSELoss.forward(prediction: y1, target: hdrTarget, lowerBound: bound),     // hdr
                                               MSELoss.forward(prediction: y2, target: batch.target, weight: weight)])) // ldr
        }
        guard gradients else { return (losses, [:]) }

        let dy2 = StepProfile.measure("transform and loss") { MSELoss.backward(prediction: y2, target: batch.target, weight: weight) }
        let (dx2, dBaseLDR, ldrGrads) = ldr.backward(dOutput: dy2, tape: ldrTape, prefix: "ldr", inputGradient: true)
        let dy1 = StepProfile.measure("transform and loss") {
            let dh = Log.backward(dOutput: dx2!, input: h, epsilon: constants.epsilon)
            let dTransform = Pow.backward(dOutput: dh, input: y1, exponent: constants.gamma, scale: constants.scale)
            return add(add(dTransform, dBaseLDR!), MSELoss.backward(prediction: y1, target: hdrTarget, lowerBound: bound))
        }
        let (_, _, hdrGrads) = hdr.backward(dOutput: dy1, tape: hdrTape, prefix: "hdr", inputGradient: false)
        return (losses, hdrGrads.merging(ldrGrads) { a, _ in a })
    }

    /// The LDR term's per-pixel weight for `clipWeight` c, (N, 1, H, W): 1 + c where any channel
    /// of the input (N, 3, H, W) is clipped (`ClippedPixels`, dilated as the clipped-region
    /// score is), 1 elsewhere.
    public static func clippedWeight(_ input: Tensor, _ c: Float) -> Tensor {
        let plane = input.h * input.w
        var w = [Float](repeating: 1, count: input.n * plane)
        for n in 0..<input.n {
            for (i, clipped) in ClippedPixels.mask(input, image: n).enumerated() where clipped { w[n * plane + i] = 1 + c }
        }
        return Tensor(shape: [input.n, 1, input.h, input.w], values: w)
    }

    /// The learnable tensors (conv weights and biases, BN weights and biases) by name.
    public var parameters: [(String, Tensor)] { namedTensors.filter { !DRHT.isRunningStatistic($0.0) } }

    /// BatchNorm's running means and variances by name: state that training or `drht calibrate`
    /// keeps, not learned.
    public var runningStatistics: [(String, Tensor)] { namedTensors.filter { DRHT.isRunningStatistic($0.0) } }

    public static func isRunningStatistic(_ name: String) -> Bool { name.hasSuffix("running_mean") || name.hasSuffix("running_var") }
}
