// `drht bench inside`: the look-inside commands (saliency, rf, sweep) timed as a user runs
// them, through a REPL session with its output discarded, on an N x N procedural scene
// (default 256), with the shipped weights when present. Targets (issue 32, at 512^2 on 2
// threads): saliency, rf and a 7-exposure sweep in gain mode (the default) under 2 s; a sweep in
// direct mode (14 full-resolution runs) under 10 s.
import DRHTEngine
import DRHTREPL
import Foundation

extension Bench {
    func runInside(_ progress: Progress) throws {
        let session = Session(console: Console { _ in })
        let size = n
        let setup = ["synth --size \(size) --ev -2 as scene", "use scene"]
        for line in setup { try session.execute(line) }
        let cell = max(0, size / 32 / 2)
        let cases: [(line: String, target: Double)] = [
            ("saliency hdr.latent:137", 2000),
            ("saliency ldr.latent:5@\(cell),\(cell)", 2000),
            ("saliency out[\(size / 4):\(size / 2),\(size / 4):\(size / 2)]", 2000),
            ("saliency psnr:scene.target --method gradxinput", 2000),
            ("saliency hdr.latent:137 --method integrated --steps 16", .nan),
            ("rf hdr.latent \(cell) \(cell)", 2000),
            ("rf ldr.dec5 \(size / 2) \(size / 2)", 2000),
            ("sweep scene.target --ev -3,-2,-1,0,1,2,3", 2000),
            ("set mode direct", .nan),
            ("sweep scene.target --ev -3,-2,-1,0,1,2,3", 10_000),
        ]
        var rows: [(String, Double, Double)] = []
        for (k, c) in cases.enumerated() {
            progress.say("\(k + 1)/\(cases.count): \(c.line)")
            if c.line.hasPrefix("set ") { try session.execute(c.line); continue }
            var times: [Double] = []
            for _ in 0..<3 {
                let t0 = Timing.nowMS()
                try session.execute(c.line)
                times.append(Timing.nowMS() - t0)
            }
            let label = c.line.hasPrefix("sweep") ? c.line + " (" + session.settings.correction.description + ")" : c.line
            rows.append((label, times.sorted()[1], c.target))
        }
        progress.done()
        if json {
            struct Report: Encodable {
                struct Row: Encodable { let command: String; let ms: JSONNumber; let targetMs: JSONNumber? }
                let size, threads: Int
                let model: String
                let commands: [Row]
            }
            try printJSON(Report(size: size, threads: EngineThreads.count, model: session.modelSource,
                                 commands: rows.map { Report.Row(command: $0.0, ms: .init($0.1), targetMs: $0.2.isNaN ? nil : .init($0.2)) }))
            return
        }
        print("drht bench inside: \(size)x\(size) scene, \(EngineThreads.count) thread\(EngineThreads.count == 1 ? "" : "s"), median of 3, model \(session.modelSource)")
        let w = rows.map(\.0.count).max()!
        for (line, ms, target) in rows {
            let verdict = target.isNaN ? "" : (ms <= target ? "  (target < \(Int(target / 1000)) s: met)" : "  (target < \(Int(target / 1000)) s: NOT met)")
            print(line.padding(toLength: w + 2, withPad: " ", startingAt: 0) + String(format: "%8.0f ms", ms) + verdict)
        }
    }
}
