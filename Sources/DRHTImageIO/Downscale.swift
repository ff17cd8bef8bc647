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
