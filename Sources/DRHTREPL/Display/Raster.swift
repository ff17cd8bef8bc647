// An RGB picture to draw: (1, 3, H, W) floats in [0, 1]. Everything the REPL shows becomes a
// Raster first (images, HDR tone-mapped for display, feature maps through a colour map), then a
// terminal drawing (TerminalPicture) or a PNG (for `export` and the notebook).
import DRHTEngine
import DRHTImageIO

public struct Raster {
    public let pixels: Tensor   // (1, 3, H, W) in [0, 1]
    /// Drawn through the blue-white-red diverging map: without colour, the terminal's ASCII
    /// stand-in shows each value's sign as well as its size (`TerminalPicture.signedCharacter`).
    public var signed = false
    /// Signed values laid over a photo (an attribution overlay): without colour the terminal draws
    /// them alone, through the diverging map, instead of the blend (whose colours lose the sign).
    public var signedValues: (values: Tensor, range: ClosedRange<Float>)?
    /// What the ASCII stand-in draws at w x h: the picture resized, or the signed values alone,
    /// each cell keeping its strongest value (so a few strong pixels are not averaged away).
    public func asciiPicture(width w: Int, height h: Int) -> Raster {
        guard let v = signedValues else { return resized(width: w, height: h) }
        var pooled = [Float](repeating: 0, count: w * h)
        for y in 0..<h {
            let y0 = y * height / h, y1 = max(y0 + 1, (y + 1) * height / h)
            for x in 0..<w {
                let x0 = x * width / w, x1 = max(x0 + 1, (x + 1) * width / w)
                var best: Float = 0
                for yy in y0..<y1 { for xx in x0..<x1 {
                    let a = v.values.data[yy * width + xx]
                    if !a.isFinite || abs(a) > abs(best) { best = a }
                } }
                pooled[y * w + x] = best
            }
        }
        return Raster.mapped(pooled, width: w, height: h, map: .diverging, range: v.range)
    }
    public var width: Int { pixels.w }
    public var height: Int { pixels.h }

    public init(_ pixels: Tensor) { self.pixels = pixels }

    public init(width: Int, height: Int, fill: (Float, Float, Float) = (0, 0, 0)) {
        let t = Tensor(zeros: [1, 3, height, width])
        let plane = width * height
        for i in 0..<plane { t.data[i] = fill.0; t.data[plane + i] = fill.1; t.data[2 * plane + i] = fill.2 }
        pixels = t
    }

    @inline(__always) public func rgb(_ x: Int, _ y: Int) -> (Float, Float, Float) {
        let plane = width * height, i = y * width + x
        return (pixels.data[i], pixels.data[plane + i], pixels.data[2 * plane + i])
    }

    @inline(__always) public func set(_ x: Int, _ y: Int, _ c: (Float, Float, Float)) {
        guard x >= 0, y >= 0, x < width, y < height else { return }
        let plane = width * height, i = y * width + x
        pixels.data[i] = c.0; pixels.data[plane + i] = c.1; pixels.data[2 * plane + i] = c.2
    }

    /// An LDR image as it is, clamped to [0, 1]; a pixel with a NaN or infinite channel is drawn
    /// magenta (`ColourMap.nonFinite`). One channel is drawn gray.
    public static func image(_ t: Tensor) -> Raster {
        let out = Tensor(zeros: [1, 3, t.h, t.w])
        let plane = t.h * t.w, channels = t.shape.count == 4 ? t.c : 1
        guard channels > 0 else { return Raster(out) }
        let src = (0..<3).map { t.data + min($0, channels - 1) * plane }     // gray: one plane three times
        let (r, g, b) = (src[0], src[1], src[2]), mark = ColourMap.nonFinite
        for i in 0..<plane {
            let marked = !(r[i].isFinite && g[i].isFinite && b[i].isFinite)
            out.data[i] = marked ? mark.0 : r[i].unitClamped
            out.data[plane + i] = marked ? mark.1 : g[i].unitClamped
            out.data[2 * plane + i] = marked ? mark.2 : b[i].unitClamped
        }
        return Raster(out)
    }

    /// How many pixels of `t` have a NaN or infinite channel (drawn magenta).
    public static func nonFinitePixels(_ t: Tensor) -> Int {
        let plane = t.h * t.w, channels = t.shape.count == 4 ? t.c : 1
        var n = 0
        for i in 0..<plane {
            var finite = true
            for c in 0..<channels where !t.data[c * plane + i].isFinite { finite = false; break }
            if !finite { n += 1 }
        }
        return n
    }

    /// One channel (H x W at `p`) through a colour map, scaled from lo..hi.
    public static func mapped(_ p: UnsafePointer<Float>, width: Int, height: Int, map: ColourMap, range: ClosedRange<Float>) -> Raster {
        var r = Raster(width: width, height: height)
        for y in 0..<height { for x in 0..<width { r.set(x, y, map.colour(p[y * width + x], range: range)) } }
        r.signed = map == .diverging
        return r
    }

    /// Resized to w x h: area averaging when shrinking, nearest neighbour when enlarging
    /// (so an 8 x 8 latent map stays crisp).
    public func resized(width w: Int, height h: Int) -> Raster {
        if w == width && h == height { return self }
        var out = Raster(width: w, height: h)
        out.signed = signed
        for c in 0..<3 {
            let src = pixels.data + c * width * height, dst = out.pixels.data + c * w * h
            for y in 0..<h {
                let y0 = y * height / h, y1 = max(y0 + 1, (y + 1) * height / h)
                for x in 0..<w {
                    let x0 = x * width / w, x1 = max(x0 + 1, (x + 1) * width / w)
                    var s: Float = 0
                    for yy in y0..<y1 { for xx in x0..<x1 { s += src[yy * width + xx] } }
                    dst[y * w + x] = s / Float((y1 - y0) * (x1 - x0))
                }
            }
        }
        return out
    }

    /// Copies `other` into this raster with its top-left corner at (x, y).
    public func paste(_ other: Raster, x: Int, y: Int) {
        for yy in 0..<other.height { for xx in 0..<other.width { set(x + xx, y + yy, other.rgb(xx, yy)) } }
    }

    public func png() -> [UInt8] { (try? PNG.encode(pixels)) ?? [] }
}
