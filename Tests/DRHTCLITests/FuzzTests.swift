// The fuzz suite (issue 13): its judge catches each failure class, its mutators are
// deterministic, and a bounded sample of drht itself passes (`make fuzz` runs thousands).
import DRHTEngine
@testable import DRHTFuzz
import Foundation
import XCTest

final class FuzzTests: CLITestCase {
    func judge(_ script: String, timeout: Double = 5, stdin: String? = nil, memory: Int? = nil) -> FuzzOutcome {
        let runner = FuzzRunner(executable: "/bin/sh", timeout: timeout, workRoot: dir)
        let c = FuzzCase(id: "t", files: [("in.txt", [1])], arguments: ["-c", script], stdin: stdin, outputs: ["ok.txt"],
                         memoryLimitMB: memory, what: "test")
        return runner.run(c, index: Int.random(in: 0..<1_000_000))
    }

    func testTheJudgeCatchesEveryFailureClass() {
        XCTAssertNil(judge("exit 0").failure)
        XCTAssertNil(judge("echo 'drht: in.txt: broken' >&2; exit 1").failure)
        XCTAssertNil(judge("echo hi > ok.txt").failure)
        XCTAssertEqual(judge("kill -SEGV $$").failure, "crash (signal 11)")
        XCTAssertEqual(judge("sleep 5", timeout: 0.3).failure, "hang (no exit in 0.3 s)")
        XCTAssertEqual(judge("exit 3").failure, "exit status 3")
        XCTAssertEqual(judge("printf 'one\\ntwo\\n' >&2; exit 1").failure, "2-line error")
        XCTAssertEqual(judge("exit 1").failure, "0-line error")
        XCTAssertEqual(judge("printf 'x\\033[31m\\n'").failure, "raw control character in stdout")
        XCTAssertEqual(judge("echo x > .out.png.tmp-drht-1-2; echo 'drht: failed' >&2; exit 1").failure, "files left behind")
        XCTAssertEqual(judge("echo x > ok.txt; echo 'drht: failed' >&2; exit 1").failure, "files left behind", "outputs only count on success")
        XCTAssertEqual(judge("head -c 300000000 /dev/zero | tail -c 1 > /dev/null; x=$(head -c 120000000 /dev/zero | tr '\\0' a); exit 0",
                             memory: 50).failure?.hasPrefix("memory over 50 MB"), true)
        XCTAssertEqual(judge("echo 'error: a'; echo 'error: b'", stdin: "x").failure, "more than one error line for one REPL line")
    }

    func testMutationsAreDeterministicAndChangeTheSeed() {
        for format in FuzzFormat.allCases {
            let a = FuzzSuite.fileCases(format, count: 20, seed: 3), b = FuzzSuite.fileCases(format, count: 20, seed: 3)
            XCTAssertEqual(a.map { $0.files[0].1 }, b.map { $0.files[0].1 }, format.rawValue)
            let seeds = Set(FuzzSeeds.seeds(format))
            XCTAssertGreaterThan(a.filter { !seeds.contains($0.files[0].1) }.count, 15, "\(format): mutations must change the file")
        }
        XCTAssertEqual(FuzzSuite.replCases(count: 30, seed: 2).map(\.stdin), FuzzSuite.replCases(count: 30, seed: 2).map(\.stdin))
        // PNG's IHDR edit keeps the CRC valid, so the forged size is what libpng reads.
        var png = FuzzSeeds.seeds(.png)[0]
        Mutator.putBE32(&png, 16, 2_147_483_647)
        Mutator.putBE32(&png, 29, Mutator.crc32(png[12..<29]))
        XCTAssertEqual(Mutator.crc32(png[12..<29]), UInt32(png[29]) << 24 | UInt32(png[30]) << 16 | UInt32(png[31]) << 8 | UInt32(png[32]))
    }

    /// A bounded sample of the real thing: a few hundred cases, all handled.
    func testASampleOfFuzzCasesIsHandled() throws {
        let r = try drht("fuzz", "--cases", "200", "--lines", "200", "--odd", "40", "--seed", "11", "--workers", "2", "--out", dir + "/failures")
        XCTAssertEqual(r.status, 0, r.out + r.err)
        XCTAssertTrue(r.out.contains("| png | 200 | 200 |"), r.out)
        XCTAssertTrue(r.out.contains("| REPL lines | 200 | 200 |"), r.out)
        XCTAssertTrue(r.out.contains("| odd images x commands | 40 | 40 |"), r.out)
        XCTAssertTrue(r.out.contains("1240 cases"), r.out)
    }
}
