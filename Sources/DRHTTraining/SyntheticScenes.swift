// Procedural HDR training triplets (LDR input, HDR ground truth, LDR target), deterministic
// per seed. Scenes have real dynamic range: a sky gradient with a sun ~10^3 above diffuse
// surfaces, ground and facades textured with multi-octave value noise, deep shadows around
// 10^-2, lit windows, lamps with coloured glows. The input is a simulated camera (exposure
// +-3 EV around auto-exposure, a random response curve, clipping, noise, 8-bit quantisation);
// the target is a local tone mapping of the HDR (LocalToneMap: lifted shadows, kept highlights
// and local contrast, as a person editing the photo would make it).
import DRHTEngine
import DRHTImageIO
import Foundation

/// One training example, each (1, 3, S, S).
public struct Triplet {
    public var input: Tensor     // LDR photo in [0, 1]
    public var hdr: Tensor       // linear radiance, log-average luminance 0.18
    public var target: Tensor    // well-exposed LDR in [0, 1]
    /// The simulated camera that took the input (nil: read from disk).
    public var camera: Camera?
    /// True when `camera` re-exposed a photo that is the target (`PhotoTriplet`): undoing its
    /// exposure (`Camera.undo`) is then an oracle correction.
    public var reexposedPhoto = false
    /// The camera's exposure in EV.
    public var ev: Float? { camera?.ev }
    public init(input: Tensor, hdr: Tensor, target: Tensor, camera: Camera? = nil, reexposedPhoto: Bool = false) {
        self.input = input; self.hdr = hdr; self.target = target; self.camera = camera; self.reexposedPhoto = reexposedPhoto
    }
}

public enum SyntheticScenes {
    /// The triplet for `seed` at size x size; `ev` overrides the camera's random exposure
    /// (0 = auto-exposure, negative = under-exposed, positive = over-exposed); `underOnly`
    /// folds the random exposure (-3...3) to -3...0, the same scene photographed |ev| under.
    public static func triplet(seed: UInt64, size: Int, ev: Float? = nil, underOnly: Bool = false) -> Triplet {
        var rng = SeededRandom(seed: seed)
        let hdr = scene(size: size, rng: &rng)
        normalise(hdr)
        var camera = Camera.random(rng: &rng)
        if underOnly { camera.ev = -abs(camera.ev) }
        if let ev { camera.ev = ev }
        return Triplet(input: camera.photograph(hdr, rng: &rng), hdr: hdr, target: LocalToneMap.apply(hdr), camera: camera)
    }

    /// A triplet from real linear radiance (a panorama's view, a loaded .hdr), in place of a
    /// procedural scene: negative or non-finite values set to 0, normalised to log-average 0.18
    /// (H_gt), photographed by `camera` (its `ev` from auto-exposure), target `LocalToneMap.apply`
    /// (or, `toneMapped` false, `clippedPhoto`).
    public static func photographed(_ radiance: Tensor, camera: Camera, rng: inout SeededRandom, toneMapped: Bool = true) -> Triplet {
        let hdr = radiance.copy()
        for k in 0..<hdr.count where !hdr.data[k].isFinite || hdr.data[k] < 0 { hdr.data[k] = 0 }
        normalise(hdr)
        return Triplet(input: camera.photograph(hdr, rng: &rng), hdr: hdr, target: toneMapped ? LocalToneMap.apply(hdr) : clippedPhoto(hdr), camera: camera)
    }

    /// The radiance as a plain photo at its exposure: the sRGB curve, clipped at white.
    public static func clippedPhoto(_ hdr: Tensor) -> Tensor {
        let out = Tensor(zeros: hdr.shape)
        for k in 0..<hdr.count { out.data[k] = hdr.data[k] >= 1 ? 1 : SRGB.encode(hdr.data[k]) }   // white is 1, not encode(1)'s 1 - 2^-24
        return out
    }

    // MARK: - The scene

