// Colour maps for single-channel data: viridis (perceptually uniform, for non-negative values
// such as ELU-positive activations), a blue-white-red diverging map centred on 0 (for signed
// values), and gray.
public enum ColourMap: String {
    case viridis, diverging, gray

    /// viridis sampled at 9 points (matplotlib's `viridis` at 0, 1/8, ..., 1), linearly interpolated.
    static let viridisStops: [(Float, Float, Float)] = [
        (0.267, 0.005, 0.329), (0.279, 0.175, 0.483), (0.230, 0.322, 0.546), (0.173, 0.449, 0.558),
        (0.128, 0.567, 0.551), (0.153, 0.680, 0.504), (0.369, 0.789, 0.383), (0.678, 0.864, 0.190),
        (0.993, 0.906, 0.144),
    ]
    /// Blue (negative) - white (0) - red (positive), after ColorBrewer's RdBu reversed.
    static let divergingStops: [(Float, Float, Float)] = [
        (0.020, 0.188, 0.380), (0.263, 0.576, 0.765), (0.969, 0.969, 0.969), (0.839, 0.376, 0.302), (0.404, 0.000, 0.122),
    ]

    /// The map to use for values in `range`: diverging when they change sign, viridis otherwise.
    public static func automatic(for range: ClosedRange<Float>) -> ColourMap {
        range.lowerBound < 0 && range.upperBound > 0 ? .diverging : .viridis
    }

    /// What NaN and infinite values are drawn in, in every picture: magenta, a colour no map uses.
    public static let nonFinite: (Float, Float, Float) = (1, 0, 1)

    /// For the diverging map the range is made symmetric around 0 by the caller (see `range`).
    /// Non-finite values are drawn magenta (`nonFinite`).
    public func colour(_ v: Float, range: ClosedRange<Float>) -> (Float, Float, Float) {
        guard v.isFinite else { return ColourMap.nonFinite }
        let span = Double(range.upperBound) - Double(range.lowerBound)
        let t = Float(span > 0 ? (Double(v) - Double(range.lowerBound)) / span : 0.5).unitClamped
        switch self {
        case .gray: return (t, t, t)
        case .viridis: return ColourMap.interpolate(ColourMap.viridisStops, t)
        case .diverging: return ColourMap.interpolate(ColourMap.divergingStops, t)
        }
    }

    /// The range to scale `lo...hi` with: symmetric around 0 for the diverging map.
    public func range(lo: Float, hi: Float) -> ClosedRange<Float> {
        if self == .diverging { let m = max(abs(lo), abs(hi), 1e-12); return -m...m }
        return lo < hi ? lo...hi : lo...(lo + 1e-12)
    }

    static func interpolate(_ stops: [(Float, Float, Float)], _ t: Float) -> (Float, Float, Float) {
        let x = t.unitClamped * Float(stops.count - 1)
        let i = Int(clamping: x, to: 0...(stops.count - 2)), f = x - Float(i)
        let a = stops[i], b = stops[i + 1]
        return (a.0 + (b.0 - a.0) * f, a.1 + (b.1 - a.1) * f, a.2 + (b.2 - a.2) * f)
    }
}
