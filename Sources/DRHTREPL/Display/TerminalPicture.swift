// Drawing a Raster in the terminal. Half blocks: each character cell shows two pixels, the
// upper as the foreground colour of "▀" and the lower as the background, in 24-bit colour or
// the 256-colour palette. Opt-in kitty graphics and sixel send the picture itself. Without a
// terminal (pipes, CI, transcripts) an ASCII ramp stands in, with no escape codes at all.
import DRHTEngine
import DRHTImageIO
import Foundation

public enum TerminalPicture {
    /// The size in character cells a w x h picture gets when at most `columns` wide
    /// (pixels are square: one cell is one pixel wide and two tall).
    public static func cells(width w: Int, height h: Int, columns: Int, maxRows: Int = 40) -> (cols: Int, rows: Int) {
        var cols = min(columns, w)
        var rows = max(1, Int((Double(h) * Double(cols) / Double(w) / 2).rounded()))
        if rows > maxRows {
            rows = maxRows
            cols = max(1, Int((Double(w) * Double(rows * 2) / Double(h)).rounded()))
        }
        return (cols, rows)
    }

    /// The picture as terminal text (ending with a newline), at most `columns` wide.
    public static func render(_ raster: Raster, display: Settings.Display, console: Console, columns: Int,
                              maxRows: Int = 40) -> String {
        let (cols, rows) = cells(width: raster.width, height: raster.height, columns: columns, maxRows: maxRows)
        switch display {
        case .none: return ""
        case .kitty: return kitty(raster, columns: cols)
        case .sixel: return sixel(raster.resized(width: min(raster.width, cols * 8), height: max(1, raster.height * min(raster.width, cols * 8) / raster.width)))
        case .ascii: return ascii(raster.asciiPicture(width: cols, height: rows * 2))
        case .blocks:
            guard console.colour else { return ascii(raster.asciiPicture(width: cols, height: rows * 2)) }
            return blocks(raster.resized(width: cols, height: rows * 2), trueColour: console.trueColour)
        }
    }

    static func byte(_ v: Float) -> Int { Int((v.unitClamped * 255).rounded()) }

    static func blocks(_ r: Raster, trueColour: Bool) -> String {
        var out = ""
        for row in stride(from: 0, to: r.height, by: 2) {
            for x in 0..<r.width {
                let top = r.rgb(x, row), bottom = row + 1 < r.height ? r.rgb(x, row + 1) : top
                out += sgr(foreground: top, background: bottom, trueColour: trueColour) + "▀"
            }
            out += "\u{1B}[0m\n"
        }
        return out
    }

    /// The escape sequence setting both colours of a cell.
    static func sgr(foreground f: (Float, Float, Float), background b: (Float, Float, Float), trueColour: Bool) -> String {
        if trueColour {
            return "\u{1B}[38;2;\(byte(f.0));\(byte(f.1));\(byte(f.2));48;2;\(byte(b.0));\(byte(b.1));\(byte(b.2))m"
        }
        return "\u{1B}[38;5;\(palette256(f));48;5;\(palette256(b))m"
    }

    /// The nearest xterm-256 colour: the 6x6x6 cube or the 24-step gray ramp.
    public static func palette256(_ c: (Float, Float, Float)) -> Int {
        let levels: [Int] = [0, 95, 135, 175, 215, 255]
        func nearestLevel(_ v: Int) -> Int { levels.indices.min { abs(levels[$0] - v) < abs(levels[$1] - v) }! }
        let (r, g, b) = (byte(c.0), byte(c.1), byte(c.2))
        let (ri, gi, bi) = (nearestLevel(r), nearestLevel(g), nearestLevel(b))
        let cube = 16 + 36 * ri + 6 * gi + bi
        let cubeError = sq(levels[ri] - r) + sq(levels[gi] - g) + sq(levels[bi] - b)
        let grayIndex = min(23, max(0, ((r + g + b) / 3 - 8 + 5) / 10))
        let gv = 8 + 10 * grayIndex
        let grayError = sq(gv - r) + sq(gv - g) + sq(gv - b)
        return grayError < cubeError ? 232 + grayIndex : cube
    }
    private static func sq(_ v: Int) -> Int { v * v }

    /// Luminance as " .:-=+*#%@", one character per cell (two pixel rows averaged).
    static let ramp = Array(" .:-=+*#%@")
    /// A diverging map's colours (`Raster.signed`) as their sign and size: blank near 0 (white),
    /// then ". - = #" for larger negative values (blue) and "' + * @" for positive ones (red);
    /// "?" for a non-finite value (magenta), ":" for a dark grey no map value has (a grid's gaps,
    /// or a cell where blue and red average out). A cell shows its pixels' mean colour.
    static let negativeRamp = Array(".-=#"), positiveRamp = Array("'+*@")
    static func signedCharacter(_ c: (Float, Float, Float)) -> Character {
        if c.0 > 0.9 && c.1 < 0.1 && c.2 > 0.9 { return "?" }
        func luma(_ c: (Float, Float, Float)) -> Float { SRGB.luminance(c.0, c.1, c.2) }
        let stops = ColourMap.divergingStops, tint = c.0 - c.2
        // The size: how far the colour has darkened from white towards its side's end colour.
        let white = luma(stops[2]), end = luma(tint > 0 ? stops[4] : stops[0])
        let size = Int(clamping: (white - luma(c)) / (white - end) * 5, to: 0...4)
        if abs(tint) <= 0.05 && luma(c) < 0.5 { return ":" }     // grey: not the map's (a grid's gaps)
        guard size > 0, abs(tint) > 0.05 else { return " " }
        return (tint > 0 ? positiveRamp : negativeRamp)[size - 1]
    }
    static func character(_ c: (Float, Float, Float), signed: Bool) -> Character {
        if signed { return signedCharacter(c) }
        let y = SRGB.luminance(c.0, c.1, c.2)
        return ramp[Int(clamping: y * Float(ramp.count), to: 0...(ramp.count - 1))]
    }
    static func ascii(_ r: Raster) -> String {
        var out = ""
        for row in stride(from: 0, to: r.height, by: 2) {
            var line = ""
            for x in 0..<r.width {
                let a = r.rgb(x, row), b = row + 1 < r.height ? r.rgb(x, row + 1) : a
                line.append(character(((a.0 + b.0) / 2, (a.1 + b.1) / 2, (a.2 + b.2) / 2), signed: r.signed))
            }
            while line.hasSuffix(" ") { line.removeLast() }
            out += line + "\n"
        }
        return out
    }

