// A 3x5 pixel font for the labels on exported PNGs (colour-bar ends, channel numbers), so a
// picture opened outside the REPL still says what its colours mean.
enum TinyFont {
    /// Each glyph: 5 rows of 3 bits, most significant bit on the left.
    static let glyphs: [Character: [UInt8]] = [
        "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
        "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
        "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
        "+": [0, 2, 7, 2, 0], "e": [0, 7, 7, 4, 7], "c": [0, 7, 4, 4, 7], "i": [2, 0, 2, 2, 2],
        "n": [0, 6, 5, 5, 5], "f": [3, 4, 7, 4, 4], "a": [0, 7, 1, 7, 7], " ": [0, 0, 0, 0, 0],
    ]

    /// Width in pixels of `text` at `scale`.
    static func width(_ text: String, scale: Int) -> Int { max(0, text.count * 4 * scale - scale) }

    /// Draws `text` with its top-left corner at (x, y).
    static func draw(_ text: String, into r: Raster, x: Int, y: Int, scale: Int, colour: (Float, Float, Float)) {
        var cx = x
        for ch in text {
            let rows = glyphs[ch] ?? glyphs[" "]!
            for (ry, bits) in rows.enumerated() {
                for bx in 0..<3 where bits & (4 >> UInt8(bx)) != 0 {
                    for sy in 0..<scale { for sx in 0..<scale { r.set(cx + bx * scale + sx, y + ry * scale + sy, colour) } }
                }
            }
            cx += 4 * scale
        }
    }
}
