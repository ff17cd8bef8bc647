// `drht synth`: procedural HDR triplets on disk, to look at or to train from.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import DRHTTraining
import DRHTTasks
import Foundation

struct SynthCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synth",
        abstract: "Write procedural training triplets: <id>.input.png, <id>.hdr, <id>.target.png.",
        discussion: """
            Example: drht synth --count 8 --size 256 -o scenes
            With --panorama DIR the triplets are views of the real HDR panoramas in DIR (.hdr, equirectangular; \
            `make photos` writes data/panoramas/), each at a random yaw, pitch and field of view, photographed by \
            the simulated camera: what `drht train --data panorama:DIR` trains on (triplet i: the held-out view i).
            """
    )

    @Option(help: "How many triplets.") var count = 8
    @Option(help: "Image size (pixels, square).") var size = 256
    @Option(help: "Seed of the first triplet (triplet i uses seed + i).") var seed: UInt64 = 1
    @Option(name: .shortAndLong, help: "The folder to write into (created if missing).", completion: .directory)
    var output: String
    @Option(help: "Views of the HDR panoramas in this folder instead of procedural scenes.", completion: .directory)
    var panorama: String?
    @Option(parsing: .unconditional, help: "Exposure in EV from auto-exposure (default: each camera's random one).") var ev: Float?

    func validate() throws {
        guard count >= 1, count <= 100_000 else { throw ValidationError("--count must be 1...100000") }
        guard size >= 8, size <= 4096 else { throw ValidationError("--size must be 8...4096") }
        if let ev { guard (-6...6).contains(ev) else { throw ValidationError("--ev must be -6...6") } }
    }

    func run() throws {
        do { try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true) }
        catch { throw TaskError("\(output): cannot create the folder (\(error.localizedDescription))") }
        let views = try panorama.map { dir -> DataSource in
            var isDir: ObjCBool = false
            guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw TaskError("\(dir): no such folder; --panorama takes a folder of .hdr panoramas (make photos writes data/panoramas/)")
            }
            do { return try DataSource.parse("panorama:" + dir) } catch { throw TaskError("\(error)") }
        }
        // Ctrl-C stops between triplets: every triplet written is whole (three atomic files).
        var written = 0
        do {
            try TaskMonitor.standardError().steps(count, label: { _ in "synth" }) { i in
                let t: Triplet, id: String
                if let views {
                    let item = try views.item(Int(seed) + i, size: size, ev: ev)
                    t = item.triplet
                    id = output + "/" + item.id.replacingOccurrences(of: " ", with: "-")
                } else {
                    t = SyntheticScenes.triplet(seed: seed + UInt64(i), size: size, ev: ev)
                    id = output + "/" + String(format: "%06d", Int(seed) + i)
                }
                try ImageIO.write(t.input, to: id + ".input.png")
                try ImageIO.write(t.hdr, to: id + ".hdr")
                try ImageIO.write(t.target, to: id + ".target.png")
                written += 1
            }
        } catch is TaskStopped {
            throw TaskError("stopped (Ctrl-C) after \(written) of \(count) triplets; those are complete in \(output)/")
        }
        print("wrote \(count) \(panorama == nil ? "" : "panorama view ")triplets (\(size)x\(size)) to \(output)/: <id>.input.png (camera), <id>.hdr (linear HDR), <id>.target.png (tone-mapped)")
    }
}
