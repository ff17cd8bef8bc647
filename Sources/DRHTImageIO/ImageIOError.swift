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

    /// One line whatever the file holds: the path and every file-derived detail are escaped and
    /// bounded (`printable`), so a control character in a header cannot reach the terminal raw.
    public var description: String { escaped.raw }

    /// The same error with its path and file-derived details escaped and bounded.
    private var escaped: ImageIOError {
        func p(_ s: String) -> String { printable(s, limit: 200) }
        func d(_ s: String) -> String { printable(s, limit: 160) }
        switch self {
        case .cannotOpen(let path, let r): return .cannotOpen(path: p(path), reason: d(r))
        case .empty(let path): return .empty(path: p(path))
        case .tooBig(let path, let b): return .tooBig(path: p(path), bytes: b)
        case .notAnImage(let path): return .notAnImage(path: p(path))
        case .truncated(let path, let f, let x): return .truncated(path: p(path), format: d(f), detail: d(x))
        case .corrupt(let path, let f, let x): return .corrupt(path: p(path), format: d(f), detail: d(x))
        case .tooManyPixels(let path, let w, let h): return .tooManyPixels(path: p(path), width: w, height: h)
        case .unsupported(let path, let x): return .unsupported(path: p(path), detail: printable(x, limit: 200))
        case .cannotWrite(let path, let r): return .cannotWrite(path: p(path), reason: d(r))
        }
    }

    /// The message with its parts as they are (callers use `description`).
    var raw: String {
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
