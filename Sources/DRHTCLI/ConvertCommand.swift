// `drht convert`: rewrite a weights file as F32 or F16 (e.g. a training checkpoint, F32 for
// exact resuming, as the F16 file that ships in Weights/).
import ArgumentParser
import DRHTModel
import DRHTTasks
import Foundation

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Rewrite a DRHT weights file as F32 or F16, keeping its metadata.",
        discussion: "Example: drht convert run.safetensors -o Weights/drht.safetensors --f16"
    )

    @Argument(help: "The weights file to read.", completion: .file(extensions: ["safetensors"]))
    var input: String

    @Option(name: .shortAndLong, help: "The weights file to write.", completion: .file(extensions: ["safetensors"]))
    var output: String

    @Flag(help: "Store F16 (half the size; values are rounded to F16).")
    var f16 = false

    @Option(name: .customLong("note"), help: ArgumentHelp("Set a metadata note, e.g. --note stage='5: ...' (repeatable; an empty value removes it).", valueName: "key=value"))
    var notes: [String] = []

    @Flag(help: "Balance every transposed convolution's four output phases (equal DC gain), so a flat input gives a flat output instead of a 32-pixel lattice; changes what the network computes: evaluate before shipping.")
    var balancePhases = false

    func run() throws {
        let model = try DRHT.load(input)
        if balancePhases {
            let before = model.deconvPhaseImbalance()
            model.balanceDeconvPhases()
            model.notes["phases"] = "balanced (drht convert --balance-phases)"
            print(String(format: "balanced the transposed convolutions' phases: largest DC-gain difference %.4g -> %.2g", before, model.deconvPhaseImbalance()))
        }
        for note in notes {
            guard let eq = note.firstIndex(of: "="), eq != note.startIndex else {
                throw TaskError("--note takes key=value (got \(note))")
            }
            let key = String(note[..<eq]), value = String(note[note.index(after: eq)...])
            guard !["format", "gamma", "scale", "epsilon"].contains(key) else {
                throw TaskError("--note cannot change \(key): it describes the model, not the run")
            }
            model.notes[key] = value.isEmpty ? nil : value
        }
        try model.save(to: output, dtype: f16 ? .f16 : .f32)
        print("wrote \(output) (\(f16 ? "F16" : "F32"), \(model.parameterCount.formatted(.number.grouping(.automatic))) parameters) from \(input)")
    }
}
