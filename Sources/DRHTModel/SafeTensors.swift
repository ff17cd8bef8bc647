// safetensors (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length
// N, N bytes of JSON {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}},
// then the raw little-endian tensor data; offsets are relative to the end of the header.
// Everything is validated before any tensor is used.
import DRHTEngine
import DRHTImageIO
import Foundation

/// A problem with a weights file, said in one line with the tensor or byte range at fault.
public struct SafeTensorsError: Error, CustomStringConvertible, Equatable {
    public let path: String
    public let problem: String
    /// One line: the path and the problem (which may quote the file) escaped and bounded.
    public var description: String { "\(printable(path, limit: 200)): \(printable(problem, limit: 240))" }
}

/// The tensors and metadata of a safetensors file, converted to Float32.
public struct SafeTensorsFile {
    public struct Entry {
        public let dtype: String
        public let shape: [Int]
        /// The values as Float32; nil for integer tensors (e.g. BN's `num_batches_tracked`).
        public let tensor: Tensor?
    }

    /// Bytes per element of the dtypes a file may hold; F32, F16 and BF16 are read as Float32.
    static let dtypeSizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1]
    public var tensors: [String: Entry]
    public var metadata: [String: String]
    /// Names in file order (by data offset).
    public var names: [String]

    /// The largest header accepted: 100 MB.
    public static let maxHeaderBytes = 100_000_000

    public static func read(_ path: String) throws -> SafeTensorsFile {
        let bytes: [UInt8]
        do { bytes = try AtomicFile.read(path, limit: 4 << 30) } catch let e as ImageIOError {
            throw SafeTensorsError(path: path, problem: e.description.replacingOccurrences(of: "\(path): ", with: ""))
        }
        return try parse(bytes, path: path)
    }

    public static func parse(_ bytes: [UInt8], path: String) throws -> SafeTensorsFile {
        func fail(_ p: String) -> SafeTensorsError { SafeTensorsError(path: path, problem: p) }
        guard bytes.count >= 8 else {
            throw fail(bytes.isEmpty ? "the file is empty; it is not a safetensors weights file"
                                     : "truncated: \(bytes.count) bytes, too short for a safetensors header")
        }
        var n = 0
        for i in 0..<8 { n |= Int(bytes[i]) << (8 * i) }
        guard n > 0, n <= maxHeaderBytes else {
            throw fail("header length \(n) is outside 1...\(maxHeaderBytes) bytes; not a safetensors file")
        }
        guard 8 + n <= bytes.count else {
            throw fail("truncated: the header claims bytes 8..<\(8 + n) but the file has \(bytes.count)")
        }
        if let problem = strictJSONProblem(bytes[8..<(8 + n)]) {
            throw fail("the JSON header (bytes 8..<\(8 + n)) is not strict JSON: \(problem)")
        }
        guard let json = try? JSONSerialization.jsonObject(with: Data(bytes[8..<(8 + n)])),
              let header = json as? [String: Any] else {
            throw fail("the JSON header (bytes 8..<\(8 + n)) is not a valid JSON object")
        }
        let dataStart = 8 + n, dataCount = bytes.count - dataStart
        var metadata: [String: String] = [:]
        if let meta = header["__metadata__"] {
            guard let m = meta as? [String: Any] else { throw fail("__metadata__ is not an object") }
            for (k, v) in m {
                guard let s = v as? String else { throw fail("__metadata__ value '\(k)' is not a string") }
                metadata[k] = s
            }
        }
        var spans: [(name: String, begin: Int, end: Int)] = []
        var entries: [String: (dtype: String, shape: [Int], begin: Int, end: Int)] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any], let dtype = info["dtype"] as? String,
                  let shapeAny = info["shape"] as? [Any], let offsAny = info["data_offsets"] as? [Any],
                  offsAny.count == 2 else {
                throw fail("tensor '\(name)' needs dtype, shape and data_offsets [begin, end]")
            }
            let shape = shapeAny.compactMap(exactInteger)
            let offs = offsAny.compactMap(exactInteger)
            guard shape.count == shapeAny.count, shape.allSatisfy({ $0 >= 0 }), offs.count == 2 else {
                throw fail("tensor '\(name)' has a bad shape or data_offsets")
            }
            guard let size = dtypeSizes[dtype] else {
                throw fail("tensor '\(name)' has unknown dtype \(dtype)")
            }
            var count = 1
            for d in shape {
                let (p, o) = count.multipliedReportingOverflow(by: d)
                guard !o, p <= dataCount else { throw fail("tensor '\(name)' shape \(shape) is larger than the file") }
                count = p
            }
            let (begin, end) = (offs[0], offs[1])
            guard begin >= 0, begin <= end, end <= dataCount else {
                throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] are outside the \(dataCount) data bytes")
            }
            guard end - begin == count * size else {
                throw fail("tensor '\(name)' data_offsets [\(begin), \(end)] hold \(end - begin) bytes but \(dtype) \(shape) needs \(count * size)")
            }
            spans.append((name, begin, end))
            entries[name] = (dtype, shape, begin, end)
        }
        spans.sort { $0.begin < $1.begin }
        for (a, b) in zip(spans, spans.dropFirst()) where b.begin < a.end {
            throw fail("tensors '\(a.name)' and '\(b.name)' overlap (bytes \(b.begin)..<\(a.end))")
        }
        // As the safetensors format (and PyTorch's reader) requires: the tensors cover the data
        // region exactly, in order, without gaps. A header length one byte off shifts every
        // tensor by a byte; this is where that shows.
        var covered = 0
        for span in spans {
            guard span.begin == covered else {
                throw fail("the data region is not fully covered: a gap at bytes \(covered)..<\(span.begin) before '\(span.name)' (a damaged header length?)")
            }
            covered = span.end
        }
        guard covered == dataCount else {
            throw fail("the data region is not fully covered: the tensors end at byte \(covered) of \(dataCount) (a damaged header length, or extra bytes at the end)")
        }
        var tensors: [String: Entry] = [:]
        for (name, e) in entries {
            guard ["F32", "F16", "BF16"].contains(e.dtype) else {
                tensors[name] = Entry(dtype: e.dtype, shape: e.shape, tensor: nil)
                continue
            }
            let t = Tensor(zeros: e.shape)
            bytes.withUnsafeBytes { raw in
                let base = raw.baseAddress! + dataStart + e.begin
                for i in 0..<t.count {
                    switch e.dtype {
                    case "F32": t.data[i] = Float(bitPattern: UInt32(littleEndian: base.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self)))
                    case "F16": t.data[i] = Float(Float16(bitPattern: UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))))
                    default: t.data[i] = Float(bitPattern: UInt32(UInt16(littleEndian: base.loadUnaligned(fromByteOffset: 2 * i, as: UInt16.self))) << 16)
                    }
                }
            }
            tensors[name] = Entry(dtype: e.dtype, shape: e.shape, tensor: t)
        }
        return SafeTensorsFile(tensors: tensors, metadata: metadata, names: spans.map(\.name))
    }

    /// An integer JSON number as an Int, only when it is one exactly (no fraction, and within
    /// 2^53: larger values would have wrapped or been rounded by the JSON reader).
    static func exactInteger(_ v: Any) -> Int? {
        guard let n = v as? NSNumber else { return nil }
        let d = n.doubleValue
        guard d.isFinite, d == d.rounded(), abs(d) < 9_007_199_254_740_992 else { return nil }
        return Int(d)
    }

    /// Why `json` is not strict JSON in the ways lenient readers let pass (a byte-order mark,
    /// a comma before `}` or `]`, raw control characters in strings), or nil.
    static func strictJSONProblem(_ json: ArraySlice<UInt8>) -> String? {
        if json.starts(with: [0xEF, 0xBB, 0xBF]) { return "it starts with a byte-order mark" }
        var inString = false, escaped = false, lastSignificant: UInt8 = 0
        for (offset, c) in json.enumerated() {
            if inString {
                if escaped { escaped = false } else if c == 0x5C { escaped = true } else if c == 0x22 { inString = false }
                else if c < 0x20 { return "a raw control character inside a string at byte \(offset)" }
                if !inString { lastSignificant = 0x22 }
                continue
            }
            switch c {
            case 0x22: inString = true
            case 0x20, 0x09, 0x0A, 0x0D: continue
            case 0x7D, 0x5D:
                if lastSignificant == 0x2C { return "a trailing comma before '\(Character(UnicodeScalar(c)))' at byte \(offset)" }
            default: break
            }
            lastSignificant = c
        }
        return nil
    }

    /// The tensor called `name`, or an error naming it.
    public func tensor(_ name: String, path: String = "weights", shape: [Int]? = nil) throws -> Tensor {
        guard let e = tensors[name] else { throw SafeTensorsError(path: path, problem: "tensor '\(name)' is missing") }
        if let shape, e.shape != shape {
            throw SafeTensorsError(path: path, problem: "tensor '\(name)' has shape \(e.shape), expected \(shape)")
        }
        guard let t = e.tensor else {
            throw SafeTensorsError(path: path, problem: "tensor '\(name)' is \(e.dtype); drht needs F32, F16 or BF16 here")
        }
        return t
    }

    /// The dtype a file stores floats in when drht writes it.
    public enum StorageType: String, Sendable { case f32 = "F32", f16 = "F16" }

    /// A safetensors file holding `tensors` (in the given order) and string `metadata`.
    /// The header is padded with spaces to a multiple of 8 bytes, as the reference writer does.
    public static func encode(_ tensors: [(String, Tensor)], metadata: [String: String],
                              dtype: StorageType = .f32) -> [UInt8] {
        func quote(_ s: String) -> String {
            var out = "\""
            for u in s.unicodeScalars {
                switch u {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                default:
                    if u.value < 0x20 { out += String(format: "\\u%04x", u.value) } else { out.unicodeScalars.append(u) }
                }
            }
            return out + "\""
        }
        let size = dtype == .f32 ? 4 : 2
        var entries: [String] = []
        if !metadata.isEmpty {
            let m = metadata.keys.sorted().map { "\(quote($0)): \(quote(metadata[$0]!))" }
            entries.append("\"__metadata__\": {" + m.joined(separator: ", ") + "}")
        }
        var offset = 0
        for (name, t) in tensors {
            let bytes = t.count * size
            entries.append("\(quote(name)): {\"dtype\": \"\(dtype.rawValue)\", \"shape\": [\(t.shape.map(String.init).joined(separator: ", "))], \"data_offsets\": [\(offset), \(offset + bytes)]}")
            offset += bytes
        }
        var header = Array(("{" + entries.joined(separator: ", ") + "}").utf8)
        while header.count % 8 != 0 { header.append(0x20) }
        var out = [UInt8](repeating: 0, count: 8 + header.count + offset)
        for i in 0..<8 { out[i] = UInt8((header.count >> (8 * i)) & 0xFF) }
        out.replaceSubrange(8..<(8 + header.count), with: header)
        var p = 8 + header.count
        out.withUnsafeMutableBytes { raw in
            for (_, t) in tensors {
                for i in 0..<t.count {
                    if dtype == .f32 {
                        raw.storeBytes(of: t.data[i].bitPattern.littleEndian, toByteOffset: p, as: UInt32.self); p += 4
                    } else {
                        raw.storeBytes(of: Float16(t.data[i]).bitPattern.littleEndian, toByteOffset: p, as: UInt16.self); p += 2
                    }
                }
            }
        }
        return out
    }
}
