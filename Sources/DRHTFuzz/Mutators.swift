// Deterministic mutators for drht's input formats: generic byte-level ones (bit flips, boundary
// bytes, truncation, duplication) and format-aware ones (PNG chunks, JPEG segments, Radiance
// resolution lines, .npy shapes, safetensors headers), each a pure function of the seed.
import DRHTEngine
import Foundation

public enum FuzzFormat: String, CaseIterable, Sendable {
    case png, jpeg, radiance, npy, safetensors

    public var fileExtension: String {
        switch self { case .png: "png"; case .jpeg: "jpg"; case .radiance: "hdr"; case .npy: "npy"; case .safetensors: "safetensors" }
    }
}

public enum Mutator {
    /// Values that break parsers: zero, all ones, sign bits, off-by-one neighbours.
    static let boundaryBytes: [UInt8] = [0x00, 0xFF, 0x7F, 0x80, 0x01, 0xFE]
    /// Numbers to write into size and length fields.
    static let boundaryNumbers: [UInt64] = [0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0x8000_0000, 0xFFFF_FFFF,
                                            100_000_001, 1 << 32, 1 << 53, UInt64.max]

    /// One mutated copy of `seed`: one to three mutations, generic or specific to `format`.
    public static func mutate(_ seed: [UInt8], format: FuzzFormat, rng: inout SeededRandom) -> (bytes: [UInt8], what: [String]) {
        var bytes = seed
        var what: [String] = []
        for _ in 0..<(1 + Int(rng.next() % 3)) {
            let specific = rng.next() % 2 == 0
            let name: String
            if specific {
                switch format {
                case .png: name = png(&bytes, &rng)
                case .jpeg: name = jpeg(&bytes, &rng)
                case .radiance: name = radiance(&bytes, &rng)
                case .npy: name = npy(&bytes, &rng)
                case .safetensors: name = safetensors(&bytes, &rng)
                }
            } else {
                name = generic(&bytes, &rng)
            }
            what.append(name)
        }
        return (bytes, what)
    }

    // MARK: - Generic

    static func generic(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        guard !b.isEmpty else { b = [UInt8(rng.next() & 0xFF)]; return "one byte" }
        switch rng.next() % 6 {
        case 0:
            let n = 1 + Int(rng.next() % 8)
            for _ in 0..<n { let i = Int(rng.next() % UInt64(b.count)); b[i] ^= 1 << UInt8(rng.next() % 8) }
            return "flip \(n) bits"
        case 1:
            let n = 1 + Int(rng.next() % 4)
            for _ in 0..<n { b[Int(rng.next() % UInt64(b.count))] = boundaryBytes[Int(rng.next() % UInt64(boundaryBytes.count))] }
            return "\(n) boundary bytes"
        case 2:
            let cut = Int(rng.next() % UInt64(b.count))
            b.removeSubrange(cut...)
            return "truncate at \(cut)"
        case 3:
            let start = Int(rng.next() % UInt64(b.count)), length = min(b.count - start, 1 + Int(rng.next() % 256))
            b.insert(contentsOf: b[start..<(start + length)], at: start)
            return "duplicate \(length) bytes"
        case 4:
            let start = Int(rng.next() % UInt64(b.count)), length = min(b.count - start, 1 + Int(rng.next() % 256))
            b.removeSubrange(start..<(start + length))
            return "remove \(length) bytes"
        default:
            let at = Int(rng.next() % UInt64(b.count + 1)), n = 1 + Int(rng.next() % 64)
            b.insert(contentsOf: (0..<n).map { _ in UInt8(rng.next() & 0xFF) }, at: at)
            return "insert \(n) random bytes"
        }
    }

    static func putBE32(_ b: inout [UInt8], _ at: Int, _ v: UInt32) {
        guard at + 4 <= b.count else { return }
        for k in 0..<4 { b[at + k] = UInt8((v >> (8 * (3 - UInt32(k)))) & 0xFF) }
    }

    static func number(_ rng: inout SeededRandom) -> UInt64 { boundaryNumbers[Int(rng.next() % UInt64(boundaryNumbers.count))] }

    // MARK: - PNG: chunks (length, type, data, CRC)