    static func scene(size s: Int, rng: inout SeededRandom) -> Tensor {
        let img = Tensor(zeros: [1, 3, s, s])
        let plane = s * s
        let horizon = rng.uniform(0.3, 0.7) * Float(s)
        let skyScale = rng.uniform(0.5, 3)
        let zenith = (rng.uniform(0.15, 0.4), rng.uniform(0.3, 0.6), rng.uniform(0.8, 1.2))
        let hazeColour = (rng.uniform(0.9, 1.2), rng.uniform(0.8, 1.0), rng.uniform(0.6, 0.9))
        let noise = ValueNoise(seed: rng.next())
        let sunIntensity = rng.uniform(0.6, 1.6)              // diffuse white under the sun
        let shadowLevel = powf(10, rng.uniform(-2.3, -1.3))   // ~1e-2 of the lit level
        let groundTint = (rng.uniform(0.5, 1), rng.uniform(0.45, 0.9), rng.uniform(0.3, 0.8))
        let textureScale = rng.uniform(2, 8)
        let shadowThreshold = rng.uniform(-0.2, 0.3)
        let set = { (x: Int, y: Int, r: Float, g: Float, b: Float) in
            let i = y * s + x
            img.data[i] = r; img.data[plane + i] = g; img.data[2 * plane + i] = b
        }
        // Sky and ground.
        for y in 0..<s {
            for x in 0..<s {
                let fx = Float(x) / Float(s), fy = Float(y) / Float(s)
                if Float(y) < horizon {
                    let t = Float(y) / max(horizon, 1)              // 0 at the zenith, 1 at the horizon
                    let cloud = max(0, noise.fractal(fx * 4, fy * 8, octaves: 4) - 0.1) * 2
                    func mix(_ a: Float, _ b: Float) -> Float { (a * (1 - t) + b * t) * skyScale * (1 + cloud) }
                    set(x, y, mix(zenith.0, hazeColour.0), mix(zenith.1, hazeColour.1), mix(zenith.2, hazeColour.2))
                } else {
                    let depth = (Float(y) - horizon) / max(Float(s) - horizon, 1)
                    let tex = noise.fractal(fx * textureScale * (1 + 3 * depth), fy * textureScale * 4, octaves: 5)
                    let albedo = 0.05 + 0.5 * (0.5 + 0.5 * tex)
                    let lit = noise.fractal(fx * 2 + 7, fy * 2 + 3, octaves: 3) > shadowThreshold
                    let light = lit ? sunIntensity : sunIntensity * shadowLevel
                    set(x, y, albedo * groundTint.0 * light, albedo * groundTint.1 * light, albedo * groundTint.2 * light)
                }
            }
        }
        // Buildings with lit windows, standing on the horizon.
        for _ in 0..<Int(rng.next() % 4) {
            let w = Int(rng.uniform(0.1, 0.35) * Float(s)), h = Int(rng.uniform(0.15, 0.5) * Float(s))
            let x0 = Int(rng.uniform(0, 1) * Float(s - w)), y1 = min(s, Int(horizon) + Int(rng.uniform(0, 0.2) * Float(s)))
            let y0 = max(0, y1 - h)
            let facade = rng.uniform(0.1, 0.5), sunny = rng.uniform(0, 1) < 0.5
            let light = sunny ? sunIntensity : sunIntensity * shadowLevel * 3
            let window = max(2, s / 40), pitch = window * 2
            let warm = (rng.uniform(0.9, 1.0), rng.uniform(0.6, 0.85), rng.uniform(0.3, 0.5))
            let emission = powf(10, rng.uniform(0.7, 1.7))    // 5 ... 50
            for y in y0..<y1 { for x in x0..<min(s, x0 + w) {
                let tex = 0.8 + 0.2 * noise.value(Float(x) * 0.7, Float(y) * 0.7)
                var r = facade * light * tex, g = facade * light * tex * 0.95, b = facade * light * tex * 0.9
                let wx = (x - x0) % pitch, wy = (y - y0) % pitch
                if wx >= window / 2, wx < window / 2 + window, wy >= window / 2, wy < window / 2 + window,
                   noise.value(Float(x / pitch) * 3.1, Float(y / pitch) * 1.7) > 0.1 {
                    r = emission * warm.0; g = emission * warm.1; b = emission * warm.2
                }
                set(x, y, r, g, b)
            }}
        }
        // Lamps: small bright discs with a coloured glow lighting their surroundings.
        for _ in 0..<Int(rng.next() % 4) {
            let cx = rng.uniform(0, 1) * Float(s), cy = rng.uniform(0.2, 1) * Float(s)
            let radius = max(1, rng.uniform(0.005, 0.02) * Float(s)), reach = rng.uniform(0.03, 0.1) * Float(s)
            let colour = (rng.uniform(0.5, 1), rng.uniform(0.3, 1), rng.uniform(0.2, 1))
            let power = powf(10, rng.uniform(1.7, 2.7))         // 50 ... 500
            addLight(img, size: s, cx: cx, cy: cy, radius: radius, reach: reach, colour: colour, power: power, glow: 0.01)
        }
        // The sun: ~10^3 above the diffuse level, with a glow.
        if rng.uniform(0, 1) < 0.7 {
            let cx = rng.uniform(0, 1) * Float(s), cy = rng.uniform(0.05, 0.9) * horizon
            addLight(img, size: s, cx: cx, cy: cy, radius: max(1, rng.uniform(0.01, 0.03) * Float(s)),
                     reach: rng.uniform(0.03, 0.12) * Float(s), colour: (1, 0.95, 0.85), power: 1000 * sunIntensity, glow: 0.003)
        }
        return img
    }

