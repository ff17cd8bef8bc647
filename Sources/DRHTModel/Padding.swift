// Inputs of any size: pad right and bottom by repeating the edge pixels up to a multiple of
// 32 (PyTorch `F.pad(x, (0, pw, 0, ph), mode="replicate")`), and crop the output back.
import DRHTEngine

/// x (N, C, H, W) -> (N, C, H', W') with H', W' the next multiples of `multiple`; the new
/// columns repeat column W-1 and the new rows repeat row H-1. Returns x itself when no
/// padding is needed.
public func replicatePad(_ x: Tensor, toMultipleOf multiple: Int) -> Tensor {
    let h = x.h, w = x.w
    let ph = (h + multiple - 1) / multiple * multiple, pw = (w + multiple - 1) / multiple * multiple
    if ph == h && pw == w { return x }
    let y = Tensor(uninitialized: [x.n, x.c, ph, pw])
    parallelFor(x.n * x.c) { plane in
        let src = x.data + plane * h * w, dst = y.data + plane * ph * pw
        for row in 0..<ph {
            let s = src + min(row, h - 1) * w, d = dst + row * pw
            d.update(from: s, count: w)
            d.advanced(by: w).update(repeating: s[w - 1], count: pw - w)
        }
    }
    return y
}

/// The top-left (N, C, height, width) of x.
public func crop(_ x: Tensor, height: Int, width: Int) -> Tensor {
    if x.h == height && x.w == width { return x }
    let y = Tensor(uninitialized: [x.n, x.c, height, width])
    parallelFor(x.n * x.c) { plane in
        let src = x.data + plane * x.h * x.w, dst = y.data + plane * height * width
        for row in 0..<height {
            (dst + row * width).update(from: src + row * x.w, count: width)
        }
    }
    return y
}

/// The adjoint of `replicatePad`: dL/dx for x (N, C, height, width) given dL/d(padded) — each
/// padded pixel's gradient goes back to the edge pixel it repeats. Returns g itself when no
/// padding was added.
public func replicatePadBackward(_ g: Tensor, height: Int, width: Int) -> Tensor {
    if g.h == height && g.w == width { return g }
    let dx = crop(g, height: height, width: width)
    for plane in 0..<(g.n * g.c) {
        let src = g.data + plane * g.h * g.w, dst = dx.data + plane * height * width
        for row in 0..<g.h {
            let d = dst + min(row, height - 1) * width
            let s = src + row * g.w
            if row >= height { for col in 0..<width { d[col] += s[col] } }
            for col in width..<g.w { d[width - 1] += s[col] }
        }
    }
    return dx
}
