import XCTest
import DRHTTestSupport
import DRHTEngine
import DRHTFuzz
@testable import DRHTImageIO

/// Every broken input is rejected with the right typed error (never a crash, hang or
/// allocation of what a forged header declares).
final class BrokenFileTests: TempDirTestCase {
    func expect(_ bytes: [UInt8], name: String = "broken.png", _ check: (ImageIOError) -> Bool,
                _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        let path = self.file(name, bytes)
        do {
            let img = try ImageIO.read(path)
            XCTFail("\(what): read a \(img.width)x\(img.height) image instead of failing", file: file, line: line)
        } catch let e as ImageIOError {
            XCTAssertTrue(check(e), "\(what): wrong error \(e)", file: file, line: line)
            XCTAssertFalse(e.description.contains("\n"), "one line", file: file, line: line)
            XCTAssertTrue(e.description.hasPrefix(path), "names the file", file: file, line: line)
        } catch {
            XCTFail("\(what): untyped error \(error)", file: file, line: line)
        }
    }

    func isTruncated(_ e: ImageIOError) -> Bool { if case .truncated = e { return true }; return false }
    func isCorrupt(_ e: ImageIOError) -> Bool { if case .corrupt = e { return true }; return false }
    func isTruncatedOrCorrupt(_ e: ImageIOError) -> Bool { isTruncated(e) || isCorrupt(e) }
    func isTooMany(_ e: ImageIOError) -> Bool { if case .tooManyPixels = e { return true }; return false }

    var goodPNG: [UInt8] { MiniPNG.make(width: 40, height: 30, colorType: 2, bitDepth: 8) { x, y, c in (x + y * c) % 256 } }

