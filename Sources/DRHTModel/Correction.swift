// Correcting a photo of any size: the two correction modes.
//
//   direct  the paper's way: the network runs on the photo at its full resolution and its
//           output is the corrected image. Its receptive field (~200 px) sees only part of a
//           large photo, its stride-2 deconvolutions print a faint grid every 32 px, and the
//           time and memory grow with the photo (a 12-megapixel photo: ~10 GB).
//   gain    the network runs on a working copy whose long side is `workSize` pixels; the ratio
//           of its output's luminance to its input's (a gain map, see GainMap.swift) is
//           upsampled and applied to the full-resolution photo. The network decides how
//           bright each region should be; the photo keeps its own detail. This is how deployed
//           exposure networks work (HDRNet's bilateral grid, Afifi et al. 2021 at 512 px).
//
// Both run the same `Pipeline` (so `infer` can show progress step by step); they differ in
// what the pipeline is given and what is made of its output.
import DRHTEngine
import DRHTImageIO
import Foundation

public enum CorrectionMode: Equatable, Sendable, CustomStringConvertible {
    case direct
    case gain(workSize: Int)

    /// The working copy's long side in gain mode: chosen by `drht evaluate` on the validation
    /// photos and 32 procedural scenes with the shipped weights (docs/CORRECTION-MODES.md):
    /// 256 px beat 128, 192 and 384 there. (It was 128 while the gain map's delta was 0.05,
    /// which carried more of the network's local errors to the photo.)
    public static let defaultWorkSize = 256
    public static let `default` = CorrectionMode.gain(workSize: defaultWorkSize)
    public static let workSizes = 32...2048

    /// The mirrored margin around what the network sees (`GainOptions.margin`), by mode. Direct:
    /// 96 px, so a flat photo comes out flat (the lattice and spots of issue 30: a std of 0.3
    /// levels over a white 256-px photo, against 4.6 with none); on the 27 validation
    /// photos it raised direct mode's SSIM, FSIM and grid score at -2 and +1.5 EV (PSNR -0.84 dB
    /// at -2 EV, +0.19 at +1.5; docs/CORRECTION-MODES.md). Gain: none — 64 px lowered the
    /// validation photos' mean PSNR by 0.5 dB and SSIM by 0.001 (the weights were trained with
    /// zero padding at every border) and costs 2.25 times the time at 256 px.
    public var defaultMargin: Int { self == .direct ? 96 : 0 }

    /// `direct` or `gain`, with the working size for `gain`.
    public static func parse(_ name: String, workSize: Int?) throws -> CorrectionMode {
        if let workSize, !workSizes.contains(workSize) {
            throw CorrectionError("--work-size must be \(workSizes.lowerBound)...\(workSizes.upperBound) pixels (got \(workSize))")
        }
        switch name {
        case "direct":
            if workSize != nil { throw CorrectionError("--work-size applies to --mode gain; direct runs at full resolution") }
            return .direct
        case "gain": return .gain(workSize: workSize ?? defaultWorkSize)
        default: throw CorrectionError("unknown correction mode '\(name)'; modes: gain (default), direct")
        }
    }

    public var name: String { if case .direct = self { return "direct" } else { return "gain" } }
    public var description: String {
        switch self {
        case .direct: return "direct"
        case .gain(let n): return "gain, \(n) px"
        }
    }
}

public struct CorrectionError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ message: String) { description = message }
}

/// One photo being corrected: step `pipeline` (or call `run`), then read the results.
public final class Correction {
    public let mode: CorrectionMode
    public let options: GainOptions
    /// The photo, (1, 3, H, W) sRGB in [0, 1].
    public let photo: Tensor
    /// What the network sees: the photo itself (direct, or a photo no larger than the working
    /// size) or a copy reduced by area averaging to the working size, (1, 3, h, w).
    public let working: Tensor
    /// The pipeline runs on `working` with `margin` mirrored pixels around it.
    public let pipeline: Pipeline
    /// `options.margin`, or the mode's default.
    public let margin: Int
    private var ldrGain: GainMap?, hdrGain: GainMap?
    private var averaged: (corrected: Tensor, hdr: Tensor)?
    /// Milliseconds spent making full-resolution results from the gain maps.
    public private(set) var gainMilliseconds = 0.0
    /// Milliseconds of the mirror image's network run (`GainOptions.flipAverage`; 0 without).
    public private(set) var mirrorMilliseconds = 0.0

    public init(model: DRHT, photo: Tensor, mode: CorrectionMode, options: GainOptions = GainOptions(),
                retention: Pipeline.Retention = .needed, interventions: [Intervention] = []) {
        self.mode = mode; self.options = options; self.photo = photo
        working = Correction.workingCopy(of: photo, mode: mode)
        margin = max(0, options.margin ?? mode.defaultMargin)
        pipeline = Pipeline(model: model, image: mirrorPad(working, margin: margin), retention: retention)
        pipeline.interventions = interventions
    }