    /// Adds a disc of radiance `power * colour` and a glow falling off over `reach` pixels.
    static func addLight(_ img: Tensor, size s: Int, cx: Float, cy: Float, radius: Float, reach: Float,
                         colour: (Float, Float, Float), power: Float, glow: Float) {
        let plane = s * s
        for y in 0..<s { for x in 0..<s {
            let dx = Float(x) - cx, dy = Float(y) - cy
            let d2 = dx * dx + dy * dy
            let add: Float = d2 <= radius * radius ? power : power * glow * expf(-d2 / (2 * reach * reach))
            if add < 1e-4 { continue }
            let i = y * s + x
            img.data[i] += add * colour.0; img.data[plane + i] += add * colour.1; img.data[2 * plane + i] += add * colour.2
        }}
    }

    // MARK: - Normalisation and tone mapping

    /// Rec. 709 luminance of pixel i of a (1, 3, H, W) tensor.
    @inline(__always)
    public static func luminance(_ t: Tensor, _ i: Int, plane: Int) -> Float {
        SRGB.luminance(t.data[i], t.data[plane + i], t.data[2 * plane + i])
    }

    /// Scales linear radiance in place so its log-average luminance is 0.18 (docs/MODEL.md).
    public static func normalise(_ hdr: Tensor) {
        let plane = hdr.h * hdr.w
        var sum = 0.0
        for i in 0..<plane { sum += log(Double(luminance(hdr, i, plane: plane)) + 1e-6) }
        let scale = Float(0.18 / exp(sum / Double(plane)))
        for i in 0..<hdr.count { hdr.data[i] *= scale }
    }
}

/// A simulated camera: exposure, response curve, clipping, noise, 8-bit quantisation.
///
/// Two ways to use it, with two meanings of "0 EV":
/// - `photograph(_:)` takes a scene's linear radiance (procedural scenes, which have no photo):
///   0 EV is auto-exposure, the radiance as `SyntheticScenes.normalise` scaled it (log-average
///   luminance 0.18).
/// - `reexpose(_:)` takes a photograph: 0 EV is the photo as it is. The photo is linearised
///   through this camera's own response curve, its light multiplied by 2^ev, and photographed
///   again through the same curve, so `ev = 0` gives the photo back within quantisation.
public struct Camera {
    /// Exposure in stops: relative to auto-exposure (`photograph`) or to the photo (`reexpose`).
    public var ev: Float
    /// Response curve y = x^(1/gamma), then a mild S-curve of strength `contrast`.
    public var gamma: Float
    public var contrast: Float
    /// Noise standard deviation at full scale (shot-noise-like: scaled by sqrt(y)).
    public var noise: Float

    public init(ev: Float, gamma: Float, contrast: Float, noise: Float) {
        self.ev = ev; self.gamma = gamma; self.contrast = contrast; self.noise = noise
    }

    public static func random(rng: inout SeededRandom) -> Camera {
        Camera(ev: rng.uniform(-3, 3), gamma: rng.uniform(1.8, 2.6), contrast: rng.uniform(0, 0.6), noise: rng.uniform(0, 0.02))
    }

    /// The S-curve on [0, 1]: y + 2 c (y - 0.5) y (1 - y), fixed at 0, 0.5 and 1; increasing
    /// for c < 1 (its slope is at least 1 - c).
    @inline(__always)
    func sCurve(_ y: Float) -> Float { y + contrast * (y - 0.5) * y * (1 - y) * 2 }

