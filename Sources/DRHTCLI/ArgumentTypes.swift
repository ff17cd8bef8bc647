// Option values as types, so ArgumentParser checks them and `--help` lists the choices: the
// enums of the engine and model made parseable, a comma-separated list of any of them, on/off
// switches, and the guided filter's two parameters.
import ArgumentParser
import DRHTModel
import DRHTTraining

extension Framing: ExpressibleByArgument {}
extension HDRBoundScope: ExpressibleByArgument {}
extension GainOptions.Upsampling: ExpressibleByArgument {}

/// A correction mode by name; gain's working size comes from `--work-size`.
enum ModeName: String, ExpressibleByArgument, CaseIterable {
    case gain, direct
}

/// `on` or `off`.
enum Switch: String, ExpressibleByArgument, CaseIterable {
    case on, off
    var isOn: Bool { self == .on }
}

/// Values separated by commas, each parsed as `Element`: `--mode direct,gain`, `--ev -2,-1,1.5`.
/// The help lists the element's choices when it has some.
struct CommaList<Element: ExpressibleByArgument>: ExpressibleByArgument {
    let values: [Element]

    init(_ values: [Element]) { self.values = values }

    init?(argument: String) {
        let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
            .map { String($0).trimmingCharacters(in: .whitespaces) }
        let parsed = parts.compactMap { Element(argument: $0) }
        guard !parts.isEmpty, parsed.count == parts.count else { return nil }
        values = parsed
    }

    static var allValueStrings: [String] { Element.allValueStrings }
    var defaultValueDescription: String { values.map { "\($0)" }.joined(separator: ",") }
}

extension CommaList: CustomStringConvertible {
    var description: String { defaultValueDescription }
}

/// The guided filter's box radius and regularisation: `R,EPS`, e.g. `4,0.05`.
struct GuidedParameters: ExpressibleByArgument {
    let radius: Int
    let epsilon: Float

    init?(argument: String) {
        let p = argument.split(separator: ",")
        guard p.count == 2, let r = Int(p[0]), let e = Float(p[1]), r >= 0, r <= 64, e > 0, e.isFinite else { return nil }
        radius = r; epsilon = e
    }
}
