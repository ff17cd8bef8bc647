// What follows a block's convolution at inference, in one pass over its output instead of
// three or four (BN, + base, ELU, skip sum each reading and writing the whole tensor):
//
//   a = ELU(scale[c] * z + shift[c] (+ base))     BN with running statistics folded into
//                                                 scale = gamma / sqrt(var + eps),
//                                                 shift = beta - mean * scale
//   s = a + e + a * e                             decoders: the skip sum with encoder output e
//
// A block that will be differentiated keeps its intermediate tensors and uses BN's batch
// statistics: TrainingEpilogue.swift.

public enum BlockEpilogue {
    /// z <- ELU(BN(z) + base), then, with an encoder output, the skip sum — in place; z, base
    /// and encoder all (N, C, H, W). Returns nothing: z holds the block's output.
    public static func applyInPlace(_ z: Tensor, batchNorm bn: BatchNorm2D, base: Tensor?, encoder: Tensor?) {
        precondition(z.shape.count == 4 && z.c == bn.channels, "batch norm expects (N, \(bn.channels), H, W), got \(z.shapeString)")
        if let base { checkSameShape(z, base, "head base") }
        if let encoder { checkSameShape(z, encoder, "skip fusion") }
        let c = z.c, plane = z.h * z.w
        let (rm, rv) = (bn.runningMean.data, bn.runningVar.data)
        let pz = z.data, pb = base?.data, pe = encoder?.data
        // Tasks: (image, channel, a part of the plane) so two workers share even one plane.
        let parts = max(1, min(8, plane / (1 << 14)))
        let partSize = (plane + parts - 1) / parts
        parallelFor(z.n * c * parts) { task in
            let i = task / parts, ch = i % c
            let lo = (task % parts) * partSize, hi = min(plane, lo + partSize)
            guard lo < hi else { return }
            let (scale, shift) = bn.scaleShift(channel: ch, mean: rm[ch], variance: rv[ch])
            let p = pz + i * plane
            switch (pb.map { $0 + i * plane }, pe.map { $0 + i * plane }) {
            case (nil, nil):
                for j in lo..<hi { p[j] = elu(p[j] * scale + shift) }
            case (let b?, nil):
                for j in lo..<hi { p[j] = elu(p[j] * scale + shift + b[j]) }
            case (nil, let e?):
                for j in lo..<hi { let a = elu(p[j] * scale + shift); p[j] = a + e[j] + a * e[j] }
            case (let b?, let e?):
                for j in lo..<hi { let a = elu(p[j] * scale + shift + b[j]); p[j] = a + e[j] + a * e[j] }
            }
        }
    }
}
