// `drht info FILE`: what a file holds — for an image its format, size, bit depth, channels and
// per-channel statistics.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe an image (PNG, JPEG, Radiance .hdr) or a .npy array.",
        discussion: "Example: drht info photo.png"
    )

    @Argument(help: "The file to describe.", completion: .file())
    var file: String

    func run() throws {
        print(try Self.describe(file), terminator: "")
    }

    static func describe(_ path: String) throws -> String {
        let bytes = try AtomicFile.read(path)
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        if ImageFormat.sniff(bytes) == .npy, let t = try? NPY.decode(bytes, path: path),
           !(t.shape.count == 3 && (t.shape[2] == 3 || t.shape[0] == 3)) {
            let s = t.stats
            return "\(path): NumPy .npy, float32 array of shape \(t.shape.map(String.init).joined(separator: " x "))\n"
                + String(format: "  min %.6g  max %.6g  mean %.6g  std %.6g\n", s.min, s.max, s.mean, s.std)
        }
        let image = try ImageIO.read(path)
        var head = "\(path): \(image.format.rawValue), \(image.width) x \(image.height), "
        head += image.format == .radiance || image.format == .npy ? "32-bit float" : "\(image.bitDepth)-bit"
        head += " \(channelName(image.channels))"
        if !image.details.isEmpty { head += ", " + image.details.joined(separator: ", ") }
        var out = head + "\n"
        out += "  channel          min          max         mean\n"
        for (c, name) in ["R", "G", "B"].enumerated() {
            let s = image.pixels.channelStats(c)
            out += "  " + name.padding(toLength: 7, withPad: " ", startingAt: 0)
                + String(format: " %12.6g %12.6g %12.6g\n", s.min, s.max, s.mean)
        }
        return out
    }
}
