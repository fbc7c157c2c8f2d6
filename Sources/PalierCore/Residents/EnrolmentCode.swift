/// What an admin hands a resident so that their own key gets a role: which building (its key,
/// so that the resident's client checks it talks to the right node), where its node listens,
/// and a one-time code: an id and a secret. Text form: `palier-join-` then base32 with a CRC-24
/// in groups of four, like keys and invites (docs/protocol.md §15.1).
public struct EnrolmentCode: Hashable, Sendable {
    public static let prefix = "palier-join-"
    public static let version: UInt8 = 1
    public static let secretLength = 16
    /// Addresses carried at most, each at most 64 bytes (`host:port`).
    public static let maximumAddresses = 4
    public static let maximumAddressBytes = 64

    public var building: PublicKey
    /// Names the code on the node (8 bytes); not secret.
    public var id: [UInt8]
    /// Proven, never sent (16 bytes).
    public var secret: [UInt8]
    /// `host:port` of the node's residents' channel, in the order to try.
    public var addresses: [String]

    public init(building: PublicKey, id: [UInt8], secret: [UInt8], addresses: [String]) {
        precondition(id.count == ResidentMessage.codeIDLength && secret.count == Self.secretLength)
        self.building = building
        self.id = id
        self.secret = secret
        self.addresses = Array(addresses.filter { !$0.isEmpty && $0.utf8.count <= Self.maximumAddressBytes }.prefix(Self.maximumAddresses))
    }

    public var text: String {
        var w = ByteWriter()
        w.u8(Self.version)
        w.raw(building.bytes)
        w.raw(id)
        w.raw(secret)
        w.u8(UInt8(addresses.count))
        for address in addresses { w.string8(address) }
        return Self.prefix + KeyText.encodeChecked(w.bytes)
    }

    /// Reads a code as typed or pasted (case, spaces and dashes do not matter).
    public init(text: String) throws(EnrolmentCodeError) {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        guard trimmed.lowercased().hasPrefix(Self.prefix) else { throw .notACode }
        let body = String(trimmed.dropFirst(Self.prefix.count))
        let payload: [UInt8]
        do {
            payload = try KeyText.decodeChecked(body, maximumCharacters: 1024)
        } catch {
            throw error == .checksum ? .mistyped : .damaged
        }
        guard payload.first == Self.version else { throw payload.isEmpty ? .damaged : .newerVersion }
        var r = SyncReader(Array(payload.dropFirst()))
        do throws(SyncMessageError) {
            building = PublicKey(bytes: try r.raw(PublicKey.byteCount))!
            id = try r.raw(ResidentMessage.codeIDLength)
            secret = try r.raw(Self.secretLength)
            let count = Int(try r.u8())
            guard count <= Self.maximumAddresses else { throw .tooLarge("addresses") }
            addresses = []
            for _ in 0..<count {
                let address = try r.string8()
                guard !address.isEmpty, address.utf8.count <= Self.maximumAddressBytes else { throw .malformed("address") }
                addresses.append(address)
            }
            guard r.isAtEnd else { throw .trailingBytes }
        } catch {
            throw .damaged
        }
    }
}

public enum EnrolmentCodeError: Error, Hashable, Sendable {
    /// It does not start with `palier-join-`.
    case notACode
    /// The check failed: a character was mistyped.
    case mistyped
    /// It decodes to nothing sensible.
    case damaged
    /// Made by a newer palier.
    case newerVersion
}

extension String {
    func trimmingCharacters(in set: Set<Character>) -> String {
        var s = Substring(self)
        while let c = s.first, set.contains(c) { s = s.dropFirst() }
        while let c = s.last, set.contains(c) { s = s.dropLast() }
        return String(s)
    }
}

extension Set where Element == Character {
    static let whitespacesAndNewlines: Set<Character> = [" ", "\t", "\n", "\r"]
}
