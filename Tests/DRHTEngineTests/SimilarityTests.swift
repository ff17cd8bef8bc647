import XCTest
import DRHTTestSupport
import DRHTEngine

/// `similarity` (what `sweep` compares layers with): cosine and relative distance, against a
/// plain double loop and by hand, on tensors long enough to cross the chunks and lanes the sums
/// are split into (and with a tail that is not a multiple of 16).
final class SimilarityTests: XCTestCase {
    /// Random values (off any float grid), compared with the plain loop in doubles that the
    /// lanes replaced: a lost or repeated chunk, a wrong offset or lane precision would show.
    func testSimilarityMatchesAPlainDoubleLoop() {
        for n in [5, 1000, 3 * (1 << 16) + 21] {
            let a = randomTensor([n], seed: 1, -2, 3), b = randomTensor([n], seed: 2, -2, 3)
            for i in 0..<n { a.data[i] += 0.5 * b.data[i] }          // correlated: cosine well away from 0
            var ab = 0.0, aa = 0.0, bb = 0.0, dd = 0.0
            for i in 0..<n {
                let x = Double(a.data[i]), y = Double(b.data[i])
                ab += x * y; aa += x * x; bb += y * y; dd += (x - y) * (x - y)
            }
            let r = similarity(a, b)
            XCTAssertEqual(r.cosine, ab / (aa * bb).squareRoot(), accuracy: 1e-6, "n \(n)")
            XCTAssertEqual(r.relative, (dd / bb).squareRoot(), accuracy: 1e-6, "n \(n)")
        }
    }

    func testSimilarityByHand() {
        let n = 3 * (1 << 16) + 21
        let b = Tensor(shape: [n], repeating: 0)
        for i in 0..<n { b.data[i] = Float(i % 7) - 3 }            // -3 ... 3, mean 0
        let same = similarity(b, b)
        XCTAssertEqual(same.cosine, 1, accuracy: 1e-9); XCTAssertEqual(same.relative, 0, accuracy: 1e-9)
        let twice = Tensor(shape: [n], repeating: 0)
        for i in 0..<n { twice.data[i] = 2 * b.data[i] }
        let scaled = similarity(twice, b)            // |2b - b| / |b| = 1
        XCTAssertEqual(scaled.cosine, 1, accuracy: 1e-9); XCTAssertEqual(scaled.relative, 1, accuracy: 1e-9)
        let negated = Tensor(shape: [n], repeating: 0)
        for i in 0..<n { negated.data[i] = -b.data[i] }
        let opposite = similarity(negated, b)        // cosine -1, |-2b| / |b| = 2
        XCTAssertEqual(opposite.cosine, -1, accuracy: 1e-9); XCTAssertEqual(opposite.relative, 2, accuracy: 1e-9)
        // Orthogonal: a is 1 on even indices, b' is 1 on odd ones: cosine 0, |a - b'| / |b'| = sqrt(2) (n odd: one more even).
        let even = Tensor(shape: [n], repeating: 0), odd = Tensor(shape: [n], repeating: 0)
        for i in 0..<n { if i % 2 == 0 { even.data[i] = 1 } else { odd.data[i] = 1 } }
        let orthogonal = similarity(even, odd)
        XCTAssertEqual(orthogonal.cosine, 0, accuracy: 1e-12)
        XCTAssertEqual(orthogonal.relative, (Double(n) / Double(n / 2)).squareRoot(), accuracy: 1e-9)
    }
}
