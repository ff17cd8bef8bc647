import XCTest
import Foundation
import DRHTEngine

/// A test case with a scratch folder of its own (`dir`), made before each test and removed after.
open class TempDirTestCase: XCTestCase {
    public var dir = ""

    open override func setUp() {
        super.setUp()
        dir = NSTemporaryDirectory() + "drht-test-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    open override func tearDown() {
        try? FileManager.default.removeItem(atPath: dir)
        super.tearDown()
    }

    /// Writes `bytes` to `dir/name` and returns the path.
    @discardableResult
    public func file(_ name: String, _ bytes: [UInt8]) -> String {
        let path = dir + "/" + name
        FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }

    /// A smooth test image (1, 3, H, W) in [0, 1] with a bit of every value.
    public func gradient(_ w: Int, _ h: Int) -> Tensor {
        let t = Tensor(zeros: [1, 3, h, w])
        for y in 0..<h { for x in 0..<w {
            t[0, 0, y, x] = Float(x) / Float(max(w - 1, 1))
            t[0, 1, y, x] = Float(y) / Float(max(h - 1, 1))
            t[0, 2, y, x] = Float(x + y) / Float(max(w + h - 2, 1))
        }}
        return t
    }
}

/// Runs `body` with a fresh temporary folder as the current directory, removed afterwards.
public func inTemporaryDirectory<T>(_ body: () throws -> T) throws -> T {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("drht-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let old = FileManager.default.currentDirectoryPath
    FileManager.default.changeCurrentDirectoryPath(dir.path)
    defer { FileManager.default.changeCurrentDirectoryPath(old); try? FileManager.default.removeItem(at: dir) }
    return try body()
}
