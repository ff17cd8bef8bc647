// A 3x5 pixel font for the labels on exported PNGs (titles, colour-bar ends, channel numbers and
// ranges), so a picture opened outside the REPL still says what it shows and what its colours mean.
enum TinyFont {
    /// Each glyph: 5 rows of 3 bits, most significant bit on the left.
    static let glyphs: [Character: [UInt8]] = {
        var g: [Character: [UInt8]] = [
            "0": [7, 5, 5, 5, 7], "1": [2, 6, 2, 2, 7], "2": [7, 1, 7, 4, 7], "3": [7, 1, 7, 1, 7],
            "4": [5, 5, 7, 1, 1], "5": [7, 4, 7, 1, 7], "6": [7, 4, 7, 5, 7], "7": [7, 1, 1, 2, 2],
            "8": [7, 5, 7, 5, 7], "9": [7, 5, 7, 1, 7], ".": [0, 0, 0, 0, 2], "-": [0, 0, 7, 0, 0],
            "+": [0, 2, 7, 2, 0], " ": [0, 0, 0, 0, 0], ":": [0, 2, 0, 2, 0], "/": [1, 1, 2, 4, 4],
            "(": [1, 2, 2, 2, 1], ")": [4, 2, 2, 2, 4], "_": [0, 0, 0, 0, 7], ",": [0, 0, 0, 2, 4],
            "=": [0, 7, 0, 7, 0], "<": [1, 2, 4, 2, 1], ">": [4, 2, 1, 2, 4], "%": [5, 1, 2, 4, 5],
            "|": [2, 2, 2, 2, 2], "[": [3, 2, 2, 2, 3], "]": [6, 2, 2, 2, 6], "'": [2, 2, 0, 0, 0],
            "A": [2, 5, 7, 5, 5], "B": [6, 5, 6, 5, 6], "C": [3, 4, 4, 4, 3], "D": [6, 5, 5, 5, 6],
            "E": [7, 4, 6, 4, 7], "F": [7, 4, 6, 4, 4], "G": [3, 4, 5, 5, 3], "H": [5, 5, 7, 5, 5],
            "I": [7, 2, 2, 2, 7], "J": [1, 1, 1, 5, 2], "K": [5, 5, 6, 5, 5], "L": [4, 4, 4, 4, 7],
            "M": [5, 7, 7, 5, 5], "N": [6, 5, 5, 5, 5], "O": [2, 5, 5, 5, 2], "P": [6, 5, 6, 4, 4],
            "Q": [2, 5, 5, 6, 3], "R": [6, 5, 6, 5, 5], "S": [3, 4, 2, 1, 6], "T": [7, 2, 2, 2, 2],
            "U": [5, 5, 5, 5, 7], "V": [5, 5, 5, 5, 2], "W": [5, 5, 7, 7, 5], "X": [5, 5, 2, 5, 5],
            "Y": [5, 5, 2, 2, 2], "Z": [7, 1, 2, 4, 7],
        ]
        // Lower case is drawn as upper case (numbers print as 1E-3, INF, NAN).
        for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" { g[Character(c.lowercased())] = g[c] }
        g["−"] = g["-"]; g["·"] = g["."]; g["…"] = [0, 0, 0, 0, 5]
        return g
    }()

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
