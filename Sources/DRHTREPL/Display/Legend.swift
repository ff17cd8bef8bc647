// A picture framed for a PNG file: a title and a line saying how values map to colours above
// it, the colour bar with its end values (or words) below — so a picture opened outside the
// REPL still says what it shows; the picture centred when the words are wider. Feature grids,
// gain maps and attribution overlays use it.
extension Raster {
    /// `self` with `title` and `legend` above and a colour bar of `map` over `range` below; `ends`
    /// replaces the bar's end numbers with words (each tile of a grid having its own range), its
    /// third word (if any) is written at the bar's middle.
    func framed(title: String, legend: String, map: ColourMap, range: ClosedRange<Float>,
                ends: (String, String, String?)? = nil) -> Raster {
        let head = 24, barHeight = 36
        let width = max(self.width, 200, TinyFont.width(title, scale: 2) + 16, TinyFont.width(legend, scale: 1) + 16)
        let out = Raster(width: width, height: head + height + barHeight, fill: (0.12, 0.12, 0.12))
        let light: (Float, Float, Float) = (0.9, 0.9, 0.9)
        TinyFont.draw(title, into: out, x: 8, y: 3, scale: 2, colour: (0.95, 0.95, 0.95))
        TinyFont.draw(legend, into: out, x: 8, y: 16, scale: 1, colour: (0.8, 0.8, 0.8))
        out.paste(self, x: (width - self.width) / 2, y: head)      // centred under a wider title
        let barWidth = out.width - 16, top = head + height
        for x in 0..<barWidth {
            let v = range.lowerBound + (range.upperBound - range.lowerBound) * Float(x) / Float(max(barWidth - 1, 1))
            for y in 0..<10 { out.set(8 + x, top + 6 + y, map.colour(v, range: range)) }
        }
        let words = ends ?? (TerminalPicture.format(range.lowerBound), TerminalPicture.format(range.upperBound),
                             range.lowerBound < 0 && range.upperBound > 0 ? "0" : nil)
        TinyFont.draw(words.0, into: out, x: 8, y: top + 20, scale: 2, colour: light)
        TinyFont.draw(words.1, into: out, x: out.width - 8 - TinyFont.width(words.1, scale: 2), y: top + 20, scale: 2, colour: light)
        if let mid = words.2 {
            let zero = range.lowerBound < 0 && range.upperBound > 0 ? -range.lowerBound / (range.upperBound - range.lowerBound) : 0.5
            TinyFont.draw(mid, into: out, x: 8 + Int(saturating: Float(barWidth - 1) * zero) - 1, y: top + 20, scale: 2, colour: light)
        }
        return out
    }
}
