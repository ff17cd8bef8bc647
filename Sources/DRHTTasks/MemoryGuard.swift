// The one memory guard: every job that could outgrow the machine (direct-mode inference on a
// big photo, the look-inside jobs that keep every layer, a training batch) estimates its peak
// and asks here before it allocates anything: the estimates (bytes per pixel by kind of job)
// and the limit live here, once.
import Foundation

public enum MemoryGuard {
    /// What a job keeps per pixel of the image the network sees (measured with `/usr/bin/time`
    /// peaks; each figure rounds up).
    public enum Use: Double, Sendable {
        /// A correction: each activation is freed after its last use.
        case inference = 800
        /// Stepping through the layers (`use`, `step`): every layer of both networks kept.
        case stepping = 2200
        /// A run kept whole for later differences (`sweep`, `rf`, `latent swap`).
        case keepingEverything = 5000
        /// A backward pass (saliency, training): every block's input, convolution output and
        /// activation (1.5 GB at 512 x 512).
        case backward = 6000
    }

    /// Peak bytes of `use` on `batch` images of `height` x `width` with `margin` pixels added on
    /// every side, plus `fixed` bytes (the model and optimizer state of a training run).
    public static func estimate(_ use: Use, height: Int, width: Int, margin: Int = 0, batch: Int = 1, fixed: Double = 0) -> Double {
        fixed + use.rawValue * Double(batch) * Double(height + 2 * margin) * Double(width + 2 * margin)
    }

    /// The share of this machine's memory one job may plan to use: 60 %, leaving room for the
    /// system, the session's own images and the estimate's error (about 14 GB on 24 GB).
    public static let share = 0.6

    /// The limit in bytes. Tests set it to a fixed figure so they mean the same on any machine.
    nonisolated(unsafe) public static var budget: Double = share * Double(ProcessInfo.processInfo.physicalMemory)

    /// Throws a one-line `TaskError` when `need` bytes exceed the budget: "`what` would need
    /// about N GB of memory (…); `advice`".
    public static func check(_ need: Double, what: String, advice: String) throws {
        guard need > budget else { return }
        throw TaskError(String(format: "%@ would need about %.0f GB of memory (more than the %.0f GB drht allows itself here); %@",
                               what, need / 1e9, budget / 1e9, advice))
    }
}

/// A one-line error from a job, with what to do next.
public struct TaskError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}
