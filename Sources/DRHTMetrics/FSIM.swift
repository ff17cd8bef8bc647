// Feature similarity, following Zhang et al.'s reference implementation FeatureSIM.m (2011):
// images in YIQ on a 0-255 scale, downsampled by F = max(1, round(min(H, W) / 256)) (an F x F
// average, zero padding, MATLAB 'same' alignment, then every F-th pixel), phase congruency
// (Kovesi's phasecong2: log-Gabor filters, 4 scales from wavelength 6 with factor 2, sigma_f
// 0.55, 4 orientations, noise threshold k = 2 rescaled by 1/1.7) and the Scharr gradient
// magnitude, combined with T1 = 0.85, T2 = 160 and weighted by max(PC1, PC2). FSIMc also
// compares the I and Q chroma channels (T3 = T4 = 200, lambda = 0.03).
import DRHTEngine
import Foundation

public enum FSIM {
    public static let t1 = 0.85, t2 = 160.0, t3 = 200.0, t4 = 200.0, lambda = 0.03

    /// What FSIM computes of one image: its (downsampled) Y, I, Q planes, phase congruency and
    /// gradient magnitude. Make it once for a reference that many results are compared with.
    public struct Features {
        public let pixels: Tensor
        let height: Int, width: Int
        let y: [Double], i: [Double], q: [Double], pc: [Double], gradient: [Double]

        public init(_ t: Tensor) throws {
            guard t.shape.count == 4, t.n == 1, t.c == 3 || t.c == 1 else { throw MetricsError.notAnImage(t.shape) }
            guard t.h >= 8, t.w >= 8 else { throw MetricsError.tooSmall(metric: "FSIM", minimum: 8, height: t.h, width: t.w) }
            let (y0, i0, q0) = FSIM.yiq(t)
            let f = max(1, Int((Double(min(t.h, t.w)) / 256).rounded()))
            func down(_ x: [Double]) -> [Double] { x.isEmpty ? x : FSIM.downsample(x, height: t.h, width: t.w, factor: f) }
            pixels = t
            (height, width) = ((t.h + f - 1) / f, (t.w + f - 1) / f)
            (y, i, q) = (down(y0), down(i0), down(q0))
            pc = FSIM.phaseCongruency(y, rows: height, cols: width)
            gradient = FSIM.gradient(y, rows: height, cols: width)
        }
    }

    /// (FSIM, FSIMc) of two (1, 3, H, W) images in [0, 1] (FSIMc = FSIM for one channel).
    public static func compute(_ a: Tensor, _ b: Tensor) throws -> (fsim: Double, fsimc: Double) {
        try Metrics.checkSameShape(a, b)
        return try compute(Features(a), Features(b))
    }

    /// The same from features made beforehand (e.g. the target's, once for every method).
    public static func compute(_ a: Features, _ b: Features) throws -> (fsim: Double, fsimc: Double) {
        try Metrics.checkSameShape(a.pixels, b.pixels)
        let (pc1, pc2, g1, g2) = (a.pc, b.pc, a.gradient, b.gradient)
        let n = a.height * a.width
        let chroma = a.pixels.c == 3
        var sum = 0.0, sumC = 0.0, weight = 0.0
        for k in 0..<n {
            let pcSim = (2 * pc1[k] * pc2[k] + t1) / (pc1[k] * pc1[k] + pc2[k] * pc2[k] + t1)
            let gSim = (2 * g1[k] * g2[k] + t2) / (g1[k] * g1[k] + g2[k] * g2[k] + t2)
            let pcm = max(pc1[k], pc2[k])
            sum += gSim * pcSim * pcm
            weight += pcm
            if chroma {
                let iSim = (2 * a.i[k] * b.i[k] + t3) / (a.i[k] * a.i[k] + b.i[k] * b.i[k] + t3)
                let qSim = (2 * a.q[k] * b.q[k] + t4) / (a.q[k] * a.q[k] + b.q[k] * b.q[k] + t4)
                // MATLAB takes real((I*Q)^lambda): a negative product gives a complex power.
                let p = iSim * qSim
                let c = p >= 0 ? pow(p, lambda) : pow(-p, lambda) * cos(Double.pi * lambda)
                sumC += gSim * pcSim * c * pcm
            }
        }
        // Flat images have no phase congruency anywhere (0/0 in FeatureSIM.m): identical ones
        // are fully similar; otherwise fall back to the unweighted gradient similarity.
        guard weight > 0 else {
            if a.pixels.array == b.pixels.array { return (1, 1) }
            var g = 0.0
            for k in 0..<n { g += (2 * g1[k] * g2[k] + t2) / (g1[k] * g1[k] + g2[k] * g2[k] + t2) }
            return (g / Double(n), g / Double(n))
        }
        return (sum / weight, chroma ? sumC / weight : sum / weight)
    }

