// The HTML report of `drht evaluate --html`: the table, then one row per image with small
// pictures side by side (input, each baseline, DRHT in each mode, target) and their scores. One file,
// pictures embedded as JPEG data URIs, so it opens in any browser.
import DRHTEngine
import DRHTImageIO
import DRHTMetrics
import Foundation

public enum EvaluationReport {
    public static func html(_ e: Evaluation, title: String, thumbnail: Int = 160) -> String {
        html([(nil, e)], title: title, thumbnail: thumbnail)
    }

    /// One page with a section per evaluation (e.g. one per exposure), each headed `heading`.
    public static func html(_ sections: [(heading: String?, evaluation: Evaluation)], title: String, thumbnail: Int = 160) -> String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;") }
        func uri(_ t: Tensor) -> String {
            let small = downscale(t, by: (max(t.h, t.w) + thumbnail - 1) / thumbnail)   // JPEG clamps to [0, 1]
            let bytes = (try? JPEG.encode(small)) ?? []
            return "data:image/jpeg;base64," + Data(bytes).base64EncodedString()
        }
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(esc(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; margin: 2em; color: #222; }
        table.scores td, table.scores th { padding: 0.2em 0.8em; text-align: right; } table.scores td:first-child { text-align: left; }
        .row { display: flex; gap: 6px; margin: 0.6em 0; align-items: flex-start; }
        figure { margin: 0; font-size: 11px; text-align: center; } img { display: block; }
        .best { font-weight: bold; color: #075; }
        </style></head><body><h1>\(esc(title))</h1>

        """
        for (heading, e) in sections {
        if let heading { out += "<h2>\(esc(heading))</h2>\n" }
        out += """
        <p>\(esc(e.data.description)); model: \(esc(e.model.trainingSummary ?? "untrained"))</p>
        <pre>\(esc(e.table().joined(separator: "\n")))</pre>

        """
        for image in e.images {
            let psnr = { (o: (method: String, image: Tensor, values: [String: Double])) in o.values[ImageMetric.psnr.name] ?? -.infinity }
            let best = image.outputs.filter { $0.method != Evaluation.oracleRow }.max { psnr($0) < psnr($1) }?.method     // the oracle is no method
            out += "<h3>\(esc(image.id))</h3><div class=\"row\">\n"
            for o in image.outputs {
                let cls = o.method == best ? " class=\"best\"" : ""
                out += "<figure><img src=\"\(uri(o.image))\" alt=\"\(esc(o.method))\"><figcaption\(cls)>\(esc(o.method))<br>"
                    + e.metrics.filter(\.column).compactMap { m in o.values[m.name].map { esc(m.label + " " + m.format($0)) } }.joined(separator: "<br>")
                    + "</figcaption></figure>\n"
            }
            out += "<figure><img src=\"\(uri(image.target))\" alt=\"target\"><figcaption>target</figcaption></figure>\n</div>\n"
        }
        }
        return out + "</body></html>\n"
    }
}
