// `synth`: procedural scenes, each a pure function of its seed (SyntheticScenes).
// `synth-under`: the same scenes, every one photographed under-exposed (-3...0 EV): for mixing
// with photos where the scenes' over-exposed samples, whose targets are a tone mapping's and not
// a photo's, cost the photos' over-exposure SSIM (Weights/HISTORY.md).
import DRHTEngine

public struct SyntheticSource: TripletSource {
    public static let kind = SourceKind(syntax: "synth", prefix: "synth", exact: true) { _ in SyntheticSource() }
    public static let underKind = SourceKind(syntax: "synth-under", prefix: "synth-under", exact: true) { _ in SyntheticSource(underOnly: true) }
    /// Training samples (and held-out items without an exposure of their own) only under-exposed.
    public let underOnly: Bool
    public init(underOnly: Bool = false) { self.underOnly = underOnly }

    public var description: String { underOnly ? "synth-under" : "synth" }
    public var itemCount: Int? { nil }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        framing == .whole ? SyntheticScenes.triplet(seed: seed, size: size, underOnly: underOnly)
                          : DataSource.syntheticCrop(seed: seed, size: size, underOnly: underOnly)
    }

    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        ("scene \(i)", SyntheticScenes.triplet(seed: Split.evaluation.seed(i), size: size, ev: ev, underOnly: underOnly))
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String {
        "\(count) held-out procedural scenes\(underOnly ? " (under-exposed only)" : "") at \(size)x\(size) (evaluation seeds from \(first)), " + exposure
    }

    /// 64 scenes at 256 x 256: the size procedural scenes are rendered at (`DataSource.sceneSize`).
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (64, DataSource.sceneSize) }
}
