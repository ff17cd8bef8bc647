// Text charts drawn with the eighth-block characters ▁▂▃▄▅▆▇█: histograms, the latent vector
// as rows of bars, and the training loss curve. Plain Unicode, so they read the same in a
// terminal, a pipe and a notebook.
import Foundation

public enum Charts {
    static let eighths: [Character] = [" ", "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█"]

    /// Vertical bars `height` rows tall, one column per value (values >= 0), scaled to the maximum.
    public static func bars(_ values: [Double], height: Int, maximum: Double? = nil) -> [String] {
        let top = maximum ?? (values.max() ?? 1)
        var lines: [String] = []
        for row in (0..<height).reversed() {
            var line = ""
            for v in values {
                let level = top > 0 ? v / top * Double(height * 8) : 0
                let fill = Int(saturating: (level - Double(row * 8)).rounded())
                line.append(eighths[min(8, max(0, fill))])
            }
            while line.hasSuffix(" ") { line.removeLast() }
            lines.append(line)
        }
        return lines
    }

    /// One row of small bars for `values` scaled lo...hi (a sparkline).
    public static func sparkline(_ values: [Double], lo: Double, hi: Double) -> String {
        String(values.map { v -> Character in
            let t = hi > lo ? (v - lo) / (hi - lo) : 0
            return eighths[1 + Int(clamping: Float(t * 8), to: 0...7)]
        })
    }

    /// Counts of `values` in `bins` equal bins over lo...hi (values outside go to the end bins).
    public static func histogram(_ values: UnsafeBufferPointer<Float>, bins: Int, lo: Double, hi: Double) -> [Double] {
        var counts = [Double](repeating: 0, count: bins)
        let scale = hi > lo ? Double(bins) / (hi - lo) : 0
        for v in values {
            let x = (Double(v) - lo) * scale
            guard x.isFinite else { continue }            // NaN and infinities are not counted
            counts[x <= 0 ? 0 : x >= Double(bins - 1) ? bins - 1 : Int(x)] += 1
        }
        return counts
    }

    /// A loss curve: `width` columns (steps bucketed, mean per bucket), `height` rows, log-scaled
    /// when the values span more than a factor of 20. Returns the chart lines with a y-axis.
    public static func curve(_ values: [Double], width: Int, height: Int) -> [String] {
        guard !values.isEmpty else { return [] }
        let w = min(width, values.count)
        var buckets = [Double](repeating: 0, count: w)
        for i in 0..<w {
            let a = i * values.count / w, b = max(a + 1, (i + 1) * values.count / w)
            buckets[i] = values[a..<b].reduce(0, +) / Double(b - a)
        }
        let lo = buckets.min()!, hi = buckets.max()!
        let logScale = lo > 0 && hi / lo > 20
        let f: (Double) -> Double = logScale ? { log10($0) } : { $0 }
        let base = logScale ? f(lo) - (f(hi) - f(lo)) * 0.05 : min(0, lo)
        let lines = bars(buckets.map { f($0) - base }, height: height, maximum: f(hi) - base)
        let labels = [formatNumber(hi, digits: 3), formatNumber(lo, digits: 3)]
        let pad = labels.map(\.count).max()!
        return lines.enumerated().map { (i, l) in
            let label = i == 0 ? labels[0] : (i == lines.count - 1 ? labels[1] : "")
            return String(repeating: " ", count: pad - label.count) + label + " ┤" + l
        } + [String(repeating: " ", count: pad) + " └" + String(repeating: "─", count: w) + (logScale ? "  (log scale)" : "")]
    }

    /// The loss curve as a picture (for notebooks and Jupyter): every value a point joined by
    /// lines, log-scaled on the same rule as `curve`, the highest and lowest value written on the
    /// y axis and the first and last step under the x axis. White background, dark ink.
    public static func curveRaster(_ values: [Double], firstStep: Int = 1, width: Int = 480, height: Int = 240) -> Raster {
        let r = Raster(width: width, height: height, fill: (1, 1, 1))
        let finite = values.filter(\.isFinite)
        guard let lo = finite.min(), let hi = finite.max() else { return r }
        let logScale = lo > 0 && hi / lo > 20
        let f: (Double) -> Double = logScale ? { log10($0) } : { $0 }
        let (top, bottom) = (f(hi), logScale ? f(lo) : min(0, lo))
        let ink: (Float, Float, Float) = (0.15, 0.15, 0.15), line: (Float, Float, Float) = (0.12, 0.35, 0.75)
        let labels = [formatNumber(hi, digits: 3), formatNumber(lo, digits: 3)]
        let left = 8 + labels.map { TinyFont.width($0, scale: 2) }.max()!, right = width - 8, up = 10, down = height - 24
        for y in up...down { r.set(left, y, ink) }
        for x in left...right { r.set(x, down, ink) }
        TinyFont.draw(labels[0], into: r, x: 4, y: up, scale: 2, colour: ink)
        TinyFont.draw(labels[1], into: r, x: 4, y: down - 10, scale: 2, colour: ink)
        let last = "\(firstStep + values.count - 1)" + (logScale ? " (LOG SCALE)" : "")
        TinyFont.draw("\(firstStep)", into: r, x: left, y: down + 6, scale: 2, colour: ink)
        TinyFont.draw(last, into: r, x: right - TinyFont.width(last, scale: 2), y: down + 6, scale: 2, colour: ink)
        func point(_ i: Int) -> (Int, Int)? {
            guard values[i].isFinite else { return nil }
            let x = left + 1 + (values.count > 1 ? i * (right - left - 1) / (values.count - 1) : 0)
            let t = top > bottom ? (f(values[i]) - bottom) / (top - bottom) : 0.5
            return (x, down - 1 - Int((t * Double(down - up - 2)).rounded()))
        }
        var previous: (Int, Int)?
        for i in values.indices {
            guard let p = point(i) else { previous = nil; continue }
            let from = previous ?? p
            let n = max(abs(p.0 - from.0), abs(p.1 - from.1), 1)
            for k in 0...n {
                let x = from.0 + (p.0 - from.0) * k / n, y = from.1 + (p.1 - from.1) * k / n
                r.set(x, y, line); r.set(x, min(y + 1, down - 1), line)
            }
            previous = p
        }
        return r
    }
}
