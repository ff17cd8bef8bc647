// Helpers for elementwise ops: apply a scalar function to every element, in parallel.

/// y[i] = f(x[i]) for every element; y has x's shape.
@inline(__always)
func mapElements(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
    let y = Tensor(zeros: x.shape)
    let src = x.data, dst = y.data
    parallelChunks(x.count, minChunk: 16384) { r in for i in r { dst[i] = f(src[i]) } }
    return y
}

/// z[i] = f(a[i], b[i]) for every element; a and b must have one shape.
@inline(__always)
func zipElements(_ a: Tensor, _ b: Tensor, _ f: (Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape, "shapes differ: \(a.shapeString) vs \(b.shapeString)")
    let z = Tensor(zeros: a.shape)
    let pa = a.data, pb = b.data, pz = z.data
    parallelChunks(a.count, minChunk: 16384) { r in for i in r { pz[i] = f(pa[i], pb[i]) } }
    return z
}

/// z[i] = f(a[i], b[i], c[i]) for every element.
@inline(__always)
func zipElements(_ a: Tensor, _ b: Tensor, _ c: Tensor, _ f: (Float, Float, Float) -> Float) -> Tensor {
    precondition(a.shape == b.shape && a.shape == c.shape,
                 "shapes differ: \(a.shapeString), \(b.shapeString), \(c.shapeString)")
    let z = Tensor(zeros: a.shape)
    let pa = a.data, pb = b.data, pc = c.data, pz = z.data
    parallelChunks(a.count, minChunk: 16384) { r in for i in r { pz[i] = f(pa[i], pb[i], pc[i]) } }
    return z
}
