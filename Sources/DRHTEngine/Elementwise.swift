// Helpers for elementwise ops. Each op writes its own loop inside `parallelChunks` (a closure
// passed in here would be called per element instead of inlined and vectorised).

/// A fresh output with `x`'s shape (every element is written by the op).
@inline(__always)
func elementwiseOutput(like x: Tensor) -> Tensor { Tensor(uninitialized: x.shape) }

/// The chunk size below which elementwise work stays on one thread.
let elementwiseMinChunk = 1 << 15

func checkSameShape(_ a: Tensor, _ b: Tensor, _ op: String) {
    precondition(a.shape == b.shape, "\(op): shapes differ \(a.shapeString) vs \(b.shapeString)")
}

/// The sum of p[0 ..< count] in Double, taken in 16 float lanes folded into the Double total
/// every 1,024 elements (a Double add per element is a serial chain the CPU cannot overlap:
/// the conv backward's bias gradient spent ~2% of a training step in it).
func laneSum(_ p: UnsafePointer<Float>, count: Int) -> Double {
    typealias V = SIMD16<Float>
    var total = 0.0, i = 0
    while i + V.scalarCount <= count {
        var s = V.zero
        let end = min(count, i + 1024) - V.scalarCount
        while i <= end { s += UnsafeRawPointer(p + i).loadUnaligned(as: V.self); i += V.scalarCount }
        total += Double(s.sum())
    }
    for j in i..<count { total += Double(p[j]) }
    return total
}

/// Cosine similarity of a and b (flattened; 1 when both are zero) and their relative distance
/// |a - b| / |b| (0 when b is zero). The four sums are taken in 16 float lanes, folded into
/// doubles every 1,024 elements, over chunks spread across the engine's threads and added in
/// chunk order, so the result does not depend on the thread count (`sweep` compares ~25M values
/// per exposure).
public func similarity(_ a: Tensor, _ b: Tensor) -> (cosine: Double, relative: Double) {
    precondition(a.count == b.count, "similarity: \(a.count) vs \(b.count) values")
    typealias V = SIMD16<Float>
    let chunk = 1 << 16, chunks = (a.count + chunk - 1) / chunk
    var partial = [SIMD4<Double>](repeating: .zero, count: chunks)   // ab, aa, bb, dd per chunk
    partial.withUnsafeMutableBufferPointer { out in
        let out = out.baseAddress!
        parallelFor(chunks) { c in
            let pa = a.data + c * chunk, pb = b.data + c * chunk, n = min(chunk, a.count - c * chunk)
            var sums = SIMD4<Double>.zero, i = 0
            while i + V.scalarCount <= n {
                var ab = V.zero, aa = V.zero, bb = V.zero, dd = V.zero
                let end = min(n, i + 1024) - V.scalarCount
                while i <= end {
                    let x = UnsafeRawPointer(pa + i).loadUnaligned(as: V.self), y = UnsafeRawPointer(pb + i).loadUnaligned(as: V.self)
                    let d = x - y
                    ab += x * y; aa += x * x; bb += y * y; dd += d * d
                    i += V.scalarCount
                }
                sums += SIMD4(Double(ab.sum()), Double(aa.sum()), Double(bb.sum()), Double(dd.sum()))
            }
            for j in i..<n {
                let x = Double(pa[j]), y = Double(pb[j])
                sums += SIMD4(x * y, x * x, y * y, (x - y) * (x - y))
            }
            out[c] = sums
        }
    }
    let total = partial.reduce(SIMD4<Double>.zero, +)
    let (ab, aa, bb, dd) = (total[0], total[1], total[2], total[3])
    let norm = (aa * bb).squareRoot()
    return (norm > 0 ? ab / norm : (aa == bb ? 1 : 0), bb > 0 ? (dd / bb).squareRoot() : 0)
}
