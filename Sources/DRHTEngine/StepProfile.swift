// Where a training step's time goes: named sections timed around the calls that make up a
// step (each block's convolution and its BN/ELU/skip work, forward and backward; the loss and
// transform; Adam). Off unless `drht bench train` turns it on; when off, a section costs one
// branch. Sections are timed on the calling thread, around whole parallel regions, so they
// add up to the step's wall time (what is left is reported as "other").
import Dispatch

public enum StepProfile {
    /// Set by the benchmark only, between steps, on the thread that runs the step.
    nonisolated(unsafe) public static var enabled = false
    nonisolated(unsafe) private static var totals: [String: Double] = [:]
    nonisolated(unsafe) private static var order: [String] = []

    /// Runs `body`; when profiling, adds its wall time to the section `name`.
    @inline(__always)
    public static func measure<T>(_ name: @autoclosure () -> String, _ body: () -> T) -> T {
        guard enabled else { return body() }
        let t0 = DispatchTime.now().uptimeNanoseconds
        let result = body()
        add(name(), Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        return result
    }

    /// Adds `ms` to the section `name` (sections keep the order they first appeared in).
    public static func add(_ name: String, _ ms: Double) {
        if totals[name] == nil { order.append(name) }
        totals[name, default: 0] += ms
    }

    /// Clears every section.
    public static func reset() { totals = [:]; order = [] }

    /// The sections in first-seen order with their summed milliseconds.
    public static var sections: [(name: String, ms: Double)] { order.map { ($0, totals[$0]!) } }
}
