// `photos:DIR`: well-exposed PNG/JPEG photos, turned into triplets on the fly (`PhotoTriplet`:
// the photo is the target, a simulated camera re-exposes it for the input).
import DRHTEngine
import DRHTImageIO
import Foundation

public struct PhotoSource: TripletSource {
    public static let kind = SourceKind(syntax: "photos:DIR", prefix: "photos:") { dir in
        let photos = try DataSource.folder(dir, for: "photos:DIR")
            .filter { ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
        guard !photos.isEmpty else { throw TrainingError("\(dir): no PNG or JPEG photos in the folder") }
        return PhotoSource(paths: photos)
    }

    public let paths: [String]
    public init(paths: [String]) { self.paths = paths }

    public var description: String { "photos (\(paths.count))" }
    public var itemCount: Int? { paths.count }
    public var reexposesPhotos: Bool { true }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        var rng = SeededRandom(seed: seed)
        let path = paths[Int(rng.next() % UInt64(paths.count))]
        let photo = try PhotoCache.shared.image(path)
        let crop = framing == .whole ? wholeSquare([photo], size: size, rng: &rng, scaleMin: DataSource.photoScaleMin, flip: true)[0]
                                     : try randomCrop([photo], size: size, rng: &rng, path: path)[0]
        return PhotoTriplet.make(from: crop, rng: &rng)
    }

    /// Photo `i` (cycling) reduced until its long side is at most `size`.
    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        let path = paths[i % paths.count]
        let photo = try PhotoCache.shared.image(path)
        let s = sizeWithLongSide(size, height: photo.h, width: photo.w)
        var rng = SeededRandom(seed: Split.evaluation.seed(i))
        let t = PhotoTriplet.make(from: resizeArea(photo, height: s.height, width: s.width), rng: &rng, ev: ev)
        return ("\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) #\(i / paths.count + 1)", t)
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String {
        "\(count) simulated exposures of \(paths.count) held-out photos, long side \(size) px, " + exposure
    }

    /// Each photo once per exposure, or four random exposures of each; a long side of 512 px.
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (exposures ? paths.count : 4 * paths.count, 512) }
}
