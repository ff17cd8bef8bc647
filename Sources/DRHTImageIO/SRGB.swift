// The sRGB transfer curve (IEC 61966-2-1) and Rec. 709 luminance: how an 8-bit photo's values
// relate to linear light. Used by the camera simulation, the baselines and the gain-map
// correction. The exact curves are `encode`/`decode`; `fastEncode`/`fastDecode` read a table
// with linear interpolation (error < 2e-5) for passes over every pixel of a 12-megapixel photo.
import Foundation

public enum SRGB {
    /// Linear -> sRGB, clamped to [0, 1] first.
    @inline(__always)
    public static func encode(_ v: Float) -> Float {
        let v = max(0, min(1, v))
        return v <= 0.003_130_8 ? 12.92 * v : 1.055 * powf(v, 1 / 2.4) - 0.055
    }

    /// sRGB -> linear (no clamping: values above 1 follow the curve).
    @inline(__always)
    public static func decode(_ v: Float) -> Float {
        v <= 0.040_45 ? v / 12.92 : powf((v + 0.055) / 1.055, 2.4)
    }

    /// Rec. 709 luminance of linear RGB.
    @inlinable @inline(__always)
    public static func luminance(_ r: Float, _ g: Float, _ b: Float) -> Float {
        0.2126 * r + 0.7152 * g + 0.0722 * b
    }

    // MARK: - Table versions

    @usableFromInline static let tableSize = 4096
    /// decode(i / (tableSize - 1)) for i = 0 ... tableSize, one extra entry for interpolation.
    @usableFromInline static let decodeTable: UnsafeMutablePointer<Float> = table { decode($0) }
    /// encode(t^2) at t = i / (tableSize - 1): the table is indexed by sqrt(linear), which
    /// spreads its entries where the curve bends (near black).
    @usableFromInline static let encodeTable: UnsafeMutablePointer<Float> = table { encode($0 * $0) }

    static func table(_ f: (Float) -> Float) -> UnsafeMutablePointer<Float> {
        let t = UnsafeMutablePointer<Float>.allocate(capacity: tableSize + 1)     // lives as long as the program
        for i in 0...tableSize { t[i] = f(min(1, Float(i) / Float(tableSize - 1))) }
        return t
    }

    /// decode(v) for v in [0, 1] (clamped) from the table.
    @inlinable @inline(__always)
    public static func fastDecode(_ v: Float) -> Float {
        let x = max(0, min(1, v)) * Float(tableSize - 1)
        let i = Int(x), f = x - Float(i), t = decodeTable
        return t[i] + f * (t[i + 1] - t[i])
    }

    /// encode(v) for v >= 0 (clamped to 1) from the table.
    @inlinable @inline(__always)
    public static func fastEncode(_ v: Float) -> Float {
        let x = max(0, min(1, v)).squareRoot() * Float(tableSize - 1)
        let i = Int(x), f = x - Float(i), t = encodeTable
        return t[i] + f * (t[i + 1] - t[i])
    }
}
