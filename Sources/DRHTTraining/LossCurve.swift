// The loss curve as an SVG picture: training loss (blue) and held-out loss (orange dots)
// against the step, on a log scale.
import Foundation

public enum LossCurve {
    public static func svg(_ rows: [LogRow], width: Int = 720, height: Int = 400) -> String {
        let (left, right, top, bottom) = (70.0, 20.0, 30.0, 45.0)
        let w = Double(width) - left - right, h = Double(height) - top - bottom
        let values = rows.flatMap { [$0.loss] + ($0.validation.map { [$0] } ?? []) }.filter { $0 > 0 && $0.isFinite }
        var out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" font-family=\"sans-serif\" font-size=\"12\">\n"
        out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
        out += "<text x=\"\(Int(left))\" y=\"18\" font-size=\"14\">DRHT training loss (blue: training batch, orange: held-out)</text>\n"
        guard let lo = values.min(), let hi = values.max(), let last = rows.last else {
            return out + "<text x=\"\(Int(left))\" y=\"60\">no steps yet</text>\n</svg>\n"
        }
        let first = rows.first!.step
        let (l0, l1) = (log10(lo) - 0.05, log10(hi) + 0.05)
        func x(_ step: Int) -> Double { left + w * Double(step - first) / Double(max(last.step - first, 1)) }
        func y(_ v: Double) -> Double { top + h * (l1 - log10(v)) / max(l1 - l0, 1e-9) }
        out += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(w)\" height=\"\(h)\" fill=\"none\" stroke=\"#888\"/>\n"
        for e in Int(floor(l0))...Int(ceil(l1)) where Double(e) >= l0 && Double(e) <= l1 {
            let yy = y(pow(10, Double(e)))
            out += "<line x1=\"\(left)\" x2=\"\(left + w)\" y1=\"\(yy)\" y2=\"\(yy)\" stroke=\"#ddd\"/>"
            out += "<text x=\"\(left - 8)\" y=\"\(yy + 4)\" text-anchor=\"end\">1e\(e)</text>\n"
        }
        out += "<text x=\"\(left)\" y=\"\(Double(height) - 12)\">step \(first)</text>"
        out += "<text x=\"\(left + w)\" y=\"\(Double(height) - 12)\" text-anchor=\"end\">step \(last.step)</text>\n"
        let points = rows.filter { $0.loss > 0 && $0.loss.isFinite }.map { String(format: "%.1f,%.1f", x($0.step), y($0.loss)) }
        out += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"1.5\" points=\"\(points.joined(separator: " "))\"/>\n"
        for r in rows { if let v = r.validation, v > 0, v.isFinite {
            out += String(format: "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"#ff7f0e\"/>\n", x(r.step), y(v))
        }}
        return out + "</svg>\n"
    }
}
