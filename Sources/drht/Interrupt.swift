// Ctrl-C (SIGINT) as a request to stop at the next safe point, instead of killing the process.
import Foundation

enum Interrupt {
    nonisolated(unsafe) static var requested: sig_atomic_t = 0

    /// From now on SIGINT only sets `requested`; a second Ctrl-C stops at once.
    static func catchSIGINT() {
        signal(SIGINT) { _ in
            if Interrupt.requested != 0 { _exit(130) }
            Interrupt.requested = 1
        }
    }
}