    /// Issue 13: a FIFO (or device) is refused at once, never opened for a blocking read.
    func testSpecialFilesAreRefusedWithoutBlocking() {
        let fifo = dir + "/pipe.png"
        XCTAssertEqual(mkfifo(fifo, 0o600), 0)
        let started = Date()
        XCTAssertThrowsError(try ImageIO.read(fifo)) { e in
            guard case ImageIOError.cannotOpen(_, let reason) = e, reason.contains("FIFO") else { return XCTFail("\(e)") }
            XCTAssertTrue("\(e)".hasPrefix("\(fifo): cannot open (it is a FIFO (named pipe), not a regular file)"), "\(e)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(started), 1)
        XCTAssertThrowsError(try AtomicFile.read("/dev/zero")) { e in
            guard case ImageIOError.cannotOpen(_, let reason) = e, reason.contains("device") else { return XCTFail("\(e)") }
        }
    }

    /// Issue 13: a .npy image of 0 x 0 (or 5 x 0) pixels is refused at load (the REPL's `show` trapped on it).
    func testNPYWithoutPixelsIsRefused() {
        for shape in [[0, 0, 3], [5, 0, 3], [3, 0, 4]] {
            let t = Tensor(zeros: shape)
            let bytes = NPY.encode(t)
            expect(bytes, name: "empty\(shape.count).npy", { e in
                if case .unsupported(_, let detail) = e { return detail.contains("no pixels") }; return false
            }, "shape \(shape)")
        }
    }

    func testEmptyAndTextAndMissingAndFolder() {
        expect([], { $0 == .empty(path: self.dir + "/broken.png") }, "zero bytes")
        expect(Array("hello, I am text\n".utf8), { if case .notAnImage = $0 { return true }; return false }, "text named .png")
        XCTAssertThrowsError(try ImageIO.read(dir + "/missing.png")) { e in
            guard case ImageIOError.cannotOpen = e else { return XCTFail("\(e)") }
        }
        XCTAssertThrowsError(try ImageIO.read(dir)) { e in
            guard case ImageIOError.cannotOpen(_, let reason) = e, reason.contains("folder") else { return XCTFail("\(e)") }
        }
    }

    func testTruncatedPNGAtSeveralOffsets() {
        let png = goodPNG
        for cut in [8, 12, 20, 33, 40, png.count / 2, png.count - 20, png.count - 12] {
            expect(Array(png[0..<cut]), isTruncatedOrCorrupt, "PNG cut at \(cut)")
        }
        expect(Array(png[0..<(png.count / 2)]), isTruncated, "PNG cut in IDAT is reported as truncated")
    }

    func testFlippedBytesInPNGFailTheCRC() {
        for offset in [17, 30, 60, goodPNG.count / 2] {
            var png = goodPNG
            png[offset] ^= 0x5A
            expect(png, isCorrupt, "PNG byte \(offset) flipped")
        }
    }

    func testHugeDeclaredPNGIsRefusedBeforeAllocation() {
        var png = goodPNG
        // Rewrite IHDR as 20000 x 20000 (400 megapixels) with a valid CRC.
        let ihdr = MiniPNG.chunk("IHDR", MiniPNG.be32(20000) + MiniPNG.be32(20000) + [8, 2, 0, 0, 0])
        png.replaceSubrange(8..<33, with: ihdr)
        expect(png, isTooMany, "400 MP PNG")
    }

    /// Issue 31: a 1-KB PNG declaring 10000 x 10000 RGBA 16-bit with no pixel data peaked at
    /// ~790 MB before saying "truncated"; the IDAT chunks bound what it can hold (deflate
    /// expands at most ~1032:1), so it is refused before allocating. A real file at the bound passes.
    func testPNGDeclaringMoreThanItsDataCanHoldIsRefusedBeforeAllocation() throws {
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += MiniPNG.chunk("IHDR", MiniPNG.be32(10_000) + MiniPNG.be32(10_000) + [16, 6, 0, 0, 0])
        png += MiniPNG.chunk("IDAT", MiniPNG.zlibStored([]))
        png += MiniPNG.chunk("IEND", [])
        let before = peakMB()
        expect(png, isTruncated, "10000 x 10000 RGBA16 without data")
        XCTAssertLessThan(peakMB(), max(before, 1024) + 50, "peak memory grew")
        do {
            _ = try PNG.decode(png, path: "huge.png")
            XCTFail("decoded")
        } catch {
            XCTAssertTrue("\(error)".contains("800,000,000 bytes of pixel data"), "\(error)")
            XCTAssertTrue("\(error)".contains("which expand to at most"), "\(error)")
        }
        XCTAssertEqual(PNG.idatBytes(png), 11)                         // zlib header, one empty stored block, Adler-32
        // A flat 2000 x 2000 gray image deflates ~190:1 (libpng's default level) and is read.
        let flat = try PNG.encode(Tensor(shape: [2000, 2000], repeating: 0.5))
        XCTAssertLessThan(flat.count, 40_000)
        XCTAssertEqual(try PNG.decode(flat, path: "flat.png").pixels.shape, [1, 3, 2000, 2000])
    }

    /// The same for JPEG: Huffman coding spends at least a bit per 8x8 block, so a byte of scan
    /// data holds at most 512 pixels; a header forged to 9000 x 9000 is refused before decoding.
    func testJPEGDeclaringMoreThanItsScanDataCanHoldIsRefused() throws {
        let t = Tensor(zeros: [1, 3, 16, 24])
        var jpeg = try JPEG.encode(t)
        let (scan, arithmetic) = JPEG.scanData(jpeg)
        XCTAssertFalse(arithmetic)
        XCTAssertGreaterThan(scan, 2)
        XCTAssertLessThan(scan, jpeg.count)
        guard let sof = (0..<(jpeg.count - 1)).first(where: { jpeg[$0] == 0xFF && jpeg[$0 + 1] == 0xC0 }) else { return XCTFail("no SOF0") }
        for (offset, v) in [(5, 9000), (7, 9000)] { jpeg[sof + offset] = UInt8(v >> 8); jpeg[sof + offset + 1] = UInt8(v & 0xFF) }
        expect(jpeg, name: "forged.jpg", isTruncated, "9000 x 9000 JPEG of 16 x 24 data")
        XCTAssertThrowsError(try JPEG.decode(jpeg, path: "forged.jpg")) {
            XCTAssertTrue("\($0)".contains("81,000,000 pixels) but holds only"), "\($0)")
        }
        XCTAssertEqual(JPEG.scanData(Array(jpeg[0..<sof])).bytes, 0, "no scan: nothing")
    }

    /// `drht info`'s summary reads PNG (not interlaced) and JPEG row by row: the same statistics
    /// as decoding whole, for every colour type and depth; an interlaced PNG is decoded whole.
    func testRowByRowStatisticsEqualTheWholeDecode() throws {
        let kinds: [(Int, Int)] = [(0, 8), (0, 16), (2, 8), (2, 16), (4, 8), (6, 8), (6, 16), (0, 1)]
        var files: [(String, [UInt8])] = kinds.map { colorType, depth in
            ("k\(colorType)-\(depth).png", MiniPNG.make(width: 37, height: 11, colorType: colorType, bitDepth: depth) { x, y, c in
                (x * 7 + y * 13 + c * 29) % (1 << depth) })
        }
        files.append(("interlaced.png", MiniPNG.make(width: 37, height: 11, colorType: 2, bitDepth: 8, interlaced: true) { x, y, c in (x + y + c) % 256 }))
        let picture = Tensor(zeros: [1, 3, 16, 24])
        for i in 0..<picture.count { picture.data[i] = Float(i % 97) / 97 }
        files.append(("photo.jpg", try JPEG.encode(picture)))
        try inTemporaryDirectory {
            for (name, bytes) in files {
                try AtomicFile.write(bytes, to: name)
                let whole = try ImageIO.read(name), summary = try ImageIO.summary(name)
                XCTAssertEqual(summary.stats, (0..<3).map { whole.pixels.channelStats($0) }, name)
                XCTAssertEqual([summary.width, summary.height, summary.channels, summary.bitDepth],
                               [whole.width, whole.height, whole.channels, whole.bitDepth], name)
                XCTAssertEqual(summary.details, whole.details, name)
            }
        }
    }

    /// Peak resident memory of this process so far, in MB.
    func peakMB() -> Int { var u = rusage(); getrusage(RUSAGE_SELF.rawValue, &u); return u.ru_maxrss / 1024 }

    /// Issue 13: a 69-byte PNG declaring 2147483647 x 1 pixels made libpng allocate a 6 GB row
    /// buffer (40 s) before the 100-megapixel refusal; the size is now checked before that.
    func testForgedWidePNGIsRefusedWithoutAllocating() {
        var png = goodPNG
        png.replaceSubrange(8..<33, with: MiniPNG.chunk("IHDR", MiniPNG.be32(2_147_483_647) + MiniPNG.be32(1) + [8, 2, 0, 0, 0]))
        let before = peakMB(), started = Date()
        expect(png, isTooMany, "2^31 x 1 PNG")
        XCTAssertLessThan(Date().timeIntervalSince(started), 2)
        XCTAssertLessThan(peakMB(), max(before, 1024) + 100, "peak memory grew")
    }

    /// Issue 13: a truncated Radiance file declaring 100 megapixels is refused before 1.2 GB is allocated.
    func testTruncatedRadianceIsRefusedBeforeItsDeclaredSizeIsAllocated() {
        let header = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
        let before = peakMB()
        expect(Array((header + "-Y 10000 +X 10000\n").utf8) + [2, 2, 0x27, 0x10, 130, 7], name: "big.hdr", isTruncated, "100 MP, 6 data bytes")
        expect(Array((header + "-Y 10000 +X 10000\n").utf8) + [9, 9, 9, 128, 1, 1, 1, 255], name: "flat.hdr", isTruncated, "100 MP flat")
        XCTAssertLessThan(peakMB(), max(before, 1024) + 100, "peak memory grew")
        // Old-style runs whose length would overflow are corrupt, not a hang.
        let runs: [UInt8] = [9, 9, 9, 128] + Array(repeating: [1, 1, 1, 255], count: 9).flatMap { $0 }
        expect(Array((header + "-Y 1 +X 100\n").utf8) + runs, name: "runs.hdr", isCorrupt, "old-style run overflow")
    }

    var goodJPEG: [UInt8] {
        let t = Tensor(zeros: [1, 3, 32, 48])
        for i in 0..<t.count { t.data[i] = Float(i % 97) / 97 }
        return try! JPEG.encode(t)
    }

    func testBrokenJPEGs() {
        let jpg = goodJPEG
        for cut in [3, 20, 200, jpg.count / 2, jpg.count - 2] {
            expect(Array(jpg[0..<cut]), name: "b.jpg", isTruncatedOrCorrupt, "JPEG cut at \(cut)")
        }
        expect(Array(jpg[0..<(jpg.count / 2)]), name: "b.jpg", isTruncated, "JPEG cut in the scan is reported as truncated")
        // Forge a 65000 x 65000 frame header (SOF0: FF C0, length, precision, height, width).
        var huge = jpg
        if let sof = (0..<(huge.count - 1)).first(where: { huge[$0] == 0xFF && huge[$0 + 1] == 0xC0 }) {
            huge[sof + 5] = 0xFD; huge[sof + 6] = 0xE8; huge[sof + 7] = 0xFD; huge[sof + 8] = 0xE8
            expect(huge, name: "b.jpg", isTooMany, "65000^2 JPEG")
        } else { XCTFail("no SOF0") }
        var bad = jpg
        if let sof = (0..<(bad.count - 1)).first(where: { bad[$0] == 0xFF && bad[$0 + 1] == 0xC0 }) {
            bad[sof + 9] = 7 // 7 components: libjpeg refuses the frame
            expect(bad, name: "b.jpg", isCorrupt, "bad component count")
        }
    }

    func testBrokenRadianceFiles() throws {
        let t = Tensor(shape: [1, 3, 10, 20], repeating: 0.7)
        let hdr = try RadianceHDR.encode(t)
        for cut in [5, 30, hdr.count / 2, hdr.count - 1] {
            expect(Array(hdr[0..<cut]), name: "b.hdr", isTruncated, "HDR cut at \(cut)")
        }
        let header = "#?RADIANCE\nFORMAT=32-bit_rle_rgbe\n\n"
        expect(Array((header + "-Y 300000 +X 300000\n").utf8), name: "b.hdr", isTooMany, "huge HDR")
        expect(Array((header + "-Y ten +X 20\n").utf8), name: "b.hdr", isCorrupt, "bad resolution")
        // An RLE run longer than the scanline.
        expect(Array((header + "-Y 1 +X 8\n").utf8) + [2, 2, 0, 8, 128 + 100, 1], name: "b.hdr", isCorrupt, "run overflow")
        expect(Array("#?RADIANCE\nFORMAT=32-bit_rle_xyze\n\n-Y 1 +X 1\n".utf8) + [1, 1, 1, 1], name: "b.hdr",
               { if case .unsupported = $0 { return true }; return false }, "XYZE")
    }

    /// Issue 13: header text with control characters is escaped in the one-line error.
    func testControlCharactersFromHeadersAreEscaped() {
        let esc = Array("#?RADIANCE\nFORMAT=\u{1B}[2J\u{1B}[31mred\n\n-Y 1 +X 1\n".utf8) + [1, 1, 1, 1]
        expect(esc, name: "esc.hdr", { e in
            guard case .unsupported = e else { return false }
            return !e.description.contains("\u{1B}") && e.description.contains("\\x1b[2J")
        }, "ESC in FORMAT")
        var bytes: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, \u{1B}[31m, 3), }"
        var h = Array(header.utf8); while (10 + h.count + 1) % 64 != 0 { h.append(0x20) }; h.append(0x0A)
        bytes += [UInt8(h.count & 0xFF), UInt8(h.count >> 8)] + h + [UInt8](repeating: 0, count: 24)
        expect(bytes, name: "esc.npy", { e in
            guard case .corrupt = e else { return false }
            return !e.description.contains("\u{1B}") && e.description.contains("\\x1b[31m")
        }, "ESC in an .npy shape")
    }

    func testBrokenNPY() {
        let npy = NPY.encode(Tensor(zeros: [4, 4, 3]))
        expect(Array(npy[0..<(npy.count - 5)]), name: "b.npy", isTruncated, "short data")
        expect(Array(npy[0..<9]), name: "b.npy", isTruncated, "short header")
    }

    func testFileOverTheSizeLimit() throws {
        let path = file("big.png", [0x89])
        XCTAssertThrowsError(try AtomicFile.read(path, limit: 0)) { e in
            guard case ImageIOError.tooBig = e else { return XCTFail("\(e)") }
        }
    }
}

/// Text from files and command lines is printed escaped and bounded.
final class PrintableTests: XCTestCase {
    func testControlCharactersAreEscapedAndLengthIsBounded() {
        XCTAssertEqual(printable("plain ünïcode ✓"), "plain ünïcode ✓")
        XCTAssertEqual(printable("a\u{1B}[31mred\nb\tc\r\u{7F}"), "a\\x1b[31mred\\nb\\tc\\r\\x7f")
        XCTAssertEqual(printable("x\u{85}y\u{202E}z"), "x\\u{85}y\\u{202e}z")
        XCTAssertEqual(printable(String(repeating: "a", count: 100), limit: 5), "aaaaa… (100 characters)")
        XCTAssertFalse(printable(String(repeating: "\n", count: 1000)).contains("\n"))
    }
}
