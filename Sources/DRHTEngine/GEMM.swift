// GEMM: the one matrix multiply every convolution is built on (OpenBLAS cblas_sgemm).
import CBLAS

/// `C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C`, all row-major, on the
/// engine's threads: C is split into column blocks (or row blocks when it is narrow), one
/// single-threaded sgemm per worker.
/// `op(X)` is `X` or its transpose as the labels say; `lda`, `ldb`, `ldc` are the row strides
/// of the matrices as stored (so a column block of a wider matrix can be passed directly).
public func gemm(
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
) {
    let splitColumns = n >= 256 * EngineThreads.count || n >= m
    if splitColumns {
        // Column block [j0, j1) of C needs columns [j0, j1) of op(B).
        parallelChunks((n + 63) / 64) { blocks in
            let j0 = blocks.lowerBound * 64, j1 = min(n, blocks.upperBound * 64)
            gemmSerial(c + j0, ldc: ldc, a, lda: lda, transposeA: transposeA,
                       transposeB ? b + j0 * ldb : b + j0, ldb: ldb, transposeB: transposeB,
                       m: m, n: j1 - j0, k: k, alpha: alpha, beta: beta)
        }
    } else {
        // Row block [i0, i1) of C needs rows [i0, i1) of op(A).
        parallelChunks((m + 15) / 16) { blocks in
            let i0 = blocks.lowerBound * 16, i1 = min(m, blocks.upperBound * 16)
            gemmSerial(c + i0 * ldc, ldc: ldc, transposeA ? a + i0 : a + i0 * lda, lda: lda, transposeA: transposeA,
                       b, ldb: ldb, transposeB: transposeB, m: i1 - i0, n: n, k: k, alpha: alpha, beta: beta)
        }
    }
}

/// The same product on the calling thread only (for use inside a parallel worker).
@inline(__always)
public func gemmSerial(
    _ c: UnsafeMutablePointer<Float>, ldc: Int,
    _ a: UnsafePointer<Float>, lda: Int, transposeA: Bool,
    _ b: UnsafePointer<Float>, ldb: Int, transposeB: Bool,
    m: Int, n: Int, k: Int, alpha: Float = 1, beta: Float = 0
) {
    guard m > 0, n > 0 else { return }
    if k == 0 {
        if beta == 0 { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
        return
    }
    cblas_sgemm(CblasRowMajor,
                transposeA ? CblasTrans : CblasNoTrans,
                transposeB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha,
                a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}
