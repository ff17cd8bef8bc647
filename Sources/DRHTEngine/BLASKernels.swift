// Which of OpenBLAS's kernels the process's matrix multiplies use.
//
// Debian's OpenBLAS (0.3.21) carries kernels for many CPUs and picks one at load time from the
// CPU's family and model numbers. A CPU newer than the library (Emerald Rapids, model 207, was
// seen on a development VM) is not in its table, and OpenBLAS then falls back to its Prescott
// kernels (SSE3): sgemm ran at 59-66 GFLOP/s on 2 threads where the SkylakeX kernels run at
// 217-237, and drht's training step took 2x PyTorch's. OpenBLAS has the right kernels; it only
// fails to name the CPU. So whenever the kernel it picked is of a lower tier than the CPU's own
// vector extension (SSE3 on an AVX-512 CPU, as here, but also, say, its AVX2 kernels on an
// AVX-512 CPU it half knows), drht asks for the kernel of the CPU's tier before its first
// multiply, the way `OPENBLAS_CORETYPE` would. A user's own `OPENBLAS_CORETYPE` is left alone.
import CBLAS
import Foundation

public enum BLASKernels {
    /// The vector tier of a CPU or of an OpenBLAS kernel: what the kernel's code may use.
    public enum Tier: Int, Comparable, Sendable {
        case sse = 0, avx = 1, avx2 = 2, avx512 = 3
        public static func < (a: Tier, b: Tier) -> Bool { a.rawValue < b.rawValue }

        /// OpenBLAS's kernel for this tier (its `OPENBLAS_CORETYPE` name); nil for SSE, where
        /// there is nothing better to ask for.
        var kernelName: String? {
            switch self {
            case .avx512: return "SkylakeX"
            case .avx2: return "Haswell"
            case .avx: return "Sandybridge"
            case .sse: return nil
            }
        }
    }

    /// The tier of one of OpenBLAS's x86-64 kernel names (`openblas_get_corename()`); nil for a
    /// name this table does not know (which is then left alone).
    public static func tier(ofKernel name: String) -> Tier? {
        switch name.lowercased() {
        case "skylakex", "cooperlake", "sapphirerapids": return .avx512
        case "haswell", "zen": return .avx2
        case "sandybridge", "bulldozer", "piledriver", "steamroller", "excavator": return .avx
        case "prescott", "core2", "penryn", "dunnington", "nehalem", "atom", "nano", "barcelona",
             "bobcat", "opteron", "opteron_sse3", "katmai", "coppermine", "northwood", "banias", "athlon":
            return .sse
        default: return nil
        }
    }

    /// The tier a CPU supports, from its /proc/cpuinfo flags. AVX-512 counts only with the
    /// subsets the SkylakeX kernels use (F, CD, BW, DQ, VL).
    public static func tier(ofCPUFlags flags: Set<String>) -> Tier {
        if ["avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"].allSatisfy(flags.contains) { return .avx512 }
        if ["avx2", "fma"].allSatisfy(flags.contains) { return .avx2 }
        if flags.contains("avx") { return .avx }
        return .sse
    }

    /// The kernel to ask for instead of `picked`, or nil to keep it: only when `picked` is a
    /// known kernel of a lower tier than the CPU's.
    public static func better(than picked: String, cpuFlags: Set<String>) -> String? {
        guard let pickedTier = tier(ofKernel: picked) else { return nil }
        let cpuTier = tier(ofCPUFlags: cpuFlags)
        return pickedTier < cpuTier ? cpuTier.kernelName : nil
    }

    /// The kernel OpenBLAS uses now.
    public static var current: String { openblas_get_corename().map { String(cString: $0) } ?? "unknown" }

    /// What `chooseOnce` did: nil when it kept OpenBLAS's choice, else the kernel OpenBLAS had
    /// picked, the one drht asked for and the one installed (the same unless OpenBLAS refused it).
    nonisolated(unsafe) public private(set) static var replaced: (from: String, asked: String, to: String)?

    /// Replaces a kernel of a lower tier than the CPU's by the CPU's own, once per process.
    /// `drht` calls it first thing in `main`, and `EngineThreads` before the engine's first
    /// multiply (for the tests and any other program): no other thread is in OpenBLAS then.
    public static func chooseOnce() { _ = chosen }

    private static let chosen: Bool = {
        guard ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] == nil else { return false }
        let picked = current
        guard let wanted = better(than: picked, cpuFlags: cpuFlags()), install(wanted) else { return false }
        replaced = (picked, wanted, current)
        return true
    }()

    /// Installs one of OpenBLAS's kernels by its `OPENBLAS_CORETYPE` name, through OpenBLAS's own
    /// start-up: `gotoblas_dynamic_quit` clears the kernel table it installed at load and
    /// `gotoblas_dynamic_init` installs the one `OPENBLAS_CORETYPE` names (an unknown name falls
    /// back to its detection). Both exist only in builds that carry several kernels (DYNAMIC_ARCH,
    /// as Debian's), hence dlsym; false where they are missing. Only while no other thread is in
    /// OpenBLAS. The variable is removed again, so a child process makes its own choice.
    static func install(_ kernel: String) -> Bool {
        guard let quit = dlsym(nil, "gotoblas_dynamic_quit"), let initialise = dlsym(nil, "gotoblas_dynamic_init") else { return false }
        typealias Hook = @convention(c) () -> Void
        setenv("OPENBLAS_CORETYPE", kernel, 1)
        unsafeBitCast(quit, to: Hook.self)()
        unsafeBitCast(initialise, to: Hook.self)()
        unsetenv("OPENBLAS_CORETYPE")
        return true
    }

    /// The CPU's feature flags (/proc/cpuinfo's first `flags` line; empty where there is none).
    public static func cpuFlags() -> Set<String> {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " ").map(String.init))
    }
}
