// `panorama:DIR` and `panorama-photo:DIR`: equirectangular HDR panoramas (.hdr), random
// perspective views photographed by the simulated camera (`PanoramaView`); the LDR target
// tone-mapped, or the view's own 0 EV photo (`PanoramaView.Target`).
import DRHTEngine
import Foundation

public struct PanoramaSource: TripletSource {
    public static let kind = SourceKind(syntax: "panorama:DIR", prefix: "panorama:") { try PanoramaSource(folder: $0, target: .toneMapped) }
    public static let photoKind = SourceKind(syntax: "panorama-photo:DIR", prefix: "panorama-photo:") { try PanoramaSource(folder: $0, target: .photo) }

    public let files: [String]
    public let target: PanoramaView.Target
    public init(files: [String], target: PanoramaView.Target) { self.files = files; self.target = target }

    init(folder dir: String, target: PanoramaView.Target) throws {
        let files = try DataSource.folder(dir, for: target == .photo ? "panorama-photo:DIR" : "panorama:DIR")
            .filter { URL(fileURLWithPath: $0).pathExtension.lowercased() == "hdr" }
        guard !files.isEmpty else { throw TrainingError("\(dir): no Radiance .hdr panoramas in the folder (make photos writes data/panoramas/)") }
        self.init(files: files, target: target)
    }

    public var description: String { "panoramas (\(files.count)\(target == .photo ? ", photo targets" : ""))" }
    public var itemCount: Int? { files.count * PanoramaView.viewsPerPanorama }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        var rng = SeededRandom(seed: seed)
        let panorama = try PhotoCache.shared.image(files[Int(rng.next() % UInt64(files.count))])
        // crop: a window of a view rendered at the procedural scenes' size, like `syntheticCrop`.
        let full = framing == .whole ? size : max(DataSource.sceneSize, size)
        let t = PanoramaView.triplet(panorama, size: full, rng: &rng, target: target)
        PanoramaView.capForTraining(t.hdr)
        if full == size { return t }
        let c = try randomCrop([t.input, t.hdr, t.target], size: size, rng: &rng, path: "panorama view")
        return Triplet(input: c[0], hdr: c[1], target: c[2], camera: t.camera)
    }

    /// Panorama i % count, view i / count: each panorama's views from its own seeds.
    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        let path = files[i % files.count]
        var rng = SeededRandom(seed: Split.evaluation.seed(i))
        let t = PanoramaView.triplet(try PhotoCache.shared.image(path), size: size, rng: &rng, ev: ev, target: target)
        return ("\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) view \(i / files.count + 1)", t)
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String {
        "\(count) views (\(size)x\(size)) of \(files.count) held-out HDR panoramas" + (target == .photo ? " (targets: their 0 EV photos)" : "") + ", " + exposure
    }

    /// Every view of every panorama once (per exposure), at 256 x 256.
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (itemCount!, 256) }
}
