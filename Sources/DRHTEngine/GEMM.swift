// GEMM: the one matrix multiply every convolution is built on (OpenBLAS cblas_sgemm).
import CBLAS

/// `C (m, n) = alpha * op(A) (m, k) * op(B) (k, n) + beta * C`, all row-major.
/// `op(X)` is `X` or its transpose as the labels say; `lda`, `ldb`, `ldc` are the row strides
/// of the matrices as stored (so a column block of a wider matrix can be passed directly).
@inline(__always)
public func gemm(
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
