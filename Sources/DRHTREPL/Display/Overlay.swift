// A single-channel map laid over a photo: the photo in gray, dimmed, and the map's colour on
// top, opaque where the map is strong — how attribution and receptive fields are drawn.
import DRHTEngine
import DRHTImageIO

extension Raster {
    /// The percentile of |value| at which overlays' colours saturate: a few extreme pixels would
    /// otherwise take the whole range and leave the rest of the map nearly invisible.
    static let overlayPercentile = 99.0

    /// `map` (photo.width x photo.height values) over `photo`: magnitudes (>= 0) through viridis,
    /// signed values through blue-white-red centred on 0. Colours saturate at the
    /// `overlayPercentile`th percentile of |value| (`range`); `largest` is the largest |value|.
    static func overlay(_ map: UnsafePointer<Float>, on photo: Raster, signed: Bool)
        -> (raster: Raster, range: ClosedRange<Float>, largest: Float) {
        let n = photo.width * photo.height
        var magnitudes: [Float] = []
        magnitudes.reserveCapacity(n)
        // Exact zeros (outside a receptive field) are left out: they would pull the percentile down.
        for i in 0..<n where map[i].isFinite && map[i] != 0 { magnitudes.append(abs(map[i])) }
        magnitudes.sort()
        let largest = magnitudes.last ?? 0
        var peak = magnitudes.isEmpty ? 0 : magnitudes[Int(Double(magnitudes.count - 1) * overlayPercentile / 100)]
        if peak <= 0 { peak = largest }
        peak = max(peak, 1e-30)
        let range: ClosedRange<Float> = signed ? -peak...peak : 0...peak
        let colourMap: ColourMap = signed ? .diverging : .viridis
        var out = Raster(width: photo.width, height: photo.height)
        if signed { out.signedValues = (Tensor(shape: [1, 1, photo.height, photo.width], values: Array(UnsafeBufferPointer(start: map, count: n))), range) }
        for y in 0..<photo.height {
            for x in 0..<photo.width {
                let v = map[y * photo.width + x]
                let (r, g, b) = photo.rgb(x, y)
                let gray = 0.55 * SRGB.luminance(r, g, b)
                let alpha = v.isFinite ? min(1, abs(v) / peak).squareRoot() : 0
                let c = colourMap.colour(v, range: range)
                out.set(x, y, (gray * (1 - alpha) + c.0 * alpha, gray * (1 - alpha) + c.1 * alpha, gray * (1 - alpha) + c.2 * alpha))
            }
        }
        return (out, range, largest)
    }

    /// The colour bar's words for an overlay: where the colours saturate.
    static func overlayScale(_ range: ClosedRange<Float>, largest: Float) -> String {
        "colours saturate at the \(Int(overlayPercentile))th percentile of the non-zero |values| (\(formatNumber(Double(range.upperBound), digits: 3))); "
            + "the largest is \(formatNumber(Double(largest), digits: 3))"
    }

    /// Draws the outline of rows x columns (inclusive pixel ranges), `thickness` px wide.
    func outline(rows: ClosedRange<Int>, columns: ClosedRange<Int>, colour: (Float, Float, Float), thickness: Int = 1) {
        for t in 0..<thickness {
            for x in columns { set(x, rows.lowerBound + t, colour); set(x, rows.upperBound - t, colour) }
            for y in rows { set(columns.lowerBound + t, y, colour); set(columns.upperBound - t, y, colour) }
        }
    }

    /// Rasters side by side at one height (at most `maxHeight`), a gap of 4% of it between them,
    /// on white.
    static func sideBySide(_ rasters: [Raster], maxHeight: Int = 512) -> Raster {
        let height = min(maxHeight, rasters.map(\.height).min()!)
        let scaled = rasters.map { $0.resized(width: max(1, $0.width * height / $0.height), height: height) }
        let gap = max(2, height / 25)
        let all = Raster(width: scaled.map(\.width).reduce(0, +) + gap * (scaled.count - 1), height: height, fill: (1, 1, 1))
        var x = 0
        for r in scaled { all.paste(r, x: x, y: 0); x += r.width + gap }
        return all
    }
}
