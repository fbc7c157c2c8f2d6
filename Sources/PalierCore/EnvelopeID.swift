/// A 32-byte BLAKE2b-256 digest naming something by its content: an envelope, a blob.
public protocol ContentAddress: Hashable, Comparable, Sendable, CustomStringConvertible {
    var bytes: [UInt8] { get }
    init?(bytes: [UInt8])
}

extension ContentAddress {
    public static var byteCount: Int { 32 }

    /// Parses 64 hexadecimal digits.
    public init?(hex: some StringProtocol) {
        guard let bytes = PalierCore.bytes(fromHex: hex) else { return nil }
        self.init(bytes: bytes)
    }

    public var hex: String { hexString(bytes) }
    /// The first 12 hex digits, as the CLI prints ids.
    public var shortHex: String { String(hex.prefix(12)) }
    public var description: String { hex }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// The id of an envelope: BLAKE2b-256 of the bytes its signature covers (see docs/protocol.md).
public struct EnvelopeID: ContentAddress {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }
}

/// An Ed25519 signature (64 bytes).
public struct Signature: Hashable, Sendable {
    public static let byteCount = 64
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }
}
