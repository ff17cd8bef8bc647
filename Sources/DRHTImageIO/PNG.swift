// PNG read (8/16-bit; gray, gray+alpha, RGB, RGBA, palette; interlaced) and write
// (8- or 16-bit; RGB, or gray for single-channel maps), through the CPNG shim.
import CPNG
import DRHTEngine

public enum PNG {
    /// Decodes PNG bytes to float RGB in [0, 1]; alpha is composited on black, gray replicated.
    public static func decode(_ bytes: [UInt8], path: String) throws -> LoadedImage {
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        var info = drht_png_info()
        if drht_png_read_header(bytes, bytes.count, &info) != 0 {
            throw classify(cString(&info.message), path: path)
        }
        try checkDecodable(info, bytes, path: path)
        let w = Int(info.width), h = Int(info.height)
        let ch = Int(info.out_channels), bytesPerSample = Int(info.out_bit_depth) / 8
        var raw = [UInt8](repeating: 0, count: w * h * ch * bytesPerSample)
        let status = raw.withUnsafeMutableBufferPointer { out in
            drht_png_decode(bytes, bytes.count, &info, out.baseAddress, out.count)
        }
        if status != 0 { throw classify(cString(&info.message), path: path) }

        let pixels = Tensor(zeros: [1, 3, h, w])          // (1, 3, H, W)
        let plane = w * h
        raw.withUnsafeBytes { rawBuffer in
            let p = pixels.data
            if bytesPerSample == 1 {
                let s = rawBuffer.bindMemory(to: UInt8.self)
                convert(s.baseAddress!, channels: ch, scale: 1.0 / 255, plane: plane, into: p)
            } else {
                let s = rawBuffer.bindMemory(to: UInt16.self)
                convert(s.baseAddress!, channels: ch, scale: 1.0 / 65535, plane: plane, into: p)
            }
        }
        return LoadedImage(pixels: pixels, format: .png, bitDepth: Int(info.bit_depth),
                           channels: storedChannels(info), details: details(info))
    }

    /// How the file stores its pixels, in words.
    static func details(_ info: drht_png_info) -> [String] {
        (info.color_type == 3 ? ["palette"] : []) + (info.interlaced != 0 ? ["interlaced"] : [])
    }

    /// Channels as the file stores them (a palette counts as RGB).
    static func storedChannels(_ info: drht_png_info) -> Int {
        [0: 1, 2: 3, 3: 3, 4: 2, 6: 4][Int(info.color_type)] ?? Int(info.out_channels)
    }

    /// The size checks made before anything the header declares is allocated: the 100-megapixel
    /// limit, and what the IDAT chunks can hold (a deflate stream expands at most 1032:1).
    static func checkDecodable(_ info: drht_png_info, _ bytes: [UInt8], path: String) throws {
        try checkPixelCount(Int(info.width), Int(info.height), path: path)
        let w = Int(info.width), h = Int(info.height)
        let samples = [0: 1, 2: 3, 3: 1, 4: 2, 6: 4][Int(info.color_type)] ?? 4
        let stored = h * ((w * samples * Int(info.bit_depth) + 7) / 8)
        let idat = idatBytes(bytes)
        try checkDataCanHold(declared: stored, capacity: idat * 1033 + 1024, dataBytes: idat, width: w, height: h,
                             path: path, format: "PNG", unit: "bytes of pixel data")
    }

    /// The total length of the IDAT chunks (the compressed pixel data), walking the chunk list.
    static func idatBytes(_ bytes: [UInt8]) -> Int {
        var pos = 8, total = 0
        while pos + 8 <= bytes.count {
            let length = Int(bytes[pos]) << 24 | Int(bytes[pos + 1]) << 16 | Int(bytes[pos + 2]) << 8 | Int(bytes[pos + 3])
            let isIDAT = bytes[pos + 4 ..< pos + 8].elementsEqual("IDAT".utf8)
            let available = min(length, bytes.count - pos - 8)
            if isIDAT { total += available }
            if length > bytes.count - pos - 8 { break }
            pos += 12 + length
        }
        return total
    }

