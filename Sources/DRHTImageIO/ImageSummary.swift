// What `drht info` shows of an image file: its header and per-channel statistics, read row by row
// (PNG without interlacing, baseline JPEG, Radiance), so describing a file never holds its
// pixels: a 100-KB PNG may hold a flat 10000 x 10000 image (1.2 GB as floats). Interlaced PNG and
// progressive JPEG are only complete at their end: decoded whole when that fits the budget, else
// described without statistics.
import CJPEG
import CPNG
import DRHTEngine

public struct ImageSummary {
    public var format: ImageFormat
    public var width: Int, height: Int
    public var bitDepth: Int
    public var channels: Int
    public var details: [String]
    /// R, G, B statistics; nil when they were not computed (`note` says why).
    public var stats: [TensorStats]?
    public var note: String?
}

extension ImageIO {
    /// Decoded images above this size get no statistics unless they can be read row by row.
    public static let summaryBudgetBytes = 128 << 20

    /// The header and statistics of an image file, holding at most one row of pixels for PNG (not
    /// interlaced), baseline JPEG and Radiance; interlaced PNG and progressive JPEG only when they
    /// fit `summaryBudgetBytes`; .npy whole (its data is in the file, so it is no bigger than that).
    public static func summary(_ path: String) throws -> ImageSummary {
        let bytes = try AtomicFile.read(path)
        if bytes.isEmpty { throw ImageIOError.empty(path: path) }
        switch ImageFormat.sniff(bytes) {
        case .png:
            if let s = try PNG.summary(bytes, path: path) { return s }
        case .jpeg:
            return try JPEG.summary(bytes, path: path)
        case .radiance:
            return try RadianceHDR.summary(bytes, path: path)
        default: break
        }
        let image = try read(path)
        return ImageSummary(format: image.format, width: image.width, height: image.height, bitDepth: image.bitDepth,
                            channels: image.channels, details: image.details,
                            stats: (0..<3).map { image.pixels.channelStats($0) }, note: nil)
    }
}

/// Per-channel accumulators fed one decoded row at a time (the C decoders' row callback).
final class RowStatistics {
    var channels = [TensorStats.Accumulator](repeating: .init(), count: 3)
    let convert: (UnsafePointer<UInt8>, UnsafeMutablePointer<Float>) -> Void
    let width: Int
    let planar: UnsafeMutablePointer<Float>

    init(width: Int, convert: @escaping (UnsafePointer<UInt8>, UnsafeMutablePointer<Float>) -> Void) {
        self.width = width; self.convert = convert
        planar = .allocate(capacity: 3 * max(width, 1))
    }
    deinit { planar.deallocate() }

    func add(_ row: UnsafePointer<UInt8>) {
        convert(row, planar)
        for c in 0..<3 { for x in 0..<width { channels[c].add(planar[c * width + x]) } }
    }

    static let callback: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<UInt8>?, UInt32) -> Void = { ctx, row, _ in
        guard let ctx, let row else { return }
        Unmanaged<RowStatistics>.fromOpaque(ctx).takeUnretainedValue().add(row)
    }
}

extension PNG {
    /// Statistics row by row; nil for an interlaced file that must be decoded whole (it is, when
    /// that fits the budget; otherwise the summary has no statistics and says why).
    static func summary(_ bytes: [UInt8], path: String) throws -> ImageSummary? {
        var info = drht_png_info()
        if drht_png_read_header(bytes, bytes.count, &info) != 0 { throw classify(cString(&info.message), path: path) }
        try checkDecodable(info, bytes, path: path)
        let w = Int(info.width), h = Int(info.height)
        let ch = Int(info.out_channels), bytesPerSample = Int(info.out_bit_depth) / 8
        var summary = ImageSummary(format: .png, width: w, height: h, bitDepth: Int(info.bit_depth),
                                   channels: storedChannels(info), details: details(info), stats: nil, note: nil)
        if info.interlaced != 0 {
            let whole = w * h * (ch * bytesPerSample + 12)              // the samples, then the floats
            if whole <= ImageIO.summaryBudgetBytes { return nil }
            summary.note = "statistics not computed: an interlaced image this large is only complete at its end, and reading it whole would take "
                + "\(whole >> 20) MB"
            return summary
        }
        let stats = RowStatistics(width: w) { row, out in
            if bytesPerSample == 1 {
                convert(row, channels: ch, scale: 1.0 / 255, plane: w, into: out)
            } else {
                row.withMemoryRebound(to: UInt16.self, capacity: w * ch) { convert($0, channels: ch, scale: 1.0 / 65535, plane: w, into: out) }
            }
        }
        var rowBuffer = [UInt8](repeating: 0, count: w * ch * bytesPerSample)
        let status = rowBuffer.withUnsafeMutableBufferPointer { row in
            drht_png_decode_rows(bytes, bytes.count, &info, row.baseAddress, row.count, RowStatistics.callback,
                                 Unmanaged.passUnretained(stats).toOpaque())
        }
        if status != 0 { throw classify(cString(&info.message), path: path) }
        summary.stats = stats.channels.map(\.stats)
        return summary
    }
}

extension JPEG {
    static func summary(_ bytes: [UInt8], path: String) throws -> ImageSummary {
        var info = drht_jpeg_info()
        if drht_jpeg_read_header(bytes, bytes.count, &info) != 0 { throw classify(cString(&info.message), path: path) }
        try checkDecodable(info, bytes, path: path)
        let w = Int(info.width), h = Int(info.height)
        let details = details(info)
        // A progressive file's coefficients (about 2 bytes a sample) are held until its last scan.
        let held = info.progressive != 0 ? w * h * Int(info.components) * 2 : 0
        if held > ImageIO.summaryBudgetBytes {
            return ImageSummary(format: .jpeg, width: w, height: h, bitDepth: 8, channels: Int(info.components), details: details,
                                stats: nil, note: "statistics not computed: a progressive JPEG this large is only complete at its last scan, "
                                    + "and decoding it would hold \(held >> 20) MB")
        }
        let stats = RowStatistics(width: w) { row, out in
            for x in 0..<w { for c in 0..<3 { out[c * w + x] = Float(row[3 * x + c]) / 255 } }
        }
        var rowBuffer = [UInt8](repeating: 0, count: w * 3)
        let status = rowBuffer.withUnsafeMutableBufferPointer { row in
            drht_jpeg_decode_rows(bytes, bytes.count, &info, row.baseAddress, row.count, RowStatistics.callback,
                                  Unmanaged.passUnretained(stats).toOpaque())
        }
        if status != 0 { throw classify(cString(&info.message), path: path) }
        return ImageSummary(format: .jpeg, width: w, height: h, bitDepth: 8, channels: Int(info.components),
                            details: details, stats: stats.channels.map(\.stats), note: nil)
    }
}
