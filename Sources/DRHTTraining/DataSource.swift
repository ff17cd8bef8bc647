// Where triplets come from — for training, validation and evaluation alike: procedural
// scenes, a folder of photos, a folder of triplets as `drht synth` writes them
// (<id>.input.png, <id>.hdr, <id>.target.png), or several of these mixed. Training and
// validation draw random views (`sample`), evaluation fixed, whole items (`item`); which seeds
// each uses is `Split`'s one table, so the three never share a scene or a camera.
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation

/// What one training sample shows of its image.
public enum Framing: String, CaseIterable, Sendable {
    /// The whole image (photos and triplets: the largest square, at a random place along the
    /// long side) reduced to the sample size: what gain-mode inference shows the network, a
    /// copy of the whole photo at the working size, so the network can judge its exposure.
    case whole
    /// A sample-size window cut from the image at its own scale (procedural scenes rendered at
    /// 256 x 256, photos reduced to a shorter side of 400): what direct inference at about
    /// that scale shows the network. A window hides the global brightness that exposure
    /// depends on (measured: a fine-tune on 128-px crops of photos made -2 EV photos worse).
    case crop
}

/// The three uses of data, each with its own range of seeds: training samples below 2^47,
/// validation from 2^48, evaluation from 2^49. A procedural scene is a pure function of its
/// seed, as is the simulated camera that photographs a photo, so disjoint ranges mean the
/// held-out sets are never trained on.
public enum Split: Sendable {
    case training, validation, evaluation

    /// The seed of item `i` of a held-out split (validation, evaluation).
    public func seed(_ i: Int) -> UInt64 {
        switch self {
        case .training: return UInt64(i) & Split.trainingMask
        case .validation: return (1 << 48) + UInt64(i)
        case .evaluation: return (1 << 49) + UInt64(i)
        }
    }

    /// Training seeds: a hash of (run seed, step, index in the batch), below 2^47.
    public static func trainingSeed(_ seed: UInt64, step: Int, index: Int) -> UInt64 {
        var rng = SeededRandom(seed: seed &* 0x9E37_79B9 &+ UInt64(step) &* 0x85EB_CA6B &+ UInt64(index))
        return rng.next() & trainingMask
    }

    static let trainingMask: UInt64 = 0x7FFF_FFFF_FFFF
}

public enum DataSource: CustomStringConvertible {
    case synthetic
    /// Well-exposed PNG/JPEG photos, turned into triplets on the fly.
    case photos([String])
    /// Triplet ids (paths without the .input.png suffix).
    case triplets([String])
    /// Equirectangular HDR panoramas (.hdr): random perspective views, photographed by the
    /// simulated camera (`PanoramaView`); the LDR target tone-mapped (`panorama:DIR`) or the
    /// view's own 0 EV photo (`panorama-photo:DIR`, `PanoramaView.Target`).
    case panoramas([String], PanoramaView.Target)
    /// Several sources, each sample drawn from one of them in turn (by its seed), e.g.
    /// `synth+photos:data/photos/train`.
    indirect case mixed([DataSource])

