/// Rateless IBLT (Yang, Gilad, Alizadeh, "Practical Rateless Set Reconciliation", SIGCOMM 2024)
/// over envelope ids: the pieces both sides share — what an item contributes, where it maps,
/// and the coded symbols themselves (docs/protocol.md §9.2).
///
/// Every id maps to an infinite increasing sequence of coded-symbol indices: index 0, then
/// index k with probability ρ(k) = 1/(1 + k/2). A coded symbol holds the XOR of the ids that
/// map to it, the XOR of their checksums, and their count; the same id on both sides cancels
/// out, so the symbols of one set minus those of the other are the symbols of the difference,
/// which a peeling decoder takes apart after about 1.35 symbols per difference.
public enum Sketch {
    public static let version: UInt8 = 1
    /// Prefixed to an id before hashing it for its checksum and its index sequence.
    public static let domain = Array("palier-sketch-v1\0".utf8)
    /// Indices at or past this are never used: an item's sequence ends there.
    public static let indexLimit: UInt64 = 1 << 32
}

/// What one id contributes to coded symbols: the id, a checksum that tells a cell holding
/// exactly this id from a mixture, and the seed of its index sequence.
///
/// Both come from BLAKE2b-256(domain || id) — bytes 0..<8 little-endian the checksum, 8..<16
/// the seed — and not from the id's own bytes: ids are chosen by authors (they can try
/// envelopes until one has the id they want), and a checksum that is a fixed function of the
/// id's bits would be linear under XOR, so that every mixture of three ids would pass for pure.
public struct SketchItem: Hashable, Sendable {
    public let id: EnvelopeID
    public let checksum: UInt64
    public let seed: UInt64

    public init(_ id: EnvelopeID, crypto: any CryptoProvider) {
        let hash = crypto.blake2b256(Sketch.domain + id.bytes)
        self.id = id
        checksum = Self.littleEndian(hash, at: 0)
        seed = Self.littleEndian(hash, at: 8)
    }

    static func littleEndian(_ bytes: [UInt8], at offset: Int) -> UInt64 {
        (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[offset + $1]) << (8 * UInt64($1)) }
    }

    /// The item's coded-symbol indices, in increasing order.
    public var indices: SketchIndices { SketchIndices(seed: seed) }
}

/// The index sequence of an item: 0, then each next index drawn so that index k is part of the
/// sequence with probability 2/(k + 2), with integer arithmetic only (any implementation gets
/// the same indices).
///
/// From index i, with u the next output of SplitMix64 seeded with the item's seed, the next
/// index is the smallest j > i with (j + 1)(j + 2) ≥ ⌈(i + 1)(i + 2) · 2^64 / (u + 1)⌉: the
/// chance that no index in i+1…j is taken is (i + 1)(i + 2) / ((j + 1)(j + 2)) = ∏ k/(k + 2).
public struct SketchIndices: IteratorProtocol, Sendable {
    private var random: SplitMix64
    /// The index `next()` returns, nil once the sequence passed ``Sketch/indexLimit``.
    public private(set) var upcoming: UInt64?

    public init(seed: UInt64) {
        random = SplitMix64(seed: seed)
        upcoming = 0
    }

    public mutating func next() -> UInt64? {
        guard let current = upcoming else { return nil }
        upcoming = Self.after(current, random: random.next())
        return current
    }

    /// Moves on to the first index at or after `index` (nil when the sequence ended first).
    public mutating func skip(to index: UInt64) -> UInt64? {
        while let upcoming, upcoming < index { _ = next() }
        return upcoming
    }

    /// The next index after `i` for the random draw `u` (see the type's documentation).
    static func after(_ i: UInt64, random u: UInt64) -> UInt64? {
        guard i + 1 < Sketch.indexLimit else { return nil }
        let a = UInt128(i + 1) * UInt128(i + 2)  // < 2^64 below the limit
        let d = UInt128(u) + 1
        let target = ((a << 64) + d - 1) / d  // ⌈a · 2^64 / (u + 1)⌉, no overflow: a < 2^64
        let limit = UInt128(Sketch.indexLimit + 1) * UInt128(Sketch.indexLimit + 2)
        guard target <= limit else { return nil }
        // j + 1 ≈ √target: start just below and walk up to the first j that satisfies.
        var root = UInt128(Double(target).squareRoot())
        while root * root > target { root -= 1 }
        while (root + 1) * (root + 1) <= target { root += 1 }
        var j = max(i + 1, UInt64(root) >= 2 ? UInt64(root) - 2 : 0)
        while UInt128(j + 1) * UInt128(j + 2) < target { j += 1 }
        return j < Sketch.indexLimit ? j : nil
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): add the golden gamma, then mix. Small, fast and fully
/// specified: the sketch's index sequences depend on its exact outputs, and tests replay seeds.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One coded symbol: the XOR of the ids mapped to it, the XOR of their checksums, and how many
/// there are (a difference of counts once one side's symbol is taken from the other's).
public struct CodedSymbol: Hashable, Sendable {
    /// The 32-byte XOR of ids, as four 64-bit words (id bytes 0..<8 little-endian first).
    public var sum: SIMD4<UInt64>
    public var checksum: UInt64
    public var count: Int64

    public init(sum: SIMD4<UInt64> = .zero, checksum: UInt64 = 0, count: Int64 = 0) {
        self.sum = sum
        self.checksum = checksum
        self.count = count
    }

    public static let empty = CodedSymbol()

    public var isEmpty: Bool { count == 0 && checksum == 0 && sum == .zero }

    /// Adds (`direction` 1) or takes away (−1) an item. Counts wrap: a hostile peer's count
    /// may be anything, and only ±1 and 0 mean something.
    public mutating func apply(_ item: SketchItem, words: SIMD4<UInt64>, direction: Int64) {
        sum ^= words
        checksum ^= item.checksum
        count &+= direction
    }

    /// This symbol minus another: what the symbols of two sets leave of their difference.
    public func subtracting(_ other: CodedSymbol) -> CodedSymbol {
        CodedSymbol(sum: sum ^ other.sum, checksum: checksum ^ other.checksum, count: count &- other.count)
    }

    /// The id bytes of `sum`.
    public var sumBytes: [UInt8] {
        (0..<32).map { UInt8(truncatingIfNeeded: sum[$0 / 8] >> (8 * UInt64($0 % 8))) }
    }

    /// The 32 bytes of an id as four little-endian words.
    public static func words(_ id: EnvelopeID) -> SIMD4<UInt64> {
        SIMD4((0..<4).map { SketchItem.littleEndian(id.bytes, at: 8 * $0) })
    }
}
