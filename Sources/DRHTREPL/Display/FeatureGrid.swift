// A grid of feature maps (one tile per channel) through a colour map, for the terminal (`maps`)
// and as a PNG with a labelled colour bar (`export LAYER file.png`).
import DRHTEngine

public struct FeatureGrid {
    public enum Scale: String, CaseIterable {
        /// Each tile stretched over its own min..max: shapes visible, magnitudes not comparable.
        case channel
        /// One range for the whole layer: tiles comparable with each other.
        case layer
        /// One range for every feature map computed so far: layers comparable.
        case global
    }

    public let tensor: Tensor          // (1, C, H, W)
    public let channels: [Int]
    public let map: ColourMap
    /// The shared range (layer/global scale); nil = per channel.
    public let range: ClosedRange<Float>?
    /// What the grid shows, e.g. "hdr.enc3 of dark", written above an exported PNG.
    public let title: String

    public init(tensor: Tensor, channels: [Int], map: ColourMap, range: ClosedRange<Float>?, title: String = "") {
        self.tensor = tensor; self.channels = channels; self.map = map; self.range = range; self.title = title
    }

    /// Channel `c`'s range under this grid's scale.
    public func range(of c: Int) -> ClosedRange<Float> {
        if let range { return range }
        let s = tensor.channelStats(c)
        return map.range(lo: s.min, hi: s.max)
    }

    /// The picture: tiles of `tile` x `tile` pixels, `gap` pixels apart, `perRow` across. With
    /// `labels`, each tile has its channel number under it and, when tiles have their own ranges,
    /// that range on a second line.
    public func raster(tile: Int, gap: Int, perRow: Int, labels: Bool) -> Raster {
        let rowsOfTiles = (channels.count + perRow - 1) / perRow
        let labelHeight = labels ? (range == nil ? 14 : 8) : 0
        let w = perRow * tile + (perRow - 1) * gap
        let h = rowsOfTiles * (tile + labelHeight) + (rowsOfTiles - 1) * gap
        var out = Raster(width: w, height: h, fill: (0.12, 0.12, 0.12))
        out.signed = map == .diverging
        let plane = tensor.h * tensor.w
        for (k, c) in channels.enumerated() {
            let tileRaster = Raster.mapped(tensor.data + c * plane, width: tensor.w, height: tensor.h, map: map, range: range(of: c))
                .resized(width: tile, height: tile)
            let x = (k % perRow) * (tile + gap), y = (k / perRow) * (tile + labelHeight + gap)
            out.paste(tileRaster, x: x, y: y)
            if labels {
                TinyFont.draw("c\(c)", into: out, x: x + 1, y: y + tile + 2, scale: 1, colour: (0.9, 0.9, 0.9))
                if range == nil { TinyFont.draw(rangeText(c), into: out, x: x + 1, y: y + tile + 8, scale: 1, colour: (0.75, 0.75, 0.75)) }
            }
        }
        return out
    }

    /// Channel `c`'s colour range as printed under its tile: "-0.83..2.1".
    public func rangeText(_ c: Int) -> String {
        let r = range(of: c)
        return FeatureGrid.short(r.lowerBound) + ".." + FeatureGrid.short(r.upperBound)
    }

    /// Three significant digits, short enough to fit under a 64-pixel tile.
    static func short(_ v: Float) -> String { formatNumber(Double(v), digits: 3) }

    /// The legend in words: how values map to colours.
    public var legend: String {
        let colours = map == .diverging ? "blue negative, white 0, red positive" : "\(map.rawValue): dark low, bright high"
        if let range {
            return "one range for every tile, \(FeatureGrid.short(range.lowerBound)) to \(FeatureGrid.short(range.upperBound)) (\(colours))"
        }
        return map == .diverging
            ? "each tile its own range, -m to +m where m is its largest |value| (\(colours)); the range is under each tile"
            : "each tile its own range, its min to its max (\(colours)); the range is under each tile"
    }

    /// The PNG for `export`: a title and the legend above, tiles at least 64 px labelled with their
    /// channel (and range), a colour bar underneath.
    public func png() -> [UInt8] { pngRaster().png() }

    public func pngRaster() -> Raster {
        let tile = max(64, min(tensor.h, 256))
        let grid = raster(tile: tile, gap: 4, perRow: min(channels.count, 8), labels: true)
        let header = title.isEmpty ? "\(channels.count) of \(tensor.c) channels" : "\(title): \(channels.count) of \(tensor.c) channels"
        if let range { return grid.framed(title: header, legend: legend, map: map, range: range) }
        return grid.framed(title: header, legend: legend, map: map, range: map == .diverging ? -1...1 : 0...1,
                           ends: map == .diverging ? ("-M", "+M", "0") : ("TILE MIN", "TILE MAX", nil))
    }
}
