// The DRHT model (Yang, Xu, Song, Zhang, Wei, Lau: "Image Correction via Deep Reciprocating
// HDR Transformation", CVPR 2018) exactly as docs/MODEL.md defines it:
//   y1 = hdr(x, base = x)          HDR estimation, still in the LDR domain (estimates tau(H))
//   H  = tau_inv(y1); x2 = log(H + eps)
//   y2 = ldr(x2, base = y1)        LDR correction; the corrected image is clamp(y2, 0, 1)
// Deviations from the paper (all from docs/MODEL.md): the skip fusion s = d + e + d*e, the
// ELU(head + base) output, and the fixed table of kernel sizes and channels.
import DRHTEngine
import DRHTImageIO
import Foundation

public final class DRHT {
    /// The HDR estimation network (`hdr.*` tensors).
    public let hdr: Autoencoder
    /// The LDR correction network (`ldr.*` tensors).
    public let ldr: Autoencoder
    public var constants: TransformConstants
    /// The weights file's free-form metadata (training notes), if any.
    public var notes: [String: String]

    /// Notes that describe the training run that made these weights (not the model itself).
    public static let runNotes = ["stage", "started_from", "averaged", "steps", "val_loss", "loss", "date", "bn_calibrated", "bn_frozen"]

    /// Turns the notes of loaded weights into the start of a new training run from them: the
    /// old run's notes (and any loss_* terms) go, `started_from` names the file and what it was
    /// (its step or average, its stage).
    public func startNewRun(from path: String) {
        let origin = [notes["averaged"] ?? notes["steps"].map { "step \($0)" }, notes["stage"]].compactMap { $0 }
        for key in Array(notes.keys) where DRHT.runNotes.contains(key) || key.hasPrefix("loss_") { notes[key] = nil }
        let name = URL(fileURLWithPath: path).lastPathComponent
        notes["started_from"] = origin.isEmpty ? name : "\(name) (\(origin.joined(separator: "; ")))"
    }

    /// The `format` metadata this implementation reads and writes.
    public static let format = "drht-1"

    public init(hdr: Autoencoder = Autoencoder(), ldr: Autoencoder = Autoencoder(),
                constants: TransformConstants = TransformConstants(), notes: [String: String] = [:]) {
        self.hdr = hdr; self.ldr = ldr; self.constants = constants; self.notes = notes
    }

    /// What the weights file's notes say of its training in a few words ("trained 3250 steps";
    /// "stage 6, a weight average of checkpoints, its last run 600 steps"), nil for weights that
    /// never trained. `model info` lists the notes themselves.
    public var trainingSummary: String? {
        guard let steps = notes["steps"] else { return nil }
        // Metadata come from the file: escaped and bounded before anyone prints them.
        let run = printable(steps, limit: 20)
        var parts: [String] = []
        if let stage = notes["stage"] {
            let name = stage.prefix { $0 != ":" }.trimmingCharacters(in: .whitespaces)
            parts.append(printable(name.first?.isNumber == true ? "stage " + name : name, limit: 24))
        }
        if notes["averaged"] != nil {
            parts.append("a weight average of checkpoints, its last run \(run) steps")
        } else {
            parts.append("trained \(run) steps")
        }
        return parts.joined(separator: ", ")
    }

    /// The two networks with their state_dict prefixes.
    public var networks: [(prefix: String, net: Autoencoder)] { [("hdr", hdr), ("ldr", ldr)] }

    public var parameterCount: Int { hdr.parameterCount + ldr.parameterCount }

    /// Every tensor under its docs/MODEL.md name, in table order.
    public var namedTensors: [(String, Tensor)] {
        networks.flatMap { prefix, net in net.blocks.flatMap { $0.namedTensors.map { ("\(prefix).\($0.0)", $0.1) } } }
    }

    // MARK: - Fresh weights

