// Helpers every test target shares (DRHTTestSupport is a library only test targets link):
// the one approximate-equality helper, the finite-difference gradient check, and scratch
// folders.
import XCTest
import DRHTEngine

/// The one approximate-equality helper: |a - b| <= atol + rtol * |b| elementwise.
/// Float32 sums taken in a different order differ in the last bits, so tests compare with
/// tolerances (1e-5 relative is honest for short sums, 1e-4 for long ones), never `==`.
public func assertClose(_ a: [Float], _ b: [Float], rtol: Float = 1e-5, atol: Float = 1e-6,
                 _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.count, b.count, "\(what): count", file: file, line: line)
    var worst: Float = 0, worstIndex = -1
    for i in 0..<min(a.count, b.count) {
        let err = abs(a[i] - b[i]) - (atol + rtol * abs(b[i]))
        if !(err <= worst) || a[i].isNaN { worst = a[i].isNaN ? .infinity : err; worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("\(what): element \(worstIndex) is \(a[worstIndex]), expected \(b[worstIndex]) (rtol \(rtol), atol \(atol))",
                file: file, line: line)
    }
}

public func assertClose(_ a: Tensor, _ b: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6,
                 _ what: String = "", file: StaticString = #filePath, line: UInt = #line) {
    XCTAssertEqual(a.shape, b.shape, "\(what): shape", file: file, line: line)
    assertClose(a.array, b.array, rtol: rtol, atol: atol, what, file: file, line: line)
}

/// `assertClose` with the absolute tolerance scaled to the reference's largest magnitude:
/// |a - b| <= rtol * (|b| + 1e-2 * max|b| + 1e-6). For activations compared across
/// implementations, where Float32 sums of thousands of terms differ relative to the tensor's
/// scale rather than to each (possibly tiny) element.
public func assertClose(_ a: Tensor, _ b: Tensor, scaledTolerance rtol: Float, _ what: String = "",
                        file: StaticString = #filePath, line: UInt = #line) {
    var scale: Float = 0
    for i in 0..<b.count { scale = max(scale, abs(b.data[i])) }
    assertClose(a, b, rtol: rtol, atol: rtol * (1e-2 * scale + 1e-6), what, file: file, line: line)
}

/// sum(y * r) in Double: the scalar "loss" whose gradient with respect to y is r.
public func dot(_ y: Tensor, _ r: Tensor) -> Double {
    precondition(y.count == r.count)
    var s = 0.0
    for i in 0..<y.count { s += Double(y.data[i]) * Double(r.data[i]) }
    return s
}

/// Finite-difference check of an analytic gradient.
/// `loss()` evaluates the scalar loss from the current contents of `param`; `analytic` is the
/// gradient the op's backward returned. Central differences with step `h` at up to `samples`
/// elements; the tolerance is |num - ana| <= atol + rtol * max(|num|, |ana|), honest for a
/// Float32 forward pass with a Double loss.
public func checkGradient(_ name: String, param: Tensor, analytic: Tensor, h: Float = 1e-2,
                   samples: Int = 40, rtol: Double = 2e-3, atol: Double = 5e-4,
                   file: StaticString = #filePath, line: UInt = #line, loss: () -> Double) {
    XCTAssertEqual(param.shape, analytic.shape, "\(name): gradient shape", file: file, line: line)
    var rng = SeededRandom(seed: 99)
    let indices = param.count <= samples ? Array(0..<param.count)
        : (0..<samples).map { _ in Int(rng.next() % UInt64(param.count)) }
    var worst = 0.0
    for i in indices {
        let saved = param.data[i]
        param.data[i] = saved + h
        let up = loss()
        param.data[i] = saved - h
        let down = loss()
        param.data[i] = saved
        let numeric = (up - down) / (2 * Double(h))
        let ana = Double(analytic.data[i])
        let err = abs(numeric - ana)
        worst = max(worst, err)
        if err > atol + rtol * max(abs(numeric), abs(ana)) {
            XCTFail("\(name)[\(i)]: finite difference \(numeric) vs backward \(ana)", file: file, line: line)
            return
        }
    }
}

public func randomTensor(_ shape: [Int], seed: UInt64, _ lo: Float = -1, _ hi: Float = 1) -> Tensor {
    var rng = SeededRandom(seed: seed)
    return Tensor.uniform(shape, lo, hi, rng: &rng)
}
