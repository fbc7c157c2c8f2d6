/// A hybrid logical clock timestamp: 48 bits of Unix milliseconds, 16 bits of logical counter.
/// Ordering is plain integer ordering; ties between envelopes are broken by id.
public struct HybridTimestamp: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let rawValue: UInt64

    public init(rawValue: UInt64) { self.rawValue = rawValue }

    public init(millis: UInt64, counter: UInt16 = 0) {
        self.rawValue = (millis & 0xFFFF_FFFF_FFFF) << 16 | UInt64(counter)
    }

    /// Unix time in milliseconds.
    public var millis: UInt64 { rawValue >> 16 }
    public var counter: UInt16 { UInt16(truncatingIfNeeded: rawValue) }

    public var description: String { "\(millis).\(counter)" }

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// The hybrid logical clock of one node (Kulkarni et al.): stamps local envelopes so that they
/// order after everything the node has seen, even when the wall clock steps back.
public struct HybridLogicalClock: Sendable {
    /// The greatest timestamp issued or observed.
    public private(set) var last: HybridTimestamp

    public init(last: HybridTimestamp = HybridTimestamp(rawValue: 0)) {
        self.last = last
    }

    /// A new timestamp, strictly after every earlier one, at or after the wall clock.
    public mutating func tick(wallMillis: UInt64) -> HybridTimestamp {
        let wall = HybridTimestamp(millis: wallMillis)
        // At the very top of the range the clock stays put rather than wrap to the epoch: the
        // range ends in the year 10889, and admission keeps envelopes from the future out.
        let next = wall > last ? wall : HybridTimestamp(rawValue: last.rawValue == .max ? .max : last.rawValue + 1)
        last = next
        return next
    }

    /// Takes in a timestamp seen on a received envelope (already checked not to be too far ahead).
    public mutating func observe(_ remote: HybridTimestamp) {
        if remote > last { last = remote }
    }
}
