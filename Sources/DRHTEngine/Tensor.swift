// Tensor: a dense, row-major (C order) block of Float32 with a shape.
// Activations are NCHW: (N, C, H, W) = (batch, channels, height, width).

/// A dense Float32 tensor in row-major order. Reference semantics, like a buffer in llm.c:
/// ops write into tensors they are given or return fresh ones; nothing is copied implicitly.
public final class Tensor: @unchecked Sendable, CustomStringConvertible {
    /// The shape, outermost first, e.g. `[N, C, H, W]`.
    public let shape: [Int]
    /// Number of elements (the product of `shape`).
    public let count: Int
    /// The elements; owned by this tensor and freed with it.
    public let data: UnsafeMutablePointer<Float>

    /// A tensor of zeros.
    public init(zeros shape: [Int]) {
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(shape)")
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        Tensor.fillZeros(data, count: max(count, 1))
    }

    /// Zeros `count` floats from `p`, on all the engine's threads when there are millions of
    /// them (a gradient or an activation: a serial memset, and the first touch of its fresh
    /// pages, kept the other core idle for milliseconds each time).
    static func fillZeros(_ p: UnsafeMutablePointer<Float>, count: Int) {
        guard count >= Tensor.parallelZeroCount else { p.initialize(repeating: 0, count: count); return }
        parallelChunks(count, minChunk: Tensor.parallelZeroCount / 2) { r in
            (p + r.lowerBound).initialize(repeating: 0, count: r.count)
        }
    }

    static let parallelZeroCount = 1 << 20

    /// A tensor whose contents are undefined until written: for outputs an op overwrites whole.
    public init(uninitialized shape: [Int]) {
        self.shape = shape
        self.count = shape.reduce(1, *)
        self.data = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
    }

    /// A tensor with every element equal to `value`.
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(zeros: shape)
        data.update(repeating: value, count: count)
    }

    /// A tensor holding `values` (row-major); `values.count` must equal the shape's product.
    public convenience init(shape: [Int], values: [Float]) {
        self.init(zeros: shape)
        precondition(values.count == count, "\(values.count) values for shape \(shape)")
        values.withUnsafeBufferPointer { data.update(from: $0.baseAddress!, count: count) }
    }

    deinit { data.deallocate() }

    /// A deep copy.
    public func copy() -> Tensor {
        let t = Tensor(zeros: shape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The same elements under another shape with the same element count (a copy).
    public func reshaped(_ newShape: [Int]) -> Tensor {
        precondition(newShape.reduce(1, *) == count, "cannot reshape \(shape) to \(newShape)")
        let t = Tensor(zeros: newShape)
        t.data.update(from: data, count: count)
        return t
    }

    /// The elements as a Swift array (row-major).
    public var array: [Float] { Array(UnsafeBufferPointer(start: data, count: count)) }

    public var buffer: UnsafeMutableBufferPointer<Float> {
        UnsafeMutableBufferPointer(start: data, count: count)
    }

    /// Sets every element to zero.
    public func zero() { Tensor.fillZeros(data, count: count) }

    /// Element access by flat index.
    public subscript(i: Int) -> Float {
        get { data[i] }
        set { data[i] = newValue }
    }

    /// Element access for a 4-D tensor: `t[n, c, y, x]`.
    public subscript(n: Int, c: Int, y: Int, x: Int) -> Float {
        get { data[((n * shape[1] + c) * shape[2] + y) * shape[3] + x] }
        set { data[((n * shape[1] + c) * shape[2] + y) * shape[3] + x] = newValue }
    }

    /// The shape written like `1x64x256x256`.
    public var shapeString: String { shape.map(String.init).joined(separator: "x") }

    public var description: String { "Tensor(\(shapeString))" }

    // NCHW accessors (valid for 4-D tensors).
    public var n: Int { shape[0] }
    public var c: Int { shape[1] }
    public var h: Int { shape[2] }
    public var w: Int { shape[3] }
}

/// Summary statistics of a tensor (or one channel of it), accumulated in Double.
/// Statistics of the finite values: NaN and infinities are left out and counted (`nonFinite`),
/// so one bad value cannot hide the rest (drht's rule for non-finite data: statistics skip them,
/// pictures mark them, computations refuse them).
public struct TensorStats: Equatable, Sendable {
    public var min: Float
    public var max: Float
    public var mean: Double
    public var std: Double
    /// How many values were NaN or infinite (left out of the four above; all 0 when none is finite).
    public var nonFinite: Int

    /// Statistics of `count` floats starting at `p`, `stride` apart.
    public init(_ p: UnsafePointer<Float>, count: Int, stride: Int = 1) {
        var a = Accumulator()
        for i in 0..<count { a.add(p[i * stride]) }
        self = a.stats
    }

    /// Statistics gathered a value at a time (an image read row by row, never held whole).
    public struct Accumulator: Sendable {
        var lo = Float.infinity, hi = -Float.infinity
        var sum = 0.0, sumSq = 0.0, finite = 0, skipped = 0
        public init() {}

        @inline(__always) public mutating func add(_ v: Float) {
            guard v.isFinite else { skipped += 1; return }
            lo = Swift.min(lo, v); hi = Swift.max(hi, v)
            sum += Double(v); sumSq += Double(v) * Double(v); finite += 1
        }

        public var stats: TensorStats {
            let n = Double(Swift.max(finite, 1)), mean = sum / n
            var std = (Swift.max(sumSq / n - mean * mean, 0)).squareRoot()
            if !std.isFinite { std = .greatestFiniteMagnitude }
            return TensorStats(min: finite > 0 ? lo : 0, max: finite > 0 ? hi : 0, mean: mean, std: std, nonFinite: skipped)
        }
    }

    init(min: Float, max: Float, mean: Double, std: Double, nonFinite: Int) {
        self.min = min; self.max = max; self.mean = mean; self.std = std; self.nonFinite = nonFinite
    }
}

extension Tensor {
    /// Statistics over all elements.
    public var stats: TensorStats { TensorStats(data, count: count) }

    /// Statistics of channel `c` over the batch (4-D tensors).
    public func channelStats(_ channel: Int) -> TensorStats {
        let plane = h * w
        if n == 1 { return TensorStats(data + channel * plane, count: plane) }
        let gathered = Tensor(zeros: [n, plane])
        for b in 0..<n {
            (gathered.data + b * plane).update(from: data + (b * c + channel) * plane, count: plane)
        }
        return TensorStats(gathered.data, count: gathered.count)
    }
}
