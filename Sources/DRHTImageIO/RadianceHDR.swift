// Radiance RGBE (.hdr) read and write for linear float HDR images (Greg Ward's format):
// a text header ("#?RADIANCE", "FORMAT=32-bit_rle_rgbe", a blank line), a resolution line
// "-Y H +X W", then H scanlines of RGBE pixels, flat or run-length encoded per component.
// A pixel (R, G, B, E) means (R + 0.5, G + 0.5, B + 0.5) * 2^(E - 136); E = 0 is black.
import DRHTEngine
import Foundation

public enum RadianceHDR {
    /// Decodes .hdr bytes to linear RGB radiance, (1, 3, H, W).
    public static func decode(_ bytes: [UInt8], path: String) throws -> LoadedImage {
        var pixels = Tensor(zeros: [1, 3, 0, 0])
        try walk(bytes, path: path, prepare: { w, h in pixels = Tensor(zeros: [1, 3, h, w]) }) { y, rgb in
            let plane = pixels.h * pixels.w, w = pixels.w
            for c in 0..<3 { (pixels.data + c * plane + y * w).update(from: rgb + c * w, count: w) }
        }
        return LoadedImage(pixels: pixels, format: .radiance, bitDepth: 32, channels: 3, details: ["RGBE"])
    }

    /// The header and per-channel statistics, one scanline at a time: an old-style run of a few
    /// bytes may repeat a pixel a whole row, so a 100-KB file can declare 100 megapixels.
    static func summary(_ bytes: [UInt8], path: String) throws -> ImageSummary {
        var channels = [TensorStats.Accumulator](repeating: .init(), count: 3)
        var size = (0, 0)
        try walk(bytes, path: path, prepare: { w, h in size = (w, h) }) { _, rgb in
            for c in 0..<3 { for x in 0..<size.0 { channels[c].add(rgb[c * size.0 + x]) } }
        }
        return ImageSummary(format: .radiance, width: size.0, height: size.1, bitDepth: 32, channels: 3, details: ["RGBE"],
                            stats: channels.map(\.stats), note: nil)
    }

