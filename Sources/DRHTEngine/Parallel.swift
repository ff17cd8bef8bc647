// Parallel loops. All of the engine's parallelism comes from here: OpenBLAS runs
// single-threaded inside these workers (its own threads would spin on the same two cores
// while im2col or BN run, and fused im2col+GEMM tiles keep each worker's data in its cache).
import CBLAS
import Dispatch
import Foundation

/// The engine's thread count.
public enum EngineThreads {
    nonisolated(unsafe) private static var current = 0

    /// The number of worker threads (defaults to the number of cores).
    public static var count: Int {
        if current == 0 { set(System.coreCount) }
        return current
    }

    /// Sets the worker count; OpenBLAS itself stays single-threaded inside each worker.
    /// The first call also tunes glibc's malloc for the engine (see `keepFreedMemory`) and
    /// makes sure OpenBLAS uses the kernel of this CPU's vector extension (`BLASKernels`).
    public static func set(_ threads: Int) {
        if current == 0 { keepFreedMemory(); BLASKernels.chooseOnce() }
        current = max(1, threads)
        openblas_set_num_threads(1)
    }

    /// Activations are tens of MB each and are freed and re-allocated every layer. By default
    /// glibc maps such blocks fresh each time and returns them on free, so every layer pays
    /// page faults on its output (measured: a BN + ELU block doubled in time). Serving them
    /// from the heap and not trimming it lets freed activations be reused as they are.
    private static func keepFreedMemory() {
        #if os(Linux)
        _ = glibcMallopt(-3, 512 << 20)   // M_MMAP_THRESHOLD (malloc.h): heap, not mmap, below 512 MB
        _ = glibcMallopt(-1, 1 << 30)     // M_TRIM_THRESHOLD: keep up to 1 GB of freed heap
        #endif
    }
}

enum System {
    static var coreCount: Int { max(1, ProcessInfo.processInfo.activeProcessorCount) }
}

/// Runs `body(worker, range)` over `0..<count` split into at most `EngineThreads.count`
/// contiguous chunks; `worker` (0-based) identifies the chunk so it can use its own scratch
/// buffer. Chunks never overlap, so bodies may write disjoint parts of shared buffers.
@inline(__always)
public func parallelWorkers(_ count: Int, minChunk: Int = 1, _ body: (_ worker: Int, _ range: Range<Int>) -> Void) {
    let threads = min(EngineThreads.count, max(1, count / max(minChunk, 1)))
    if threads <= 1 {
        if count > 0 { body(0, 0..<count) }
        return
    }
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        let lo = count * t / threads, hi = count * (t + 1) / threads
        if lo < hi { body(t, lo..<hi) }
    }
}

/// Runs `body(range)` over `0..<count` split into contiguous chunks, one per thread.
@inline(__always)
public func parallelChunks(_ count: Int, minChunk: Int = 1, _ body: (Range<Int>) -> Void) {
    parallelWorkers(count, minChunk: minChunk) { _, range in body(range) }
}

/// Runs `body(i)` for every `i` in `0..<count`, spread over the engine's threads.
@inline(__always)
public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
    parallelChunks(count) { range in for i in range { body(i) } }
}

#if os(Linux)
/// glibc's `int mallopt(int param, int value)`; Swift's Glibc module does not export malloc.h.
@_silgen_name("mallopt")
private func glibcMallopt(_ param: Int32, _ value: Int32) -> Int32
#endif

/// Batch-parallel weight gradients: the images of a batch split into contiguous chunks, one per
/// worker, each worker accumulating its own partial dW (worker 0 into `dW` itself, the others
/// into zeroed workspace buffers added to `dW` at the end), with `scratch` floats of its own.
/// No worker waits on another until the final sum, and each keeps its tiles in its own cache.
/// `body(b, dWPart, scratch)` must run serially (no parallel ops inside).
public enum BatchParallel {
    public static func weightGradients(_ dW: Tensor, batch: Int, scratch: Int, workspace: Workspace,
                                       _ body: (_ image: Int, _ dWPart: UnsafeMutablePointer<Float>,
                                                _ scratch: UnsafeMutablePointer<Float>) -> Void) {
        let workers = min(EngineThreads.count, batch)
        let count = dW.count
        // Buffers come from the workspace before the workers start (it is not thread-safe).
        let scratches = (0..<workers).map { workspace.buffer($0, count: scratch) }
        let partials = (0..<workers).map { w -> UnsafeMutablePointer<Float> in
            if w == 0 { return dW.data }
            let p = workspace.buffer(workers + w, count: count)
            p.update(repeating: 0, count: count)
            return p
        }
        parallelWorkers(batch) { worker, range in
            for b in range { body(b, partials[worker], scratches[worker]) }
        }
        let d = dW.data
        for w in 1..<max(workers, 1) {
            let p = partials[w]
            parallelChunks(count, minChunk: 1 << 14) { r in for i in r { d[i] += p[i] } }
        }
    }
}

/// The vector extensions the engine was compiled for (Package.swift, DRHT_TARGET_CPU); `drht
/// bench` prints it beside the CPU.
public enum BuildTarget {
    public static var cpu: String {
        #if DRHT_TARGET_CPU_skylake_avx512
        return "skylake-avx512 (AVX-512)"
        #elseif DRHT_TARGET_CPU_haswell
        return "haswell (AVX2, FMA)"
        #elseif arch(x86_64)
        return "baseline x86-64 (SSE2), or a CPU named in DRHT_TARGET_CPU"
        #else
        return "the compiler's default"
        #endif
    }
}
