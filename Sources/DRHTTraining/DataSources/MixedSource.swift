// `A+B`: several sources, each sample drawn from one of them in turn (by its seed), e.g.
// `synth+photos:data/photos/train`; a part named twice is drawn twice as often.
import DRHTEngine

public struct MixedSource: TripletSource {
    public let parts: [any TripletSource]
    public init(parts: [any TripletSource]) { self.parts = parts }

    public var description: String { parts.map(\.description).joined(separator: " + ") }

    /// The smallest part's count times the parts (each item once, the parts in turn).
    public var itemCount: Int? {
        let counts = parts.compactMap(\.itemCount)
        return counts.count == parts.count ? counts.min()! * parts.count : nil
    }

    public func sample(seed: UInt64, size: Int, framing: Framing) throws -> Triplet {
        try parts[Int(seed % UInt64(parts.count))].sample(seed: seed, size: size, framing: framing)
    }

    public func item(_ i: Int, size: Int, ev: Float?) throws -> (id: String, triplet: Triplet) {
        try parts[i % parts.count].item(i / parts.count, size: size, ev: ev)
    }

    public func describePass(count: Int, size: Int, first: Int, exposure: String) -> String {
        "\(count) items of \(description), " + exposure
    }

    /// As photos: each item once per exposure, or four random exposures of each, at 512 px.
    public func defaultPass(exposures: Bool) -> (count: Int, size: Int) {
        let items = itemCount ?? 64
        return (exposures ? items : 4 * items, 512)
    }
}
