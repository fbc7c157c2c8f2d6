import PalierCore

/// The neighbourhood's network key: the Noise pre-shared key. Holding it is membership; it is
/// never sent, announced or logged. Nodes show it only as an invite string, and tell networks
/// apart by a short id derived from it.
public struct NetworkKey: Sendable, Hashable {
    public let bytes: [UInt8]
    static let filePrefix = "palier-network-key "
    /// Invite strings start with this, then the key in the text form of public keys
    /// (base32 with a CRC-24, 14 groups of 4): a typo is caught before anything is joined.
    public static let invitePrefix = "palier-invite-"

    public init?(bytes: [UInt8]) {
        guard bytes.count == 32 else { return nil }
        self.bytes = bytes
    }

    /// A new random key: a new neighbourhood.
    public static func generate() -> NetworkKey { NetworkKey(bytes: Sodium.randomBytes(32))! }

    /// The invite string another building joins with.
    public var invite: String { Self.invitePrefix + PublicKey(bytes: bytes)!.text }

    /// Reads an invite string (case, spaces and dashes within the key are ignored).
    public init(invite: String) throws(KeyTextError) {
        let trimmed = invite.filter { !$0.isWhitespace }
        let text = trimmed.lowercased().hasPrefix(Self.invitePrefix) ? String(trimmed.dropFirst(Self.invitePrefix.count)) : trimmed
        self.bytes = try PublicKey(text: text).bytes
    }

    /// 16 hex digits naming the network: BLAKE2b-256("palier-network-id-v1\0" || key), first 8
    /// bytes. Safe to publish (the key cannot be recovered from it).
    public var id: String {
        hexString(BLAKE2b.hash256(Array("palier-network-id-v1\0".utf8) + bytes).prefix(8))
    }

    public static func load(_ path: String) throws(KeyFileError) -> NetworkKey {
        NetworkKey(bytes: try SecretFile.load(path, prefix: filePrefix))!
    }

    public func save(_ path: String) throws(KeyFileError) {
        try SecretFile.create(path, prefix: Self.filePrefix, secret: bytes)
    }
}