    /// Y, I, Q planes on a 0-255 scale (values clamped to [0, 1] first).
    static func yiq(_ t: Tensor) -> ([Double], [Double], [Double]) {
        let plane = t.h * t.w
        if t.c == 1 { return ((0..<plane).map { 255 * Double(min(max(t.data[$0], 0), 1)) }, [], []) }
        var y = [Double](repeating: 0, count: plane), i = y, q = y
        for k in 0..<plane {
            let r = 255 * Double(min(max(t.data[k], 0), 1)), g = 255 * Double(min(max(t.data[plane + k], 0), 1))
            let b = 255 * Double(min(max(t.data[2 * plane + k], 0), 1))
            y[k] = 0.299 * r + 0.587 * g + 0.114 * b
            i[k] = 0.596 * r - 0.274 * g - 0.322 * b
            q[k] = 0.211 * r - 0.523 * g + 0.312 * b
        }
        return (y, i, q)
    }

    /// conv2(img, ones(F)/F^2, 'same') then img(1:F:end, 1:F:end). conv2's 'same' keeps the
    /// full convolution's central part starting at floor(F/2): output(i) averages
    /// img(i + floor(F/2) - F + 1 ... i + floor(F/2)), zero outside.
    static func downsample(_ img: [Double], height h: Int, width w: Int, factor f: Int) -> [Double] {
        if f == 1 { return img }
        let oh = (h + f - 1) / f, ow = (w + f - 1) / f
        let first = f / 2 - f + 1
        var out = [Double](repeating: 0, count: oh * ow)
        for oy in 0..<oh { for ox in 0..<ow {
            var s = 0.0
            for dy in 0..<f {
                let y = oy * f + first + dy
                guard y >= 0, y < h else { continue }
                for dx in 0..<f {
                    let x = ox * f + first + dx
                    if x >= 0 && x < w { s += img[y * w + x] }
                }
            }
            out[oy * ow + ox] = s / Double(f * f)
        } }
        return out
    }

    /// Scharr gradient magnitude, conv2(Y, dx, 'same') with dx = [3 0 -3; 10 0 -10; 3 0 -3]/16,
    /// zero padding. (conv2 flips the kernel; the magnitude does not care.)
    static func gradient(_ img: [Double], rows h: Int, cols w: Int) -> [Double] {
        func at(_ y: Int, _ x: Int) -> Double { y >= 0 && y < h && x >= 0 && x < w ? img[y * w + x] : 0 }
        var out = [Double](repeating: 0, count: h * w)
        for y in 0..<h { for x in 0..<w {
            // convolution: sum_k img(y - ky, x - kx) * kernel(ky, kx), kernel centred.
            let a: Double = at(y - 1, x - 1), b: Double = at(y - 1, x), c: Double = at(y - 1, x + 1)
            let d: Double = at(y, x - 1), e: Double = at(y, x + 1)
            let f: Double = at(y + 1, x - 1), g: Double = at(y + 1, x), k: Double = at(y + 1, x + 1)
            let gx: Double = (3 * (a - c) + 10 * (d - e) + 3 * (f - k)) / 16
            let gy: Double = (3 * (a - f) + 10 * (b - g) + 3 * (c - k)) / 16
            out[y * w + x] = (gx * gx + gy * gy).squareRoot()
        } }
        return out
    }

