// `drht synth`: procedural HDR triplets on disk, to look at or to train from.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import DRHTTraining
import Foundation

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write procedural training triplets: <id>.input.png, <id>.hdr, <id>.target.png.",
        discussion: "Example: drht synth --count 8 --size 256 -o scenes"
    )

    @Option(help: "How many triplets.") var count = 8
    @Option(help: "Image size (pixels, square).") var size = 256
    @Option(help: "Seed of the first triplet (triplet i uses seed + i).") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "The folder to write into (created if missing).", completion: .directory)
    var output: String

    func validate() throws {
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be 1...100000") }
        guard size >= 8, size <= 4096 else { throw ValidationError("--size must be 8...4096") }
    }

    func run() throws {
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        catch { throw UserError("\(output): cannot create the folder (\(error.localizedDescription))") }
        for i in 0..<count {
            let t = SyntheticScenes.triplet(seed: seed + UInt64(i), size: size)
            let id = output + "/" + String(format: "%06d", Int(seed) + i)
            try ImageIO.write(t.input, to: id + ".input.png")
            try ImageIO.write(t.hdr, to: id + ".hdr")
            try ImageIO.write(t.target, to: id + ".target.png")
            if isatty(2) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[2Ksynth: \(i + 1)/\(count)".utf8)) }
        }
        if isatty(2) != 0 { FileHandle.standardError.write(Data("\r\u{1B}[2K".utf8)) }
        print("wrote \(count) triplets (\(size)x\(size)) to \(output)/: <id>.input.png (camera), <id>.hdr (linear HDR), <id>.target.png (tone-mapped)")
    }
}