    /// The response to linear light x >= 0: x^(1/gamma), clipped at 1, then the S-curve.
    @inline(__always)
    public func response(_ x: Float) -> Float { sCurve(min(1, powf(max(0, x), 1 / gamma))) }

    /// The linear light whose response is y in [0, 1] (the S-curve inverted by bisection, to
    /// 2^-24, then the power gamma).
    public func linearise(_ y: Float) -> Float { powf(bisect(y), gamma) }

    /// The S-curve's input for y, clamped to [0, 1]: 24 bisection steps.
    func bisect(_ y: Float) -> Float {
        let target = min(1, max(0, y))
        var lo: Float = 0, hi: Float = 1
        for _ in 0..<24 {
            let mid = (lo + hi) / 2
            if sCurve(mid) < target { lo = mid } else { hi = mid }
        }
        return (lo + hi) / 2
    }

    /// Noise, then 8 bits: round(clamp(y + sigma sqrt(y) N(0, 1), 0, 1) * 255) / 255.
    @inline(__always)
    func record(_ y: Float, sigma: Float, rng: inout SeededRandom) -> Float {
        record(y, sigma: sigma, normal: sigma > 0 ? rng.normal() : 0)
    }

    /// `record` with its N(0, 1) draw given (used only when sigma > 0).
    @inline(__always)
    func record(_ y: Float, sigma: Float, normal: Float) -> Float {
        let noisy = sigma > 0 ? y + sigma * max(0, y).squareRoot() * normal : y
        return (min(1, max(0, noisy)) * 255).rounded() / 255
    }

    /// The 8-bit photo of linear radiance `hdr` (1, 3, H, W), `ev` stops from auto-exposure.
    public func photograph(_ hdr: Tensor, rng: inout SeededRandom) -> Tensor {
        let out = Tensor(zeros: hdr.shape)
        let exposure = powf(2, ev)
        for i in 0..<hdr.count {
            out.data[i] = record(response(hdr.data[i] * exposure), sigma: noise, rng: &rng)
        }
        return out
    }

    /// The noise a re-exposure adds to a photo that already carries its own: shot noise has a
    /// variance proportional to the light collected, so an exposure 2^ev shorter (ev < 0) needs
    /// sigma^2 (1 - 2^ev) more, relative to the signal; a longer one (ev >= 0) none.
    public func reexposureNoise() -> Float { noise * max(0, 1 - powf(2, ev)).squareRoot() }

    /// The exact inverse of `reexpose`'s exposure, applied to what it made: through the same
    /// curve at -ev, without noise. What clipping lost stays lost (a clipped pixel comes back as
    /// the flat grey 2^-ev of white): an oracle that knows the exposure, and only that.
    public func undo(_ taken: Tensor) -> Tensor {
        var inverse = self
        inverse.ev = -ev; inverse.noise = 0
        var rng = SeededRandom(seed: 0)
        return inverse.reexpose(taken, rng: &rng)
    }

    /// `photo` (1, 3, H, W) in [0, 1] taken again `ev` stops over (+) or under (-): linearised
    /// through this camera's curve, times 2^ev, through the curve again (clipping at 1), with
    /// `reexposureNoise()` and 8-bit quantisation.
    public func reexpose(_ photo: Tensor, rng: inout SeededRandom) -> Tensor {
        let out = Tensor(zeros: photo.shape)
        let exposure = powf(2, ev), sigma = reexposureNoise()
        // Photo values are mostly 8-bit: each of the 256 levels is linearised, exposed and taken
        // through the curve once (the same arithmetic, so the same values), the rest directly.
        let levels = (0...255).map { linearise(Float($0) / 255) }
        let responses = levels.map { response($0 * exposure) }
        // Other values (a reduced or computed image) bisect the curve, 24 steps each, 16 values
        // at a time (`lineariseLanes`); blocks of pixels are spread over the engine's threads,
        // their noise drawn first, in pixel order, so the result is the same for any number of
        // threads.
        let block = 1 << 16
        let lanes = contrast >= 0 && contrast < 1        // the S-curve then stays positive: see lineariseLanes
        var normals = [Float](repeating: 0, count: sigma > 0 ? min(block, photo.count) : 0)
        let src = photo.data, dst = out.data
        for start in stride(from: 0, to: photo.count, by: block) {
            let end = min(photo.count, start + block)
            if sigma > 0 { for i in start..<end { normals[i - start] = rng.normal() } }
            normals.withUnsafeBufferPointer { noise in
                parallelChunks(end - start, minChunk: 4096) { r in
                    /// Pixel j of the block takes response y, with its noise and 8 bits.
                    func put(_ j: Int, _ y: Float) { dst[start + j] = record(y, sigma: sigma, normal: sigma > 0 ? noise[j] : 0) }
                    // Off-grid values wait here, 16 at a time, for one lane-wise bisection.
                    var pending = SIMD16<Float>(), positions = SIMD16<Int32>(), waiting = 0
                    func flush() {
                        let x = lineariseLanes(pending)
                        for lane in 0..<waiting { put(Int(positions[lane]), response(powf(x[lane], gamma) * exposure)) }
                        waiting = 0
                    }
                    for j in r {
                        let v = min(1, max(0, src[start + j]))
                        let level = (v * 255).rounded()
                        if abs(level - v * 255) < 1e-3 {
                            put(j, responses[Int(level)])
                        } else if !lanes {
                            put(j, response(linearise(v) * exposure))
                        } else {
                            pending[waiting] = v; positions[waiting] = Int32(j); waiting += 1
                            if waiting == 16 { flush() }
                        }
                    }
                    if waiting > 0 { flush() }
                }
            }
        }
        return out
    }

