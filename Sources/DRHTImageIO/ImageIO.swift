// The front door of image I/O: read any supported file by its content, write by extension.
import DRHTEngine

public enum ImageIO {
    /// Reads a PNG, JPEG or Radiance .hdr file (detected from its first bytes, not its name).
    /// A .npy holding (H, W, 3), (3, H, W) or (1, 3, H, W) floats is read as an image too.
    public static func read(_ path: String) throws -> LoadedImage {
        let bytes = try AtomicFile.read(path)
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        switch ImageFormat.sniff(bytes) {
        case .png: return try PNG.decode(bytes, path: path)
        case .jpeg: return try JPEG.decode(bytes, path: path)
        case .radiance: return try RadianceHDR.decode(bytes, path: path)
        case .npy:
            let t = try NPY.decode(bytes, path: path)
            guard let pixels = imageTensor(fromNPY: t) else {
                throw ImageIOError.unsupported(path: path, detail: "a \(t.shapeString) array is not an image; expected HxWx3, 3xHxW or 1x3xHxW")
            }
            guard pixels.h > 0, pixels.w > 0 else {
                throw ImageIOError.unsupported(path: path, detail: "a \(t.shapeString) array holds no pixels; an image needs at least 1 x 1")
            }
            return LoadedImage(pixels: pixels, format: .npy, bitDepth: 32, channels: 3, details: [])
        case nil: throw ImageIOError.notAnImage(path: path)
        }
    }

    /// (H, W, 3) -> (1, 3, H, W); (3, H, W) and (1, 3, H, W) as they are.
    static func imageTensor(fromNPY t: Tensor) -> Tensor? {
        let s = t.shape
        if s.count == 3 && s[2] == 3 { return hwcToNCHW(t) }
        if s.count == 3 && s[0] == 3 { return t.reshaped([1] + s) }
        if s.count == 4 && s[0] == 1 && s[1] == 3 { return t }
        return nil
    }

    /// Writes a (1, C, H, W) / (C, H, W) / (H, W) tensor as the path's extension says:
    /// .png (8-bit, or 16 with bits: 16; RGB, or gray for one channel), .jpg, .hdr
    /// (linear RGB), or .npy (the tensor's own shape). Atomic: temp file, then rename.
    public static func write(_ t: Tensor, to path: String, bits: Int = 8) throws {
        guard let format = ImageFormat.forExtension(of: path) else {
            throw ImageIOError.unsupported(path: path, detail: "unknown extension; use .png, .jpg, .hdr or .npy")
        }
        let bytes: [UInt8]
        do {
            switch format {
            case .png: bytes = try PNG.encode(t, bits: bits)
            case .jpeg: bytes = try JPEG.encode(t)
            case .radiance: bytes = try RadianceHDR.encode(t)
            case .npy: bytes = NPY.encode(t)
            }
        } catch ImageIOError.unsupported(_, let detail) {
            throw ImageIOError.unsupported(path: path, detail: detail)
        } catch ImageIOError.cannotWrite(_, let reason) {
            throw ImageIOError.cannotWrite(path: path, reason: reason)
        }
        try AtomicFile.write(bytes, to: path)
    }
}

/// (H, W, C) interleaved -> (1, C, H, W) planar.
public func hwcToNCHW(_ t: Tensor) -> Tensor {
    let h = t.shape[0], w = t.shape[1], c = t.shape[2]
    let out = Tensor(zeros: [1, c, h, w])
    for i in 0..<(h * w) { for k in 0..<c { out.data[k * h * w + i] = t.data[i * c + k] } }
    return out
}

/// (1, C, H, W) planar -> (H, W, C) interleaved (the layout NumPy users expect of an image).
public func nchwToHWC(_ t: Tensor) -> Tensor {
    let c = t.shape[1], h = t.shape[2], w = t.shape[3]
    let out = Tensor(zeros: [h, w, c])
    for i in 0..<(h * w) { for k in 0..<c { out.data[i * c + k] = t.data[k * h * w + i] } }
    return out
}
