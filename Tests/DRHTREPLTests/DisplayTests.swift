// Pictures in the terminal: half blocks with the right colours, the 256-colour palette, the
// ASCII fallback, kitty and sixel framing, colour maps and text charts.
import DRHTEngine
@testable import DRHTREPL
import XCTest

final class DisplayTests: XCTestCase {
    /// A 2x2 raster: red, green on top; blue, white below.
    func tiny() -> Raster {
        let r = Raster(width: 2, height: 2)
        r.set(0, 0, (1, 0, 0)); r.set(1, 0, (0, 1, 0)); r.set(0, 1, (0, 0, 1)); r.set(1, 1, (1, 1, 1))
        return r
    }

    func testHalfBlocksPutTheUpperPixelInFrontAndTheLowerBehind() {
        let colour = Console(isTTY: true, colour: true, trueColour: true) { _ in }
        let text = TerminalPicture.render(tiny(), display: .blocks, console: colour, columns: 80)
        XCTAssertEqual(text, "\u{1B}[38;2;255;0;0;48;2;0;0;255m▀\u{1B}[38;2;0;255;0;48;2;255;255;255m▀\u{1B}[0m\n")
        let palette = Console(isTTY: true, colour: true, trueColour: false) { _ in }
        XCTAssertEqual(TerminalPicture.render(tiny(), display: .blocks, console: palette, columns: 80),
                       "\u{1B}[38;5;196;48;5;21m▀\u{1B}[38;5;46;48;5;231m▀\u{1B}[0m\n")
    }

    func testPalette256() {
        XCTAssertEqual(TerminalPicture.palette256((1, 0, 0)), 196)
        XCTAssertEqual(TerminalPicture.palette256((0, 0, 0)), 16)
        XCTAssertEqual(TerminalPicture.palette256((0.5, 0.5, 0.5)), 244)   // gray ramp: 128 -> 8 + 10*12
        XCTAssertEqual(TerminalPicture.palette256((1, 1, 1)), 231)
    }

    func testWithoutColourPicturesAreASCII() {
        let plain = Console { _ in }
        let r = Raster(width: 4, height: 2)
        r.set(1, 0, (1, 1, 1)); r.set(1, 1, (1, 1, 1)); r.set(2, 0, (0.5, 0.5, 0.5)); r.set(2, 1, (0.5, 0.5, 0.5))
        XCTAssertEqual(TerminalPicture.render(r, display: .blocks, console: plain, columns: 80), " @+\n")
    }

    /// Without colour, a diverging map's blue and red (about as dark as each other) must not
    /// come out as the same character: the ASCII stand-in shows the sign. Values -1...1 in
    /// nine steps: the most negative '#', 0 blank, the most positive '@', sizes growing outwards,
    /// NaN '?'; the colour bar shows the same characters, negative on the left.
    func testWithoutColourADivergingMapShowsTheSign() {
        var values: [Float] = (0..<9).map { Float($0 - 4) / 4 }
        values.append(.nan)
        let raster = Raster.mapped(values, width: 10, height: 1, map: .diverging, range: -1...1)
        XCTAssertTrue(raster.signed)
        let text = TerminalPicture.ascii(raster)
        XCTAssertEqual(text, "#=-. '+*@?\n", text)
        let bar = TerminalPicture.colourBar(.diverging, range: -2...2, console: Console { _ in }, width: 16)
        let inside = bar.split(separator: "[")[1].split(separator: "]")[0]
        XCTAssertEqual(inside.first, "#"); XCTAssertEqual(inside.last, "@")
        XCTAssertTrue(inside.contains(" "), bar)
        XCTAssertTrue(inside.prefix(8).allSatisfy { "#=-. ".contains($0) } && inside.suffix(8).allSatisfy { "@*+' ".contains($0) }, bar)
        XCTAssertFalse(Raster.mapped([0.5], width: 1, height: 1, map: .viridis, range: 0...1).signed)
        // A signed overlay on a photo: its blend of grey and colour loses the sign, so without
        // colour the values are drawn alone.
        let photo = Raster(width: 10, height: 1, fill: (0.5, 0.5, 0.5))
        let (overlay, _, _) = Raster.overlay(values, on: photo, signed: true)
        XCTAssertEqual(TerminalPicture.render(overlay, display: .blocks, console: Console { _ in }, columns: 80), "#=-. '+*@?\n")
    }

