// Parallel loops for the non-GEMM work (im2col, col2im, BN, ELU, elementwise ops).
// GEMM parallelises itself through OpenBLAS's own threads; the two never overlap because
// every parallel loop here finishes before the next GEMM is called.
import CBLAS
import Dispatch

/// The engine's thread count, shared by OpenBLAS and the parallel loops.
public enum EngineThreads {
    nonisolated(unsafe) private static var current = 0

    /// The number of threads in use (defaults to the number of cores OpenBLAS sees).
    public static var count: Int {
        if current == 0 { current = max(1, Int(openblas_get_num_threads())) }
        return current
    }

    /// Sets the thread count for both OpenBLAS and the parallel loops.
    public static func set(_ threads: Int) {
        current = max(1, threads)
        openblas_set_num_threads(Int32(current))
    }
}

/// Runs `body(range)` over `0..<count` split into contiguous chunks, one per thread.
/// Each index is visited exactly once; chunks never overlap, so bodies may write
/// disjoint parts of shared buffers without locks.
@inline(__always)
public func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    let threads = min(EngineThreads.count, max(1, count / max(minChunk, 1)))
    if threads <= 1 || count <= 1 {
        if count > 0 { body(0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = count * t / threads, hi = count * (t + 1) / threads
        if lo < hi { body(lo..<hi) }
    }
}

/// Runs `body(i)` for every `i` in `0..<count`, spread over the engine's threads.
@inline(__always)
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    parallelChunks(count) { range in for i in range { body(i) } }
}
