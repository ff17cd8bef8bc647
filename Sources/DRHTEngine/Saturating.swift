// Float -> Int conversions that cannot trap. Swift's Int(x) stops the program when x is NaN,
// infinite or out of range; on values that come from files or from a learner's session that
// would end the session, so every such conversion goes through these (issue 31).

extension Int {
    /// `x` rounded toward zero, NaN as 0, clamped to Int's range (±infinity to the ends).
    @inlinable public init(saturating x: Double) {
        if x.isNaN { self = 0 }
        else if x >= 9.2e18 { self = .max }
        else if x <= -9.2e18 { self = .min }
        else { self = Int(x) }
    }

    @inlinable public init(saturating x: Float) { self.init(saturating: Double(x)) }

    /// `x` clamped to `range` first (NaN as the lower end), then rounded toward zero: an index
    /// from a value, e.g. a histogram bin.
    @inlinable public init(clamping x: Float, to range: ClosedRange<Int>) {
        let v = Int(saturating: x)
        self = x.isNaN ? range.lowerBound : Swift.min(Swift.max(v, range.lowerBound), range.upperBound)
    }
}

extension Float {
    /// Clamped to 0...1, NaN as 0: a colour or a display value.
    @inlinable public var unitClamped: Float { isNaN ? 0 : Swift.min(Swift.max(self, 0), 1) }
}
