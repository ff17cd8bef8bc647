import DRHTEngine
import Foundation
func scratchProfile() {
    var rng = SeededRandom(seed: 1); EngineThreads.set(2)
    let x = Tensor.uniform([1, 64, 256, 256], -1, 1, rng: &rng)
    let e = Tensor.uniform([1, 64, 256, 256], -1, 1, rng: &rng)
    let bn = BatchNorm2D(channels: 64)
    print("alloc", Timing.medianMS { _ = Tensor(zeros: [1, 64, 256, 256]) })
    print("bn", Timing.medianMS { _ = bn.forward(x, mode: .inference) })
    print("elu", Timing.medianMS { _ = ELU.forward(x) })
    print("skip", Timing.medianMS { _ = SkipFusion.forward(decoder: x, encoder: e) })
    print("clamp", Timing.medianMS { _ = Clamp.relu(x) })
    let t = TransposedConv2D(weight: Tensor.uniform([512, 256, 3, 3], -0.1, 0.1, rng: &rng), bias: Tensor(zeros: [256]))
    let xs = Tensor.uniform([1, 512, 8, 8], -1, 1, rng: &rng)
    print("dec1", Timing.medianMS { _ = t.forward(xs) })
}