    /// kitty graphics protocol: the PNG in 4096-byte base64 chunks, scaled to `columns` cells.
    static func kitty(_ r: Raster, columns: Int) -> String {
        let b64 = Data(r.png()).base64EncodedString()
        var out = "", start = b64.startIndex, first = true
        while start < b64.endIndex {
            let end = b64.index(start, offsetBy: 4096, limitedBy: b64.endIndex) ?? b64.endIndex
            let more = end < b64.endIndex ? 1 : 0
            out += "\u{1B}_G" + (first ? "f=100,a=T,c=\(columns),m=\(more)" : "m=\(more)") + ";" + b64[start..<end] + "\u{1B}\\"
            first = false
            start = end
        }
        return out + "\n"
    }

    /// DEC sixel with the 6x6x6 colour cube as its palette.
    static func sixel(_ r: Raster) -> String {
        func index(_ c: (Float, Float, Float)) -> Int {
            36 * Int((c.0.unitClamped * 5).rounded()) + 6 * Int((c.1.unitClamped * 5).rounded()) + Int((c.2.unitClamped * 5).rounded())
        }
        var out = "\u{1B}Pq\"1;1;\(r.width);\(r.height)"
        for i in 0..<216 { out += "#\(i);2;\(i / 36 * 20);\(i / 6 % 6 * 20);\(i % 6 * 20)" }
        var indices = [Int](repeating: 0, count: r.width * r.height)
        for y in 0..<r.height { for x in 0..<r.width { indices[y * r.width + x] = index(r.rgb(x, y)) } }
        for band in stride(from: 0, to: r.height, by: 6) {
            let used = Set((band..<min(band + 6, r.height)).flatMap { y in (0..<r.width).map { indices[y * r.width + $0] } })
            for colour in used.sorted() {
                out += "#\(colour)"
                var run = 0, last: Character = "?"
                func flush() { if run > 3 { out += "!\(run)\(last)" } else if run > 0 { out += String(repeating: last, count: run) } }
                for x in 0..<r.width {
                    var bits = 0
                    for k in 0..<6 where band + k < r.height && indices[(band + k) * r.width + x] == colour { bits |= 1 << k }
                    let ch = Character(UnicodeScalar(UInt8(63 + bits)))
                    if ch == last { run += 1 } else { flush(); last = ch; run = 1 }
                }
                flush()
                out += "$"
            }
            out += "-"
        }
        return out + "\u{1B}\\\n"
    }

    /// A colour bar: `lo ▕████…▏ hi` in colour, or an ASCII ramp without colour.
    /// `ends` replaces the numbers at the two ends with words (e.g. "min", "max" when each tile
    /// of a grid has its own range).
    public static func colourBar(_ map: ColourMap, range: ClosedRange<Float>, console: Console, width: Int = 32,
                                 label: String = "", ends: (String, String)? = nil) -> String {
        let lo = ends?.0 ?? format(range.lowerBound), hi = ends?.1 ?? format(range.upperBound)
        var bar = ""
        for i in 0..<width {
            let v = range.lowerBound + (range.upperBound - range.lowerBound) * (Float(i) + 0.5) / Float(width)
            if console.colour {
                let c = map.colour(v, range: range)
                bar += sgr(foreground: c, background: c, trueColour: console.trueColour) + "█"
            } else {
                bar.append(character(map.colour(v, range: range), signed: map == .diverging))
            }
        }
        if console.colour { bar += "\u{1B}[0m" }
        return "\(lo) [\(bar)] \(hi)" + (label.isEmpty ? "" : "  \(label)")
    }

    /// Four significant digits, without a trailing ".0" noise.
    public static func format(_ v: Float) -> String { formatNumber(Double(v)) }
}

/// A number as a person would write it: 4 significant digits, scientific for tiny/huge values.
public func formatNumber(_ v: Double, digits: Int = 4) -> String {
    if v.isNaN { return "nan" }
    if v.isInfinite { return v > 0 ? "inf" : "-inf" }
    if v == 0 { return "0" }
    let a = abs(v)
    if a >= 1e5 || a < 1e-3 { return String(format: "%.\(digits - 1)e", v) }
    var s = String(format: "%.\(digits)g", v)
    if s.contains("e") { s = String(format: "%.\(max(0, digits - 1 - Int(log10(a))))f", v) }
    return s
}
