// Typed errors for every way a file can be wrong. Each becomes one line on stderr that names
// the file, the problem and what to do next.

public enum ImageIOError: Error, Equatable, CustomStringConvertible {
    case cannotOpen(path: String, reason: String)
    case empty(path: String)
    case tooBig(path: String, bytes: Int)
    case notAnImage(path: String)
    case truncated(path: String, format: String, detail: String)
    case corrupt(path: String, format: String, detail: String)
    case tooManyPixels(path: String, width: Int, height: Int)
    case unsupported(path: String, detail: String)
    case cannotWrite(path: String, reason: String)

    /// The largest image any reader accepts: 100 megapixels.
    public static let maxPixels = 100_000_000
    /// The largest file any reader opens: 1 GiB.
    public static let maxFileBytes = 1 << 30

    public var path: String {
        switch self {
        case .cannotOpen(let p, _), .empty(let p), .tooBig(let p, _), .notAnImage(let p),
             .truncated(let p, _, _), .corrupt(let p, _, _), .tooManyPixels(let p, _, _),
             .unsupported(let p, _), .cannotWrite(let p, _):
            return p
        }
    }

    public var description: String {
        switch self {
        case .cannotOpen(let p, let reason):
            return "\(p): cannot open (\(reason)); check the path"
        case .empty(let p):
            return "\(p): the file is empty (0 bytes); re-export or re-download it"
        case .tooBig(let p, let bytes):
            return "\(p): the file is \(bytes / (1 << 20)) MiB, over the 1 GiB limit; use a smaller image"
        case .notAnImage(let p):
            return "\(p): not a PNG, JPEG, Radiance .hdr or .npy file; drht reads those formats"
        case .truncated(let p, let format, let detail):
            return "\(p): truncated \(format) (\(detail)); the file is incomplete, re-export or re-download it"
        case .corrupt(let p, let format, let detail):
            return "\(p): corrupt \(format) (\(detail)); re-export or re-download it"
        case .tooManyPixels(let p, let w, let h):
            return "\(p): the image declares \(w) x \(h) pixels, over the 100-megapixel limit; resize it first"
        case .unsupported(let p, let detail):
            return "\(p): \(detail)"
        case .cannotWrite(let p, let reason):
            return "\(p): cannot write (\(reason)); check the folder exists and is writable"
        }
    }
}
