// `drht bench inside`: the look-inside jobs (saliency, rf, sweep) timed as the REPL's commands
// run them, on an N x N procedural scene (default 256) photographed at -2 EV, with the shipped
// weights when present. Each row names the REPL line it stands for; the time is the job's
// (DRHTTasks), without the drawing. Targets (issue 32, at 512^2 on 2 threads): saliency, rf and
// a 7-exposure sweep in gain mode (the default) under 2 s; a sweep in direct mode (14
// full-resolution runs) under 10 s.
import DRHTEngine
import DRHTModel
import DRHTTasks
import DRHTTraining
import Foundation

extension Bench {
    func runInside(_ progress: TaskMonitor) throws {
        let size = n
        let scene = SyntheticScenes.triplet(seed: 1, size: size, ev: -2)
        let weights = WeightsResolver.existing(nil)
        let model = try weights.map { try DRHT.load($0) } ?? DRHT.initialized(seed: 1)
        let modelSource = weights ?? "random initialisation, seed 1"
        let input = NetworkInput(image: scene.input)
        let cell = max(0, size / 32 / 2), q = size / 4..<size / 2
        func saliency(_ step: String, _ probe: Probe, _ method: SaliencyRequest.Method = .grad) -> () throws -> Void {
            { _ = try SaliencyTask.run(SaliencyRequest(step: step, probe: probe, method: method), model: model, input: input, monitor: .silent) }
        }
        func sweep(_ mode: CorrectionMode) -> () throws -> Void {
            var r = SweepRequest()
            r.correct.mode = mode
            return { _ = try SweepTask.run(r, model: model, photo: scene.target, monitor: .silent) }
        }
        let gain = CorrectionMode.gain(workSize: CorrectionMode.defaultWorkSize)
        let cases: [(line: String, target: Double, job: () throws -> Void)] = [
            ("saliency hdr.latent:137", 2000, saliency("hdr.latent", .channel(137))),
            ("saliency ldr.latent:5@\(cell),\(cell)", 2000, saliency("ldr.latent", .channel(5, rows: cell..<(cell + 1), columns: cell..<(cell + 1)))),
            ("saliency out[\(q.lowerBound):\(q.upperBound),\(q.lowerBound):\(q.upperBound)]", 2000, saliency("ldr.head", .meanLuma(rows: q, columns: q))),
            ("saliency psnr:scene.target --method gradxinput", 2000, saliency("ldr.head", .error(against: scene.target, psnr: true), .gradxinput)),
            ("saliency hdr.latent:137 --method integrated --steps 16", .nan, saliency("hdr.latent", .channel(137), .integrated)),
            ("rf hdr.latent \(cell) \(cell)", 2000, { _ = try ReceptiveFieldTask.run(ReceptiveFieldRequest(step: "hdr.latent", x: cell, y: cell), model: model, input: input) }),
            ("rf ldr.dec5 \(size / 2) \(size / 2)", 2000, { _ = try ReceptiveFieldTask.run(ReceptiveFieldRequest(step: "ldr.dec5", x: size / 2, y: size / 2), model: model, input: input) }),
            ("sweep scene.target --ev -3,-2,-1,0,1,2,3 (\(gain))", 2000, sweep(gain)),
            ("sweep scene.target --ev -3,-2,-1,0,1,2,3 (direct)", 10_000, sweep(.direct)),
        ]
        var rows: [(String, Double, Double)] = []
        for (k, c) in cases.enumerated() {
            progress.say("bench: \(k + 1)/\(cases.count): \(c.line)")
            var times: [Double] = []
            for _ in 0..<3 {
                let t0 = Timing.nowMS()
                try c.job()
                times.append(Timing.nowMS() - t0)
            }
            rows.append((c.line, times.sorted()[1], c.target))
        }
        progress.clear()
        if json {
            struct Report: Encodable {
                struct Row: Encodable { let command: String; let ms: JSONNumber; let targetMs: JSONNumber? }
                let size, threads: Int
                let model: String
                let commands: [Row]
            }
            try printJSON(Report(size: size, threads: EngineThreads.count, model: modelSource,
                                 commands: rows.map { Report.Row(command: $0.0, ms: .init($0.1), targetMs: $0.2.isNaN ? nil : .init($0.2)) }))
            return
        }
        print("drht bench inside: \(size)x\(size) scene, \(EngineThreads.count) thread\(EngineThreads.count == 1 ? "" : "s"), median of 3, model \(modelSource)")
        let w = rows.map(\.0.count).max()!
        for (line, ms, target) in rows {
            let verdict = target.isNaN ? "" : (ms <= target ? "  (target < \(Int(target / 1000)) s: met)" : "  (target < \(Int(target / 1000)) s: NOT met)")
            print(line.padding(toLength: w + 2, withPad: " ", startingAt: 0) + String(format: "%8.0f ms", ms) + verdict)
        }
    }
}
