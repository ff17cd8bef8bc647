import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTFuzz
@testable import DRHTImageIO


final class PNGReadTests: TempDirTestCase {
    func read(_ bytes: [UInt8]) throws -> LoadedImage { try ImageIO.read(file("t.png", bytes)) }

    func test8BitGrayIsReplicated() throws {
        let png = MiniPNG.make(width: 5, height: 3, colorType: 0, bitDepth: 8) { x, y, _ in x * 50 + y }
        let img = try read(png)
        XCTAssertEqual(img.pixels.shape, [1, 3, 3, 5])
        XCTAssertEqual(img.channels, 1); XCTAssertEqual(img.bitDepth, 8)
        for c in 0..<3 { XCTAssertEqual(img.pixels[0, c, 2, 4], Float(202) / 255, accuracy: 1e-7) }
    }

    func testLowBitDepthGrayIsScaled() throws {
        for depth in [1, 2, 4] {
            let maxV = (1 << depth) - 1
            let png = MiniPNG.make(width: 9, height: 2, colorType: 0, bitDepth: depth) { x, _, _ in x % (maxV + 1) }
            let img = try read(png)
            for x in 0..<9 {
                XCTAssertEqual(img.pixels[0, 1, 1, x], Float(x % (maxV + 1)) / Float(maxV), accuracy: 1e-6, "depth \(depth) x \(x)")
            }
        }
    }

    func testGrayAlphaCompositesOnBlack() throws {
        let png = MiniPNG.make(width: 2, height: 1, colorType: 4, bitDepth: 8) { x, _, c in c == 0 ? 200 : (x == 0 ? 255 : 51) }
        let img = try read(png)
        XCTAssertEqual(img.channels, 2)
        XCTAssertEqual(img.pixels[0, 0, 0, 0], 200.0 / 255, accuracy: 1e-6)
        XCTAssertEqual(img.pixels[0, 2, 0, 1], 200.0 / 255 * 51.0 / 255, accuracy: 1e-6)
    }

    func test16BitRGBKeepsFullPrecision() throws {
        let png = MiniPNG.make(width: 4, height: 4, colorType: 2, bitDepth: 16) { x, y, c in 1000 * x + 10000 * y + c + 1 }
        let img = try read(png)
        XCTAssertEqual(img.bitDepth, 16)
        XCTAssertEqual(img.pixels[0, 2, 3, 2], Float(2000 + 30000 + 3) / 65535, accuracy: 1e-7)
    }

    func testRGBAAnd16BitRGBA() throws {
        for depth in [8, 16] {
            let full = (1 << depth) - 1
            let png = MiniPNG.make(width: 3, height: 1, colorType: 6, bitDepth: depth) { x, _, c in c == 3 ? (x == 1 ? 0 : full) : full / 2 }
            let img = try read(png)
            XCTAssertEqual(img.channels, 4)
            XCTAssertEqual(img.pixels[0, 0, 0, 0], Float(full / 2) / Float(full), accuracy: 1e-6)
            XCTAssertEqual(img.pixels[0, 0, 0, 1], 0, "transparent composites to black")
        }
    }

    func testPaletteWithTransparency() throws {
        let palette: [(UInt8, UInt8, UInt8)] = [(255, 0, 0), (0, 255, 0), (10, 20, 30)]
        let png = MiniPNG.make(width: 3, height: 2, colorType: 3, bitDepth: 4, palette: palette, trns: [255, 0]) { x, _, _ in x }
        let img = try read(png)
        XCTAssertTrue(img.details.contains("palette"))
        XCTAssertEqual(img.pixels[0, 0, 1, 0], 1)                     // red, opaque
        XCTAssertEqual(img.pixels[0, 1, 1, 1], 0, "green with alpha 0 composites to black")
        XCTAssertEqual(img.pixels[0, 2, 1, 2], 30.0 / 255, accuracy: 1e-7)
    }

    func testInterlacedEqualsNonInterlaced() throws {
        let f = { (x: Int, y: Int, c: Int) -> Int in (x * 13 + y * 7 + c * 50) % 256 }
        let a = try read(MiniPNG.make(width: 13, height: 11, colorType: 2, bitDepth: 8, interlaced: true, sample: f))
        let b = try read(MiniPNG.make(width: 13, height: 11, colorType: 2, bitDepth: 8, sample: f))
        XCTAssertTrue(a.details.contains("interlaced"))
        XCTAssertEqual(a.pixels.array, b.pixels.array)
        XCTAssertEqual(a.pixels[0, 1, 10, 12], Float((12 * 13 + 10 * 7 + 50) % 256) / 255, accuracy: 1e-7)
    }
}

final class RoundTripTests: TempDirTestCase {
    func testPNG8And16BitRoundTrip() throws {
        let t = gradient(37, 21)
        for bits in [8, 16] {
            let path = dir + "/rt\(bits).png"
            try ImageIO.write(t, to: path, bits: bits)
            let back = try ImageIO.read(path)
            XCTAssertEqual(back.bitDepth, bits)
            assertClose(back.pixels.array, t.array, rtol: 0, atol: bits == 8 ? 0.5 / 255 + 1e-6 : 0.5 / 65535 + 1e-7, "png \(bits)")
        }
    }

