// JPEG read (baseline and progressive, gray or colour) and write, through the CJPEG shim.
import CJPEG
import DRHTEngine

public enum JPEG {
    /// Decodes JPEG bytes to float RGB in [0, 1] (gray is replicated).
    public static func decode(_ bytes: [UInt8], path: String) throws -> LoadedImage {
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        var info = drht_jpeg_info()
        if drht_jpeg_read_header(bytes, bytes.count, &info) != 0 {
            throw classify(cString(&info.message), path: path)
        }
        try checkDecodable(info, bytes, path: path)
        let w = Int(info.width), h = Int(info.height)
        var rgb = [UInt8](repeating: 0, count: w * h * 3)
        let status = rgb.withUnsafeMutableBufferPointer { out in
            drht_jpeg_decode(bytes, bytes.count, &info, out.baseAddress, out.count)
        }
        if status != 0 { throw classify(cString(&info.message), path: path) }
        let pixels = Tensor(zeros: [1, 3, h, w])           // (1, 3, H, W)
        let plane = w * h
        rgb.withUnsafeBufferPointer { src in
            let s = src.baseAddress!, p = pixels.data
            parallelChunks(plane, minChunk: 65536) { range in
                for i in range {
                    p[i] = Float(s[3 * i]) / 255
                    p[plane + i] = Float(s[3 * i + 1]) / 255
                    p[2 * plane + i] = Float(s[3 * i + 2]) / 255
                }
            }
        }
        return LoadedImage(pixels: pixels, format: .jpeg, bitDepth: 8, channels: Int(info.components),
                           details: details(info))
    }

    /// The size checks made before anything the header declares is allocated: the 100-megapixel
    /// limit, and what the scan data can hold. Huffman coding spends at least one bit on every
    /// 8x8 block of a component (its DC difference, in the first scan), so a byte of scan data
    /// holds at most 512 pixels; arithmetic coding has no such floor, and 65536 pixels a byte is
    /// far beyond real photos.
    static func checkDecodable(_ info: drht_jpeg_info, _ bytes: [UInt8], path: String) throws {
        try checkPixelCount(Int(info.width), Int(info.height), path: path)
        let (scan, arithmetic) = scanData(bytes)
        try checkDataCanHold(declared: Int(info.width) * Int(info.height), capacity: scan * (arithmetic ? 65536 : 512) + 4096,
                             dataBytes: scan, width: Int(info.width), height: Int(info.height), path: path, format: "JPEG", unit: "pixels")
    }

    /// The bytes after the first start-of-scan marker (the entropy-coded data and what follows),
    /// and whether the frame is arithmetic-coded (SOF9-11, SOF13-15), walking the marker segments.
    static func scanData(_ bytes: [UInt8]) -> (bytes: Int, arithmetic: Bool) {
        var pos = 2, arithmetic = false
        while pos + 4 <= bytes.count {
            guard bytes[pos] == 0xFF else { pos += 1; continue }
            let marker = bytes[pos + 1]
            if marker == 0xFF { pos += 1; continue }                        // fill byte
            if marker == 0xD8 || (0xD0...0xD7).contains(marker) || marker == 0x01 { pos += 2; continue }
            let length = Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3])
            if [0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF].contains(marker) { arithmetic = true }
            if marker == 0xDA { return (max(0, bytes.count - pos - 2 - length), arithmetic) }
            pos += 2 + max(length, 2)
        }
        return (0, arithmetic)
    }

    /// How the file stores its pixels, in words.
    static func details(_ info: drht_jpeg_info) -> [String] { [info.progressive != 0 ? "progressive encoding" : "baseline encoding"] }

    static func classify(_ message: String, path: String) -> ImageIOError {
        let m = message.lowercased()
        if m.contains("bad signature") || m.contains("not a jpeg") { return .notAnImage(path: path) }
        if m.contains("cmyk") { return .unsupported(path: path, detail: message) }
        if m.contains("premature end") || m.contains("empty input") {
            return .truncated(path: path, format: "JPEG", detail: message)
        }
        return .corrupt(path: path, format: "JPEG", detail: message)
    }

    /// Encodes a (1, 3, H, W) / (3, H, W) tensor (or a gray one, replicated), clamped to [0, 1].
    public static func encode(_ t: Tensor, quality: Int = 95, progressive: Bool = false) throws -> [UInt8] {
        let (c, h, w) = try planarShape(t)
        let plane = h * w
        var rgb = [UInt8](repeating: 0, count: plane * 3)
        for i in 0..<plane {
            for k in 0..<3 {
                let v = t.data[(c == 3 ? k : 0) * plane + i]
                rgb[3 * i + k] = UInt8((min(max(v.isNaN ? 0 : v, 0), 1) * 255).rounded())
            }
        }
        var out: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var messageBuffer = [CChar](repeating: 0, count: 256)
        let status = drht_jpeg_encode(rgb, UInt32(w), UInt32(h), Int32(quality), progressive ? 1 : 0,
                                      &out, &size, &messageBuffer, messageBuffer.count)
        guard status == 0, let out else {
            throw ImageIOError.cannotWrite(path: "JPEG", reason: String(cString: messageBuffer))
        }
        defer { drht_jpeg_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: size))
    }
}
