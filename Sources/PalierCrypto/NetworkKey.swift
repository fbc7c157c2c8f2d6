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

    /// Reads an invite string (case, spaces and dashes within the key are ignored); an onion
    /// address after it (``Invite``) is checked and left aside.
    public init(invite: String) throws(KeyTextError) {
        self = try Invite(text: invite).networkKey
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

/// What one building hands another to join its network: the network key, and where the
/// inviting building answers as an onion service when it has one (docs/protocol.md §7.1):
/// `palier-invite-<key text>` or `palier-invite-<key text>@<56 characters>.onion:<port>`.
public struct Invite: Sendable, Hashable {
    public let networkKey: NetworkKey
    /// The inviting building's onion address and port.
    public let onion: Endpoint?

    /// A host and port: the onion address the invite names.
    public struct Endpoint: Sendable, Hashable {
        public let address: OnionAddress
        public let port: UInt16
        public init(address: OnionAddress, port: UInt16) {
            self.address = address
            self.port = port
        }
        public var text: String { "\(address.host):\(port)" }
    }

    public init(networkKey: NetworkKey, onion: Endpoint?) {
        self.networkKey = networkKey
        self.onion = onion
    }

    public var text: String { networkKey.invite + (onion.map { "@" + $0.text } ?? "") }

    public init(text: String) throws(KeyTextError) {
        let trimmed = text.filter { !$0.isWhitespace }
        let parts = trimmed.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        var keyText = String(parts[0])
        if keyText.lowercased().hasPrefix(NetworkKey.invitePrefix) { keyText = String(keyText.dropFirst(NetworkKey.invitePrefix.count)) }
        networkKey = NetworkKey(bytes: try PublicKey(text: keyText).bytes)!
        guard parts.count == 2 else {
            onion = nil
            return
        }
        let where_ = parts[1]
        guard let colon = where_.lastIndex(of: ":"), let port = UInt16(where_[where_.index(after: colon)...]), port > 0,
              let address = OnionAddress(text: where_[..<colon]) else {
            throw .badAddress(String(where_))
        }
        onion = Endpoint(address: address, port: port)
    }
}
