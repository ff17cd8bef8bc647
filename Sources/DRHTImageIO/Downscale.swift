// Shrinking an image by an integer factor, averaging each f x f block: big photos for the REPL
// (`load --max`), training photos (reduced to the procedural scenes' scale), report thumbnails.
import DRHTEngine

/// (1, C, H, W) -> (1, C, H / f, W / f), each output pixel the mean of an f x f block (the
/// last H mod f rows and W mod f columns are dropped). f <= 1 returns `t` itself.
public func downscale(_ t: Tensor, by f: Int) -> Tensor {
    guard f > 1 else { return t }
    let h = max(1, t.h / f), w = max(1, t.w / f)
    let out = Tensor(zeros: [1, t.c, h, w])
    let scale = 1 / Float(f * f)
    for c in 0..<t.c { for y in 0..<h { for x in 0..<w {
        var sum: Float = 0
        for dy in 0..<min(f, t.h - y * f) {
            let row = t.data + (c * t.h + y * f + dy) * t.w + x * f
            for dx in 0..<min(f, t.w - x * f) { sum += row[dx] }
        }
        out.data[(c * h + y) * w + x] = sum * scale
    } } }
    return out
}

/// (N, C, H, W) -> (N, C, height, width), shrinking: each output pixel is the mean of the input
/// area it covers (a box filter with fractional edge weights, applied along rows, then columns),
/// so nothing aliases. Sizes must not grow. Returns `t` itself when the size is unchanged.
public func resizeArea(_ t: Tensor, height: Int, width: Int) -> Tensor {
    precondition(height >= 1 && width >= 1 && height <= t.h && width <= t.w, "resizeArea only shrinks")
    if height == t.h && width == t.w { return t }
    let planes = t.n * t.c
    let cols = areaWeights(from: t.w, to: width), rows = areaWeights(from: t.h, to: height)
    // Rows first: (planes, H, width).
    let mid = Tensor(uninitialized: [planes, t.h, width])
    parallelChunks(planes * t.h, minChunk: 16) { range in
        for r in range {
            let src = t.data + r * t.w, dst = mid.data + r * width
            for x in 0..<width {
                let (first, weights) = cols[x]
                var sum: Float = 0
                for (k, w) in weights.enumerated() { sum += w * src[first + k] }
                dst[x] = sum
            }
        }
    }
    let out = Tensor(uninitialized: [t.n, t.c, height, width])
    parallelChunks(planes * height, minChunk: 4) { range in
        for r in range {
            let plane = r / height, y = r % height
            let dst = out.data + r * width
            dst.update(repeating: 0, count: width)
            let (first, weights) = rows[y]
            for (k, w) in weights.enumerated() {
                let src = mid.data + (plane * t.h + first + k) * width
                for x in 0..<width { dst[x] += w * src[x] }
            }
        }
    }
    return out
}

/// For each of `m` output cells over `n` inputs: the first input it covers and the weights
/// of the inputs it covers (their overlap with the cell, summing to 1).
func areaWeights(from n: Int, to m: Int) -> [(first: Int, weights: [Float])] {
    let scale = Double(n) / Double(m)
    return (0..<m).map { i in
        let lo = Double(i) * scale, hi = Double(i + 1) * scale
        let first = Int(lo), last = min(n - 1, Int((hi - 1e-9).rounded(.down)))
        let weights = (first...last).map { j in Float((min(hi, Double(j + 1)) - max(lo, Double(j))) / scale) }
        return (first, weights)
    }
}

/// The size (height, width) whose longer side is `longSide`, keeping the aspect ratio
/// (each side at least 1); the size itself when its long side is already at most `longSide`.
public func sizeWithLongSide(_ longSide: Int, height: Int, width: Int) -> (height: Int, width: Int) {
    let long = max(height, width)
    guard long > longSide else { return (height, width) }
    let s = Double(longSide) / Double(long)
    return (max(1, Int((Double(height) * s).rounded())), max(1, Int((Double(width) * s).rounded())))
}
