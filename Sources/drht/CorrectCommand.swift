// `drht correct`: run the whole two-stage DRHT pipeline on a photo.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation

struct CorrectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "correct",
        abstract: "Correct the exposure of a photo with the two-stage DRHT network.",
        discussion: """
        Example: drht correct dark.jpg -o fixed.png --hdr dark.hdr
        Weights come from --weights, $DRHT_WEIGHTS, or the project's Weights/drht.safetensors.
        """
    )

    @Argument(help: "The photo to correct (PNG or JPEG, any size).", completion: .file(extensions: ["png", "jpg", "jpeg"]))
    var input: String

    @Option(name: .shortAndLong, help: "Where to write the corrected image: .png, or .npy (H, W, 3 float32). Default: INPUT.corrected.png beside the input.",
            completion: .file(extensions: ["png", "npy"]))
    var output: String?

    @Option(help: "Also write the stage-1 HDR estimate H: .hdr (linear Radiance) or .npy (H, W, 3).",
            completion: .file(extensions: ["hdr", "npy"]))
    var hdr: String?

    @Option(help: "The weights file (.safetensors).", completion: .file(extensions: ["safetensors"]))
    var weights: String?

    @Option(help: "Bits per sample of a PNG output: 8 or 16.")
    var bits = 8

    @Flag(help: "Print nothing on success.")
    var quiet = false

    func validate() throws {
        guard bits == 8 || bits == 16 else { throw ValidationError("--bits must be 8 or 16 (got \(bits))") }
        if let output, !["png", "npy"].contains(ext(output)) {
            throw ValidationError("the output must end in .png or .npy (got '\(output)')")
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
            throw UserError("\(input): drht correct takes an LDR photo (PNG or JPEG), not a \(image.format.rawValue) file")
        }
        for path in [outputPath] + (hdr.map { [$0] } ?? []) {
            let dir = URL(fileURLWithPath: path).deletingLastPathComponent().path
            guard FileManager.default.isWritableFile(atPath: dir) else {
                throw UserError("\(path): cannot write there (folder \(dir) is missing or read-only)")
            }
        }
        let (model, weightsPath) = try WeightsLocator.load(weights)
        let pipeline = Pipeline(model: model, image: image.pixels, retention: .needed)
        let showProgress = !quiet && isatty(2) != 0
        let t0 = DispatchTime.now().uptimeNanoseconds
        while let name = pipeline.nextStepName {
            if showProgress {
                FileHandle.standardError.write(Data("\r\u{1B}[2Kcorrecting: \(name) (\(pipeline.position + 1)/\(Pipeline.stepNames.count))".utf8))
            }
            pipeline.step()
        }
        if showProgress { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9

        let corrected = pipeline.corrected!                      // (1, 3, H, W)
        try write(corrected, to: outputPath, bits: bits)
        if let hdr { try write(pipeline.hdrEstimate!, to: hdr, bits: 32) }
        if !quiet {
            let s = pipeline.stageMilliseconds
            var line = String(format: "corrected %@ (%d x %d) in %.2f s: HDR estimation %.2f s, transform %.2f s, LDR correction %.2f s -> %@",
                              input, image.width, image.height, seconds, s.hdr / 1000, s.transform / 1000, s.ldr / 1000, outputPath)
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
