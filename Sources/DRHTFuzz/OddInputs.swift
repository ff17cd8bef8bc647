// The command × odd-input matrix (issue 31): every REPL command that takes an image or a
// variable, applied to every odd image, and every option and numeric argument given odd values.
// The lines are generated from the command registry and the option declarations, so a new
// command or option is covered without editing this file or its test.
import DRHTEngine
import DRHTImageIO
import DRHTREPL

/// Images a careless or hostile user might load: odd values, odd shapes, odd formats.
public enum OddImages {
    public struct Image: Sendable {
        public let name: String
        public let file: String
        public let bytes: [UInt8]
    }

    static let height = 40, width = 56

    /// An (H, W, 3) (or (H, W) gray) .npy of a texture in 0...1 with `edit` applied to its values.
    static func npy(_ name: String, height: Int = height, width: Int = width, channels: Int = 3,
                    _ edit: (inout [Float]) -> Void = { _ in }) -> Image {
        var values = (0..<(height * width * channels)).map { Float(($0 * 37) % 101) / 100 }
        edit(&values)
        let t = Tensor(shape: channels == 1 ? [height, width] : [height, width, channels], repeating: 0)
        t.buffer.update(fromContentsOf: values)
        return Image(name: name, file: name + ".npy", bytes: NPY.encode(t))
    }

    static func png(_ name: String, width: Int = width, height: Int = height, colorType: Int = 2, bitDepth: Int = 8,
                    _ sample: @escaping (Int, Int, Int) -> Int) -> Image {
        Image(name: name, file: name + ".png",
              bytes: MiniPNG.make(width: width, height: height, colorType: colorType, bitDepth: bitDepth, sample: sample))
    }

    /// A PNG whose header declares `width` x `height` RGBA 16-bit and that has no pixel data.
    static func declaredOnly(_ name: String, width: Int, height: Int) -> Image {
        var bytes: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
        bytes += MiniPNG.chunk("IHDR", MiniPNG.be32(UInt32(width)) + MiniPNG.be32(UInt32(height)) + [16, 6, 0, 0, 0])
        bytes += MiniPNG.chunk("IDAT", MiniPNG.zlibStored([]))
        bytes += MiniPNG.chunk("IEND", [])
        return Image(name: name, file: name + ".png", bytes: bytes)
    }

    /// The issue's list, in its order.
    public static let all: [Image] = [
        npy("one-nan") { $0[3 * width * 3 + 4 * 3 + 1] = .nan },
        npy("all-nan") { for i in $0.indices { $0[i] = .nan } },
        npy("one-inf") { $0[5 * width * 3 + 5 * 3] = .infinity },
        npy("inf-mix") { $0[width * 3 + 3] = .infinity; $0[2 * width * 3 + 2 * 3 + 2] = -.infinity },
        npy("huge-values") { for i in $0.indices where i % 7 == 0 { $0[i] = i % 14 == 0 ? 1e30 : -3e38 } },
        npy("negative") { for i in $0.indices { $0[i] -= 0.8 } },
        npy("denormal") { for i in $0.indices { $0[i] = Float(bitPattern: UInt32(1 + i % 5000)) } },
        png("black") { _, _, _ in 0 },
        png("white") { _, _, _ in 255 },
        npy("zero-by-zero", height: 0, width: 0),
        png("one-by-one", width: 1, height: 1) { _, _, c in 60 * c },
        png("one-row", width: 57, height: 1) { x, _, c in (x * 4 + c * 50) % 256 },
        png("one-column", width: 1, height: 45) { _, y, c in (y * 5 + c * 50) % 256 },
        png("gray", colorType: 0) { x, y, _ in (x * 3 + y * 2) % 256 },
        npy("gray-npy", channels: 1),
        png("rgba", colorType: 6) { x, y, c in c == 3 ? (x * 5) % 256 : (x + y * c) % 256 },
        png("sixteen-bit", bitDepth: 16) { x, y, c in (x * 1000 + y * 300 + c * 7000) % 65536 },
        declaredOnly("declared-huge", width: 10_000, height: 10_000),
    ]
}

public enum CommandMatrix {
    /// The variable holding the odd image, and a normal image for the other slots.
    public static let odd = "s", normal = "ok"

    /// Commands that take an image or a variable: a positional argument or an option that
    /// completes to a variable, a layer or a target.
    public static var commands: [Command] {
        Registry.commands.filter { c in
            c.arguments.contains { [.variable, .layer, .target].contains($0) } || c.options.contains { $0.completion == .variable }
        }
    }

    /// Before the lines: a small model, a normal image, the odd one loaded and chosen for stepping.
    public static func setup(file: String, use chosen: String = odd) -> [String] {
        ["model init --seed 1", "synth --size 32 --ev -1 --seed 2 as \(normal)", "load \(file) as \(odd)", "use \(chosen)"]
    }

