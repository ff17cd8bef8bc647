// A decoded image: float RGB pixels as an engine tensor, plus what the file said about itself.
import DRHTEngine

/// The file formats drht reads and writes.
public enum ImageFormat: String, Sendable {
    case png = "PNG"
    case jpeg = "JPEG"
    case radiance = "Radiance HDR"
    case npy = "NumPy .npy"

    /// The format a file's first bytes announce, or nil.
    public static func sniff(_ bytes: [UInt8]) -> ImageFormat? {
        if bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if bytes.starts(with: [0xFF, 0xD8, 0xFF]) { return .jpeg }
        if bytes.starts(with: Array("#?".utf8)) { return .radiance }
        if bytes.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
        return nil
    }

    /// The format a path's extension asks for when writing, or nil.
    public static func forExtension(of path: String) -> ImageFormat? {
        switch path.split(separator: ".").last.map({ $0.lowercased() }) {
        case "png": return .png
        case "jpg", "jpeg": return .jpeg
        case "hdr", "rgbe", "pic": return .radiance
        case "npy": return .npy
        default: return nil
        }
    }
}

/// An image read from a file.
public struct LoadedImage {
    /// (1, 3, H, W): RGB in [0, 1] for PNG and JPEG (gray replicated, alpha composited on
    /// black), linear radiance for Radiance .hdr.
    public var pixels: Tensor
    public var format: ImageFormat
    /// Bits per stored sample: 1-16 for PNG, 8 for JPEG, 32 (float) for .hdr.
    public var bitDepth: Int
    /// Channels stored in the file: 1 gray, 2 gray+alpha, 3 RGB, 4 RGBA.
    public var channels: Int
    /// A few words on how the file stores its pixels ("palette", "interlaced", "progressive").
    public var details: [String]

    public var width: Int { pixels.w }
    public var height: Int { pixels.h }
}

/// Checks a declared size against the 100-megapixel limit before anything is allocated.
func checkPixelCount(_ width: Int, _ height: Int, path: String) throws {
    if width <= 0 || height <= 0 {
        throw ImageIOError.corrupt(path: path, format: "image", detail: "declares a \(width) x \(height) size")
    }
    if width > ImageIOError.maxPixels || height > ImageIOError.maxPixels
        || width * height > ImageIOError.maxPixels {
        throw ImageIOError.tooManyPixels(path: path, width: width, height: height)
    }
}

/// Refuses, before anything is allocated, an image whose header declares more pixel data than
/// the file's compressed data can expand to (a 1-KB PNG may declare 10000 x 10000 16-bit RGBA:
/// 800 MB). `declared` is what the pixels need as the format counts them (bytes for PNG, pixels
/// for JPEG); `capacity` the most the data can expand to in the same unit.
func checkDataCanHold(declared: Int, capacity: Int, dataBytes: Int, width: Int, height: Int,
                      path: String, format: String, unit: String) throws {
    guard declared > capacity else { return }
    throw ImageIOError.truncated(path: path, format: format, detail:
        "declares \(width) x \(height) (\(declared.formatted(.number.grouping(.automatic))) \(unit)) but holds only "
        + "\(dataBytes.formatted(.number.grouping(.automatic))) bytes of compressed image data, which expand to at most "
        + "\(capacity.formatted(.number.grouping(.automatic)))")
}

/// Names for channel counts as the file stores them.
public func channelName(_ channels: Int) -> String {
    ["", "gray", "gray+alpha", "RGB", "RGBA"][min(max(channels, 0), 4)]
}

/// The NUL-terminated text in a fixed-size C char array (imported as a tuple), e.g. a shim's
/// error message.
func cString<T>(_ chars: inout T) -> String {
    withUnsafeBytes(of: &chars) { String(decoding: $0.prefix(while: { $0 != 0 }), as: UTF8.self) }
}
