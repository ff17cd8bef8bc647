// The session as a notebook: each command a cell with its text output and its pictures, and the
// lessons' narration between them. Saved as a Jupyter notebook (nbformat 4.5 JSON: opens in
// Jupyter, nbviewer, VS Code, GitHub), one self-contained HTML page (pictures as data URIs) or
// Markdown with the pictures in a folder beside it.
import DRHTImageIO
import Foundation

public final class NotebookRecorder {
    public struct Picture {
        public var caption: String
        /// At display size: the long side at most `NotebookRecorder.displaySide`.
        public var png: [UInt8]
        /// The full-resolution PNG when the picture was reduced (and the budget allowed).
        public var full: [UInt8]?
    }
    public struct Cell {
        public enum Kind: Equatable { case command(String), narration(String) }
        public var kind: Kind
        public var text = ""
        public var images: [Picture] = []
        /// The one-line error the command stopped with, if it failed.
        public var error: String?
        /// False for a command written down without running it (`drht lesson N --cells-only`).
        public var executed = true
    }
    public private(set) var cells: [Cell] = []
    private var open: [Int] = []
    private var fullBytes = 0

    /// Pictures go into notebooks at most this many pixels on their long side (a 12-megapixel
    /// photo or a 64-tile grid would otherwise make a notebook of tens of megabytes).
    public static let displaySide = 640
    /// Full-resolution copies kept for `notebook save --full`, at most this many bytes in all.
    public static let fullBudget = 256 << 20

    public init() {}

    func beginCell(_ command: String) { cells.append(Cell(kind: .command(command))); open.append(cells.count - 1) }
    /// A command cell that has not run (no outputs, no execution count).
    func unrunCell(_ command: String) { var c = Cell(kind: .command(command)); c.executed = false; cells.append(c) }
    func endCell() { _ = open.popLast() }
    func text(_ s: String) { if let i = open.last { cells[i].text += s } }
    func error(_ message: String) { if let i = open.last, cells[i].error == nil { cells[i].error = message } }
    func image(_ raster: Raster, caption: String) {
        guard let i = open.last, raster.width > 0, raster.height > 0 else { return }
        let side = NotebookRecorder.displaySide
        guard max(raster.width, raster.height) > side else {
            let png = raster.png()
            if !png.isEmpty { cells[i].images.append(Picture(caption: caption, png: png)) }
            return
        }
        let long = max(raster.width, raster.height)
        let small = raster.resized(width: max(1, (side * raster.width + long / 2) / long), height: max(1, (side * raster.height + long / 2) / long))
        let smallPNG = small.png()
        guard !smallPNG.isEmpty else { return }
        var full: [UInt8]? = raster.png()
        if fullBytes + full!.count > NotebookRecorder.fullBudget { full = nil } else { fullBytes += full!.count }
        cells[i].images.append(Picture(caption: caption + " (\(raster.width)x\(raster.height), shown at \(small.width)x\(small.height))",
                                       png: smallPNG, full: full?.isEmpty == true ? nil : full))
    }
    func narration(_ paragraph: String) { cells.append(Cell(kind: .narration(paragraph))) }

    /// The cells to save: everything except the `notebook save` commands themselves.
    var savedCells: [Cell] {
        cells.filter { if case .command(let c) = $0.kind { return !c.hasPrefix("notebook ") } else { return true } }
    }
}

public enum NotebookExport {
    public struct Summary { public let cells: Int; public let images: Int }