    /// The photo reduced to the mode's working size (the photo itself when it is no larger).
    public static func workingCopy(of photo: Tensor, mode: CorrectionMode) -> Tensor {
        guard case .gain(let n) = mode else { return photo }
        let size = sizeWithLongSide(n, height: photo.h, width: photo.w)
        return resizeArea(photo, height: size.height, width: size.width)
    }

    /// True when the network sees a reduced copy rather than the photo itself.
    public var isReduced: Bool { working !== photo }

    /// Runs the remaining steps.
    public func run() { pipeline.runAll() }

    /// The corrected photo at full resolution, (1, 3, H, W) in [0, 1].
    public func corrected() -> Tensor {
        precondition(pipeline.isFinished, "run the pipeline first")
        let network = networkOutputs()
        guard case .gain = mode else { return unpadded(network.corrected) }
        return timed {
            let map = ldrGain ?? GainMap(before: linear(working), after: linear(unpadded(network.corrected)), options: options)
            ldrGain = map
            return map.apply(to: photo, output: .srgb)
        }
    }

    /// The estimated linear HDR radiance at full resolution, (1, 3, H, W): direct, the stage-1
    /// estimate H = tau_inv(y1); gain, the photo's linear light times the gain map of H over
    /// the working copy's linear light (so it has the photo's detail).
    public func hdrEstimate() -> Tensor {
        precondition(pipeline.isFinished, "run the pipeline first")
        let network = networkOutputs()
        guard case .gain = mode else { return unpadded(network.hdr) }
        return timed {
            var unscaled = options
            unscaled.strength = 1                      // the estimate of the light, not a correction to strengthen
            let map = hdrGain ?? GainMap(before: linear(working), after: unpadded(network.hdr), options: unscaled)
            hdrGain = map
            return map.apply(to: photo, output: .linear)
        }
    }

    /// The correction's gain in stops at every pixel of the photo, (1, 1, H, W); nil in direct mode.
    public func gainStops() -> Tensor? {
        guard case .gain = mode else { return nil }
        _ = ldrGain == nil ? corrected() : nil
        return ldrGain!.upsampled(for: photo)
    }

    /// The gain map at the working size (log2 gain), nil in direct mode or before `corrected`.
    public var workingGain: GainMap? { ldrGain }

    /// The network's corrected image and HDR estimate (with the margin): the pipeline's, or with
    /// `options.flipAverage` their mean with those of the mirror image, flipped back. An
    /// intervention that replaces an activation by another tensor is tied to positions, so with
    /// one the mirror run is not made (the pipeline's own outputs). The mirror run's time is in
    /// `mirrorMilliseconds`, not in the pipeline's stage times.
    private func networkOutputs() -> (corrected: Tensor, hdr: Tensor) {
        if let averaged { return averaged }
        let spatial = pipeline.interventions.contains { if case .replace = $0.action { return true } else { return false } }
        guard options.flipAverage, !spatial else { return (pipeline.corrected!, pipeline.hdrEstimate!) }
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { mirrorMilliseconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
        let mirror = Pipeline(model: pipeline.model, image: mirrorPad(flipLeftRight(working), margin: margin), retention: .needed)
        mirror.interventions = pipeline.interventions
        mirror.runAll()
        func mean(_ a: Tensor, _ b: Tensor) -> Tensor {
            let flipped = flipLeftRight(b), out = Tensor(uninitialized: a.shape)
            for i in 0..<a.count { out.data[i] = 0.5 * (a.data[i] + flipped.data[i]) }
            return out
        }
        let result = (mean(pipeline.corrected!, mirror.corrected!), mean(pipeline.hdrEstimate!, mirror.hdrEstimate!))
        averaged = result
        return result
    }

    /// The pipeline's result without the mirrored margin: the working copy's size.
    private func unpadded(_ t: Tensor) -> Tensor {
        margin == 0 ? t : crop(t, top: margin, left: margin, height: working.h, width: working.w)
    }

    private func timed<T>(_ body: () -> T) -> T {
        let t0 = DispatchTime.now().uptimeNanoseconds
        defer { gainMilliseconds += Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6 }
        return body()
    }

    private func linear(_ image: Tensor) -> Tensor {
        let out = Tensor(uninitialized: image.shape)
        for i in 0..<image.count { out.data[i] = SRGB.decode(min(1, max(0, image.data[i]))) }
        return out
    }
}

/// (N, C, H, W) mirrored left-right.
public func flipLeftRight(_ x: Tensor) -> Tensor {
    let out = Tensor(uninitialized: x.shape), w = x.w
    guard w > 0 else { return out }
    for row in 0..<(x.count / w) {
        let src = x.data + row * w, dst = out.data + row * w
        for j in 0..<w { dst[j] = src[w - 1 - j] }
    }
    return out
}
