// `drht info FILE`: what a file holds — for an image its format, size, bit depth, channels and
// per-channel statistics.
import ArgumentParser
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info",
        abstract: "Describe an image (PNG, JPEG, Radiance .hdr), a .npy array or a .safetensors weights file.",
        discussion: "Example: drht info photo.png"
    )

    @Argument(help: "The file to describe.", completion: .file())
    var file: String

    func run() throws {
        print(try Self.describe(file), terminator: "")
    }

    static func describe(_ path: String) throws -> String {
        if path.lowercased().hasSuffix(".safetensors") { return try describeWeights(path) }
        let bytes = try AtomicFile.read(path)
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        if ImageFormat.sniff(bytes) == nil, bytes.count > 9, bytes[8] == UInt8(ascii: "{") {
            return try describeWeights(path)      // safetensors under another name
        }
        if ImageFormat.sniff(bytes) == .npy, let t = try? NPY.decode(bytes, path: path),
           !(t.shape.count == 3 && (t.shape[2] == 3 || t.shape[0] == 3)) {
            let s = t.stats
            return "\(printable(path, limit: 200)): NumPy .npy, float32 array of shape \(t.shape.map(String.init).joined(separator: " x "))\n"
                + String(format: "  min %.6g  max %.6g  mean %.6g  std %.6g\n", s.min, s.max, s.mean, s.std)
                + leftOut(s.nonFinite)
        }
        // Read row by row where the format allows: describing a file never holds its pixels.
        let image = try ImageIO.summary(path)
        var head = "\(printable(path, limit: 200)): \(image.format.rawValue), \(image.width) x \(image.height), "
        head += image.format == .radiance || image.format == .npy ? "32-bit float" : "\(image.bitDepth)-bit"
        head += " \(channelName(image.channels))"
        if !image.details.isEmpty { head += ", " + image.details.joined(separator: ", ") }
        var out = head + "\n"
        guard let stats = image.stats else { return out + "  \(image.note ?? "statistics not computed")\n" }
        out += "  channel          min          max         mean\n"
        for (s, name) in zip(stats, ["R", "G", "B"]) {
            out += "  " + name.padding(toLength: 7, withPad: " ", startingAt: 0)
                + String(format: " %12.6g %12.6g %12.6g\n", s.min, s.max, s.mean)
        }
        return out + leftOut(stats.reduce(0) { $0 + $1.nonFinite })
    }

    /// The line saying how many NaN or infinite values the statistics above left out (none: "").
    static func leftOut(_ n: Int) -> String {
        n == 0 ? "" : "  \(n) NaN or infinite value\(n == 1 ? "" : "s") left out of these figures\n"
    }

    /// Tensors (name, dtype, shape), learnable parameter count and metadata of a weights file,
    /// and whether it is a complete DRHT model.
    static func describeWeights(_ path: String) throws -> String {
        let file = try SafeTensorsFile.read(path)
        let isState = { (n: String) in n.hasSuffix("running_mean") || n.hasSuffix("running_var") || n.hasSuffix("num_batches_tracked") }
        let params = file.names.filter { !isState($0) && file.tensors[$0]!.tensor != nil }
            .reduce(0) { $0 + file.tensors[$1]!.shape.reduce(1, *) }
        // Names, dtypes and metadata come from the file: printed escaped and bounded.
        let dtypes = Set(file.names.map { printable(file.tensors[$0]!.dtype, limit: 12) }).sorted().joined(separator: ", ")
        var out = "\(printable(path, limit: 200)): safetensors, \(file.names.count) tensors (\(dtypes)), "
            + "\(params.formatted(.number.grouping(.automatic))) learnable parameters\n"
        let model: String
        do { _ = try DRHT.load(file, path: path); model = "a complete \(DRHT.format) DRHT model" }
        catch { model = "not a complete DRHT model: \(error)" }
        out += "  \(model)\n"
        if !file.metadata.isEmpty {
            out += "  metadata:\n"
            for key in file.metadata.keys.sorted() { out += "    \(printable(key, limit: 40)) = \(printable(file.metadata[key]!, limit: 200))\n" }
        }
        let names = file.names.map { printable($0, limit: 80) }
        let width = max(30, (names.map(\.count).max() ?? 0) + 2)
        out += "  " + "name".padding(toLength: width, withPad: " ", startingAt: 0) + "dtype  shape\n"
        for (name, shown) in zip(file.names, names) {
            let e = file.tensors[name]!
            out += "  " + shown.padding(toLength: width, withPad: " ", startingAt: 0)
                + printable(e.dtype, limit: 12).padding(toLength: 7, withPad: " ", startingAt: 0)
                + (e.shape.isEmpty ? "scalar" : e.shape.map(String.init).joined(separator: "x")) + "\n"
        }
        return out
    }
}
