// The theoretical receptive field of one unit: the input pixels it can depend on, followed
// back through the table exactly, cell interval by cell interval (`Architecture.receptiveFields`,
// `model`'s RF column, is the widest unit's of each layer). Each block reads the block before it, a decoder's fused
// output also reads its encoder's, and the head also reads its base at the same pixel; the
// second network reads the first network's head pixel by pixel through the transform. Taps
// that fall on zero padding read nothing, so fields stop at the border.
//
// Per axis, for output cells lo...hi of a block (zero padding p = (k - 1) / 2):
//   conv, stride s:          inputs lo*s - p ... hi*s - p + k - 1
//   transposed, stride 2:    inputs ceil((lo + p - k + 1) / 2) ... floor((hi + p) / 2)
//                            (output o = 2i - p + t for input i and tap t in 0..<k)

/// An inclusive range of cells along one axis.
public typealias CellSpan = ClosedRange<Int>

extension LayerSpec {
    /// The cells of this block's input (one axis, `inputCells` of them) that output cells
    /// `span` read; nil when they read only padding.
    public func inputSpan(_ span: CellSpan, inputCells: Int) -> CellSpan? {
        let p = (kernel - 1) / 2
        var lo: Int, hi: Int
        switch kind {
        case .conv, .head:
            lo = span.lowerBound * stride - p; hi = span.upperBound * stride - p + kernel - 1
        case .transposedConv:
            lo = Int((Double(span.lowerBound + p - kernel + 1) / 2).rounded(.up))
            hi = Int((Double(span.upperBound + p) / 2).rounded(.down))
        }
        lo = max(lo, 0); hi = min(hi, inputCells - 1)
        return lo <= hi ? lo...hi : nil
    }
}

public enum ReceptiveField {
    /// The input pixels (rows, columns) of an image of `height` x `width` (multiples of 32)
    /// that the unit at (x, y) of `step` (`hdr.enc3`, `ldr.latent`, …) can depend on.
    public static func theoretical(step: String, x: Int, y: Int, height: Int, width: Int) -> (rows: CellSpan, columns: CellSpan) {
        (span(step, y...y, networkInput: height), span(step, x...x, networkInput: width))
    }

    /// The size (rows, columns) of the unit's field were it far from every border: the same
    /// unit moved by 4096 input pixels (a multiple of 32, so every layer's sampling phase is
    /// unchanged) in an 8192 x 8192 input. A stride-2 transposed conv's even and odd outputs
    /// read different numbers of inputs, so decoder units' fields depend on their position;
    /// the second network's fields are larger, as it sees through the first.
    public static func unclipped(step: String, x: Int, y: Int) -> (rows: Int, columns: Int) {
        let name = String(step.split(separator: ".", maxSplits: 1)[1])
        let shift = 4096 / Architecture.layers.first { $0.name == name }!.scaleDivisor
        let f = theoretical(step: step, x: x + shift, y: y + shift, height: 8192, width: 8192)
        return (f.rows.count, f.columns.count)
    }

    /// One axis of `theoretical`: input pixels (0..<n) behind cells `cells` of `step`.
    static func span(_ step: String, _ cells: CellSpan, networkInput n: Int) -> CellSpan {
        let parts = step.split(separator: ".", maxSplits: 1).map(String.init)
        let index = Architecture.layers.firstIndex { $0.name == parts[1] }!
        let own = field(index, cells, n)
        guard parts[0] == "ldr" else { return own }
        // The second network's input and its head's base are the first network's head, pixel
        // for pixel (the transform is elementwise).
        let head = Architecture.layers.count - 1
        return field(head, own, n)
    }

    /// Network-input cells behind cells `cells` of block `index`'s activation, within one net.
    static func field(_ index: Int, _ cells: CellSpan, _ n: Int) -> CellSpan {
        let spec = Architecture.layers[index], w = Architecture.wiring[index]
        let inputCells = w.input.map { n / Architecture.layers[$0].scaleDivisor } ?? n
        var result: CellSpan? = nil
        if let read = spec.inputSpan(cells, inputCells: inputCells) {
            if let input = w.input {
                result = field(input, read, n)
                if let e = Architecture.wiring[input].skip {
                    result = union(result!, field(e, read, n))      // the input block's fused output
                }
            } else {
                result = read
            }
        }
        if w.addsBase { result = result.map { union($0, cells) } ?? cells }     // + base, same pixels
        return result ?? cells
    }

    static func union(_ a: CellSpan, _ b: CellSpan) -> CellSpan {
        min(a.lowerBound, b.lowerBound)...max(a.upperBound, b.upperBound)
    }
}