    /// Parses the header, walks every scanline once storing nothing (a truncated or corrupt file is
    /// refused before anything its header declares is allocated), calls `prepare(width, height)`,
    /// then decodes each scanline and hands `row(y, rgb)` its planar R, G, B floats (y from the top).
    static func walk(_ bytes: [UInt8], path: String, prepare: (Int, Int) -> Void,
                     row each: (Int, UnsafePointer<Float>) -> Void) throws {
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        func truncated(_ detail: String) -> ImageIOError { .truncated(path: path, format: "Radiance HDR", detail: detail) }
        func corrupt(_ detail: String) -> ImageIOError { .corrupt(path: path, format: "Radiance HDR", detail: detail) }

        // Header: lines up to a blank line, then the resolution line.
        var pos = 0
        func readLine() -> String? {
            guard pos < bytes.count else { return nil }
            let start = pos
            while pos < bytes.count && bytes[pos] != 0x0A {
                pos += 1
                if pos - start > 4096 { return nil }
            }
            guard pos < bytes.count else { return nil }
            let line = String(decoding: bytes[start..<pos], as: UTF8.self)
            pos += 1
            return line
        }
        guard let magic = readLine() else { throw truncated("no complete header") }
        guard magic.hasPrefix("#?") else { throw ImageIOError.notAnImage(path: path) }
        var lines = 0
        while true {
            guard let line = readLine() else { throw truncated("header does not end") }
            if line.isEmpty { break }
            lines += 1
            if lines > 1000 { throw corrupt("header has no end") }
            if line.hasPrefix("FORMAT="), line != "FORMAT=32-bit_rle_rgbe" {
                throw ImageIOError.unsupported(path: path, detail: "Radiance pixel format \(line.dropFirst(7)) is not supported; use 32-bit_rle_rgbe")
            }
        }
        guard let resolution = readLine() else { throw truncated("no resolution line") }
        let parts = resolution.split(separator: " ")
        guard parts.count == 4, let h = Int(parts[1]), let w = Int(parts[3]),
              parts[2] == "+X", parts[0] == "-Y" || parts[0] == "+Y" else {
            if parts.count == 4, Int(parts[1]) != nil, Int(parts[3]) != nil {
                throw ImageIOError.unsupported(path: path, detail: "Radiance orientation '\(resolution)' is not supported; use -Y H +X W")
            }
            throw corrupt("bad resolution line '\(resolution.prefix(40))'")
        }
        try checkPixelCount(w, h, path: path)
        let flipY = parts[0] == "+Y"

        // Two passes: the first walks every scanline storing nothing, so a truncated or corrupt
        // file is refused before the size its header declares is allocated (a 100-byte file
        // may declare 100 megapixels: 1.2 GB of floats); the second decodes.
        var scan = [UInt8]()                                 // one scanline, RGBE interleaved
        func scanlines(store: Bool, _ done: (Int) -> Void) throws {
            for row in 0..<h {
                if pos + 4 <= bytes.count, w >= 8, w < 0x8000, bytes[pos] == 2, bytes[pos + 1] == 2, bytes[pos + 2] & 0x80 == 0 {
                    // New-style RLE: four runs of components, each covering the whole scanline.
                    let declared = Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3])
                    guard declared == w else { throw corrupt("scanline \(row) declares width \(declared), not \(w)") }
                    pos += 4
                    for comp in 0..<4 {
                        var x = 0
                        while x < w {
                            guard pos < bytes.count else { throw truncated("ends in scanline \(row)") }
                            var count = Int(bytes[pos]); pos += 1
                            if count > 128 {
                                count -= 128
                                guard count > 0, x + count <= w else { throw corrupt("run overflows scanline \(row)") }
                                guard pos < bytes.count else { throw truncated("ends in scanline \(row)") }
                                let v = bytes[pos]; pos += 1
                                if store { for i in 0..<count { scan[(x + i) * 4 + comp] = v } }
                            } else {
                                guard count > 0, x + count <= w else { throw corrupt("literal run overflows scanline \(row)") }
                                guard pos + count <= bytes.count else { throw truncated("ends in scanline \(row)") }
                                if store { for i in 0..<count { scan[(x + i) * 4 + comp] = bytes[pos + i] } }
                                pos += count
                            }
                            x += count
                        }
                    }
                } else {
                    // Flat pixels, possibly with old-style runs (1, 1, 1, n) repeating the last pixel.
                    var x = 0, shift = 0
                    while x < w {
                        guard pos + 4 <= bytes.count else { throw truncated("ends in scanline \(row)") }
                        if bytes[pos] == 1, bytes[pos + 1] == 1, bytes[pos + 2] == 1 {
                            guard x > 0 else { throw corrupt("run with no pixel before it in scanline \(row)") }
                            guard shift <= 24 else { throw corrupt("run length overflows in scanline \(row)") }
                            let count = Int(bytes[pos + 3]) << shift
                            guard x + count <= w else { throw corrupt("run overflows scanline \(row)") }
                            if store { for i in 0..<count { for c in 0..<4 { scan[(x + i) * 4 + c] = scan[(x - 1) * 4 + c] } } }
                            x += count; shift += 8
                        } else {
                            if store { for c in 0..<4 { scan[x * 4 + c] = bytes[pos + c] } }
                            x += 1; shift = 0
                        }
                        pos += 4
                    }
                }
                done(row)
            }
        }
        let dataStart = pos
        try scanlines(store: false) { _ in }
        pos = dataStart
        prepare(w, h)
        scan = [UInt8](repeating: 0, count: w * 4)
        let rgb = UnsafeMutablePointer<Float>.allocate(capacity: 3 * w)
        defer { rgb.deallocate() }
        try scanlines(store: true) { row in
            rgb.update(repeating: 0, count: 3 * w)
            for x in 0..<w {
                let e = Int(scan[x * 4 + 3])
                if e == 0 { continue }
                let f = ldexpf(1, Int32(e - 136))
                rgb[x] = (Float(scan[x * 4]) + 0.5) * f
                rgb[w + x] = (Float(scan[x * 4 + 1]) + 0.5) * f
                rgb[2 * w + x] = (Float(scan[x * 4 + 2]) + 0.5) * f
            }
            each(flipY ? h - 1 - row : row, rgb)
        }
    }

    /// One linear RGB value as RGBE bytes (the shared exponent of the largest component).
    static func rgbe(_ r: Float, _ g: Float, _ b: Float) -> (UInt8, UInt8, UInt8, UInt8) {
        let clean = { (v: Float) -> Float in v.isFinite ? max(v, 0) : (v > 0 ? Float.greatestFiniteMagnitude : 0) }
        let (r, g, b) = (clean(r), clean(g), clean(b))
        let v = max(r, g, b)
        if v < 1e-32 { return (0, 0, 0, 0) }
        let e = Int(v.exponent) + 1                  // v = m * 2^e with m in [0.5, 1)
        if e > 127 { return (255, 255, 255, 255) }
        let scale = ldexpf(1, Int32(8 - e))          // 256 / 2^e
        func q(_ c: Float) -> UInt8 { UInt8(Int(clamping: c * scale, to: 0...255)) }
        return (q(r), q(g), q(b), UInt8(e + 128))
    }

    /// Encodes (1, 3, H, W) / (3, H, W) linear radiance; `rle` uses new-style run-length encoding.
    public static func encode(_ t: Tensor, rle: Bool = true) throws -> [UInt8] {
        let (c, h, w) = try planarShape(t)
        guard c == 3 else {
            throw ImageIOError.unsupported(path: "", detail: "a Radiance .hdr needs 3 channels, this tensor has \(c)")
        }
        let plane = h * w
        var out = Array("#?RADIANCE\n# Made by drht\nFORMAT=32-bit_rle_rgbe\n\n-Y \(h) +X \(w)\n".utf8)
        out.reserveCapacity(out.count + plane * 4)
        var scan = [UInt8](repeating: 0, count: w * 4)
        let useRLE = rle && w >= 8 && w < 0x8000
        for y in 0..<h {
            for x in 0..<w {
                let i = y * w + x
                let (r, g, b, e) = rgbe(t.data[i], t.data[plane + i], t.data[2 * plane + i])
                scan[x * 4] = r; scan[x * 4 + 1] = g; scan[x * 4 + 2] = b; scan[x * 4 + 3] = e
            }
            if !useRLE { out += scan; continue }
            out += [2, 2, UInt8(w >> 8), UInt8(w & 0xFF)]
            for comp in 0..<4 { appendRuns(&out, scan: scan, comp: comp, width: w) }
        }
        return out
    }

    /// Run-length encodes one component of a scanline: runs of 4 or more identical bytes as
    /// (128 + n, value), everything else as literal stretches (n, bytes...), n <= 127/128.
    private static func appendRuns(_ out: inout [UInt8], scan: [UInt8], comp: Int, width w: Int) {
        func at(_ x: Int) -> UInt8 { scan[x * 4 + comp] }
        var x = 0
        while x < w {
            // Find the next run of at least 4.
            var runStart = x, runLength = 0
            while runStart < w {
                runLength = 1
                while runStart + runLength < w && runLength < 127 && at(runStart + runLength) == at(runStart) { runLength += 1 }
                if runLength >= 4 { break }
                runStart += runLength
            }
            if runStart >= w { runStart = w; runLength = 0 }
            // Literals before the run.
            while x < runStart {
                let n = min(128, runStart - x)
                out.append(UInt8(n))
                for i in 0..<n { out.append(at(x + i)) }
                x += n
            }
            if runLength >= 4 {
                out.append(UInt8(128 + runLength)); out.append(at(runStart))
                x = runStart + runLength
            }
        }
    }
}
