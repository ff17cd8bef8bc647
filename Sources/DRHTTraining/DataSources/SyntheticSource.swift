// `synth`: procedural scenes, each a pure function of its seed (SyntheticScenes).
import DRHTEngine

public struct SyntheticSource: TripletSource {
    public static let kind = SourceKind(syntax: "synth", prefix: "synth", exact: true) { _ in SyntheticSource() }
    public init() {}

    public var description: String { "synth" }
    public var itemCount: Int? { nil }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        framing == .whole ? SyntheticScenes.triplet(seed: seed, size: size) : DataSource.syntheticCrop(seed: seed, size: size)
    }

    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        ("scene \(i)", SyntheticScenes.triplet(seed: Split.evaluation.seed(i), size: size, ev: ev))
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String {
        "\(count) held-out procedural scenes at \(size)x\(size) (evaluation seeds from \(first)), " + exposure
    }

    /// 64 scenes at 256 x 256: the size procedural scenes are rendered at (`DataSource.sceneSize`).
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) { (64, DataSource.sceneSize) }
}