    /// How the stride-2 transposed convolutions start.
    public enum DeconvInit: String, CaseIterable, Sendable {
        /// Kaiming-normal like every other conv: the four output phases of each deconvolution
        /// (even/odd rows x even/odd columns) see different taps, so even a flat input comes out
        /// as a 2x2 pattern, and five stacked deconvolutions make a grid every 32 pixels.
        case kaiming
        /// ICNR-style (Aitken et al. 2017, "Checkerboard artifact free sub-pixel convolution",
        /// carried over to transposed convolutions): each kernel is built so that all four output
        /// phases apply the same weights to the same input pixels, i.e. the layer starts as
        /// nearest-neighbour upsampling followed by a small convolution. No phase pattern at step 0;
        /// training may still grow one.
        case icnr

        /// What fresh models use: ICNR. Measured (two runs from scratch, procedural scenes at 64 px,
        /// batch 8, lr 1e-3, 450 steps, direct mode on 16 held-out scenes at 256 px, checkpoints
        /// 350/400/450): grid score 2.0-2.3 (peak 7.5-8.3) with ICNR against 3.4-3.9 (peak 13-16) with
        /// Kaiming, and higher PSNR and SSIM; the held-out loss never spiked (Kaiming's did, to 383).
        public static let standard = DeconvInit.icnr
    }

    /// A freshly initialised model: Kaiming-normal conv weights (std sqrt(2 / fan_in), fan_in =
    /// weight.shape[1] * k * k as PyTorch's `kaiming_normal_` computes it for both conv kinds),
    /// zero biases, BN weight 1 / bias 0 / running mean 0 / running var 1. With `deconv: .icnr`
    /// the transposed convolutions are built phase-identical instead (`icnrKernel`). Deterministic
    /// per seed.
    public static func initialized(seed: UInt64, deconv: DeconvInit = .standard) -> DRHT {
        var rng = SeededRandom(seed: seed)
        var icnrRng = SeededRandom(seed: seed ^ 0x1C17_0000_0000_0001)  // own stream: every other layer as with .kaiming
        let model = DRHT(notes: ["init": (deconv == .icnr ? "kaiming-normal, ICNR deconvolutions" : "kaiming-normal") + ", seed \(seed)"])
        for (_, net) in model.networks {
            for block in net.blocks {
                let w = block.conv.weight
                let fanIn = Float(w.shape[1] * w.shape[2] * w.shape[3])
                let std = (2 / fanIn).squareRoot()
                for i in 0..<w.count { w.data[i] = std * rng.normal() }
                if deconv == .icnr && block.spec.kind == .transposedConv { icnrKernel(w, std: std, rng: &icnrRng) }
            }
        }
        return model
    }

    /// Overwrites a (cin, cout, k, k) ConvTranspose2d weight (stride 2, padding p = (k - 1) / 2)
    /// so that its four output phases are identical. Output row y reads input row i through tap
    /// t = y - 2i + p. For the output pair (2m, 2m + 1) and input row m - d, the even row uses tap
    /// 2d + p and the odd row tap 2d + p + 1: the phases agree when those two taps are equal, and a
    /// tap whose partner falls outside 0..<k must be 0. Each complete pair gets one normal value
    /// per (row pair, column pair), scaled so an output sums as many weighted inputs of the same
    /// variance as before on average (std * k / (2 * pairs)).
    public static func icnrKernel(_ w: Tensor, std: Float, rng: inout SeededRandom) {
        let k = w.shape[2], p = (k - 1) / 2
        // pairOf[t]: the pair index of tap t, or -1 for a lone tap.
        var pairOf = [Int](repeating: -1, count: k)
        var pairs = 0
        for d in -k...k {
            let even = 2 * d + p, odd = even + 1
            if even >= 0 && odd < k { pairOf[even] = pairs; pairOf[odd] = pairs; pairs += 1 }
        }
        let scaled = std * Float(k) / Float(2 * max(pairs, 1))
        let plane = k * k
        var v = [Float](repeating: 0, count: pairs * pairs)
        for c in 0..<(w.shape[0] * w.shape[1]) {
            for j in v.indices { v[j] = scaled * rng.normal() }
            let base = w.data + c * plane
            for ky in 0..<k {
                for kx in 0..<k {
                    let py = pairOf[ky], px = pairOf[kx]
                    base[ky * k + kx] = (py < 0 || px < 0) ? 0 : v[py * pairs + px]
                }
            }
        }
    }

