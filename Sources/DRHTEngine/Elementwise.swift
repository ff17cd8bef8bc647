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
