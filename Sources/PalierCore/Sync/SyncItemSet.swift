/// What reconciliation compares: an envelope's timestamp and id. Ordered by timestamp, then id,
/// so that recent envelopes — what a node that was away lacks — sit together at the end.
public struct SyncItem: Hashable, Comparable, Sendable {
    /// The envelope's hybrid logical clock value (``HybridTimestamp/rawValue``).
    public let timestamp: UInt64
    public let id: EnvelopeID

    public init(timestamp: UInt64, id: EnvelopeID) {
        self.timestamp = timestamp
        self.id = id
    }

    public static func < (lhs: SyncItem, rhs: SyncItem) -> Bool {
        lhs.timestamp != rhs.timestamp ? lhs.timestamp < rhs.timestamp : lhs.id < rhs.id
    }
}

/// An exclusive upper bound of a range: a timestamp and the shortest id prefix that separates
/// two neighbouring items (the id is the prefix followed by zero bytes).
public struct SyncBound: Hashable, Sendable {
    public let timestamp: UInt64
    public let idPrefix: [UInt8]

    public init(timestamp: UInt64, idPrefix: [UInt8] = []) {
        self.timestamp = timestamp
        self.idPrefix = idPrefix
    }

    /// Above every item.
    public static let infinity = SyncBound(timestamp: .max)

    /// True when `item` lies below this bound.
    func isAbove(_ item: SyncItem) -> Bool {
        if item.timestamp != timestamp { return item.timestamp < timestamp }
        let count = idPrefix.count
        for i in 0..<count where item.id.bytes[i] != idPrefix[i] {
            return item.id.bytes[i] < idPrefix[i]
        }
        return false
    }

    /// The shortest bound with `lower` below it and `upper` not.
    static func between(_ lower: SyncItem, _ upper: SyncItem) -> SyncBound {
        if lower.timestamp != upper.timestamp { return SyncBound(timestamp: upper.timestamp) }
        var shared = 0
        while shared < EnvelopeID.byteCount - 1 && lower.id.bytes[shared] == upper.id.bytes[shared] { shared += 1 }
        return SyncBound(timestamp: upper.timestamp, idPrefix: Array(upper.id.bytes[0...shared]))
    }
}

/// A sorted set of items with running sums of their ids, so that the fingerprint of any range
/// costs one subtraction and one hash.
public struct SyncItemSet: Sendable {
    public let items: [SyncItem]
    /// `sums[i]` is the sum modulo 2^256 of the first `i` ids read as little-endian integers.
    private let sums: [(UInt64, UInt64, UInt64, UInt64)]

    public init(_ items: some Sequence<SyncItem>) {
        let sorted = Array(Set(items)).sorted()
        var sums: [(UInt64, UInt64, UInt64, UInt64)] = []
        sums.reserveCapacity(sorted.count + 1)
        var running: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        sums.append(running)
        for item in sorted {
            running = Self.add(running, Self.limbs(item.id))
            sums.append(running)
        }
        self.items = sorted
        self.sums = sums
    }

    public var count: Int { items.count }

    /// Index of the first item not below `bound`.
    func index(of bound: SyncBound, from start: Int = 0) -> Int {
        var low = start
        var high = items.count
        while low < high {
            let mid = (low + high) / 2
            if bound.isAbove(items[mid]) { low = mid + 1 } else { high = mid }
        }
        return low
    }

    /// The 16-byte fingerprint of `items[range]`: the first 16 bytes of
    /// BLAKE2b-256(sum of ids mod 2^256, 32 bytes little-endian || varint(count)).
    func fingerprint(_ range: Range<Int>, crypto: any CryptoProvider) -> [UInt8] {
        let sum = Self.subtract(sums[range.upperBound], sums[range.lowerBound])
        var w = ByteWriter()
        for limb in [sum.0, sum.1, sum.2, sum.3] {
            for shift in stride(from: 0, to: 64, by: 8) { w.u8(UInt8(truncatingIfNeeded: limb >> UInt64(shift))) }
        }
        w.varint(UInt64(range.count))
        return Array(crypto.blake2b256(w.bytes).prefix(SyncFingerprint.byteCount))
    }

    private static func limbs(_ id: EnvelopeID) -> (UInt64, UInt64, UInt64, UInt64) {
        func limb(_ i: Int) -> UInt64 {
            var v: UInt64 = 0
            for b in (0..<8).reversed() { v = v << 8 | UInt64(id.bytes[i * 8 + b]) }
            return v
        }
        return (limb(0), limb(1), limb(2), limb(3))
    }

    private static func add(_ a: (UInt64, UInt64, UInt64, UInt64), _ b: (UInt64, UInt64, UInt64, UInt64)) -> (UInt64, UInt64, UInt64, UInt64) {
        let (r0, c0) = a.0.addingReportingOverflow(b.0)
        let (t1, c1a) = a.1.addingReportingOverflow(b.1)
        let (r1, c1b) = t1.addingReportingOverflow(c0 ? 1 : 0)
        let (t2, c2a) = a.2.addingReportingOverflow(b.2)
        let (r2, c2b) = t2.addingReportingOverflow((c1a || c1b) ? 1 : 0)
        let r3 = a.3 &+ b.3 &+ ((c2a || c2b) ? 1 : 0)
        return (r0, r1, r2, r3)
    }

    private static func subtract(_ a: (UInt64, UInt64, UInt64, UInt64), _ b: (UInt64, UInt64, UInt64, UInt64)) -> (UInt64, UInt64, UInt64, UInt64) {
        let (r0, b0) = a.0.subtractingReportingOverflow(b.0)
        let (t1, b1a) = a.1.subtractingReportingOverflow(b.1)
        let (r1, b1b) = t1.subtractingReportingOverflow(b0 ? 1 : 0)
        let (t2, b2a) = a.2.subtractingReportingOverflow(b.2)
        let (r2, b2b) = t2.subtractingReportingOverflow((b1a || b1b) ? 1 : 0)
        let r3 = a.3 &- b.3 &- ((b2a || b2b) ? 1 : 0)
        return (r0, r1, r2, r3)
    }
}

public enum SyncFingerprint {
    public static let byteCount = 16
}
