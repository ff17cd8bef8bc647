// What every data source shares (the sources themselves are DataSources/, one file each):
// how a sample is framed, `Split`'s one table of seeds (training, validation and evaluation
// never share a scene or a camera), batches, crops, photo triplets and the photo cache.
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

extension DataSource {
    /// Procedural scenes are rendered at this size (the evaluation's, `drht evaluate`) and
    /// training crops are cut from them, so the network learns at the scale it is tested at:
    /// a 64 x 64 scene is not a 64 x 64 window of a 256 x 256 one (its textures, objects and
    /// glows are four times smaller), and a network trained on the first did poorly on the second.
    public static let sceneSize = 256

    /// A `size` x `size` window (position from the seed) of the scene `seed` rendered at
    /// max(`sceneSize`, `size`), its photo and target made from the whole scene.
    public static func syntheticCrop(seed: UInt64, size: Int, underOnly: Bool = false) -> Triplet {
        let full = max(sceneSize, size)
        let t = SyntheticScenes.triplet(seed: seed, size: full, underOnly: underOnly)
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
    // A re-exposed photo's H_gt is the photo made linear: a lower bound where the photo clipped.
    // Other sources' H_gt is the scene's light itself (zeros: exact everywhere).
    let bounds = triplets.map { $0.reexposedPhoto ? Batch.hdrLowerBound(target: $0.target) : Tensor(zeros: $0.target.shape) }
    return Batch(input: cat(triplets.map(\.input)), hdr: cat(triplets.map(\.hdr)), target: cat(triplets.map(\.target)),
                 hdrLowerBound: triplets.contains(where: \.reexposedPhoto) ? cat(bounds) : nil)
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
