// Scratch memory for the convolution kernels: grown once, reused by every call, so the
// hot paths allocate nothing. Column matrices are tiled to stay within `tileBudget`.

/// Reusable scratch buffers. Not thread-safe: one workspace serves one caller at a time.
public final class Workspace: @unchecked Sendable {
    /// The workspace used when an op is not handed one.
    public static let shared = Workspace()

    /// Upper bound, in floats, of the column-matrix tiles of one op (shared by its workers), so
    /// a 2048 x 2048 input never needs a multi-gigabyte im2col buffer. Default 1M floats (4 MB):
    /// measured with interleaved runs of dec5 + enc2 + enc1 forward at 256^2, 1M was ~20%
    /// faster than 4M (tiles stay in cache) and backward was unchanged.
    public var tileBudget: Int = 1 << 20

    /// Convolutions whose window grid has fewer positions per image than this put the columns
    /// of a whole batch side by side and run each product once (see `BatchedColumns`, Conv2D.swift);
    /// 0 turns that off (tests compare both paths).
    public var batchedPositions: Int = BatchedColumns.threshold

    private var slots: [(pointer: UnsafeMutablePointer<Float>, capacity: Int)] = []

    public init() {}

    deinit { for s in slots { s.pointer.deallocate() } }

    /// Scratch buffer number `slot` with room for at least `count` floats (contents undefined).
    public func buffer(_ slot: Int, count: Int) -> UnsafeMutablePointer<Float> {
        while slots.count <= slot { slots.append((UnsafeMutablePointer<Float>.allocate(capacity: 1), 1)) }
        if slots[slot].capacity < count {
            slots[slot].pointer.deallocate()
            slots[slot] = (UnsafeMutablePointer<Float>.allocate(capacity: count), count)
        }
        return slots[slot].pointer
    }

    /// Bytes currently held.
    public var bytes: Int { slots.reduce(0) { $0 + $1.capacity * 4 } }
}
