/// A v3 onion service address (Tor's rend-spec-v3 §6): the service's Ed25519 public key. Its
/// text is base32(key ‖ checksum ‖ 0x03) followed by `.onion`, 56 + 6 characters, where the
/// checksum is the first two bytes of SHA3-256(".onion checksum" ‖ key ‖ 0x03).
public struct OnionAddress: Hashable, Sendable, CustomStringConvertible {
    public static let byteCount = 32
    public static let suffix = ".onion"
    static let version: UInt8 = 3

    /// The service's Ed25519 public key.
    public let key: [UInt8]

    public init?(key: [UInt8]) {
        guard key.count == Self.byteCount else { return nil }
        self.key = key
    }

    /// Reads "<56 characters>.onion" (or without the suffix; either case); nil when it is not a
    /// v3 address or its checksum does not match.
    public init?(text: some StringProtocol) {
        var label = Substring(text)
        if label.lowercased().hasSuffix(Self.suffix) { label = label.dropLast(Self.suffix.count) }
        guard label.utf8.count == 56, let bytes = Base32.decode(label), bytes.count == 35, bytes[34] == Self.version else { return nil }
        let key = Array(bytes[0..<32])
        guard Array(bytes[32..<34]) == Self.checksum(key) else { return nil }
        self.key = key
    }

    static func checksum(_ key: [UInt8]) -> [UInt8] {
        Array(SHA3.sha256(Array(".onion checksum".utf8) + key + [version]).prefix(2))
    }

    /// The 56 characters before `.onion` (what tor's control port calls the service id).
    public var serviceID: String { Base32.encode(key + Self.checksum(key) + [Self.version]) }

    /// "<service id>.onion": the host name to dial through tor's SOCKS port.
    public var host: String { serviceID + Self.suffix }

    public var description: String { host }
}

/// A building's signed statement that its sync port answers at an onion service (docs/protocol.md
/// §13.4). Only the building's key signs it, so a node that relays it cannot send a building's
/// neighbours elsewhere; the newest (by `issued`) wins.
public struct OnionAnnouncement: Hashable, Sendable {
    public static let domain = Array("palier-onion-address-v1\0".utf8)
    /// Building key, issued, onion key, port, signature.
    public static let encodedCount = PublicKey.byteCount + 8 + OnionAddress.byteCount + 2 + Signature.byteCount

    public let building: PublicKey
    /// When the building signed it, Unix milliseconds.
    public let issued: UInt64
    public let address: OnionAddress
    /// The onion service's virtual port (1–65535).
    public let port: UInt16
    public let signature: Signature

    public init(building: PublicKey, issued: UInt64, address: OnionAddress, port: UInt16, signature: Signature) {
        self.building = building
        self.issued = issued
        self.address = address
        self.port = port
        self.signature = signature
    }

    /// The bytes the building signs: the domain, then the fields in their wire order.
    public static func signedBytes(building: PublicKey, issued: UInt64, address: OnionAddress, port: UInt16) -> [UInt8] {
        var w = ByteWriter(capacity: domain.count + 74)
        w.raw(domain)
        w.raw(building.bytes)
        w.u64(issued)
        w.raw(address.key)
        w.u16(port)
        return w.bytes
    }

    public var signedBytes: [UInt8] { Self.signedBytes(building: building, issued: issued, address: address, port: port) }

    /// Whether the building's key signed it.
    public func isSigned(by crypto: any CryptoProvider) -> Bool {
        crypto.verifyEd25519(signature: signature.bytes, message: signedBytes, publicKey: building.bytes)
    }

    /// "<host>.onion:<port>".
    public var endpointText: String { "\(address.host):\(port)" }
}