    /// Parses `synth`, `photos:DIR`, `panorama:DIR`, `panorama-photo:DIR`, `DIR` (a triplet
    /// folder), or several joined by `+`.
    public static func parse(_ spec: String) throws -> DataSource {
        if spec.contains("+") {
            let parts = try spec.split(separator: "+").map { try parse(String($0)) }
            guard parts.count >= 2 else { throw TrainingError("\(spec): write sources as A+B, e.g. synth+photos:DIR") }
            return .mixed(parts)
        }
        if spec == "synth" { return .synthetic }
        let fm = FileManager.default
        func list(_ dir: String) throws -> [String] {
            guard !dir.isEmpty else {
                throw TrainingError("\(spec) names no folder; write it as photos:DIR, panorama:DIR or panorama-photo:DIR, e.g. photos:data/photos/train")
            }
            var isDir: ObjCBool = false
            guard fm.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
                throw TrainingError("\(dir): no such folder; --data takes synth, photos:DIR, panorama:DIR, panorama-photo:DIR or a triplet folder")
            }
            return try fm.contentsOfDirectory(atPath: dir).sorted().map { dir + "/" + $0 }
        }
        if spec.hasPrefix("photos:") {
            let dir = String(spec.dropFirst("photos:".count))
            let photos = try list(dir).filter { ["png", "jpg", "jpeg"].contains(URL(fileURLWithPath: $0).pathExtension.lowercased()) }
            guard !photos.isEmpty else { throw TrainingError("\(dir): no PNG or JPEG photos in the folder") }
            return .photos(photos)
        }
        for (prefix, target) in [("panorama:", PanoramaView.Target.toneMapped), ("panorama-photo:", .photo)] where spec.hasPrefix(prefix) {
            let dir = String(spec.dropFirst(prefix.count))
            let files = try list(dir).filter { URL(fileURLWithPath: $0).pathExtension.lowercased() == "hdr" }
            guard !files.isEmpty else { throw TrainingError("\(dir): no Radiance .hdr panoramas in the folder (make photos writes data/panoramas/)") }
            return .panoramas(files, target)
        }
        let ids = try list(spec).filter { $0.hasSuffix(".input.png") }.map { String($0.dropLast(".input.png".count)) }
        guard !ids.isEmpty else {
            throw TrainingError("\(spec): no <id>.input.png triplets in the folder; make some with `drht synth -o \(spec)`")
        }
        for id in ids {
            for part in [".hdr", ".target.png"] where !fm.fileExists(atPath: id + part) {
                throw TrainingError("\(id)\(part) is missing: each triplet needs .input.png, .hdr and .target.png")
            }
        }
        return .triplets(ids)
    }

    public var description: String {
        switch self {
        case .synthetic: return "synth"
        case .photos(let p): return "photos (\(p.count))"
        case .triplets(let t): return "triplets (\(t.count))"
        case .panoramas(let p, let target): return "panoramas (\(p.count)\(target == .photo ? ", photo targets" : ""))"
        case .mixed(let parts): return parts.map(\.description).joined(separator: " + ")
        }
    }

    /// Items a held-out pass can go through once each: photos and triplets; nil for procedural
    /// scenes (as many as asked for). A mix: the smallest part's count times the parts.
    public var itemCount: Int? {
        switch self {
        case .synthetic: return nil
        case .photos(let p): return p.count
        case .triplets(let t): return t.count
        case .panoramas(let p, _): return p.count * PanoramaView.viewsPerPanorama
        case .mixed(let parts):
            let counts = parts.compactMap(\.itemCount)
            return counts.count == parts.count ? counts.min()! * parts.count : nil
        }
    }

    /// One `size` x `size` training or validation sample: a random view (`framing`) of a random
    /// item, all drawn from `seed` (`Split.trainingSeed`, or `Split.validation.seed(i)`).
    public func sample(seed: UInt64, size: Int, framing: Framing = .crop) throws -> Triplet {
        var rng = SeededRandom(seed: seed)
        switch self {
        case .synthetic:
            return framing == .whole ? SyntheticScenes.triplet(seed: seed, size: size) : DataSource.syntheticCrop(seed: seed, size: size)
        case .photos(let paths):
            let path = paths[Int(rng.next() % UInt64(paths.count))]
            let photo = try PhotoCache.shared.image(path)
            let crop = framing == .whole ? wholeSquare([photo], size: size, rng: &rng, scaleMin: DataSource.photoScaleMin, flip: true)[0]
                                         : try randomCrop([photo], size: size, rng: &rng, path: path)[0]
            return PhotoTriplet.make(from: crop, rng: &rng)
        case .triplets(let ids):
            let id = ids[Int(rng.next() % UInt64(ids.count))]
            let parts = try [".input.png", ".hdr", ".target.png"].map { try PhotoCache.shared.image(id + $0) }
            let c = framing == .whole ? wholeSquare(parts, size: size, rng: &rng)
                                      : try randomCrop(parts, size: size, rng: &rng, path: id + ".input.png")
            return Triplet(input: c[0], hdr: c[1], target: c[2])
        case .panoramas(let paths, let target):
            let panorama = try PhotoCache.shared.image(paths[Int(rng.next() % UInt64(paths.count))])
            // crop: a window of a view rendered at the procedural scenes' size, like `syntheticCrop`.
            let full = framing == .whole ? size : max(DataSource.sceneSize, size)
            let t = PanoramaView.triplet(panorama, size: full, rng: &rng, target: target)
            PanoramaView.capForTraining(t.hdr)
            if full == size { return t }
            let c = try randomCrop([t.input, t.hdr, t.target], size: size, rng: &rng, path: "panorama view")
            return Triplet(input: c[0], hdr: c[1], target: c[2], camera: t.camera)
        case .mixed(let parts):
            return try parts[Int(seed % UInt64(parts.count))].sample(seed: seed, size: size, framing: framing)
        }
    }

    /// Item `i` of a held-out pass, whole: procedural scene `Split.evaluation.seed(i)` at
    /// `size` x `size`; photo `i` (cycling) reduced until its long side is at most `size`,
    /// photographed by camera `Split.evaluation.seed(i)`; triplet `i` as it is on disk. `ev`
    /// fixes the camera's exposure (its response curve and noise stay random); triplets have
    /// theirs already. Returns a short name for the item and the triplet.
    public func item(_ i: Int, size: Int, ev: Float? = nil) throws -> (id: String, triplet: Triplet) {
        let seed = Split.evaluation.seed(i)
        switch self {
        case .synthetic:
            return ("scene \(i)", SyntheticScenes.triplet(seed: seed, size: size, ev: ev))
        case .photos(let paths):
            let path = paths[i % paths.count]
            let photo = try PhotoCache.shared.image(path)
            let s = sizeWithLongSide(size, height: photo.h, width: photo.w)
            var rng = SeededRandom(seed: seed)
            let t = PhotoTriplet.make(from: resizeArea(photo, height: s.height, width: s.width), rng: &rng, ev: ev)
            return ("\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) #\(i / paths.count + 1)", t)
        case .triplets(let ids):
            let id = ids[i % ids.count]
            let parts = try [".input.png", ".hdr", ".target.png"].map { try ImageIO.read(id + $0).pixels }
            return (URL(fileURLWithPath: id).lastPathComponent, Triplet(input: parts[0], hdr: parts[1], target: parts[2]))
        case .panoramas(let paths, let target):
            // Panorama i % count, view i / count: each panorama's views from its own seeds.
            let path = paths[i % paths.count]
            var rng = SeededRandom(seed: seed)
            let t = PanoramaView.triplet(try PhotoCache.shared.image(path), size: size, rng: &rng, ev: ev, target: target)
            return ("\(URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent) view \(i / paths.count + 1)", t)
        case .mixed(let parts):
            return try parts[i % parts.count].item(i / parts.count, size: size, ev: ev)
        }
    }

    /// Procedural scenes are rendered at this size (the evaluation's, `drht evaluate`) and
    /// training crops are cut from them, so the network learns at the scale it is tested at:
    /// a 64 x 64 scene is not a 64 x 64 window of a 256 x 256 one (its textures, objects and
    /// glows are four times smaller), and a network trained on the first did poorly on the second.
    public static let sceneSize = 256

    /// A `size` x `size` window (position from the seed) of the scene `seed` rendered at
    /// max(`sceneSize`, `size`), its photo and target made from the whole scene.
    public static func syntheticCrop(seed: UInt64, size: Int) -> Triplet {
        let full = max(sceneSize, size)
        let t = SyntheticScenes.triplet(seed: seed, size: full)
        if full == size { return t }
        var rng = SeededRandom(seed: seed ^ 0x5EED_C40B)
        let c = try! randomCrop([t.input, t.hdr, t.target], size: size, rng: &rng, path: "scene")
        return Triplet(input: c[0], hdr: c[1], target: c[2])
    }

    /// A batch of `count` triplets, sample seeds derived from (`seed`, `step`), made in parallel
    /// (each is a pure function of its seed; the photo cache is locked).
    public func batch(seed: UInt64, step: Int, count: Int, size: Int, framing: Framing = .crop) throws -> Batch {
        let seeds = (0..<count).map { Split.trainingSeed(seed, step: step, index: $0) }
        var triplets = [Triplet?](repeating: nil, count: count)
        var failure: Error?
        let lock = NSLock()
        DispatchQueue.concurrentPerform(iterations: count) { i in
            do {
                let t = try sample(seed: seeds[i], size: size, framing: framing)
                lock.lock(); triplets[i] = t; lock.unlock()
            } catch {
                lock.lock(); failure = failure ?? error; lock.unlock()
            }
        }
        if let failure { throw failure }
        return stack(triplets.map { $0! })
    }

    /// Photos, `--framing whole`: each sample's square side is this share of the photo's shorter
    /// side or more (uniform), so 16 photos give many different views while each still shows most
    /// of its photo (the exposure depends on the whole); the PyTorch trainer's `--scale-min`.
    public static let photoScaleMin = 0.6

}

