// A complex FFT of any length, for FSIM's phase congruency (which filters in the frequency
// domain). Powers of two use an iterative radix-2 transform; other lengths use Bluestein's
// chirp-z algorithm on top of it. Double precision; unnormalised forward, 1/n inverse (as
// MATLAB's fft/ifft).
import Foundation

struct FFT {
    let n: Int
    private let pow2: Bool
    // Bluestein: chirp w_k = exp(-i pi k^2 / n) and the transformed, padded conjugate chirp.
    private var chirpRe: [Double] = [], chirpIm: [Double] = []
    private var kernelRe: [Double] = [], kernelIm: [Double] = []
    private var m = 0

    init(_ n: Int) {
        precondition(n >= 1)
        self.n = n
        pow2 = n & (n - 1) == 0
        if !pow2 {
            m = 1
            while m < 2 * n - 1 { m <<= 1 }
            chirpRe = (0..<n).map { k in cos(Double.pi * Double((k * k) % (2 * n)) / Double(n)) }
            chirpIm = (0..<n).map { k in -sin(Double.pi * Double((k * k) % (2 * n)) / Double(n)) }
            var br = [Double](repeating: 0, count: m), bi = [Double](repeating: 0, count: m)
            for k in 0..<n {
                br[k] = chirpRe[k]; bi[k] = -chirpIm[k]
                if k > 0 { br[m - k] = chirpRe[k]; bi[m - k] = -chirpIm[k] }
            }
            FFT.radix2(&br, &bi, inverse: false)
            kernelRe = br; kernelIm = bi
        }
    }

    /// In place: forward (sum x_j e^{-2 pi i jk/n}) or inverse (with 1/n).
    func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        if inverse { for i in 0..<n { im[i] = -im[i] } }     // ifft(x) = conj(fft(conj(x))) / n
        if pow2 {
            FFT.radix2(&re, &im, inverse: false)
        } else {
            var ar = [Double](repeating: 0, count: m), ai = [Double](repeating: 0, count: m)
            for k in 0..<n {
                ar[k] = re[k] * chirpRe[k] - im[k] * chirpIm[k]
                ai[k] = re[k] * chirpIm[k] + im[k] * chirpRe[k]
            }
            FFT.radix2(&ar, &ai, inverse: false)
            for k in 0..<m {
                let r = ar[k] * kernelRe[k] - ai[k] * kernelIm[k]
                ai[k] = ar[k] * kernelIm[k] + ai[k] * kernelRe[k]
                ar[k] = r
            }
            FFT.radix2(&ar, &ai, inverse: true)
            for k in 0..<n {
                re[k] = ar[k] * chirpRe[k] - ai[k] * chirpIm[k]
                im[k] = ar[k] * chirpIm[k] + ai[k] * chirpRe[k]
            }
        }
        if inverse {
            let s = 1 / Double(n)
            for i in 0..<n { re[i] *= s; im[i] = -im[i] * s }
        }
    }

    /// Iterative radix-2 Cooley-Tukey; `inverse` here means e^{+i...} with the 1/len scaling.
    static func radix2(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        let n = re.count
        var j = 0
        for i in 1..<max(n, 1) {
            var bit = n >> 1
            while j & bit != 0 { j ^= bit; bit >>= 1 }
            j |= bit
            if i < j { re.swapAt(i, j); im.swapAt(i, j) }
        }
        var len = 2
        while len <= n {
            let angle = (inverse ? 2 : -2) * Double.pi / Double(len)
            let wr = cos(angle), wi = sin(angle)
            var start = 0
            while start < n {
                var cr = 1.0, ci = 0.0
                for k in 0..<(len / 2) {
                    let a = start + k, b = a + len / 2
                    let tr = re[b] * cr - im[b] * ci, ti = re[b] * ci + im[b] * cr
                    re[b] = re[a] - tr; im[b] = im[a] - ti
                    re[a] += tr; im[a] += ti
                    let ncr = cr * wr - ci * wi
                    ci = cr * wi + ci * wr; cr = ncr
                }
                start += len
            }
            len <<= 1
        }
        if inverse { let s = 1 / Double(n); for i in 0..<n { re[i] *= s; im[i] *= s } }
    }
}

/// A 2-D FFT over a rows x cols row-major array: rows, then columns.
struct FFT2D {
    let rows: Int, cols: Int
    private let rowFFT: FFT, colFFT: FFT

    init(rows: Int, cols: Int) { self.rows = rows; self.cols = cols; rowFFT = FFT(cols); colFFT = FFT(rows) }

    func transform(_ re: inout [Double], _ im: inout [Double], inverse: Bool) {
        var r = [Double](repeating: 0, count: cols), i = [Double](repeating: 0, count: cols)
        for y in 0..<rows {
            for x in 0..<cols { r[x] = re[y * cols + x]; i[x] = im[y * cols + x] }
            rowFFT.transform(&r, &i, inverse: inverse)
            for x in 0..<cols { re[y * cols + x] = r[x]; im[y * cols + x] = i[x] }
        }
        var cr = [Double](repeating: 0, count: rows), ci = [Double](repeating: 0, count: rows)
        for x in 0..<cols {
            for y in 0..<rows { cr[y] = re[y * cols + x]; ci[y] = im[y * cols + x] }
            colFFT.transform(&cr, &ci, inverse: inverse)
            for y in 0..<rows { re[y * cols + x] = cr[y]; im[y * cols + x] = ci[y] }
        }
    }
}