    /// A picture narrower than its PNG frame's words sits in the middle, not against the left edge.
    func testAFramedPictureIsCentredUnderWiderWords() {
        let white = Raster(width: 10, height: 4, fill: (1, 1, 1))
        let framed = white.framed(title: "a title far wider than the picture", legend: "legend", map: .gray, range: 0...1)
        XCTAssertGreaterThan(framed.width, 200)
        let row = 24 + 2   // below the title and legend band
        let lit = (0..<framed.width).filter { framed.rgb($0, row) == (1, 1, 1) }
        XCTAssertEqual(lit, Array((framed.width - 10) / 2..<(framed.width - 10) / 2 + 10))
    }

    func testPicturesFitTheWidthAndKeepTheirShape() {
        XCTAssertEqual(TerminalPicture.cells(width: 256, height: 256, columns: 64).cols, 64)
        XCTAssertEqual(TerminalPicture.cells(width: 256, height: 256, columns: 64).rows, 32)
        XCTAssertEqual(TerminalPicture.cells(width: 8, height: 8, columns: 64).cols, 8)
        let tall = TerminalPicture.cells(width: 100, height: 1000, columns: 80, maxRows: 40)
        XCTAssertEqual(tall.rows, 40)
        XCTAssertEqual(tall.cols, 8)
    }

    func testKittyAndSixelFraming() {
        let big = Raster(width: 64, height: 64, fill: (0.2, 0.4, 0.6))
        let kitty = TerminalPicture.kitty(big, columns: 32)
        XCTAssertTrue(kitty.hasPrefix("\u{1B}_Gf=100,a=T,c=32,m="))
        XCTAssertTrue(kitty.hasSuffix("\u{1B}\\\n"))
        let sixel = TerminalPicture.sixel(tiny())
        XCTAssertTrue(sixel.hasPrefix("\u{1B}Pq\"1;1;2;2"))
        XCTAssertTrue(sixel.hasSuffix("\u{1B}\\\n"))
        XCTAssertTrue(sixel.contains("#180;2;100;0;0"))        // red is palette entry 36*5
        XCTAssertEqual(Console.stripANSI(kitty + "text" + sixel), "\ntext\n")
    }

    func testColourMaps() {
        let v0 = ColourMap.viridis.colour(0, range: 0...1), v1 = ColourMap.viridis.colour(1, range: 0...1)
        XCTAssertEqual(v0.0, 0.267, accuracy: 1e-3); XCTAssertEqual(v0.2, 0.329, accuracy: 1e-3)
        XCTAssertEqual(v1.0, 0.993, accuracy: 1e-3); XCTAssertEqual(v1.1, 0.906, accuracy: 1e-3)
        // Diverging: 0 is white-ish, the range symmetric.
        let range = ColourMap.diverging.range(lo: -1, hi: 3)
        XCTAssertEqual(range, -3...3)
        let mid = ColourMap.diverging.colour(0, range: range)
        XCTAssertEqual(mid.0, 0.969, accuracy: 1e-3)
        XCTAssertEqual(ColourMap.automatic(for: -1...2), .diverging)
        XCTAssertEqual(ColourMap.automatic(for: 0...2), .viridis)
    }