/// (N, 3, S, S) tensors from N triplets.
public func stack(_ triplets: [Triplet]) -> Batch {
    func cat(_ parts: [Tensor]) -> Tensor {
        let one = parts[0].count
        let t = Tensor(zeros: [parts.count] + Array(parts[0].shape.dropFirst()))
        for (i, p) in parts.enumerated() { (t.data + i * one).update(from: p.data, count: one) }
        return t
    }
    return Batch(input: cat(triplets.map(\.input)), hdr: cat(triplets.map(\.hdr)), target: cat(triplets.map(\.target)))
}

/// The largest square of each image (all the same size), at one random place along the long
/// side, reduced to size x size by area averaging (enlarged by repeating pixels if smaller).
/// With `scaleMin` < 1 the square's side is a random share in scaleMin...1 of the shorter side
/// (at a random place); with `flip`, half the samples are mirrored left to right.
func wholeSquare(_ images: [Tensor], size: Int, rng: inout SeededRandom, scaleMin: Double = 1, flip: Bool = false) -> [Tensor] {
    let h = images[0].h, w = images[0].w, short = min(h, w)
    var side = short
    if scaleMin < 1 {
        let u = Double(rng.next() % 1_000_001) / 1_000_000
        side = max(1, min(short, Int((Double(short) * (scaleMin + (1 - scaleMin) * u)).rounded())))
    }
    let mirror = flip && rng.next() % 2 == 1
    let y0 = Int(rng.next() % UInt64(h - side + 1)), x0 = Int(rng.next() % UInt64(w - side + 1))
    return images.map { img in
        let square = Tensor(uninitialized: [1, img.c, side, side])
        for c in 0..<img.c { for y in 0..<side {
            let row = square.data + (c * side + y) * side, source = img.data + (c * h + y0 + y) * w + x0
            if mirror { for x in 0..<side { row[x] = source[side - 1 - x] } } else { row.update(from: source, count: side) }
        }}
        if side >= size { return resizeArea(square, height: size, width: size) }
        let out = Tensor(uninitialized: [1, img.c, size, size])
        for c in 0..<img.c { for y in 0..<size { for x in 0..<size {
            out.data[(c * size + y) * size + x] = square.data[(c * side + y * side / size) * side + x * side / size]
        }}}
        return out
    }
}