    /// Interleaved samples (gray, gray+alpha, RGB or RGBA) -> planar RGB floats.
    static func convert<S: BinaryInteger>(_ s: UnsafePointer<S>, channels ch: Int, scale: Float,
                                                  plane: Int, into p: UnsafeMutablePointer<Float>) {
        parallelChunks(plane, minChunk: 65536) { range in
            for i in range {
                let q = s + i * ch
                var r: Float, g: Float, b: Float
                switch ch {
                case 1, 2:
                    r = Float(q[0]) * scale; g = r; b = r
                default:
                    r = Float(q[0]) * scale; g = Float(q[1]) * scale; b = Float(q[2]) * scale
                }
                if ch == 2 || ch == 4 {               // composite on black
                    let a = Float(q[ch - 1]) * scale
                    r *= a; g *= a; b *= a
                }
                p[i] = r; p[plane + i] = g; p[2 * plane + i] = b
            }
        }
    }

    static func classify(_ message: String, path: String) -> ImageIOError {
        let m = message.lowercased()
        if m.contains("bad signature") { return .notAnImage(path: path) }
        if m.contains("truncated") || m.contains("not enough image data") || m.contains("read error") {
            return .truncated(path: path, format: "PNG", detail: message)
        }
        return .corrupt(path: path, format: "PNG", detail: message)
    }

    /// Encodes a (1, C, H, W), (C, H, W) or (H, W) tensor with C = 3 (RGB) or 1 (gray),
    /// values clamped to [0, 1] and rounded to `bits` (8 or 16) per sample.
    public static func encode(_ t: Tensor, bits: Int = 8) throws -> [UInt8] {
        let (c, h, w) = try planarShape(t)
        precondition(bits == 8 || bits == 16)
        let plane = h * w
        let maxValue: Float = bits == 8 ? 255 : 65535
        var samples = [UInt8](repeating: 0, count: plane * c * bits / 8)
        samples.withUnsafeMutableBytes { out in
            let src = t.data
            func quantise(_ v: Float) -> Float { (min(max(v.isNaN ? 0 : v, 0), 1) * maxValue).rounded() }
            if bits == 8 {
                let o = out.bindMemory(to: UInt8.self).baseAddress!
                for i in 0..<plane { for k in 0..<c { o[i * c + k] = UInt8(quantise(src[k * plane + i])) } }
            } else {
                let o = out.bindMemory(to: UInt16.self).baseAddress!
                for i in 0..<plane { for k in 0..<c { o[i * c + k] = UInt16(quantise(src[k * plane + i])) } }
            }
        }
        var png: UnsafeMutablePointer<UInt8>? = nil
        var size = 0
        var messageBuffer = [CChar](repeating: 0, count: 256)
        let status = drht_png_encode(samples, UInt32(w), UInt32(h), Int32(c), Int32(bits), &png, &size,
                                     &messageBuffer, messageBuffer.count)
        guard status == 0, let png else {
            throw ImageIOError.cannotWrite(path: "PNG", reason: String(cString: messageBuffer))
        }
        defer { drht_png_free(png) }
        return Array(UnsafeBufferPointer(start: png, count: size))
    }
}

/// (C, H, W) of a tensor shaped (1, C, H, W), (C, H, W) or (H, W), with C = 1 or 3.
func planarShape(_ t: Tensor) throws -> (c: Int, h: Int, w: Int) {
    let s = t.shape
    let chw: (Int, Int, Int)
    switch s.count {
    case 4 where s[0] == 1: chw = (s[1], s[2], s[3])
    case 3: chw = (s[0], s[1], s[2])
    case 2: chw = (1, s[0], s[1])
    default:
        throw ImageIOError.unsupported(path: "tensor", detail: "a \(t.shapeString) tensor is not one image; expected 1x3xHxW, 3xHxW or HxW")
    }
    guard chw.0 == 1 || chw.0 == 3 else {
        throw ImageIOError.unsupported(path: "tensor", detail: "an image needs 1 or 3 channels, this tensor has \(chw.0); pick channels or export as .npy")
    }
    return chw
}
