// swift-tools-version:6.0
// drht — an educational REPL for the DRHT image-correction network (CVPR 2018).
// The folder structure is a map of the architecture:
//   C libraries (one tiny target each) -> DRHTEngine (tensors, ops) -> DRHTImageIO
//   -> DRHTModel (the network) -> DRHTTraining, DRHTMetrics -> DRHTEvaluation
//   -> DRHTTasks (every job as a typed request: correct, evaluate, train, look inside; progress,
//      Ctrl-C, the memory guard, where the weights are)
//   -> two front-ends over the same jobs: DRHTCLI (the one-shot commands) and DRHTREPL (the
//      notebook-style REPL); neither imports the other -> drht (the executable: both).
import PackageDescription
import Foundation

// The engine's loops (im2col, the FFTs' butterflies, BN, ELU, Adam) are Swift SIMD and plain
// loops; compiled for the baseline x86-64 (SSE2) they run at a half to a third of the speed the
// same code reaches with the vector units every machine this project runs on has. drht is
// built where it runs: the Makefile sets DRHT_TARGET_CPU from scripts/target-cpu.sh (AVX-512 ->
// skylake-avx512, AVX2 -> haswell, else baseline) and the compute targets are compiled for it.
// It comes through the environment, not from /proc/cpuinfo read here, because SwiftPM caches
// the evaluated manifest keyed on its environment: a build folder that meets another machine
// is then rebuilt for it instead of dying on an unknown instruction. A plain `swift build`
// without it compiles for the baseline. `drht` refuses to start, in one line, on a CPU without
// what it was compiled for; `drht bench` prints it. Swift contracts nothing into FMAs, so
// results do not change.
let hostTargetCPU: String? = {
    guard let chosen = ProcessInfo.processInfo.environment["DRHT_TARGET_CPU"], !chosen.isEmpty, chosen != "baseline" else { return nil }
    return chosen
}()
/// The define names the target for `BuildTarget` (DRHTEngine) and drht's start-up check.
let targetDefine: [SwiftSetting] = hostTargetCPU.map { [.define("DRHT_TARGET_CPU_\($0.replacingOccurrences(of: "-", with: "_"))")] } ?? []
let computeSettings: [SwiftSetting] = (hostTargetCPU.map { [.unsafeFlags(["-target-cpu", $0])] } ?? []) + targetDefine

