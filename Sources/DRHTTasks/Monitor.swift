// The one progress and cancellation protocol. Every long job (correct, evaluate, train, bench,
// the look-inside jobs) takes a `TaskMonitor`; each front-end makes one: the CLI draws on
// stderr, the REPL on its console. Ctrl-C sets `Interrupt.requested`, which the monitor's
// `shouldStop` reads between steps, so a job stops at a safe point and keeps nothing half-made.
import Foundation

/// How a running job shows progress and learns that it should stop.
public struct TaskMonitor {
    /// Draws the progress line: `done` of `total`, `label` saying what comes next.
    public var show: (_ done: Int, _ total: Int, _ label: String) -> Void
    /// Removes the progress line.
    public var clear: () -> Void
    /// Whether the user asked to stop; read between steps.
    public var shouldStop: () -> Bool
    /// Says what is happening where there is nothing to count ("measuring cblas_sgemm").
    public var say: (String) -> Void

    public init(show: @escaping (Int, Int, String) -> Void, clear: @escaping () -> Void, shouldStop: @escaping () -> Bool,
                say: @escaping (String) -> Void = { _ in }) {
        self.show = show
        self.clear = clear
        self.shouldStop = shouldStop
        self.say = say
    }

    /// Shows nothing and never stops (benchmarks, tests).
    public static let silent = TaskMonitor(show: { _, _, _ in }, clear: {}, shouldStop: { false })

    /// A progress bar redrawn in place through `write` when `live` (a terminal is watching);
    /// Ctrl-C through `Interrupt`.
    public static func terminal(live: Bool, write: @escaping (String) -> Void) -> TaskMonitor {
        TaskMonitor(show: { done, total, label in if live { write("\r\u{1B}[2K" + ProgressBar.line(done: done, total: total, label: label)) } },
                    clear: { if live { write("\r\u{1B}[2K") } },
                    shouldStop: { Interrupt.isRequested },
                    say: { text in if live { write("\r\u{1B}[2K" + text + "…") } })
    }

    /// Runs `body(k)` for k in 0..<count, showing progress before each step (`label(k)` names
    /// it; `offset` and `total` place this loop inside a longer job). A stop request between
    /// steps clears the line and throws `TaskStopped`; the line is cleared at the end too.
    public func steps(_ count: Int, offset: Int = 0, total: Int? = nil, label: (Int) -> String,
                      _ body: (Int) throws -> Void) throws {
        let all = total ?? count
        for k in 0..<count {
            if shouldStop() {
                clear()
                throw TaskStopped(done: offset + k, total: all, next: label(k))
            }
            show(offset + k, all, label(k))
            do { try body(k) } catch { clear(); throw error }
        }
        if offset + count >= all { clear() }
    }
}

/// A job stopped at the user's request (Ctrl-C) before step `done + 1` of `total`, `next`.
/// Each front-end words it (what was stopped, what was kept).
public struct TaskStopped: Error, CustomStringConvertible {
    public let done: Int
    public let total: Int
    public let next: String
    public var description: String { "stopped (Ctrl-C) before \(next)" }
}

/// `[#####...................] 5/24 label`: the progress line both front-ends draw.
public enum ProgressBar {
    public static func line(done: Int, total: Int, label: String, width: Int = 24) -> String {
        let filled = total > 0 ? min(width, max(0, done * width / total)) : 0
        return "[" + String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled) + "] \(done)/\(total) \(label)"
    }
}

/// Ctrl-C as a request to stop the running job at its next safe point. In the REPL a Ctrl-C
/// never kills the process; in one-shot commands a second Ctrl-C exits at once.
public enum Interrupt {
    nonisolated(unsafe) public static var requested: sig_atomic_t = 0
    nonisolated(unsafe) static var secondExits: sig_atomic_t = 1

    /// From now on SIGINT only sets `requested` (a second one exits when `secondExits`).
    public static func catchSIGINT(secondExits: Bool) {
        Interrupt.secondExits = secondExits ? 1 : 0
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            if Interrupt.requested != 0 && Interrupt.secondExits != 0 { _exit(130) }
            Interrupt.requested = 1
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0          // no SA_RESTART: a blocking read/poll returns EINTR
        sigaction(SIGINT, &action, nil)
    }

    public static var isRequested: Bool { requested != 0 }
    public static func clear() { requested = 0 }
}