    // MARK: - Weights files

    /// Reads and validates a weights file: every tensor docs/MODEL.md requires must be present with
    /// its shape (F32, F16 or BF16); `num_batches_tracked` and other extra tensors are ignored.
    public static func load(_ path: String) throws -> DRHT {
        let file = try SafeTensorsFile.read(path)
        return try load(file, path: path)
    }

    public static func load(_ file: SafeTensorsFile, path: String) throws -> DRHT {
        func fail(_ p: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: p) }
        if let format = file.metadata["format"], format != DRHT.format {
            throw fail("weights format '\(format)' is not \(DRHT.format); this drht cannot read it")
        }
        var constants = TransformConstants()
        for (key, assign) in [("gamma", { (v: Float) in constants.gamma = v }), ("scale", { constants.scale = $0 }),
                              ("epsilon", { constants.epsilon = $0 })] {
            guard let text = file.metadata[key] else { continue }
            guard let v = Float(text), v.isFinite, v > 0 else { throw fail("metadata \(key) = '\(text)' is not a positive number") }
            assign(v)
        }
        let model = DRHT(constants: constants, notes: file.metadata.filter { !["format", "gamma", "scale", "epsilon"].contains($0.key) })
        for (prefix, net) in model.networks {
            for block in net.blocks {
                for ((name, target), (_, shape)) in zip(block.namedTensors, block.expectedShapes) {
                    let full = "\(prefix).\(name)"
                    let source = try file.tensor(full, path: path, shape: shape)
                    // Damaged weights must not pass silently (one NaN turns every output black).
                    if let bad = (0..<source.count).first(where: { !source.data[$0].isFinite }) {
                        throw fail("tensor '\(full)' holds a non-finite value (\(source.data[bad]) at index \(bad)); the file is damaged")
                    }
                    if name.hasSuffix("running_var"), let bad = (0..<source.count).first(where: { source.data[$0] < 0 }) {
                        throw fail("tensor '\(full)' holds a negative variance (\(source.data[bad]) at index \(bad)); the file is damaged")
                    }
                    target.data.update(from: source.data, count: target.count)
                }
            }
        }
        return model
    }

    /// The metadata written with the weights: format and constants, plus `notes`.
    public var metadata: [String: String] {
        var m = notes
        m["format"] = DRHT.format
        for (k, v) in constants.metadata { m[k] = v }
        return m
    }

    /// Writes the weights atomically (temp file + rename) as F32, or F16 to halve the size.
    public func save(to path: String, dtype: SafeTensorsFile.StorageType = .f32) throws {
        let bytes = SafeTensorsFile.encode(namedTensors, metadata: metadata, dtype: dtype)
        do { try AtomicFile.write(bytes, to: path) } catch let e as ImageIOError {
            throw SafeTensorsError(path: path, problem: e.description.replacingOccurrences(of: "\(path): ", with: ""))
        }
    }

    // MARK: - The transposed convolutions' phases

    /// Every transposed convolution of both networks, phase-balanced in place
    /// (`TransposedConv2D.balancePhases`).
    public func balanceDeconvPhases() {
        for net in [hdr, ldr] { for b in net.blocks { (b.conv as? TransposedConv2D)?.balancePhases() } }
    }

    /// The largest phase imbalance of any transposed convolution (0 when balanced).
    public func deconvPhaseImbalance() -> Float {
        [hdr, ldr].flatMap(\.blocks).compactMap { ($0.conv as? TransposedConv2D)?.phaseImbalance() }.max() ?? 0
    }

}
