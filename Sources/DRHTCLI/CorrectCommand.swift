// `drht correct`: run the whole two-stage DRHT pipeline on a photo.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import DRHTModel
import DRHTTasks
import Foundation

struct CorrectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correct",
        abstract: "Correct the exposure of a PNG or JPEG photo of any size with the two-stage DRHT network.",
        discussion: """
        Example: drht correct dark.jpg -o fixed.png --hdr dark.hdr
        Modes: gain (default) runs the network on a copy reduced to --work-size pixels on its long \
        side and carries its decision to every pixel of the photo as a gain map: fast at any size, \
        no grid artefacts, the photo's own detail kept. direct runs the network on the photo at full \
        resolution, as the paper does (slow and memory-hungry on big photos).
        Weights come from --weights, $DRHT_WEIGHTS, or the project's Weights/drht.safetensors.
        """
    )

    @Argument(help: "The photo to correct (PNG or JPEG, any size).", completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the corrected image: .png, .jpg, or .npy (H, W, 3 float32). Default: INPUT.corrected.png beside the input.",
            completion: .file(extensions: ["png", "jpg", "jpeg", "npy"]))
    var output: String?

    @Option(help: "Also write the stage-1 HDR estimate H: .hdr (linear Radiance) or .npy (H, W, 3).",
            completion: .file(extensions: ["hdr", "npy"]))
    var hdr: String?

    @Option(help: "The weights file (.safetensors).", completion: .file(extensions: ["safetensors"]))
    var weights: String?

    @Option(help: "Bits per sample of a PNG output: 8 or 16.")
    var bits = 8

    @Option(help: "gain (the network decides on a small copy, a gain map applies it to every pixel) or direct (the network at full resolution).")
    var mode = ModeName.gain

    @Option(name: .customLong("work-size"), help: "gain mode: the long side of the copy the network sees, in pixels (default \(CorrectionMode.defaultWorkSize)).")
    var workSize: Int?

    @Option(help: "Mirrored margin (pixels) around what the network sees; default: 96 in direct mode (a flat photo stays flat), 0 in gain mode. 0 in direct mode is the paper's network exactly (zero padding at the borders).")
    var margin: Int?

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        do { _ = try CorrectionMode.parse(mode.rawValue, workSize: workSize) } catch let e as CorrectionError { throw ValidationError(e.description) }
        guard bits == 8 || bits == 16 else { throw ValidationError("--bits must be 8 or 16 (got \(bits))") }
        if let margin { guard (0...256).contains(margin) else { throw ValidationError("--margin must be 0...256 pixels (got \(margin))") } }
        if let output, !["png", "jpg", "jpeg", "npy"].contains(ext(output)) {
            throw ValidationError("the output must end in .png, .jpg or .npy (got '\(output)')")
        }
        if let hdr, !["hdr", "npy"].contains(ext(hdr)) {
            throw ValidationError("--hdr must end in .hdr or .npy (got '\(hdr)')")
        }
    }

    func ext(_ path: String) -> String { URL(fileURLWithPath: path).pathExtension.lowercased() }

    var outputPath: String {
        if let output { return output }
        let url = URL(fileURLWithPath: input)
        return url.deletingPathExtension().path + ".corrected.png"
    }

    func run() throws {
        let image = try ImageIO.read(input)
        guard image.format == .png || image.format == .jpeg else {
            throw TaskError("\(input): drht correct takes an LDR photo (PNG or JPEG), not a \(image.format.rawValue) file")
        }
        for path in [outputPath] + (hdr.map { [$0] } ?? []) {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard FileManager.default.isWritableFile(atPath: dir) else {
                throw TaskError("\(path): cannot write there (folder \(dir) is missing or read-only)")
            }
        }
        let (model, weightsPath) = try WeightsResolver.load(weights)
        var request = CorrectRequest(mode: try CorrectionMode.parse(mode.rawValue, workSize: workSize))
        request.options.margin = margin
        try CorrectTask.checkMemory(request, height: image.height, width: image.width, what: input, advice: "use --mode gain (the default)")
        let monitor = TaskMonitor.standardError(quiet: quiet)
        let t0 = DispatchTime.now().uptimeNanoseconds
        let correction: Correction
        do {
            correction = try CorrectTask.run(request, model: model, photo: image.pixels, monitor: monitor, label: "correcting: ")
        } catch let e as TaskStopped {
            throw TaskError("stopped (Ctrl-C) before \(e.next.dropFirst("correcting: ".count)); nothing was written")
        }
        let pipeline = correction.pipeline
        let correctionMode = request.mode
        let corrected = correction.corrected()                 // (1, 3, H, W)
        let estimate = hdr == nil ? nil : correction.hdrEstimate()
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9

        // Each file is written atomically (old or new, never partial). So that a kill between the
        // two writes never pairs an image with an estimate of another run, the old estimate is
        // removed first, then the image written, then the estimate: a kill leaves the old image
        // alone, or the new image alone, or both new.
        if let hdr, estimate != nil, unlink(hdr) != 0, errno != ENOENT {
            throw TaskError("\(hdr): cannot replace it (\(String(cString: strerror(errno))))")
        }
        try write(corrected, to: outputPath, bits: bits)
        if let hdr, let estimate { try write(estimate, to: hdr, bits: 32) }
        if !quiet {
            let s = pipeline.stageMilliseconds
            let w = correction.working
            var line = String(format: "corrected %@ (%d x %d) in %.2f s", input, image.width, image.height, seconds)
            if case .gain(let n) = correctionMode {
                line += correction.isReduced
                    ? String(format: " (gain mode: the network saw a %d x %d copy, long side %d: %.2f s; gain map applied to every pixel: %.2f s)",
                             w.w, w.h, n, (s.hdr + s.transform + s.ldr) / 1000, correction.gainMilliseconds / 1000)
                    : String(format: " (gain mode: the photo is no larger than the working size %d, so the network saw it whole: %.2f s)", n, (s.hdr + s.transform + s.ldr) / 1000)
            } else {
                line += String(format: " (direct: HDR estimation %.2f s, transform %.2f s, LDR correction %.2f s)", s.hdr / 1000, s.transform / 1000, s.ldr / 1000)
            }
            line += " -> \(outputPath)"
            if let hdr { line += ", HDR estimate -> \(hdr)" }
            if model.notes["steps"] == nil {
                line += "\nnote: \(weightsPath) holds untrained weights, so the output is not a correction yet; train some with drht train"
            }
            FileHandle.standardError.write(Data((line + "\n").utf8))
        }
    }

    /// .npy outputs are (H, W, 3) float32, the layout NumPy users expect of an image.
    func write(_ t: Tensor, to path: String, bits: Int) throws {
        if ext(path) == "npy" { try ImageIO.write(nchwToHWC(t), to: path) } else { try ImageIO.write(t, to: path, bits: bits) }
    }
}
