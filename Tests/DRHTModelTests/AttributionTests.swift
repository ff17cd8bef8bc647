import XCTest
import DRHTEngine
@testable import DRHTModel

/// Input gradients (saliency) against finite differences, probe values against the stepping
/// pipeline, and theoretical receptive fields by hand and against the gradient's support.
final class AttributionTests: XCTestCase {
    func model() -> DRHT {
        let m = DRHT.initialized(seed: 5, deconv: .kaiming)
        m.hdr.block("head")!.bn.weight.buffer.update(repeating: 0.1)   // y1 near x: away from tau_inv's clamp
        return m
    }

    /// dS/dx along a direction u equals (S(x + e u) - S(x - e u)) / 2e, for probes of steps in
    /// both networks, the transform and the heads.
    func testInputGradientMatchesFiniteDifferences() {
        let m = model()
        var rng = SeededRandom(seed: 3)
        let x = Tensor.uniform([1, 3, 64, 64], 0.2, 0.8, rng: &rng)
        let cases: [(String, Probe)] = [
            ("hdr.enc3", .channel(7)),
            ("hdr.latent", .channel(100, rows: 1..<2, columns: 0..<1)),
            ("hdr.dec2", .unit(x: 5, y: 3)),
            ("hdr.head", .meanLuma(rows: 10..<30, columns: 20..<50)),
            ("transform", .channel(1)),
            ("transform.H", .meanLuma(rows: 0..<64, columns: 0..<64)),
            ("ldr.enc2", .channel(3, rows: 4..<9, columns: 4..<9)),
            ("ldr.dec5", .channel(11)),
            ("ldr.head", .meanLuma(rows: 40..<48, columns: 0..<16)),
            ("ldr.head", .error(against: Tensor.uniform([1, 3, 60, 50], 0, 1, rng: &rng), psnr: true)),
        ]
        for (step, probe) in cases {
            let (value, g) = m.inputGradient(x, step: step, probe: probe)
            let u = Tensor.uniform(x.shape, -1, 1, rng: &rng)
            let analytic = zip(g.array, u.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
            let e: Float = 1e-3
            func s(_ sign: Float) -> Double {
                let xe = x.copy()
                for i in 0..<xe.count { xe.data[i] += sign * e * u.data[i] }
                return m.inputGradient(xe, step: step, probe: probe).value
            }
            let numeric = (s(1) - s(-1)) / Double(2 * e)
            XCTAssertEqual(numeric, analytic, accuracy: 3e-2 * abs(analytic) + 1e-5, "\(step) \(probe.describe)")
            XCTAssertTrue(value.isFinite)
        }
    }

    /// replicatePadBackward is replicatePad's adjoint: <pad(x), y> = <x, padBackward(y)>, and a
    /// hand case: a 1x2 row padded to 1x4 sends the two extra columns' gradient to column 1.
    func testPaddingsAdjoint() {
        var rng = SeededRandom(seed: 11)
        let x = Tensor.uniform([2, 3, 37, 45], -1, 1, rng: &rng)
        let padded = replicatePad(x, toMultipleOf: 32)
        let y = Tensor.uniform(padded.shape, -1, 1, rng: &rng)
        let back = replicatePadBackward(y, height: 37, width: 45)
        XCTAssertEqual(back.shape, x.shape)
        let lhs = zip(padded.array, y.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        let rhs = zip(x.array, back.array).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        XCTAssertEqual(lhs, rhs, accuracy: 1e-4 * abs(lhs) + 1e-4)
        let g = Tensor(zeros: [1, 1, 2, 4])
        for (i, v) in [Float(1), 2, 3, 4, 10, 20, 30, 40].enumerated() { g.data[i] = v }
        XCTAssertEqual(replicatePadBackward(g, height: 1, width: 2).array, [11, 99])
    }

    /// The probe reads the same tensor the pipeline publishes for the step.
    func testProbeValueIsThePipelinesOutput() throws {
        let m = model()
        var rng = SeededRandom(seed: 4)
        let x = Tensor.uniform([1, 3, 64, 32], 0, 1, rng: &rng)
        let p = Pipeline(model: m, image: x, retention: .everything)
        p.runAll()
        for step in ["hdr.enc2", "hdr.dec3", "ldr.latent", "ldr.dec4", "transform"] {
            let t = try p.tensor(XCTUnwrap(Pipeline.Output(name: step)))
            let mean = (0..<t.h).flatMap { y in (0..<t.w).map { Double(t[0, 2, y, $0]) } }.reduce(0, +) / Double(t.h * t.w)
            let v = m.inputGradient(x, step: step, probe: .channel(2)).value
            XCTAssertEqual(v, mean, accuracy: 1e-4 * max(1, abs(mean)), step)
        }
    }

    /// Hand-computed fields at the image's corner: enc1 (9x9, pad 4) reads rows 0...4; enc2 (5x5,
    /// stride 2, pad 2) cell 0 reads enc1 cells 0...2, i.e. input rows 0...6; dec5 cell 0 (9x9
    /// transposed, pad 4) reads dec4 cells ceil((0+4-8)/2) = -2 .. floor(4/2) = 2, clamped 0...2.
    func testTheoreticalFieldByHand() {
        XCTAssertEqual(ReceptiveField.span("hdr.enc1", 0...0, networkInput: 64), 0...4)
        XCTAssertEqual(ReceptiveField.span("hdr.enc1", 10...10, networkInput: 64), 6...14)
        XCTAssertEqual(ReceptiveField.span("hdr.enc2", 0...0, networkInput: 64), 0...6)
        XCTAssertEqual(ReceptiveField.span("hdr.enc2", 5...5, networkInput: 64), 4...16)
        let dec5 = Architecture.layers.first { $0.name == "dec5" }!
        XCTAssertEqual(dec5.inputSpan(0...0, inputCells: 32), 0...2)
        XCTAssertEqual(dec5.inputSpan(7...7, inputCells: 32), 2...5)
        // Away from the border: the table's size for encoders, at most that for decoders (a
        // transposed conv's odd outputs read one input fewer), more for the second network.
        for spec in Architecture.layers {
            for cell in 0..<3 {
                let f = ReceptiveField.unclipped(step: "hdr.\(spec.name)", x: cell, y: cell)
                let table = Architecture.receptiveFields[spec.name]!
                if spec.scaleDivisor > 1 && spec.kind == .conv { XCTAssertEqual(f.columns, table, spec.name) }
                XCTAssertLessThanOrEqual(f.columns, table, spec.name)
                XCTAssertGreaterThan(ReceptiveField.unclipped(step: "ldr.\(spec.name)", x: cell, y: cell).columns, f.columns, spec.name)
            }
        }
        // An interior unit's field has the table's size.
        for layer in ["enc3", "enc4"] {
            let n = 512, cell = n / Architecture.layers.first { $0.name == layer }!.scaleDivisor / 2
            let s = ReceptiveField.span("hdr.\(layer)", cell...cell, networkInput: n)
            XCTAssertEqual(s.count, Architecture.receptiveFields[layer]!, layer)
        }
    }

    /// `model`'s RF column is the widest unit's field: for each layer of the first network, the
    /// unit whose exact field is widest has a gradient that reaches exactly that many columns
    /// (an unclipped unit of a 256 x 256 image; the textbook recurrence said 145 for the head,
    /// the gradient says 137).
    func testTheWidestUnitsGradientSpansTheTablesField() {
        let m = model()
        var rng = SeededRandom(seed: 8)
        let x = Tensor.uniform([1, 3, 256, 256], 0.2, 0.8, rng: &rng)
        XCTAssertEqual(Architecture.receptiveFields["head"], 137)
        for spec in Architecture.layers where spec.scaleDivisor <= 8 {
            let centre = 128 / spec.scaleDivisor
            let phase = (0..<(32 / spec.scaleDivisor)).max { ReceptiveField.unclipped(step: "hdr.\(spec.name)", x: centre + $0, y: 0).columns
                < ReceptiveField.unclipped(step: "hdr.\(spec.name)", x: centre + $1, y: 0).columns }!
            let (_, g) = m.inputGradient(x, step: "hdr.\(spec.name)", probe: .unit(x: centre + phase, y: centre))
            let cols = (0..<256).filter { xx in (0..<256).contains { y in (0..<3).contains { g[0, $0, y, xx] != 0 } } }
            XCTAssertEqual(cols.count, Architecture.receptiveFields[spec.name]!, spec.name)
            XCTAssertEqual(cols.last! - cols.first! + 1, cols.count, spec.name)
        }
    }

    /// With random weights every weight is nonzero and ELU's slope is never 0, so the input
    /// pixels with a nonzero gradient are exactly the theoretical field.
    func testGradientSupportIsTheTheoreticalField() {
        let m = model()
        var rng = SeededRandom(seed: 6)
        let x = Tensor.uniform([1, 3, 64, 64], 0.2, 0.8, rng: &rng)
        for (step, cx, cy) in [("hdr.enc2", 3, 20), ("hdr.enc4", 1, 6), ("hdr.dec4", 30, 2), ("ldr.enc1", 17, 40)] {
            let (_, g) = m.inputGradient(x, step: step, probe: .unit(x: cx, y: cy))
            var rows: [Int] = [], cols: [Int] = []
            for y in 0..<64 { for xx in 0..<64 where (0..<3).contains(where: { g[0, $0, y, xx] != 0 }) { rows.append(y); cols.append(xx) } }
            let f = ReceptiveField.theoretical(step: step, x: cx, y: cy, height: 64, width: 64)
            XCTAssertEqual(rows.min()!...rows.max()!, f.rows, step)
            XCTAssertEqual(cols.min()!...cols.max()!, f.columns, step)
        }
    }
}
