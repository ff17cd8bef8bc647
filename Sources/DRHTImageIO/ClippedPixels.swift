// Which pixels of an 8-bit photo were clipped: any channel at 255. One definition for the
// clipped-region score (DRHTMetrics' `ClippedRegion`) and the training loss's optional weight
// on those pixels (`DRHT.lossAndGradients(clipWeight:)`).
import DRHTEngine

public enum ClippedPixels {
    /// Pixels counted as clipped: any channel at 255 of 8 bits (>= 254.5/255).
    public static let threshold: Float = 254.5 / 255
    /// The mask is dilated by this many pixels (a square), so the edges around a clipped area,
    /// where the light falls off into it, count too.
    public static let dilation = 2

    /// (H * W) flags, row-major: true where any channel of image `n` of `input` (N, C, H, W)
    /// is clipped, dilated by `r` pixels.
    public static func mask(_ input: Tensor, image n: Int = 0, dilation r: Int = dilation) -> [Bool] {
        let h = input.h, w = input.w, plane = h * w
        let first = n * input.c * plane
        var clipped = [Bool](repeating: false, count: plane)
        for c in 0..<input.c {
            let o = first + c * plane
            for i in 0..<plane where input.data[o + i] >= threshold { clipped[i] = true }
        }
        guard r > 0 else { return clipped }
        // Separable dilation: rows, then columns.
        var rows = [Bool](repeating: false, count: plane)
        for y in 0..<h { for x in 0..<w where clipped[y * w + x] {
            for xx in max(0, x - r)...min(w - 1, x + r) { rows[y * w + xx] = true }
        }}
        var out = [Bool](repeating: false, count: plane)
        for y in 0..<h { for x in 0..<w where rows[y * w + x] {
            for yy in max(0, y - r)...min(h - 1, y + r) { out[yy * w + x] = true }
        }}
        return out
    }
}