    /// Issue 31: NaN and infinities are drawn magenta in every map and every image picture, and
    /// an infinite or NaN range cannot trap (ColourMap.interpolate did, on Float -> Int).
    func testNonFiniteValuesAreDrawnMagentaAndNeverTrap() {
        for map in [ColourMap.viridis, .diverging, .gray] {
            for v in [Float.nan, .infinity, -.infinity] {
                XCTAssertTrue(map.colour(v, range: 0...1) == ColourMap.nonFinite, "\(map) \(v)")
            }
            let wide = map.colour(1e30, range: -3e38...3e38), low = map.colour(-3e38, range: -3e38...3e38)
            XCTAssertTrue([wide.0, wide.1, wide.2, low.0, low.1, low.2].allSatisfy { $0.isFinite && $0 >= 0 && $0 <= 1 })
            XCTAssertTrue(map.colour(5, range: 0...1) == map.colour(1, range: 0...1), "clamped at the top")
        }
        XCTAssertTrue(ColourMap.interpolate(ColourMap.viridisStops, .nan) == ColourMap.viridisStops[0])
        let t = Tensor(zeros: [1, 3, 1, 3])
        t.data[0] = .nan; t.data[4] = .infinity; t.data[2] = 0.25; t.data[5] = 0.25; t.data[8] = 0.25
        let r = Raster.image(t)
        XCTAssertTrue(r.rgb(0, 0) == ColourMap.nonFinite && r.rgb(1, 0) == ColourMap.nonFinite)
        XCTAssertTrue(r.rgb(2, 0) == (0.25, 0.25, 0.25))
        XCTAssertEqual(Raster.nonFinitePixels(t), 2)
        XCTAssertEqual(TerminalPicture.byte(.nan), 0)
    }

    func testCharts() {
        XCTAssertEqual(Charts.bars([0, 1, 2], height: 1), [" ▄█"])
        XCTAssertEqual(Charts.bars([4, 8], height: 2), [" █", "██"])
        XCTAssertEqual(Charts.sparkline([0, 0.5, 1], lo: 0, hi: 1), "▁▅█")
        let values: [Float] = [0, 0.1, 0.5, 0.99, 1]
        XCTAssertEqual(values.withUnsafeBufferPointer { Charts.histogram($0, bins: 2, lo: 0, hi: 1) }, [2, 3])
        let curve = Charts.curve([4, 3, 2, 1], width: 10, height: 4)
        XCTAssertEqual(curve.count, 5)
        XCTAssertTrue(curve[0].hasPrefix("4 ┤█"))
        XCTAssertTrue(curve[4].hasSuffix("└────"))
    }

    func testFeatureGridPNGHasTilesAndAColourBar() throws {
        let t = Tensor(zeros: [1, 4, 8, 8])
        for i in 0..<t.count { t.data[i] = Float(i % 64) / 63 }
        let grid = FeatureGrid(tensor: t, channels: [0, 1, 2, 3], map: .viridis, range: 0...1)
        let r = grid.raster(tile: 8, gap: 1, perRow: 2, labels: false)
        XCTAssertEqual([r.width, r.height], [17, 17])
        XCTAssertEqual(r.rgb(8, 0).0, 0.12, accuracy: 1e-6)        // the gap
        let png = try PNGDecode(grid.png())
        // 8x8 maps are drawn as 64-pixel tiles, 4 across with 4-pixel gaps; above them the title
        // and the legend (24), under them a label row (8) and the colour bar with its numbers (36).
        XCTAssertGreaterThanOrEqual(png.width, 4 * 64 + 3 * 4)      // wider if the legend needs it
        XCTAssertEqual(png.height, 24 + 64 + 8 + 36)
        XCTAssertEqual(grid.legend, "one range for every tile, 0 to 1 (viridis: dark low, bright high)")
    }

    /// Tiles with their own ranges say so: the range under each tile (a second label row), the
    /// bar's ends in words, and the legend.
    func testPerTileRangesAreLabelled() throws {
        let t = Tensor(zeros: [1, 2, 8, 8])
        for i in 0..<64 { t.data[i] = Float(i) / 63; t.data[64 + i] = -2 + 4 * Float(i) / 63 }
        let grid = FeatureGrid(tensor: t, channels: [0, 1], map: .diverging, range: nil, title: "x.enc1 of photo")
        XCTAssertEqual(grid.rangeText(0), "-1..1")
        XCTAssertEqual(grid.rangeText(1), "-2..2")
        XCTAssert(grid.legend.hasPrefix("each tile its own range, -m to +m"), grid.legend)
        let png = try PNGDecode(grid.png())
        XCTAssertEqual(png.height, 24 + 64 + 14 + 36)
        XCTAssertGreaterThanOrEqual(png.width, TinyFont.width("x.enc1 of photo: 2 of 2 channels", scale: 2) + 16)
    }
}

import DRHTImageIO
func PNGDecode(_ bytes: [UInt8]) throws -> LoadedImage { try PNG.decode(bytes, path: "test") }