    static func pngChunks(_ b: [UInt8]) -> [(start: Int, end: Int)] {
        var chunks: [(Int, Int)] = []
        var p = 8
        while p + 12 <= b.count {
            let length = Int(b[p]) << 24 | Int(b[p + 1]) << 16 | Int(b[p + 2]) << 8 | Int(b[p + 3])
            let end = p + 12 + length
            guard length >= 0, end <= b.count else { break }
            chunks.append((p, end))
            p = end
        }
        return chunks
    }

    static func crc32(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var c: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            c ^= UInt32(byte)
            for _ in 0..<8 { c = (c >> 1) ^ (0xEDB8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    static func png(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        let chunks = pngChunks(b)
        guard !chunks.isEmpty else { return generic(&b, &rng) }
        let c = chunks[Int(rng.next() % UInt64(chunks.count))]
        switch rng.next() % 5 {
        case 0:
            b.insert(contentsOf: b[c.start..<c.end], at: c.end)
            return "duplicate a chunk"
        case 1:
            b.removeSubrange(c.start..<c.end)
            return "remove a chunk"
        case 2:   // IHDR width or height (CRC fixed so the size is what libpng sees)
            let field = 16 + 4 * Int(rng.next() % 2), v = UInt32(truncatingIfNeeded: number(&rng))
            putBE32(&b, field, v)
            if b.count >= 33 { putBE32(&b, 29, crc32(b[12..<29])) }
            return "IHDR \(field == 16 ? "width" : "height") \(v)"
        case 3:
            let v = UInt32(truncatingIfNeeded: number(&rng))
            putBE32(&b, c.start, v)
            return "chunk length \(v)"
        default:  // an ancillary chunk with a huge compressed payload claim
            let payload = Array("zTXtKey".utf8) + [0, 0] + (0..<64).map { _ in UInt8(rng.next() & 0xFF) }
            var chunk: [UInt8] = []
            let n = UInt32(payload.count - 4)
            chunk += [UInt8(n >> 24), UInt8((n >> 16) & 0xFF), UInt8((n >> 8) & 0xFF), UInt8(n & 0xFF)] + payload
            let crc = crc32(ArraySlice(payload))
            chunk += [UInt8(crc >> 24), UInt8((crc >> 16) & 0xFF), UInt8((crc >> 8) & 0xFF), UInt8(crc & 0xFF)]
            b.insert(contentsOf: chunk, at: min(chunks[0].end, b.count))
            return "insert a zTXt chunk"
        }
    }

    // MARK: - JPEG: segments (FF marker, 16-bit length)

    static func jpegSegments(_ b: [UInt8]) -> [(start: Int, end: Int, marker: UInt8)] {
        var segments: [(Int, Int, UInt8)] = []
        var p = 2
        while p + 4 <= b.count, b[p] == 0xFF {
            let marker = b[p + 1]
            if marker == 0xDA || marker == 0xD9 { break }
            let length = Int(b[p + 2]) << 8 | Int(b[p + 3])
            guard p + 2 + length <= b.count, length >= 2 else { break }
            segments.append((p, p + 2 + length, marker))
            p += 2 + length
        }
        return segments
    }

    static func jpeg(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        let segments = jpegSegments(b)
        guard !segments.isEmpty else { return generic(&b, &rng) }
        let s = segments[Int(rng.next() % UInt64(segments.count))]
        switch rng.next() % 4 {
        case 0:
            b.insert(contentsOf: b[s.start..<s.end], at: s.end)
            return "duplicate segment FF\(String(s.marker, radix: 16))"
        case 1:
            b.removeSubrange(s.start..<s.end)
            return "remove segment FF\(String(s.marker, radix: 16))"
        case 2:
            if let sof = segments.first(where: { (0xC0...0xC2).contains($0.marker) }), sof.start + 9 <= b.count {
                let v = UInt16(truncatingIfNeeded: number(&rng)), at = sof.start + 5 + 2 * Int(rng.next() % 2)
                b[at] = UInt8(v >> 8); b[at + 1] = UInt8(v & 0xFF)
                return "SOF \(at == sof.start + 5 ? "height" : "width") \(v)"
            }
            return generic(&b, &rng)
        default:
            let v = UInt16(truncatingIfNeeded: number(&rng))
            b[s.start + 2] = UInt8(v >> 8); b[s.start + 3] = UInt8(v & 0xFF)
            return "segment length \(v)"
        }
    }

    // MARK: - Text headers (Radiance, .npy) and JSON (safetensors)

    static let hostileText = ["0", "-1", "99999999999999999999", "100000001", "2147483647", "\u{1B}[31m", "\n", "nan",
                              "1e308", "", "  ", "\u{202E}", String(repeating: "9", count: 400)]

    static func replaceFirst(_ b: inout [UInt8], _ pattern: String, with: String) -> Bool {
        let p = Array(pattern.utf8)
        guard p.count <= b.count, let i = (0...(b.count - p.count)).first(where: { b[$0..<($0 + p.count)].elementsEqual(p) }) else { return false }
        b.replaceSubrange(i..<(i + p.count), with: Array(with.utf8))
        return true
    }

    static func radiance(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        let t = hostileText[Int(rng.next() % UInt64(hostileText.count))]
        switch rng.next() % 4 {
        case 0: return replaceFirst(&b, "-Y 16", with: "-Y \(t)") ? "height \(t.debugDescription)" : generic(&b, &rng)
        case 1: return replaceFirst(&b, "+X 24", with: "+X \(t)") ? "width \(t.debugDescription)" : generic(&b, &rng)
        case 2: return replaceFirst(&b, "FORMAT=32-bit_rle_rgbe", with: "FORMAT=\(t)") ? "format \(t.debugDescription)" : generic(&b, &rng)
        default: return replaceFirst(&b, "#?RADIANCE\n", with: "#?RADIANCE\n\(t)\n") ? "header line \(t.debugDescription)" : generic(&b, &rng)
        }
    }

    static func npy(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        let t = hostileText[Int(rng.next() % UInt64(hostileText.count))]
        switch rng.next() % 4 {
        case 0: return replaceFirst(&b, "(12, 16, 3)", with: "(\(t), 16, 3)") ? "shape \(t.debugDescription)" : generic(&b, &rng)
        case 1: return replaceFirst(&b, "(12, 16, 3)", with: "(12, \(t), 3, \(t))") ? "shape rank 4" : generic(&b, &rng)
        case 2: return replaceFirst(&b, "'<f4'", with: "'\(["<f8", ">f4", "<i8", "|b1", "<c8", t][Int(rng.next() % 6)])'") ? "descr" : generic(&b, &rng)
        default:
            if b.count >= 10 { let v = UInt16(truncatingIfNeeded: number(&rng)); b[8] = UInt8(v & 0xFF); b[9] = UInt8(v >> 8) }
            return "header length"
        }
    }

    static func safetensors(_ b: inout [UInt8], _ rng: inout SeededRandom) -> String {
        let t = hostileText[Int(rng.next() % UInt64(hostileText.count))]
        switch rng.next() % 7 {
        case 0:
            guard b.count >= 8 else { return generic(&b, &rng) }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
            let v = rng.next() % 2 == 0 ? n &+ (rng.next() % 2 == 0 ? 1 : UInt64.max) : number(&rng)
            for i in 0..<8 { b[i] = UInt8((v >> (8 * UInt64(i))) & 0xFF) }
            return "header length \(v)"
        case 1: return replaceFirst(&b, "\"F32\"", with: "\"\(["F16", "BF16", "I64", "F64", "U8", "F\n32", t][Int(rng.next() % 7)])\"") ? "dtype" : generic(&b, &rng)
        case 2: return replaceFirst(&b, "[0, ", with: "[\(t), ") ? "offset \(t.debugDescription)" : generic(&b, &rng)
        case 3: return replaceFirst(&b, "[2, 3]", with: "[\(t), 3]") ? "shape \(t.debugDescription)" : generic(&b, &rng)
        case 4: return replaceFirst(&b, "}}", with: "},}") ? "trailing comma" : generic(&b, &rng)
        case 5: return replaceFirst(&b, "\"drht-1\"", with: "\"\(t)\"") ? "format value" : generic(&b, &rng)
        default:
            guard b.count > 8 else { return generic(&b, &rng) }
            var n: UInt64 = 0
            for i in 0..<8 { n |= UInt64(b[i]) << (8 * UInt64(i)) }
            n &+= 3
            b.insert(contentsOf: [0xEF, 0xBB, 0xBF], at: 8)
            for i in 0..<8 { b[i] = UInt8((n >> (8 * UInt64(i))) & 0xFF) }
            return "byte-order mark"
        }
    }
}
