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