    /// Writes `.ipynb`, `.html` or `.md` by the path's extension (atomically; pictures first).
    @discardableResult
    /// With `full`, pictures reduced to display size are also written at full resolution into a
    /// PATH_files folder beside the notebook, and each reduced picture's caption names its file.
    public static func save(_ notebook: NotebookRecorder, to path: String, title: String, full: Bool = false) throws -> Summary {
        var cells = notebook.savedCells
        if full {
            let folder = URL(fileURLWithPath: path).deletingPathExtension().path + "_files"
            let relative = URL(fileURLWithPath: folder).lastPathComponent
            var n = 0
            for c in cells.indices {
                for k in cells[c].images.indices {
                    guard let bytes = cells[c].images[k].full else { continue }
                    if n == 0 {
                        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                        catch { throw REPLError("cannot create \(folder): \(error.localizedDescription)") }
                    }
                    n += 1
                    let file = String(format: "full-%03d.png", n)
                    try AtomicFile.write(bytes, to: (folder as NSString).appendingPathComponent(file))
                    cells[c].images[k].caption += "; full resolution: \(relative)/\(file)"
                }
            }
        }
        // A lesson's first paragraph is its title, already the page's heading.
        if case .narration(let first)? = cells.first?.kind, first == title { cells.removeFirst() }
        let images = cells.reduce(0) { $0 + $1.images.count }
        var written = cells.count
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "ipynb":
            // Jupyter's cells: the title, one markdown cell per run of narration, one per command.
            let text = jupyter(cells, title: title)
            written = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])
                .flatMap { $0["cells"] as? [Any] }?.count ?? written
            try write(text, to: path)
        case "html", "htm":
            try write(html(cells, title: title), to: path)
        case "md", "markdown":
            let folder = URL(fileURLWithPath: path).deletingPathExtension().path + "_files"
            let relative = URL(fileURLWithPath: folder).lastPathComponent
            if images > 0 {
                do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
                catch { throw REPLError("cannot create \(folder): \(error.localizedDescription)") }
            }
            var n = 0
            var names: [[String]] = []
            for cell in cells {
                var cellNames: [String] = []
                for image in cell.images {
                    n += 1
                    let file = String(format: "%03d.png", n)
                    try AtomicFile.write(image.png, to: (folder as NSString).appendingPathComponent(file))
                    cellNames.append(relative + "/" + file)
                }
                names.append(cellNames)
            }
            try write(markdown(cells, imagePaths: names, title: title), to: path)
        default:
            throw REPLError("\(path): a notebook is .ipynb, .html or .md")
        }
        return Summary(cells: written, images: images)
    }

    static func write(_ text: String, to path: String) throws {
        do { try AtomicFile.write(Array(text.utf8), to: path) } catch { throw REPLError(Session.describe(error)) }
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func html(_ cells: [NotebookRecorder.Cell], title: String) -> String {
        var out = """
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>\(escape(title))</title>
        <style>
        body { font-family: system-ui, sans-serif; max-width: 62em; margin: 2em auto; padding: 0 1em; color: #222; }
        .cell { margin: 1em 0; border-left: 3px solid #4a7; padding-left: 0.8em; }
        .narration { margin: 1em 0; line-height: 1.5; }
        pre { font-family: ui-monospace, monospace; font-size: 13px; margin: 0.3em 0; white-space: pre-wrap; }
        pre.in { color: #075; font-weight: bold; }
        pre.err { color: #b00; }
        img { image-rendering: pixelated; max-width: 100%; display: block; margin: 0.4em 0; border: 1px solid #ccc; }
        figure { margin: 0; } figcaption { font-size: 12px; color: #666; }
        </style></head><body>
        <h1>\(escape(title))</h1>

        """
        for cell in cells {
            switch cell.kind {
            case .narration(let p):
                out += "<p class=\"narration\">\(escape(p))</p>\n"
            case .command(let c):
                out += "<section class=\"cell\">\n<pre class=\"in\">drht&gt; \(escape(c))</pre>\n"
                if !cell.text.isEmpty { out += "<pre class=\"out\">\(escape(cell.text))</pre>\n" }
                if let error = cell.error { out += "<pre class=\"err\">error: \(escape(error))</pre>\n" }
                for image in cell.images {
                    let b64 = Data(image.png).base64EncodedString()
                    out += "<figure><img src=\"data:image/png;base64,\(b64)\" alt=\"\(escape(image.caption))\"><figcaption>\(escape(image.caption))</figcaption></figure>\n"
                }
                out += "</section>\n"
            }
        }
        return out + "</body></html>\n"
    }

    /// nbformat 4.5: markdown cells for the narration (and the title), a code cell per command
    /// with its text as a `stream` output and each picture as `display_data` (image/png in
    /// base64, the caption as text/plain), execution counts 1, 2, ... in order. The code is drht
    /// commands, not Python: the kernelspec names the drht kernel (`make jupyter` installs it),
    /// so the notebook opens in JupyterLab or Notebook ready to run again.
    static func jupyter(_ cells: [NotebookRecorder.Cell], title: String) -> String {
        /// Multi-line text as nbformat writes it: a list of lines, each but the last ending in \n.
        func lines(_ text: String) -> [String] {
            var parts = text.components(separatedBy: "\n")
            if parts.last == "" { parts.removeLast() }
            return parts.enumerated().map { $0.offset < parts.count - 1 || text.hasSuffix("\n") ? $0.element + "\n" : $0.element }
        }
        var json: [[String: Any]] = [["cell_type": "markdown", "id": "title", "metadata": [String: Any](), "source": ["# \(title)"]]]
        var count = 0
        var previousWasNarration = false
        for (i, cell) in cells.enumerated() {
            let id = "cell-\(i + 1)"
            if case .narration = cell.kind {} else { previousWasNarration = false }
            switch cell.kind {
            case .narration(let p):
                // One markdown cell per narration block: its paragraphs joined by blank lines.
                if previousWasNarration, var last = json.popLast(), let source = last["source"] as? [String] {
                    last["source"] = lines(source.joined() + "\n\n" + p)
                    json.append(last)
                } else {
                    json.append(["cell_type": "markdown", "id": id, "metadata": [String: Any](), "source": lines(p)])
                }
                previousWasNarration = true
            case .command(let c) where !cell.executed:
                json.append(["cell_type": "code", "id": id, "metadata": [String: Any](), "execution_count": NSNull(),
                             "source": lines(c), "outputs": [[String: Any]]()])
            case .command(let c):
                count += 1
                var outputs: [[String: Any]] = []
                if !cell.text.isEmpty { outputs.append(["output_type": "stream", "name": "stdout", "text": lines(cell.text)]) }
                if let error = cell.error {
                    outputs.append(["output_type": "error", "ename": "error", "evalue": error, "traceback": ["error: " + error]])
                }
                for image in cell.images {
                    outputs.append(["output_type": "display_data", "metadata": [String: Any](),
                                    "data": ["image/png": Data(image.png).base64EncodedString(), "text/plain": [image.caption]]])
                }
                json.append(["cell_type": "code", "id": id, "metadata": [String: Any](), "execution_count": count,
                             "source": lines(c), "outputs": outputs])
            }
        }
        let notebook: [String: Any] = [
            "nbformat": 4, "nbformat_minor": 5, "cells": json,
            "metadata": ["title": title, "language_info": ["name": "drht", "file_extension": ".drht", "mimetype": "text/x-drht"],
                         "kernelspec": ["name": "drht", "display_name": "drht (DRHT network)", "language": "drht"]],
        ]
        let data = (try? JSONSerialization.data(withJSONObject: notebook, options: [.prettyPrinted, .sortedKeys])) ?? Data("{}".utf8)
        return String(decoding: data, as: UTF8.self) + "\n"
    }

    static func markdown(_ cells: [NotebookRecorder.Cell], imagePaths: [[String]], title: String) -> String {
        var out = "# \(title)\n\n"
        for (cell, paths) in zip(cells, imagePaths) {
            switch cell.kind {
            case .narration(let p): out += p + "\n\n"
            case .command(let c):
                out += "```\ndrht> \(c)\n"
                if !cell.text.isEmpty { out += cell.text + (cell.text.hasSuffix("\n") ? "" : "\n") }
                if let error = cell.error { out += "error: " + error + "\n" }
                out += "```\n\n"
                for (image, path) in zip(cell.images, paths) { out += "![\(image.caption)](\(path))\n\n" }
            }
        }
        return out
    }
}
