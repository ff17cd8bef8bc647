// Real HDR from equirectangular panoramas (`panorama:DIR`, e.g. blender-data's studio-light
// worlds that `make photos` converts to .hdr): a random perspective view (yaw, pitch, field of
// view) of the real radiance, photographed by the simulated camera like a procedural scene.
// H_gt is the view's radiance normalised to log-average 0.18 (docs/MODEL.md), 0 EV is
// auto-exposure, and the LDR target is either its local tone mapping (LocalToneMap, as for
// procedural scenes: `panorama:DIR`) or the view's own 0 EV photo, the normalised radiance
// through the sRGB curve, clipped at white (`panorama-photo:DIR`): what a photo's target is,
// the photo at its own exposure, while H_gt keeps the radiance above white.
import DRHTEngine
import DRHTImageIO
import Foundation

public enum PanoramaView {
    /// Where a virtual camera inside the panorama looks. Angles in radians.
    public struct Pose: Equatable, Sendable {
        /// Longitude of the view's centre: 0 is the middle column of the panorama, positive to
        /// its right (columns to the right).
        public var yaw: Float
        /// Latitude of the view's centre: 0 is the horizon (the middle row), positive up.
        public var pitch: Float
        /// Horizontal (= vertical: views are square) field of view.
        public var fov: Float
        public init(yaw: Float, pitch: Float, fov: Float) { self.yaw = yaw; self.pitch = pitch; self.fov = fov }

        /// A random pose: any yaw, pitch -20...+30 degrees (more sky than floor, as people
        /// photograph), field of view 50...90 degrees.
        public static func random(rng: inout SeededRandom) -> Pose {
            let degree = Float.pi / 180
            return Pose(yaw: rng.uniform(-180, 180) * degree, pitch: rng.uniform(-20, 30) * degree,
                        fov: rng.uniform(50, 90) * degree)
        }
    }

    /// The `size` x `size` perspective view of `panorama` (1, 3, H, W), equirectangular: column
    /// u at longitude (u + 0.5) / W * 2 pi - pi, row v at latitude pi / 2 - (v + 0.5) / H * pi.
    /// Each output pixel averages 2 x 2 bilinear samples (wrapping around in longitude).
    public static func render(_ panorama: Tensor, pose: Pose, size: Int) -> Tensor {
        let h = panorama.h, w = panorama.w, plane = h * w
        let out = Tensor(zeros: [1, 3, size, size])
        let outPlane = size * size
        let t = tanf(pose.fov / 2)
        let (cp, sp, cy, sy) = (cosf(pose.pitch), sinf(pose.pitch), cosf(pose.yaw), sinf(pose.yaw))
        let sub: [Float] = [0.25, 0.75]
        for y in 0..<size {
            for x in 0..<size {
                var rgb: (Float, Float, Float) = (0, 0, 0)
                for sy0 in sub { for sx0 in sub {
                    // Camera space: x right, y up, z forward; then pitch (about x), then yaw (about y).
                    let cx = (2 * (Float(x) + sx0) / Float(size) - 1) * t
                    let cyv = (1 - 2 * (Float(y) + sy0) / Float(size)) * t
                    let (dx0, dy0, dz0) = (cx, cyv * cp + sp, -cyv * sp + cp)
                    let (dx, dy, dz) = (dx0 * cy + dz0 * sy, dy0, -dx0 * sy + dz0 * cy)
                    let lon = atan2f(dx, dz), lat = atan2f(dy, (dx * dx + dz * dz).squareRoot())
                    let u = (lon + .pi) / (2 * .pi) * Float(w) - 0.5
                    let v = (Float.pi / 2 - lat) / .pi * Float(h) - 0.5
                    let s = bilinear(panorama, u: u, v: v, h: h, w: w, plane: plane)
                    rgb.0 += s.0; rgb.1 += s.1; rgb.2 += s.2
                }}
                let i = y * size + x
                out.data[i] = rgb.0 / 4; out.data[outPlane + i] = rgb.1 / 4; out.data[2 * outPlane + i] = rgb.2 / 4
            }
        }
        return out
    }

    @inline(__always)
    static func bilinear(_ p: Tensor, u: Float, v: Float, h: Int, w: Int, plane: Int) -> (Float, Float, Float) {
        let u0 = Int(floorf(u)), v0 = Int(floorf(v))
        let fu = u - Float(u0), fv = v - Float(v0)
        let xa = ((u0 % w) + w) % w, xb = (((u0 + 1) % w) + w) % w
        let ya = min(max(v0, 0), h - 1), yb = min(max(v0 + 1, 0), h - 1)
        func channel(_ c: Int) -> Float {
            let base = p.data + c * plane
            let top = base[ya * w + xa] * (1 - fu) + base[ya * w + xb] * fu
            let bottom = base[yb * w + xa] * (1 - fu) + base[yb * w + xb] * fu
            return top * (1 - fv) + bottom * fv
        }
        return (channel(0), channel(1), channel(2))
    }

    /// The LDR target of a view.
    public enum Target: Sendable, Equatable {
        /// LocalToneMap of the radiance (shadows lifted, highlights kept), as procedural scenes.
        case toneMapped
        /// The radiance at 0 EV through the sRGB curve, clipped at white: a photo's own look.
        case photo
    }

    /// A triplet from a view of `panorama` at `pose` (`SyntheticScenes.photographed`).
    public static func triplet(_ panorama: Tensor, pose: Pose, size: Int, camera: Camera, rng: inout SeededRandom,
                               target: Target = .toneMapped) -> Triplet {
        SyntheticScenes.photographed(render(panorama, pose: pose, size: size), camera: camera, rng: &rng,
                                     toneMapped: target == .toneMapped)
    }

    /// A random view and camera, all from `rng` (`ev` fixes the camera's exposure).
    public static func triplet(_ panorama: Tensor, size: Int, rng: inout SeededRandom, ev: Float? = nil,
                               target: Target = .toneMapped) -> Triplet {
        let pose = Pose.random(rng: &rng)
        var camera = Camera.random(rng: &rng)
        if let ev { camera.ev = ev }
        return triplet(panorama, pose: pose, size: size, camera: camera, rng: &rng, target: target)
    }

    /// Training and validation samples (not evaluation) cap H_gt at this radiance, 2^6.5 times the
    /// log-average 0.18: MODEL.md's loss compares y1 with tau(H_gt) = H_gt^(1/2.2), and a sun
    /// 15 stops above mid-grey (tau ~ 50, where photos reach ~2) made the HDR term 60 times the
    /// photos' (2.03 against 0.034 at step 50), every gradient spent on a few sun pixels.
    public static let trainingCap: Float = 16

    /// Clamps radiance above `trainingCap` (in place).
    public static func capForTraining(_ hdr: Tensor) {
        for k in 0..<hdr.count where hdr.data[k] > trainingCap { hdr.data[k] = trainingCap }
    }

    /// Views of each panorama a held-out pass goes through (each from its own seed).
    public static let viewsPerPanorama = 12
}
