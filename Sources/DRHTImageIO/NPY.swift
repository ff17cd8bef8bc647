// NumPy .npy (format 1.0): the magic "\x93NUMPY", version 1.0, a little-endian UInt16 header
// length, a Python-dict header padded with spaces to a multiple of 64 bytes, then the data in
// C order. drht writes '<f4'; it reads '<f4' and '<f8' back.
import DRHTEngine

public enum NPY {
    /// Encodes a tensor as a little-endian float32, C-order .npy with the tensor's shape.
    public static func encode(_ t: Tensor) -> [UInt8] {
        let dims = t.shape.map(String.init)
        let shape = dims.count == 1 ? "(\(dims[0]),)" : "(" + dims.joined(separator: ", ") + ")"
        var header = "{'descr': '<f4', 'fortran_order': False, 'shape': \(shape), }"
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = header.utf8.count
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        out.reserveCapacity(out.count + t.count * 4)
        for i in 0..<t.count {
            let bits = t.data[i].bitPattern.littleEndian
            out += [UInt8(bits & 0xFF), UInt8(bits >> 8 & 0xFF), UInt8(bits >> 16 & 0xFF), UInt8(bits >> 24)]
        }
        return out
    }

    /// Decodes a C-order '<f4' or '<f8' .npy into a tensor of its shape.
    public static func decode(_ bytes: [UInt8], path: String) throws -> Tensor {
        func corrupt(_ d: String) -> ImageIOError { .corrupt(path: path, format: ".npy", detail: d) }
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        guard bytes.starts(with: [0x93] + Array("NUMPY".utf8)) else { throw ImageIOError.notAnImage(path: path) }
        guard bytes.count >= 10 else { throw ImageIOError.truncated(path: path, format: ".npy", detail: "no header") }
        let major = bytes[6]
        let (lengthBytes, start): (Int, Int) = major == 1 ? (2, 10) : (4, 12)
        guard bytes.count >= start else { throw ImageIOError.truncated(path: path, format: ".npy", detail: "no header") }
        var headerLength = 0
        for i in 0..<lengthBytes { headerLength |= Int(bytes[8 + i]) << (8 * i) }
        guard start + headerLength <= bytes.count else {
            throw ImageIOError.truncated(path: path, format: ".npy", detail: "header runs past the end")
        }
        let header = String(decoding: bytes[start..<(start + headerLength)], as: UTF8.self)
        let elementSize: Int
        if header.contains("'descr': '<f4'") { elementSize = 4 }
        else if header.contains("'descr': '<f8'") { elementSize = 8 }
        else { throw ImageIOError.unsupported(path: path, detail: ".npy dtype must be little-endian float32 or float64") }
        if header.contains("'fortran_order': True") {
            throw ImageIOError.unsupported(path: path, detail: "Fortran-order .npy is not supported; save with C order")
        }
        guard let open = header.range(of: "'shape': ("), let close = header[open.upperBound...].firstIndex(of: ")") else {
            throw corrupt("no shape in header")
        }
        let dims = header[open.upperBound..<close].split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        var shape: [Int] = []
        for d in dims {
            guard let v = Int(d), v >= 0 else { throw corrupt("bad shape entry '\(d)'") }
            shape.append(v)
        }
        var count = 1
        for d in shape {
            let (p, overflow) = count.multipliedReportingOverflow(by: d)
            guard !overflow, p <= ImageIOError.maxFileBytes else { throw corrupt("shape \(shape) is too large") }
            count = p
        }
        let dataStart = start + headerLength
        guard bytes.count - dataStart >= count * elementSize else {
            throw ImageIOError.truncated(path: path, format: ".npy",
                                         detail: "\(bytes.count - dataStart) data bytes for \(count) values")
        }
        let t = Tensor(zeros: shape)
        for i in 0..<count {
            let o = dataStart + i * elementSize
            if elementSize == 4 {
                let bits = UInt32(bytes[o]) | UInt32(bytes[o + 1]) << 8 | UInt32(bytes[o + 2]) << 16 | UInt32(bytes[o + 3]) << 24
                t.data[i] = Float(bitPattern: bits)
            } else {
                var bits: UInt64 = 0
                for k in 0..<8 { bits |= UInt64(bytes[o + k]) << (8 * k) }
                t.data[i] = Float(Double(bitPattern: bits))
            }
        }
        return t
    }
}
