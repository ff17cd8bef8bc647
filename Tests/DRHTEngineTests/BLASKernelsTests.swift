import XCTest
import CBLAS
@testable import DRHTEngine

/// OpenBLAS's kernel: a fallback kernel is replaced by the CPU's own tier, and nothing else.
final class BLASKernelsTests: XCTestCase {
    let avx512: Set<String> = ["sse2", "avx", "avx2", "fma", "avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"]
    let avx2: Set<String> = ["sse2", "avx", "avx2", "fma"]

    func testAFallbackKernelIsReplacedByTheCPUsTier() {
        // Emerald Rapids under OpenBLAS 0.3.21: Prescott picked on an AVX-512 CPU.
        XCTAssertEqual(BLASKernels.better(than: "Prescott", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.better(than: "Sandybridge", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.better(than: "Haswell", cpuFlags: avx512), "SkylakeX")
        XCTAssertEqual(BLASKernels.better(than: "Prescott", cpuFlags: avx2), "Haswell")
        XCTAssertEqual(BLASKernels.better(than: "Nehalem", cpuFlags: ["sse2", "avx"]), "Sandybridge")
    }

    func testAKernelOfTheCPUsTierOrAnUnknownNameIsKept() {
        XCTAssertNil(BLASKernels.better(than: "SkylakeX", cpuFlags: avx512))
        XCTAssertNil(BLASKernels.better(than: "Cooperlake", cpuFlags: avx512))   // AMD EPYC (Zen 4)
        XCTAssertNil(BLASKernels.better(than: "Haswell", cpuFlags: avx2))
        XCTAssertNil(BLASKernels.better(than: "Zen", cpuFlags: avx2))
        XCTAssertNil(BLASKernels.better(than: "Prescott", cpuFlags: ["sse2", "sse3"]))
        XCTAssertNil(BLASKernels.better(than: "SomeFutureCore", cpuFlags: avx512))
        // AVX-512 without the subsets SkylakeX's kernels use counts as AVX2.
        XCTAssertEqual(BLASKernels.tier(ofCPUFlags: avx2.union(["avx512f"])), .avx2)
    }

    /// In this process: once the engine has started, OpenBLAS's kernel is of this CPU's tier
    /// (unless the user named one with OPENBLAS_CORETYPE), and the multiply still multiplies.
    func testTheEngineRunsOnTheCPUsOwnTier() {
        _ = EngineThreads.count
        let usersChoice = ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"] != nil && BLASKernels.replaced == nil
        let kernel = BLASKernels.current
        if !usersChoice, let tier = BLASKernels.tier(ofKernel: kernel) {
            XCTAssertGreaterThanOrEqual(tier, BLASKernels.tier(ofCPUFlags: BLASKernels.cpuFlags()), "OpenBLAS runs \(kernel) on this CPU")
        }
        assertTheProductIsExact(kernel)
    }

    /// The switch itself, on any CPU: to the SSE3 kernels OpenBLAS fell back to on the Emerald
    /// Rapids VM, then back to the kernel the process had; the product is exact under each.
    func testAKernelCanBeInstalledAndTheProductStaysExact() {
        _ = EngineThreads.count
        let original = BLASKernels.current
        XCTAssertTrue(BLASKernels.install("Prescott"), "Debian's OpenBLAS carries several kernels")
        XCTAssertEqual(BLASKernels.current, "Prescott")
        XCTAssertNotEqual(ProcessInfo.processInfo.environment["OPENBLAS_CORETYPE"], "Prescott", "the variable is removed again")
        assertTheProductIsExact("Prescott")
        XCTAssertTrue(BLASKernels.install(original))
        XCTAssertEqual(BLASKernels.current, original)
        assertTheProductIsExact(original)
    }

    /// A 160 x 150 by 150 x 130 product (above OpenBLAS's small-matrix path, so the blocked
    /// kernels run) of small integers, against the loops: exact in Float.
    private func assertTheProductIsExact(_ kernel: String, file: StaticString = #filePath, line: UInt = #line) {
        let m = 160, k = 150, n = 130
        let a = (0..<m * k).map { Float(($0 * 7) % 13) - 6 }, b = (0..<k * n).map { Float(($0 * 5) % 11) - 5 }
        var c = [Float](repeating: 0, count: m * n)
        gemm(&c, ldc: n, a, lda: k, transposeA: false, b, ldb: n, transposeB: false, m: m, n: n, k: k)
        var wrong = 0
        for i in 0..<m { for j in 0..<n {
            var sum: Float = 0
            for p in 0..<k { sum += a[i * k + p] * b[p * n + j] }
            if c[i * n + j] != sum { wrong += 1 }
        } }
        XCTAssertEqual(wrong, 0, "entries of C wrong on \(kernel)", file: file, line: line)
    }
}
