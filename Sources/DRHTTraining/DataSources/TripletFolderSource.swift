// A folder of triplets as `drht synth` writes them: <id>.input.png, <id>.hdr, <id>.target.png.
import DRHTEngine
import DRHTImageIO
import Foundation

public struct TripletFolderSource: TripletSource {
    /// The fallback: any other --data is read as a triplet folder.
    public static let kind = SourceKind(syntax: "a triplet folder", prefix: nil) { dir in
        let ids = try DataSource.folder(dir, for: "DIR").filter { $0.hasSuffix(".input.png") }.map { String($0.dropLast(".input.png".count)) }
        guard !ids.isEmpty else {
            throw TrainingError("\(dir): no <id>.input.png triplets in the folder; make some with `drht synth -o \(dir)`")
        }
        for id in ids {
            for part in [".hdr", ".target.png"] where !FileManager.default.fileExists(atPath: id + part) {
                throw TrainingError("\(id)\(part) is missing: each triplet needs .input.png, .hdr and .target.png")
            }
        }
        return TripletFolderSource(ids: ids)
    }

    /// Paths without the .input.png suffix.
    public let ids: [String]
    public init(ids: [String]) { self.ids = ids }

    public var description: String { "triplets (\(ids.count))" }
    public var itemCount: Int? { ids.count }
    public var fixedExposure: Bool { true }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        var rng = SeededRandom(seed: seed)
        let id = ids[Int(rng.next() % UInt64(ids.count))]
        let parts = try [".input.png", ".hdr", ".target.png"].map { try PhotoCache.shared.image(id + $0) }
        let c = framing == .whole ? wholeSquare(parts, size: size, rng: &rng) : try randomCrop(parts, size: size, rng: &rng, path: id + ".input.png")
        return Triplet(input: c[0], hdr: c[1], target: c[2])
    }

    /// Triplet `i` as it is on disk.
    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        let id = ids[i % ids.count]
        let parts = try [".input.png", ".hdr", ".target.png"].map { try ImageIO.read(id + $0).pixels }
        return (URL(fileURLWithPath: id).lastPathComponent, Triplet(input: parts[0], hdr: parts[1], target: parts[2]))
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String { "\(ids.count) triplets from a folder" }
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (ids.count, 0) }
}
