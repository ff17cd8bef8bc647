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

    /// Channel `c`'s range under this grid's scale.
    public func range(of c: Int) -> ClosedRange<Float> {
        if let range { return range }
        let s = tensor.channelStats(c)
        return map.range(lo: s.min, hi: s.max)
    }

    /// The picture: tiles of `tile` x `tile` pixels, `gap` pixels apart, `perRow` across.
    public func raster(tile: Int, gap: Int, perRow: Int, labels: Bool) -> Raster {
        let rowsOfTiles = (channels.count + perRow - 1) / perRow
        let labelHeight = labels ? 8 : 0
        let w = perRow * tile + (perRow - 1) * gap
        let h = rowsOfTiles * (tile + labelHeight) + (rowsOfTiles - 1) * gap
        let out = Raster(width: w, height: h, fill: (0.12, 0.12, 0.12))
        let plane = tensor.h * tensor.w
        for (k, c) in channels.enumerated() {
            let tileRaster = Raster.mapped(tensor.data + c * plane, width: tensor.w, height: tensor.h, map: map, range: range(of: c))
                .resized(width: tile, height: tile)
            let x = (k % perRow) * (tile + gap), y = (k / perRow) * (tile + labelHeight + gap)
            out.paste(tileRaster, x: x, y: y)
            if labels { TinyFont.draw(String(c), into: out, x: x + 1, y: y + tile + 2, scale: 1, colour: (0.9, 0.9, 0.9)) }
        }
        return out
    }

    /// The PNG for `export`: tiles at least 64 px, labelled, with a colour bar underneath.
    public func png() -> [UInt8] {
        let tile = max(64, min(tensor.h, 256))
        let perRow = min(channels.count, 8)
        let grid = raster(tile: tile, gap: 4, perRow: perRow, labels: true)
        let barHeight = 36
        let out = Raster(width: max(grid.width, 200), height: grid.height + barHeight, fill: (0.12, 0.12, 0.12))
        out.paste(grid, x: 0, y: 0)
        let r = range ?? {
            let all = channels.map { range(of: $0) }
            return (all.map(\.lowerBound).min() ?? 0)...(all.map(\.upperBound).max() ?? 1)
        }()
        let barWidth = out.width - 16
        for x in 0..<barWidth {
            let v = r.lowerBound + (r.upperBound - r.lowerBound) * Float(x) / Float(max(barWidth - 1, 1))
            for y in 0..<10 { out.set(8 + x, grid.height + 6 + y, map.colour(v, range: r)) }
        }
        let lo = TerminalPicture.format(r.lowerBound), hi = TerminalPicture.format(r.upperBound)
        TinyFont.draw(lo, into: out, x: 8, y: grid.height + 20, scale: 2, colour: (0.9, 0.9, 0.9))
        TinyFont.draw(hi, into: out, x: out.width - 8 - TinyFont.width(hi, scale: 2), y: grid.height + 20, scale: 2, colour: (0.9, 0.9, 0.9))
        return out.png()
    }
}