    func testPNGGrayForSingleChannelMaps() throws {
        let t = Tensor(shape: [4, 3], values: [0, 0.5, 1, 0.25, 0.75, 1, 0, 0, 0.1, 0.2, 0.3, 0.4])
        let path = dir + "/map.png"
        try ImageIO.write(t, to: path)
        let back = try ImageIO.read(path)
        XCTAssertEqual(back.channels, 1)
        assertClose(Array(back.pixels.array[0..<12]), t.array, rtol: 0, atol: 0.5 / 255 + 1e-6, "gray")
    }

    func testJPEGBaselineAndProgressiveRoundTrip() throws {
        let t = gradient(64, 48)
        for progressive in [false, true] {
            let path = file("rt\(progressive).jpg", try JPEG.encode(t, quality: 98, progressive: progressive))
            let back = try ImageIO.read(path)
            XCTAssertEqual(back.details, [progressive ? "progressive encoding" : "baseline encoding"])
            XCTAssertEqual(back.pixels.shape, [1, 3, 48, 64])
            // Lossy: the mean error stays small.
            var err: Float = 0
            for i in 0..<t.count { err += abs(back.pixels.data[i] - t.data[i]) }
            XCTAssertLessThan(err / Float(t.count), 0.02)
        }
    }

    func testRadianceRoundTripWithAndWithoutRLE() throws {
        let t = gradient(40, 9)
        for i in 0..<t.count { t.data[i] = powf(10, 4 * t.data[i] - 2) }   // 0.01 ... 100
        for i in 0..<20 { t.data[i] = 0 }                                     // a black run
        for rle in [true, false] {
            let path = file("rt\(rle).hdr", try RadianceHDR.encode(t, rle: rle))
            let back = try ImageIO.read(path)
            XCTAssertEqual(back.format, .radiance)
            for i in 0..<t.count {
                // RGBE keeps 8 mantissa bits of the largest component of each pixel.
                let px = i % (40 * 9)
                let peak = max(t.data[px], t.data[360 + px], t.data[720 + px])
                XCTAssertEqual(back.pixels.data[i], t.data[i], accuracy: peak / 128 + 1e-30, "rle \(rle) element \(i)")
            }
        }
        // RLE actually compresses a flat image.
        XCTAssertLessThan(try RadianceHDR.encode(Tensor(shape: [1, 3, 16, 64], repeating: 0.5), rle: true).count,
                          try RadianceHDR.encode(Tensor(shape: [1, 3, 16, 64], repeating: 0.5), rle: false).count / 4)
    }

    func testRGBEEncodingOfKnownValues() {
        XCTAssertTrue(RadianceHDR.rgbe(1, 0.5, 0) == (128, 64, 0, 129))
        XCTAssertTrue(RadianceHDR.rgbe(0, 0, 0) == (0, 0, 0, 0))
    }

    func testNPYWriteIsNumPyLayoutAndReadsBack() throws {
        let t = Tensor(shape: [2, 3], values: [1, 2, 3, 4, 5, -6.5])
        let bytes = NPY.encode(t)
        XCTAssertEqual(Array(bytes[0..<8]), [0x93] + Array("NUMPY".utf8) + [1, 0])
        let headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
        XCTAssertEqual((10 + headerLength) % 64, 0, "header padded to 64 bytes")
        let header = String(decoding: bytes[10..<(10 + headerLength)], as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"))
        XCTAssertTrue(header.hasSuffix("\n"))
        XCTAssertEqual(Array(bytes[(10 + headerLength)..<(14 + headerLength)]), [0, 0, 0x80, 0x3F], "1.0 little-endian")
        let path = dir + "/t.npy"
        try ImageIO.write(t, to: path)
        let back = try NPY.decode(try AtomicFile.read(path), path: path)
        XCTAssertEqual(back.shape, [2, 3]); XCTAssertEqual(back.array, t.array)
        XCTAssertTrue(String(decoding: NPY.encode(Tensor(zeros: [5])), as: UTF8.self).contains("'shape': (5,)"))
    }

    func testAtomicWriteLeavesNoTempFileAndKeepsOldFileOnFailure() throws {
        let path = dir + "/out.png"
        try ImageIO.write(gradient(8, 8), to: path)
        // A tensor that cannot be an image fails before anything is written.
        XCTAssertThrowsError(try ImageIO.write(Tensor(zeros: [1, 5, 8, 8]), to: path))
        XCTAssertEqual(try ImageIO.read(path).width, 8, "old file intact")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["out.png"], "no temp files left")
        XCTAssertThrowsError(try ImageIO.write(gradient(4, 4), to: dir + "/no/such/folder/x.png")) { e in
            guard case ImageIOError.cannotWrite = e else { return XCTFail("\(e)") }
        }
    }
}