/// The same random size x size window of each image (all the same size).
func randomCrop(_ images: [Tensor], size: Int, rng: inout SeededRandom, path: String) throws -> [Tensor] {
    let h = images[0].h, w = images[0].w
    guard h >= size, w >= size else {
        throw TrainingError("\(path) is \(w) x \(h), smaller than --size \(size)")
    }
    let y0 = Int(rng.next() % UInt64(h - size + 1)), x0 = Int(rng.next() % UInt64(w - size + 1))
    return images.map { img in
        let out = Tensor(zeros: [1, 3, size, size])
        for c in 0..<3 { for y in 0..<size {
            (out.data + (c * size + y) * size).update(from: img.data + (c * h + y0 + y) * w + x0, count: size)
        }}
        return out
    }
}

/// Photo triplets: the photo is the target; its linearised sRGB, normalised to log-average
/// 0.18, is the HDR ground truth (docs/MODEL.md's H_gt); the input is the photo taken again by a
/// random camera `ev` stops over or under the photo itself (random in -3...3, or `ev`):
/// `Camera.reexpose`, so 0 EV is the photo as it is.
public enum PhotoTriplet {
    public static func make(from photo: Tensor, rng: inout SeededRandom, ev: Float? = nil) -> Triplet {
        let hdr = Tensor(zeros: photo.shape)
        for i in 0..<photo.count { hdr.data[i] = SRGB.decode(photo.data[i]) }
        SyntheticScenes.normalise(hdr)
        let (input, camera) = reexposed(photo, rng: &rng, ev: ev)
        return Triplet(input: input, hdr: hdr, target: photo.copy(), camera: camera, reexposedPhoto: true)
    }

    /// `make`'s input alone (the same draws, so the same pixels), and its camera.
    public static func reexposed(_ photo: Tensor, rng: inout SeededRandom, ev: Float? = nil) -> (input: Tensor, camera: Camera) {
        var camera = Camera.random(rng: &rng)
        if let ev { camera.ev = ev }
        return (camera.reexpose(photo, rng: &rng), camera)
    }
}

/// Decoded images kept in memory (up to 256), so a folder is read from disk once. Photos are
/// reduced (area average, by an integer factor) until their shorter side is at most
/// `PhotoCache.shortSide`, so a training crop shows a scene at about the scale of the 256 x 256
/// procedural scenes rather than a featureless patch of a 2560 x 1600 wallpaper.
public final class PhotoCache: @unchecked Sendable {
    public static let shortSide = 400
    public static let shared = PhotoCache()
    private var images: [String: Tensor] = [:]
    private let lock = NSLock()

    public func image(_ path: String) throws -> Tensor {
        lock.lock(); defer { lock.unlock() }
        if let t = images[path] { return t }
        var t = try ImageIO.read(path).pixels
        if !path.lowercased().hasSuffix(".hdr") && !path.hasSuffix(".input.png") && !path.hasSuffix(".target.png") {
            t = PhotoCache.reduce(t)
        }
        if images.count >= 256 { images.removeAll() }
        images[path] = t
        return t
    }

    /// Averaged over f x f blocks with f = ceil(min(H, W) / shortSide).
    public static func reduce(_ t: Tensor) -> Tensor {
        downscale(t, by: (min(t.h, t.w) + shortSide - 1) / shortSide)
    }
}
