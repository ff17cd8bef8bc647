// One REPL session: the variables, the model, the stepping pipeline, the settings, the history
// and the notebook being recorded. `execute` runs one line; every mistake becomes a one-line
// REPLError and leaves the session as it was.
import DRHTEngine
import DRHTImageIO
import DRHTModel
import Foundation
import DRHTTasks

public final class Session {
    public let console: Console
    public var settings = Settings() { didSet { revision += 1 } }
    /// Goes up whenever the session's state changes (a variable, the model, a setting, the
    /// interventions, the stepping pipeline): how a front-end tells whether a command changed it.
    public private(set) var revision = 0
    public private(set) var variables: [String: Variable] = [:]
    private var order: [String] = []
    /// Lines executed in this session (for `history` and the notebook).
    public private(set) var history: [String] = []
    public let notebook = NotebookRecorder()
    /// Set by `quit`.
    public var finished = false
    /// The folders of the command files (lessons, `run FILE`) being run, innermost last: a
    /// relative path that is not found from the working directory is looked up beside the file.
    public var scriptDirectories: [String] = []

    /// `path` with ~ expanded; a relative path missing from the working directory but present
    /// beside the command file being run is taken from there (so lessons can ship their photos).
    public func inputPath(_ path: String) -> String {
        let expanded = (path as NSString).expandingTildeInPath
        guard !expanded.hasPrefix("/"), !FileManager.default.fileExists(atPath: expanded),
              let dir = scriptDirectories.last else { return expanded }
        let beside = (dir as NSString).appendingPathComponent(expanded)
        return FileManager.default.fileExists(atPath: beside) ? beside : expanded
    }
    /// Waits at a lessons' `pause`: Enter goes on, `q`, Ctrl-C or Ctrl-D leave the lesson; nil
    /// when there is nobody to wait for.
    public var waitForEnter: (() -> PauseAnswer)?

    private var loadedModel: DRHT?
    public private(set) var modelSource = ""
    /// The stepping pipeline for the input chosen with `use`.
    public var pipeline: Pipeline? { didSet { revision += 1 } }
    public var pipelineInput: String?
    /// The working size when `use` stepped through a reduced copy of the input (nil: full size).
    public var pipelineWorkSize: Int?
    /// What `expect` can read of the last `train`, `rf` and `sweep`.
    public var last = LastResults()
    /// When set (`drht lesson --keep-going`), a failing `expect` is recorded here and the lesson
    /// goes on, so one run lists every claim that does not hold; nil: the first failure stops.
    public var expectFailures: [String]?
    /// Interventions (`ablate`, `scale`) applied to every run of the network until `ablate off`.
    public var interventions: [Intervention] = [] { didSet { revision += 1 } }

    public init(console: Console) {
        self.console = console
        console.recorder = notebook
    }

    // MARK: - Variables

    public var variableNames: [String] { order }

    public func set(_ name: String, _ value: Variable) {
        revision += 1
        if variables[name] == nil { order.append(name) }
        variables[name] = value
    }

    public func remove(_ name: String) {
        revision += 1
        variables[name] = nil
        order.removeAll { $0 == name }
    }

    /// The variable `name`, or an error that lists near misses.
    public func variable(_ name: String) throws -> Variable {
        if let v = variables[name] { return v }
        if let writer = Pipeline.Output(name: name)?.writer {
            throw REPLError("\(name) has not been computed yet; `use IMAGE` then `step to \(writer.name)`")
        }
        // A number where a name goes (`expose +1.5`): the arguments' order is the likelier slip.
        if let c = name.first, c.isNumber || "+-.".contains(c), Double(name) != nil {      // not "nan", a valid name
            throw REPLError("no variable named \(name): a number stands where a variable's name goes; `help COMMAND` shows the order of its arguments")
        }
        let near = order.filter { Registry.editDistance($0, name) <= 2 }
        let hint = near.isEmpty ? (order.isEmpty ? "; load or synth an image first" : "; `vars` lists them") : "; did you mean \(near.prefix(3).joined(separator: ", "))?"
        throw REPLError("no variable named \(name)\(hint)")
    }