    /// Kovesi's phase congruency as FeatureSIM.m's phasecong2 computes it.
    static func phaseCongruency(_ img: [Double], rows: Int, cols: Int) -> [Double] {
        let nscale = 4, norient = 4, minWaveLength = 6.0, mult = 2.0, sigmaOnf = 0.55
        let dThetaOnSigma = 1.2, k = 2.0, epsilon = 0.0001
        let thetaSigma = Double.pi / Double(norient) / dThetaOnSigma
        let n = rows * cols
        let fft = FFT2D(rows: rows, cols: cols)
        var imRe = img, imIm = [Double](repeating: 0, count: n)
        fft.transform(&imRe, &imIm, inverse: false)

        // Frequency grid, already ifftshift-ed: entry (y, x) holds the value of the centred
        // grid at ((y + rows/2) % rows, (x + cols/2) % cols).
        func range(_ len: Int) -> [Double] {
            let odd = len % 2 == 1
            let centre: Double = odd ? Double(len - 1) / 2 : Double(len / 2)
            let divisor: Double = odd ? Double(max(len - 1, 1)) : Double(len)
            return (0..<len).map { (Double($0) - centre) / divisor }
        }
        let xr = range(cols), yr = range(rows)
        var radius = [Double](repeating: 0, count: n), sinT = radius, cosT = radius, lowpass = radius
        for y in 0..<rows { for x in 0..<cols {
            let sy = yr[(y + rows / 2) % rows], sx = xr[(x + cols / 2) % cols]
            let r = (sx * sx + sy * sy).squareRoot()
            let theta = atan2(-sy, sx)
            let i = y * cols + x
            radius[i] = r; sinT[i] = sin(theta); cosT[i] = cos(theta)
            lowpass[i] = 1 / (1 + pow(r / 0.45, 2 * 15))
        } }
        radius[0] = 1
        let logGabor: [[Double]] = (0..<nscale).map { s in
            let fo = 1 / (minWaveLength * pow(mult, Double(s)))
            var g = (0..<n).map { i in exp(-pow(log(radius[i] / fo), 2) / (2 * pow(log(sigmaOnf), 2))) * lowpass[i] }
            g[0] = 0
            return g
        }
        var energyAll = [Double](repeating: 0, count: n), anAll = energyAll
        for o in 0..<norient {
            let angle = Double(o) * Double.pi / Double(norient)
            let spread = (0..<n).map { i -> Double in
                let ds = sinT[i] * cos(angle) - cosT[i] * sin(angle)
                let dc = cosT[i] * cos(angle) + sinT[i] * sin(angle)
                let dtheta = abs(atan2(ds, dc))
                return exp(-dtheta * dtheta / (2 * thetaSigma * thetaSigma))
            }
            var sumE = [Double](repeating: 0, count: n), sumO = sumE, sumAn = sumE
            var eoRe: [[Double]] = [], eoIm: [[Double]] = [], ifftFilters: [[Double]] = []
            var emN = 0.0
            for s in 0..<nscale {
                let filter = (0..<n).map { logGabor[s][$0] * spread[$0] }
                if s == 0 { emN = filter.reduce(0) { $0 + $1 * $1 } }
                var fr = filter, fi = [Double](repeating: 0, count: n)
                fft.transform(&fr, &fi, inverse: true)
                let scale = Double(n).squareRoot()
                ifftFilters.append(fr.map { $0 * scale })
                var er = (0..<n).map { imRe[$0] * filter[$0] }, ei = (0..<n).map { imIm[$0] * filter[$0] }
                fft.transform(&er, &ei, inverse: true)
                for i in 0..<n {
                    sumAn[i] += (er[i] * er[i] + ei[i] * ei[i]).squareRoot()
                    sumE[i] += er[i]; sumO[i] += ei[i]
                }
                eoRe.append(er); eoIm.append(ei)
            }
            var energy = [Double](repeating: 0, count: n)
            for i in 0..<n {
                let x = (sumE[i] * sumE[i] + sumO[i] * sumO[i]).squareRoot() + epsilon
                let meanE = sumE[i] / x, meanO = sumO[i] / x
                for s in 0..<nscale {
                    let e = eoRe[s][i], od = eoIm[s][i]
                    energy[i] += e * meanE + od * meanO - abs(e * meanO - od * meanE)
                }
            }
            // Noise: the median of the smallest scale's squared amplitude (MATLAB's median
            // averages the two middle values of an even count).
            let sq = (0..<n).map { eoRe[0][$0] * eoRe[0][$0] + eoIm[0][$0] * eoIm[0][$0] }.sorted()
            let median = n % 2 == 1 ? sq[n / 2] : (sq[n / 2 - 1] + sq[n / 2]) / 2
            let meanE2n = -median / log(0.5)
            let noisePower = meanE2n / emN
            var sumAn2 = 0.0, sumAiAj = 0.0
            for i in 0..<n {
                for s in 0..<nscale { sumAn2 += ifftFilters[s][i] * ifftFilters[s][i] }
                for si in 0..<(nscale - 1) { for sj in (si + 1)..<nscale { sumAiAj += ifftFilters[si][i] * ifftFilters[sj][i] } }
            }
            let noiseEnergy2 = 2 * noisePower * sumAn2 + 4 * noisePower * sumAiAj
            let tau = (noiseEnergy2 / 2).squareRoot()
            let noiseEnergy = tau * (Double.pi / 2).squareRoot()
            let noiseSigma = ((2 - Double.pi / 2) * tau * tau).squareRoot()
            let threshold = (noiseEnergy + k * noiseSigma) / 1.7
            for i in 0..<n {
                energyAll[i] += max(energy[i] - threshold, 0)
                anAll[i] += sumAn[i]
            }
        }
        return (0..<n).map { anAll[$0] > 0 ? energyAll[$0] / anAll[$0] : 0 }
    }
}

extension ImageMetric {
    public static let fsim = ImageMetric(
        name: "fsim", label: "FSIM", header: "FSIM (std)", reads: .target, better: .higher,
        about: "FSIM as in Zhang et al.'s FeatureSIM.m: phase congruency and gradient similarity of luma (1 = identical)",
        compute: { try FSIM.compute($0.outputFeatures(), $0.targetFeatures()).fsim },
        format: { String(format: "%.4f", $0) },
        cell: { v, _ in let s = ImageMetric.meanStd(v); return String(format: "%.4f (%.3f)", s.mean, s.std) })
}
