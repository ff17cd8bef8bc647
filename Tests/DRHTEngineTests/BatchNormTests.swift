import XCTest
import DRHTTestSupport
@testable import DRHTEngine

final class BatchNormTests: XCTestCase {
    func testTrainingNormalisesAndUpdatesRunningStatsLikePyTorch() {
        // One channel holding 1, 2, 3, 4: mean 2.5, biased var 1.25, unbiased var 5/3.
        let bn = BatchNorm2D(channels: 1)
        let (y, _) = bn.forward(Tensor(shape: [1, 1, 2, 2], values: [1, 2, 3, 4]), mode: .training)
        let r = 1 / (1.25 + 1e-5).squareRoot()
        assertClose(y.array, [-1.5, -0.5, 0.5, 1.5].map { Float($0 * r) }, "normalised")
        assertClose(bn.runningMean.array, [0.25], "running mean = 0.9*0 + 0.1*2.5")
        assertClose(bn.runningVar.array, [Float(0.9 + 0.1 * 5.0 / 3.0)], "running var uses unbiased var")
    }

    func testInferenceUsesRunningStats() {
        let bn = BatchNorm2D(weight: Tensor(shape: [2], values: [2, 1]), bias: Tensor(shape: [2], values: [1, 0]),
                             runningMean: Tensor(shape: [2], values: [1, -1]), runningVar: Tensor(shape: [2], values: [4, 1]))
        let (y, _) = bn.forward(Tensor(shape: [1, 2, 1, 2], values: [3, 1, 0, 1]), mode: .inference)
        let s0 = 2 / (4 + 1e-5).squareRoot(), s1 = 1 / (1 + 1e-5).squareRoot()
        assertClose(y.array, [Float(2 * s0 + 1), 1, Float(1 * s1), Float(2 * s1)], "eval")
        assertClose(bn.runningMean.array, [1, -1], "running stats untouched")
    }

    func testGradients() {
        for mode in [Mode.training, .inference] {
            let x = randomTensor([3, 4, 3, 5], seed: 1, -2, 2)
            let bn = BatchNorm2D(weight: randomTensor([4], seed: 2, 0.5, 1.5), bias: randomTensor([4], seed: 3),
                                 runningMean: randomTensor([4], seed: 4), runningVar: randomTensor([4], seed: 5, 0.5, 2))
            let r = randomTensor(x.shape, seed: 6)
            // Freeze the running stats while differencing (training mode updates them).
            let savedMean = bn.runningMean.copy(), savedVar = bn.runningVar.copy()
            let (_, cache) = bn.forward(x, mode: mode)
            let g = bn.backward(dOutput: r, input: x, cache: cache)
            let loss: () -> Double = {
                let out = bn.forward(x, mode: mode).output
                bn.runningMean.data.update(from: savedMean.data, count: 4)
                bn.runningVar.data.update(from: savedVar.data, count: 4)
                return dot(out, r)
            }
            checkGradient("bn \(mode) dInput", param: x, analytic: g.dInput, loss: loss)
            checkGradient("bn \(mode) dWeight", param: bn.weight, analytic: g.dWeight, loss: loss)
            checkGradient("bn \(mode) dBias", param: bn.bias, analytic: g.dBias, loss: loss)
        }
    }
}