    /// A variable that must be a 3-channel image (LDR or HDR) of finite values: what the network,
    /// the baselines, the camera and the metrics take. drht's rule for NaN and infinities, decided
    /// here once: computations refuse them (this check), statistics leave them out and count them
    /// (`TensorStats`), pictures draw them magenta (`ColourMap.nonFinite`).
    public func image(_ name: String) throws -> Variable {
        let v = try variable(name)
        guard v.isImage else {
            throw REPLError("\(name) is \(v.kind.rawValue) \(v.tensor.shapeString), not an image; use `maps \(name)` or `show \(name) --channel C`")
        }
        try Session.requireFinite(v.tensor, name)
        return v
    }

    /// Fails with one line naming how many values of `t` are NaN or infinite and where the first is.
    public static func requireFinite(_ t: Tensor, _ name: String,
                                     because reason: String = "the network, the baselines and the metrics take finite values only") throws {
        var nan = 0, infinite = 0, first = -1
        for i in 0..<t.count where !t.data[i].isFinite {
            if t.data[i].isNaN { nan += 1 } else { infinite += 1 }
            if first < 0 { first = i }
        }
        guard first >= 0 else { return }
        let plane = max(1, t.shape.count == 4 ? t.h * t.w : t.count), w = max(1, t.shape.count == 4 ? t.w : 1)
        let at = t.shape.count == 4 ? " (the first at x \(first % plane % w), y \(first % plane / w))" : ""
        let what = [nan > 0 ? "\(nan) NaN" : "", infinite > 0 ? "\(infinite) infinite" : ""].filter { !$0.isEmpty }.joined(separator: " and ")
        throw REPLError("\(name) has \(what) value\(nan + infinite == 1 ? "" : "s")\(at): \(reason) "
                        + "(`show \(name)` marks them magenta, `info \(name)` counts them)")
    }

    // MARK: - The model

    /// The model in use: the one loaded with `model load`/`init`, else the project's shipped
    /// weights, else a seeded random initialisation (said so once).
    public func model() throws -> DRHT {
        if let loadedModel { return loadedModel }
        if let path = startingWeights {
            let m = try DRHT.load(path)
            setModel(m, source: path)
            console.line(console.dim("(model: \(path))"))
            return m
        }
        let m = DRHT.initialized(seed: 1)
        setModel(m, source: "random initialisation, seed 1")
        console.line(console.yellow("(no trained weights found: using random weights, seed 1 — pictures will look like noise; `model load FILE` loads some)"))
        return m
    }

    /// The weights a session starts with and `model default` returns to: `drht --weights FILE`,
    /// else $DRHT_WEIGHTS, else the project's Weights/drht.safetensors.
    public var defaultWeightsPath: String?

    /// `defaultWeightsPath`, else the project's default, when the file exists.
    var startingWeights: String? {
        WeightsResolver.existing(defaultWeightsPath)
    }

    /// Back to the session's default weights (after `model init` or `model load`).
    public func useDefaultModel() throws -> DRHT {
        // Loaded before anything changes: a failure keeps the current model.
        guard let path = startingWeights else {
            throw REPLError("no default weights found (Weights/drht.safetensors or $DRHT_WEIGHTS); `model load FILE` loads some")
        }
        let m = try DRHT.load(path)
        setModel(m, source: path)
        return m
    }

    public func setModel(_ model: DRHT, source: String) {
        revision += 1
        loadedModel = model
        modelSource = source
        rebuildPipeline()
    }

    /// Starts the stepping pipeline again on the chosen input with the current model and
    /// interventions (its outputs were made with the old ones). False when there is none.
    @discardableResult
    func rebuildPipeline() -> Bool {
        guard let model = loadedModel, let input = pipelineInput, let v = variables[input] else { return false }
        // The chosen name may hold another image by now (`load x.npy as s`): the rule still holds.
        guard (try? Session.requireFinite(v.tensor, input)) != nil else {
            pipeline = nil; pipelineInput = nil; clearStepVariables()
            return false
        }
        let image = pipelineWorkSize.map { Correction.workingCopy(of: v.tensor, mode: .gain(workSize: $0)) } ?? v.tensor
        pipeline = makePipeline(model, image)
        clearStepVariables()
        return true
    }

