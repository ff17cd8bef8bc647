// The DRHT model (Yang, Xu, Song, Zhang, Wei, Lau: "Image Correction via Deep Reciprocating
// HDR Transformation", CVPR 2018) exactly as ../shared/MODEL.md defines it:
//   y1 = hdr(x, base = x)          HDR estimation, still in the LDR domain (estimates tau(H))
//   H  = tau_inv(y1); x2 = log(H + eps)
//   y2 = ldr(x2, base = y1)        LDR correction; the corrected image is clamp(y2, 0, 1)
// Deviations from the paper (all from MODEL.md): the skip fusion s = d + e + d*e, the
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

    /// The `format` metadata this implementation reads and writes.
    public static let format = "drht-1"

    public init(hdr: Autoencoder = Autoencoder(), ldr: Autoencoder = Autoencoder(),
                constants: TransformConstants = TransformConstants(), notes: [String: String] = [:]) {
        self.hdr = hdr; self.ldr = ldr; self.constants = constants; self.notes = notes
    }

    /// What the weights file's notes say of its training ("trained 3250 steps, mean of 33
    /// checkpoints, steps 1650–3250"), nil for weights that never trained.
    public var trainingSummary: String? {
        guard let steps = notes["steps"] else { return nil }
        return "trained \(steps) steps" + (notes["averaged"].map { ", \($0)" } ?? "")
    }

    /// The two networks with their state_dict prefixes.
    public var networks: [(prefix: String, net: Autoencoder)] { [("hdr", hdr), ("ldr", ldr)] }

    public var parameterCount: Int { hdr.parameterCount + ldr.parameterCount }

    /// Every tensor under its MODEL.md name, in table order.
    public var namedTensors: [(String, Tensor)] {
        networks.flatMap { prefix, net in net.blocks.flatMap { $0.namedTensors.map { ("\(prefix).\($0.0)", $0.1) } } }
    }

    // MARK: - Fresh weights

    /// A freshly initialised model: Kaiming-normal conv weights (std sqrt(2 / fan_in), fan_in =
    /// weight.shape[1] * k * k as PyTorch's `kaiming_normal_` computes it for both conv kinds),
    /// zero biases, BN weight 1 / bias 0 / running mean 0 / running var 1. Deterministic per seed.
    public static func initialized(seed: UInt64) -> DRHT {
        var rng = SeededRandom(seed: seed)
        let model = DRHT(notes: ["init": "kaiming-normal, seed \(seed)"])
        for (_, net) in model.networks {
            for block in net.blocks {
                let w = block.conv.weight
                let fanIn = Float(w.shape[1] * w.shape[2] * w.shape[3])
                let std = (2 / fanIn).squareRoot()
                for i in 0..<w.count { w.data[i] = std * rng.normal() }
            }
        }
        return model
    }

    // MARK: - Weights files

    /// Reads and validates a weights file: every tensor MODEL.md requires must be present with
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
                    let source = try file.tensor("\(prefix).\(name)", path: path, shape: shape)
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
}