    /// `bisect` for 16 values in [0, 1] at once (`linearise` before the power gamma; -0 counts
    /// as 0): the same midpoints and the same comparisons in every lane, so the same results bit
    /// for bit. The S-curve's values and the targets are non-negative floats, whose order is
    /// their bit patterns' order, so each step's choice is an integer mask (Swift's lane-wise
    /// select compiles to scalar code). Needs 0 <= contrast < 1, where the S-curve is positive
    /// on (0, 1] (it is at least (1 - contrast) y): every camera `random` makes.
    @inline(__always)
    func lineariseLanes(_ target: SIMD16<Float>) -> SIMD16<Float> {
        typealias I = SIMD16<Int32>
        let t = unsafeBitCast(target, to: I.self) & 0x7FFF_FFFF                      // -0 as +0
        var lo = I(repeating: 0), hi = unsafeBitCast(SIMD16<Float>(repeating: 1), to: I.self)
        for _ in 0..<24 {
            let mid = (unsafeBitCast(lo, to: SIMD16<Float>.self) + unsafeBitCast(hi, to: SIMD16<Float>.self)) / 2
            let s = mid + contrast * (mid - 0.5) * mid * (1 - mid) * 2             // sCurve, lane by lane
            let below = (unsafeBitCast(s, to: I.self) &- t) &>> 31                 // all ones where s < target
            let m = unsafeBitCast(mid, to: I.self)
            lo = (m & below) | (lo & ~below)
            hi = (m & ~below) | (hi & below)
        }
        return (unsafeBitCast(lo, to: SIMD16<Float>.self) + unsafeBitCast(hi, to: SIMD16<Float>.self)) / 2
    }
}

/// Smooth 2-D value noise on an integer lattice with hashed values in [-1, 1].
struct ValueNoise {
    let seed: UInt64

    @inline(__always)
    func lattice(_ x: Int, _ y: Int) -> Float {
        var h = seed ^ (UInt64(bitPattern: Int64(x)) &* 0x9E37_79B9_7F4A_7C15) ^ (UInt64(bitPattern: Int64(y)) &* 0xC2B2_AE3D_27D4_EB4F)
        h = (h ^ (h >> 31)) &* 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return Float(h >> 40) * 0x1p-23 - 1
    }

    func value(_ x: Float, _ y: Float) -> Float {
        let x0 = Int(floorf(x)), y0 = Int(floorf(y))
        let tx = x - Float(x0), ty = y - Float(y0)
        let sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty)
        let a = lattice(x0, y0), b = lattice(x0 + 1, y0), c = lattice(x0, y0 + 1), d = lattice(x0 + 1, y0 + 1)
        return (a * (1 - sx) + b * sx) * (1 - sy) + (c * (1 - sx) + d * sx) * sy
    }

    /// Sum of `octaves` octaves, each twice the frequency and half the amplitude; about [-1, 1].
    func fractal(_ x: Float, _ y: Float, octaves: Int) -> Float {
        var sum: Float = 0, amp: Float = 0.5, f: Float = 1
        for _ in 0..<octaves { sum += amp * value(x * f, y * f); amp *= 0.5; f *= 2 }
        return sum
    }
}
