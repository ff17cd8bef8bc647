import XCTest
import DRHTEngine
import DRHTTestSupport
@testable import DRHTModel

/// Interventions change exactly what they name: a zeroed skip is the block run on a zero
/// encoder output, a zeroed channel is zero and the others untouched, a replaced latent is the
/// other image's, a factor of 1 changes nothing.
final class InterventionTests: XCTestCase {
    let model = DRHT.initialized(seed: 9)

    func run(_ x: Tensor, _ interventions: [Intervention]) -> Pipeline {
        let p = Pipeline(model: model, image: x, retention: .everything)
        p.interventions = interventions
        p.runAll()
        return p
    }

    func testZeroSkipIsTheBlockOnAZeroEncoder() {
        var rng = SeededRandom(seed: 1)
        let x = Tensor.uniform([1, 3, 64, 64], 0, 1, rng: &rng)
        let intact = run(x, [])
        let p = run(x, [Intervention(.skip(step: "hdr.dec3"), .scale(0))])
        let block = model.hdr.block("dec3")!
        let e = intact[.of(.hdr, "enc3")]!
        let expected = block.forward(intact[.skipSum(.hdr, Architecture.index(of: "dec2")!)]!, encoder: Tensor(zeros: e.shape), mode: .inference(inPlace: false))
        assertClose(p[.skipSum(.hdr, Architecture.index(of: "dec3")!)]!, expected.output)
        assertClose(p[.of(.hdr, "dec3")]!, intact[.of(.hdr, "dec3")]!)        // the activation itself is the same
        XCTAssertNotEqual(p.corrected!.array, intact.corrected!.array)
        // Half the skip: s = a + e/2 + a e/2.
        let half = run(x, [Intervention(.skip(step: "hdr.dec3"), .scale(0.5))])
        let a = intact[.of(.hdr, "dec3")]!, s = half[.skipSum(.hdr, Architecture.index(of: "dec3")!)]!
        for i in stride(from: 0, to: a.count, by: 97) {
            XCTAssertEqual(s.data[i], a.data[i] + 0.5 * e.data[i] + a.data[i] * 0.5 * e.data[i], accuracy: 1e-5)
        }
    }

    func testChannelAblationZeroesOnlyThatChannel() {
        var rng = SeededRandom(seed: 2)
        let x = Tensor.uniform([1, 3, 64, 64], 0, 1, rng: &rng)
        let intact = run(x, [])
        let p = run(x, [Intervention(.activation(step: "ldr.enc3", channels: 12...13), .scale(0))])
        let a = p[.of(.ldr, "enc3")]!, b = intact[.of(.ldr, "enc3")]!
        for c in 0..<a.c {
            let st = a.channelStats(c)
            if c == 12 || c == 13 { XCTAssertEqual(st.min, 0); XCTAssertEqual(st.max, 0) }
            else { XCTAssertEqual(st.mean, b.channelStats(c).mean) }
        }
        assertClose(p[.of(.hdr, "head")]!, intact[.of(.hdr, "head")]!)          // upstream untouched
        XCTAssertNotEqual(p[.of(.ldr, "enc4")]!.array, intact[.of(.ldr, "enc4")]!.array)
        let same = run(x, [Intervention(.activation(step: "hdr.latent", channels: nil), .scale(1))])
        XCTAssertEqual(same.corrected!.array, intact.corrected!.array)
        let double = run(x, [Intervention(.activation(step: "hdr.latent", channels: nil), .scale(2))])
        assertClose(double[.of(.hdr, "latent")]!.array, intact[.of(.hdr, "latent")]!.array.map { 2 * $0 })
    }

    func testReplacedLatentIsTheOtherImages() {
        var rng = SeededRandom(seed: 3)
        let x = Tensor.uniform([1, 3, 64, 64], 0, 0.3, rng: &rng), other = Tensor.uniform([1, 3, 64, 64], 0.6, 1, rng: &rng)
        let latent = run(other, [])[.of(.hdr, "latent")]!
        let p = run(x, [Intervention(.activation(step: "hdr.latent", channels: nil), .replace(latent, from: "other"))])
        XCTAssertEqual(p[.of(.hdr, "latent")]!.array, latent.array)
        assertClose(p[.of(.hdr, "enc5")]!, run(x, [])[.of(.hdr, "enc5")]!)
        XCTAssertEqual("\(p.interventions[0])", "hdr.latent replaced by other's")
    }
}
