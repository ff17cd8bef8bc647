// Turning variables into pictures: an LDR image as it is, HDR radiance through the display
// curve tau (H^(1/2.2), clipped), log-HDR and feature maps through a colour map.
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation

extension Session {
    /// Width in columns for pictures: the terminal's, or 64 for plain-text (ASCII) output.
    var pictureColumns: Int {
        let w = console.width - 1
        return settings.display == .ascii || !console.colour ? min(w, 64) : w
    }

    /// Draws `raster` in the terminal and records it (as PNG) in the notebook.
    func showRaster(_ raster: Raster, caption: String, columns: Int? = nil, maxRows: Int? = nil) {
        if console.pictureHandler != nil { console.picture(terminal: "", raster: raster, caption: caption); return }
        // Leave room for the prompt and the lines around the picture.
        let rows = maxRows ?? max(8, min(60, console.height - 5))
        let text = TerminalPicture.render(raster, display: settings.display, console: console,
                                          columns: columns ?? pictureColumns, maxRows: rows)
        console.picture(terminal: text, raster: raster, caption: caption)
    }

    /// The colour map for data spanning lo...hi under the `colormap` setting.
    func colourMap(lo: Float, hi: Float) -> ColourMap {
        switch settings.colourMap {
        case .auto: return ColourMap.automatic(for: lo...max(hi, lo))
        case .viridis: return .viridis
        case .gray: return .gray
        case .diverging: return .diverging
        }
    }

    /// The picture of an image variable, and a note on how it was made displayable (and how many
    /// pixels are NaN or infinite: those are drawn magenta).
    func imageRaster(_ v: Variable) -> (Raster, String) {
        let (raster, note) = displayable(v)
        let bad = Raster.nonFinitePixels(v.tensor)
        guard bad > 0 else { return (raster, note) }
        let mark = "\(bad) pixel\(bad == 1 ? "" : "s") NaN or infinite, drawn magenta"
        return (raster, note.isEmpty ? mark : note + "; " + mark)
    }

    private func displayable(_ v: Variable) -> (Raster, String) {
        switch v.kind {
        case .image:
            let st = v.tensor.stats
            let note = st.min < 0 || st.max > 1
                ? "values \(formatNumber(Double(st.min)))..\(formatNumber(Double(st.max))) drawn clipped to 0..1" : ""
            return (Raster.image(v.tensor), note)
        case .hdr:
            // Negative radiance draws black; NaN and infinities stay non-finite, drawn magenta.
            let t = Tensor(zeros: v.tensor.shape)
            for i in 0..<t.count { let x = v.tensor.data[i]; t.data[i] = x.isFinite ? powf(max(x, 0), 1 / 2.2) : .nan }
            return (Raster.image(t), "shown as H^(1/2.2), clipped at 1")
        case .logHDR, .features, .gain, .attribution, .hdrError:
            let s = v.tensor.stats
            let t = Tensor(zeros: v.tensor.shape)
            let span = Double(max(s.max - s.min, 1e-12))
            for i in 0..<t.count {
                let x = v.tensor.data[i]
                t.data[i] = x.isFinite ? Float((Double(x) - Double(s.min)) / span) : .nan
            }
            return (Raster.image(t), "stretched from \(formatNumber(Double(s.min)))..\(formatNumber(Double(s.max))) to 0..1")
        }
    }

    /// A gain map (stops) as a picture: blue-white-red centred on 0 stops, the range symmetric
    /// and at least +-1 stop (so a small gain stays pale); maps over `maxSide` px are reduced first.
    func gainRaster(_ t: Tensor, maxSide: Int = 1024) -> (Raster, ClosedRange<Float>) {
        let size = sizeWithLongSide(maxSide, height: t.h, width: t.w)
        let small = resizeArea(t, height: size.height, width: size.width)
        let st = small.stats
        let m = max(1, abs(st.min), abs(st.max))
        return (Raster.mapped(small.data, width: small.w, height: small.h, map: .diverging, range: -m...m), -m...m)
    }

    static let hdrErrorLegend = "blue: estimate too dark, white: right, red: too bright (stops = log2 of estimate / truth)"

    /// Shows an HDR error map (`hdrerror`) with its range and a colour bar in stops.
    func showHDRError(_ name: String, _ t: Tensor) {
        let st = t.stats
        console.line("\(console.bold(name)): \(t.w)x\(t.h), " + String(format: "%+.2f..%+.2f stops, mean %+.2f", st.min, st.max, st.mean)
                     + " — " + Session.hdrErrorLegend)
        let (raster, range) = gainRaster(t)
        showRaster(raster, caption: name)
        console.line(TerminalPicture.colourBar(.diverging, range: range, console: console, label: "stops"))
    }

    /// Shows a gain map with its range and a colour bar in stops.
    func showGain(_ name: String, _ t: Tensor) {
        let st = t.stats
        console.line("\(console.bold(name)): the gain map, \(t.w)x\(t.h): " + String(format: "%+.2f..%+.2f stops, mean %+.2f", st.min, st.max, st.mean)
                     + " (x\(formatNumber(Double(exp2(st.mean))))) — red: brightened, blue: darkened")
        let (raster, range) = gainRaster(t)
        showRaster(raster, caption: name)
        console.line(TerminalPicture.colourBar(.diverging, range: range, console: console, label: "stops"))
    }
}
