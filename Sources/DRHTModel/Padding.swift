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

/// x (N, C, H, W) with a mirrored margin of `margin` pixels on every side (the edge pixel not
/// repeated, as PyTorch's "reflect"; margins wider than the image reflect back and forth):
/// the network then sees more of the same picture around it instead of zero padding's black.
public func mirrorPad(_ x: Tensor, margin: Int) -> Tensor {
    if margin <= 0 { return x }
    let h = x.h, w = x.w, ph = h + 2 * margin, pw = w + 2 * margin
    func mirror(_ i: Int, _ n: Int) -> Int {
        if n == 1 { return 0 }
        let period = 2 * n - 2
        var k = i % period
        if k < 0 { k += period }
        return k < n ? k : period - k
    }
    let columns = (0..<pw).map { mirror($0 - margin, w) }
    let y = Tensor(uninitialized: [x.n, x.c, ph, pw])
    parallelFor(x.n * x.c) { plane in
        let src = x.data + plane * h * w, dst = y.data + plane * ph * pw
        for row in 0..<ph {
            let s = src + mirror(row - margin, h) * w, d = dst + row * pw
            for col in 0..<pw { d[col] = s[columns[col]] }
        }
    }
    return y
}

/// The (N, C, height, width) window of x whose top-left corner is (top, left).
public func crop(_ x: Tensor, top: Int, left: Int, height: Int, width: Int) -> Tensor {
    if top == 0 && left == 0 { return crop(x, height: height, width: width) }
    let y = Tensor(uninitialized: [x.n, x.c, height, width])
    parallelFor(x.n * x.c) { plane in
        let src = x.data + plane * x.h * x.w, dst = y.data + plane * height * width
        for row in 0..<height {
            (dst + row * width).update(from: src + (row + top) * x.w + left, count: width)
        }
    }
    return y
}