    /// What each kind of positional argument is tried with.
    static func values(_ kind: Completion.Kind, slot: Int, command: String) -> [String] {
        switch kind {
        case .variable: return slot == 0 || command == "latent" && slot == 1 ? [odd] : [odd, normal]
        case .layer: return ["hdr.enc1", odd, "ldr.dec5"]
        case .target: return ["out", "hdr.latent:0", "hdr.enc1:1,1", "out[0:1,0:1]"]
        case .path: return ["odd-out.png", "odd-out.npy", "odd-out.hdr", "odd-out.jpg"]
        case .none: return ["1"]
        case .words(let words):
            let numbers = words.filter { Double($0) != nil }
            return numbers.isEmpty ? Array(words.prefix(4)) : [numbers[0]]
        case .keyed(let table): return Array(table.values.compactMap(\.first).sorted().prefix(2))
        case .command, .lesson: return []
        }
    }

    /// The lines that apply `c` to the odd image: its positional arguments filled with every
    /// combination of their values (at most 8 lines), then once with each option that takes a
    /// variable pointing at the odd image.
    public static func lines(_ c: Command) -> [String] {
        var lines = [c.name]
        var bare: [String] = []                   // `latent`, `step`: the command alone works on the chosen image
        if case .words = c.arguments.first { bare = [c.name] }
        for (slot, kind) in c.arguments.enumerated() {
            let vs = values(kind, slot: slot, command: c.name)
            if vs.isEmpty { break }
            lines = Array(lines.flatMap { l in vs.map { l + " " + $0 } }.prefix(8))
        }
        lines += bare
        if c.name == "step" { lines += ["step 3"] }
        for o in c.options where o.completion == .variable { lines.append(lines[0] + " \(o.name) \(odd)") }
        if c.name == "expect" {
            lines += Expectation.functions.map { f in
                let args = f.name == "similarity" ? ["hdr.latent"] : (0..<f.variables).map { $0 == 1 ? normal : odd }
                return "expect \(f.name)(\(args.joined(separator: ", "))) > 0"
            }
            lines += ["expect \(odd).min < \(odd).max", "expect \(odd).shape == 1x3x40x56"]
        }
        return lines
    }

    /// Every command's lines on the odd image; `del` last, since it removes the image.
    public static var imageLines: [String] {
        let ordered = commands.filter { $0.name != "del" } + commands.filter { $0.name == "del" }
        return ordered.flatMap(lines)
    }

    /// Odd values for numbers: what a user might type by mistake or on purpose.
    public static let oddNumbers = ["nan", "inf", "-inf", "1e30", "-1", "0", "\"\""]

    /// Every option that takes values, of every command, given each odd value (and given no
    /// value at all); and every numeric positional argument likewise. The rest of the line is
    /// the command's first generated line on the normal image (train: a tiny run).
    public static var optionLines: [String] {
        var out: [String] = []
        for c in Registry.commands where !["lesson", "run", "pause", "quit", "help"].contains(c.name) {
            var base = c.name == "train" ? "train --steps 1 --batch 1 --size 32" : (lines(c).first ?? c.name)
            base = base.split(separator: " ").map { $0 == Substring(odd) ? normal : String($0) }.joined(separator: " ")
            for o in c.options where !o.values.isEmpty {
                let stem = c.name == "train" ? removing(o.name, from: base) : base
                let words = o.values.count
                out += oddNumbers.map { v in stem + " " + o.name + String(repeating: " " + v, count: words) }
                out.append(stem + " " + o.name)
            }
            // Numeric positional slots: `gamma NAME G`, `rf LAYER X Y`, `scale TARGET K`, `set KEY VALUE`.
            let slots = c.arguments.enumerated().filter { _, kind in
                if case .none = kind { return true }
                if case .words(let w) = kind { return w.contains { Double($0) != nil } }
                if case .keyed = kind { return true }
                return false
            }.map(\.offset)
            let words = base.split(separator: " ").map(String.init)
            for slot in slots where slot + 1 < words.count || c.name == "set" {
                for v in oddNumbers {
                    if c.name == "set" {
                        out += ["width", "threads", "work-size", "colormap"].map { "set \($0) \(v)" }
                        continue
                    }
                    var w = words; w[slot + 1] = v
                    out.append(w.joined(separator: " "))
                }
            }
        }
        return out
    }

    /// `base` without the option `name` and its values (the numbers after it).
    static func removing(_ name: String, from base: String) -> String {
        var words = base.split(separator: " ").map(String.init)
        if let i = words.firstIndex(of: name) { words.removeSubrange(i...min(words.count - 1, i + 1)) }
        return words.joined(separator: " ")
    }
}