let package = Package(
    name: "drht",
    products: [
        .executable(name: "drht", targets: ["drht"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // --- C libraries, each wrapped in its own tiny target (see each folder's README.md) ---
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // No pkgConfig on purpose: readline.pc carries flags SwiftPM rejects as "prohibited".
        .systemLibrary(name: "CReadline", path: "Sources/CReadline",
                       providers: [.apt(["libreadline-dev"])]),
        // libpng and libjpeg report errors with longjmp, which Swift cannot survive: these two
        // are small C targets whose functions catch the jump and return an error code instead.
        .target(name: "CPNG", path: "Sources/CPNG", linkerSettings: [.linkedLibrary("png16")]),
        .target(name: "CJPEG", path: "Sources/CJPEG", linkerSettings: [.linkedLibrary("jpeg")]),

        // --- Swift layers ---
        .target(name: "DRHTEngine", dependencies: ["CBLAS"], path: "Sources/DRHTEngine", swiftSettings: computeSettings),
        .target(name: "DRHTImageIO", dependencies: ["DRHTEngine", "CPNG", "CJPEG"],
                path: "Sources/DRHTImageIO"),
        .target(name: "DRHTModel", dependencies: ["DRHTEngine", "DRHTImageIO"], path: "Sources/DRHTModel", swiftSettings: computeSettings),
        .target(name: "DRHTTraining", dependencies: ["DRHTEngine", "DRHTImageIO", "DRHTModel"], path: "Sources/DRHTTraining", swiftSettings: computeSettings),
        .target(name: "DRHTMetrics", dependencies: ["DRHTEngine", "DRHTImageIO"], path: "Sources/DRHTMetrics", swiftSettings: computeSettings),
        .target(name: "DRHTEvaluation", dependencies: ["DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTTraining", "DRHTMetrics"],
                path: "Sources/DRHTEvaluation"),
        .target(name: "DRHTTasks", dependencies: ["DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTTraining", "DRHTMetrics", "DRHTEvaluation"],
                path: "Sources/DRHTTasks"),
        .target(name: "DRHTREPL", dependencies: ["DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTTraining", "DRHTMetrics",
                                                 "DRHTEvaluation", "DRHTTasks", "CReadline"],
                path: "Sources/DRHTREPL"),
        .target(name: "DRHTCLI", dependencies: [
            "DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTTraining", "DRHTMetrics", "DRHTEvaluation", "DRHTTasks", "CBLAS",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/DRHTCLI", swiftSettings: targetDefine),
        // Developer tooling: mutators and a subprocess runner behind the hidden `drht fuzz`.
        .target(name: "DRHTFuzz", dependencies: ["DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTREPL"], path: "Sources/DRHTFuzz"),
        // The executable: the CLI's commands beside the REPL's (`drht` alone, `drht lesson`) and the fuzzer.
        .executableTarget(name: "drht", dependencies: [
            "DRHTEngine", "DRHTImageIO", "DRHTModel", "DRHTTasks", "DRHTCLI", "DRHTREPL", "DRHTFuzz",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ], path: "Sources/drht", swiftSettings: targetDefine),

        // --- Tests ---
        // What every test target shares: the one approximate-equality helper, the
        // finite-difference check, scratch folders. A library only test targets link.
        .target(name: "DRHTTestSupport", dependencies: ["DRHTEngine"], path: "Tests/DRHTTestSupport"),
        .testTarget(name: "DRHTEngineTests", dependencies: ["DRHTTestSupport", "DRHTEngine"], path: "Tests/DRHTEngineTests"),
        .testTarget(name: "DRHTCLITests", dependencies: ["DRHTTestSupport", "drht", "DRHTFuzz", "DRHTEngine", "DRHTImageIO"], path: "Tests/DRHTCLITests"),
        .testTarget(name: "DRHTTrainingTests", dependencies: ["DRHTTestSupport", "DRHTTraining", "DRHTModel", "DRHTEngine", "DRHTImageIO"],
                    path: "Tests/DRHTTrainingTests", exclude: ["Fixtures"]),
        .testTarget(name: "DRHTModelTests", dependencies: ["DRHTTestSupport", "DRHTModel", "DRHTEngine"], path: "Tests/DRHTModelTests",
                    exclude: ["Fixtures"]),
        .testTarget(name: "DRHTMetricsTests", dependencies: ["DRHTTestSupport", "DRHTMetrics", "DRHTEvaluation", "DRHTEngine", "DRHTImageIO", "DRHTModel"],
                    path: "Tests/DRHTMetricsTests", exclude: ["Fixtures"]),
        .testTarget(name: "DRHTTasksTests", dependencies: ["DRHTTestSupport", "DRHTTasks", "DRHTModel", "DRHTEngine", "DRHTTraining"],
                    path: "Tests/DRHTTasksTests"),
        .testTarget(name: "DRHTREPLTests", dependencies: ["DRHTTestSupport", "DRHTREPL", "DRHTTasks", "DRHTModel", "DRHTEngine", "DRHTImageIO", "DRHTTraining"],
                    path: "Tests/DRHTREPLTests", exclude: ["Transcripts"]),
        .testTarget(name: "DRHTImageIOTests", dependencies: ["DRHTTestSupport", "DRHTImageIO", "DRHTEngine", "DRHTFuzz"],
                    path: "Tests/DRHTImageIOTests"),
    ],
    swiftLanguageModes: [.v5]
)
