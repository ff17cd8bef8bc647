// A tiny, independent PNG writer for tests and the odd-image fuzz family: every colour type and bit depth, optional Adam7
// interlacing and tRNS, zlib "stored" (uncompressed) deflate blocks. It shares no code with
// libpng, so reading its files back checks the decoder against a second implementation.

public enum MiniPNG {
    public static let crcTable: [UInt32] = (0..<256).map { n -> UInt32 in
        var c = UInt32(n)
        for _ in 0..<8 { c = (c & 1) != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
        return c
    }

    public static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for b in bytes { c = crcTable[Int((c ^ UInt32(b)) & 0xFF)] ^ (c >> 8) }
        return c ^ 0xFFFF_FFFF
    }

    public static func be32(_ v: UInt32) -> [UInt8] { [UInt8(v >> 24), UInt8(v >> 16 & 0xFF), UInt8(v >> 8 & 0xFF), UInt8(v & 0xFF)] }

    public static func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
        let body = Array(type.utf8) + data
        return be32(UInt32(data.count)) + body + be32(crc32(body))
    }

    /// zlib stream of stored blocks.
    public static func zlibStored(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = [0x78, 0x01]
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out += [final, UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        var a: UInt32 = 1, b: UInt32 = 0
        for byte in data { a = (a + UInt32(byte)) % 65521; b = (b + a) % 65521 }
        return out + be32(b << 16 | a)
    }

    /// `sample(x, y, channel)` gives each sample's integer value (< 2^bitDepth).
    public static func make(width: Int, height: Int, colorType: Int, bitDepth: Int, interlaced: Bool = false,
                     palette: [(UInt8, UInt8, UInt8)] = [], trns: [UInt8] = [],
                     sample: (Int, Int, Int) -> Int) -> [UInt8] {
        let channels = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][colorType]!
        func scanlines(xs: [Int], ys: [Int]) -> [UInt8] {
            var out: [UInt8] = []
            if xs.isEmpty || ys.isEmpty { return out }
            for y in ys {
                out.append(0) // filter: none
                var bits: [Int] = []
                for x in xs { for c in 0..<channels { bits.append(sample(x, y, c)) } }
                if bitDepth == 16 {
                    for v in bits { out += [UInt8(v >> 8), UInt8(v & 0xFF)] }
                } else if bitDepth == 8 {
                    out += bits.map { UInt8($0) }
                } else {
                    var byte = 0, used = 0
                    for v in bits {
                        byte = byte << bitDepth | v; used += bitDepth
                        if used == 8 { out.append(UInt8(byte)); byte = 0; used = 0 }
                    }
                    if used > 0 { out.append(UInt8(byte << (8 - used))) }
                }
            }
            return out
        }
        var raw: [UInt8] = []
        if interlaced {
            for (x0, y0, dx, dy) in [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)] {
                raw += scanlines(xs: Array(stride(from: x0, to: width, by: dx)), ys: Array(stride(from: y0, to: height, by: dy)))
            }
        } else {
            raw = scanlines(xs: Array(0..<width), ys: Array(0..<height))
        }
        var png: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        png += chunk("IHDR", be32(UInt32(width)) + be32(UInt32(height)) + [UInt8(bitDepth), UInt8(colorType), 0, 0, interlaced ? 1 : 0])
        if !palette.isEmpty { png += chunk("PLTE", palette.flatMap { [$0.0, $0.1, $0.2] }) }
        if !trns.isEmpty { png += chunk("tRNS", trns) }
        png += chunk("IDAT", zlibStored(raw))
        png += chunk("IEND", [])
        return png
    }
}