    /// A stepping pipeline on `image` that keeps every output, with the session's interventions.
    func makePipeline(_ model: DRHT, _ image: Tensor) -> Pipeline {
        let p = Pipeline(model: model, image: image, retention: .everything)
        p.interventions = interventions
        return p
    }

    public var hasModel: Bool { loadedModel != nil }

    /// Removes the variables that hold pipeline outputs (after `reset` or a new input).
    func clearStepVariables() {
        for name in order where variables[name]?.origin.hasPrefix("step ") == true { remove(name) }
    }

    // MARK: - Running lines

    /// Runs one line. Blank lines and `#` comments do nothing.
    public func execute(_ line: String) throws {
        let trimmed = line.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { return }
        history.append(trimmed)
        notebook.beginCell(trimmed)
        defer { notebook.endCell() }
        do {
            try run(trimmed)
        } catch is LessonLeft {
            throw LessonLeft()
        } catch {
            notebook.error(Session.describe(error))     // the cell keeps its error as output
            throw error
        }
    }

    private func run(_ trimmed: String) throws {
        let words = try Arguments.words(trimmed)
        guard let name = words.first else { return }
        guard let command = Registry.find(name) else {
            let s = Registry.suggestions(for: name)
            throw REPLError("unknown command \"\(printable(name, limit: 40))\"" + (s.isEmpty ? "" : "; did you mean \(s.prefix(3).joined(separator: ", "))?")
                            + " (`help` lists commands)")
        }
        let args = try Arguments(Array(words.dropFirst()), command: command)
        Interrupt.clear()
        do {
            try command.run(self, args)
        } catch let e as REPLError {
            throw e
        } catch let e as LessonRunner.TooDeep {
            throw e                  // passes through every level of `run` unwrapped: one short line
        } catch let e as LessonLeft {
            throw e                  // `q` at a pause: up to the outermost lesson, which ends quietly
        } catch {
            throw REPLError(Session.describe(error))
        }
    }

    /// Runs a line and prints any error as one line (the interactive loop's behaviour).
    /// Returns false when the line failed.
    @discardableResult
    public func executeReporting(_ line: String) -> Bool {
        do {
            try execute(line)
            return true
        } catch is LessonLeft {
            return true              // `pause` typed at the prompt, then q: nothing to leave
        } catch {
            let message = Session.describe(error)
            console.line(console.red("error: ") + message)
            return false
        }
    }

    /// Loads weights as the session's model and says so (`model load`, `drht --weights`).
    /// `recording`: also keep the equivalent `model load` line in the history (and so in a
    /// saved notebook), for a load that came from outside the session's lines.
    public func loadModel(_ path: String, recording: Bool = false) throws {
        let m = try DRHT.load((path as NSString).expandingTildeInPath)
        if recording { history.append("model load \"\(path)\"") }
        setModel(m, source: path)
        console.line("model: \(path) (\(ModelCommands.formatCount(m.parameterCount)) parameters\(m.trainingSummary.map { ", \($0)" } ?? ""))")
    }

    /// The progress bar on the console (at a terminal, or the front-end's own progress line)
    /// and Ctrl-C, for every job a command runs.
    var monitor: TaskMonitor {
        guard let progress = console.progressHandler else { return .terminal(live: console.isTTY, write: console.terminalOnly) }
        return TaskMonitor(show: { done, total, label in progress(ProgressBar.line(done: done, total: total, label: label)) },
                           clear: { progress(nil) }, shouldStop: { Interrupt.isRequested }, say: { progress($0 + "…") })
    }

    /// The one-line text of any error the REPL can meet.
    public static func describe(_ error: Error) -> String {
        let text = "\(error)"      // our typed errors describe themselves in one line
        return text.hasPrefix("Error Domain=") ? error.localizedDescription : text
    }
}

/// The numbers of the last runs that lessons check with `expect` (heldout_before(),
/// rf_effective(), similarity(LAYER)): kept together, apart from the session's own state.
public struct LastResults {
    /// Held-out loss before and after the last `train`.
    public var training: (before: Double, after: Double)?
    /// The last `rf`: the theoretical and the effective field's side in pixels.
    public var receptiveField: (theoretical: Int, effective: Int)?
    /// The last `sweep`: per step, per exposure, the cosine similarity to the 0 EV activations.
    public var sweep: [String: [Double: Double]] = [:]
}
