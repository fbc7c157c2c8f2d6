/// The messages two nodes exchange inside a Noise session (docs/protocol.md, part 2). Each
/// transport message carries exactly one sync message: a type byte, then its fields.
public enum SyncMessage: Hashable, Sendable {
    /// Proves which building speaks: its key and a signature over the session's handshake hash.
    case identity(building: PublicKey, signature: Signature)
    /// Protocol version, the building's name, and the sender's limits.
    case hello(Hello)
    /// One round of range-based set reconciliation (``ReconciliationMessage``).
    case reconcile([UInt8])
    /// Ids the sender lacks and asks the receiver to send.
    case want([EnvelopeID])
    /// Envelope bytes, each at most 4096 bytes.
    case envelopes([[UInt8]])
    /// Ids the sender has just stored: the receiver asks for those it lacks.
    case announce([EnvelopeID])
    case ping(UInt64)
    case pong(UInt64)
    /// The sender is closing the session; `reason` is for logs.
    case bye(ByeReason, String)
    /// The answer to a message whose type byte the receiver does not know.
    case unsupported(type: UInt8)

    public struct Hello: Hashable, Sendable {
        /// The highest protocol version the sender speaks.
        public var version: UInt16
        /// The lowest protocol version the sender still speaks.
        public var minimumVersion: UInt16
        /// The building's display name (at most 64 bytes of UTF-8).
        public var name: String
        /// The most envelopes the sender accepts in one `envelopes` message.
        public var maximumBatch: UInt16

        public init(version: UInt16 = SyncProtocol.version, minimumVersion: UInt16 = SyncProtocol.minimumVersion, name: String, maximumBatch: UInt16 = SyncProtocol.maximumBatch) {
            self.version = version
            self.minimumVersion = minimumVersion
            self.name = name
            self.maximumBatch = maximumBatch
        }
    }

    public enum ByeReason: UInt8, Sendable {
        case shutdown = 0
        case incompatibleVersion = 1
        case invalidEnvelopes = 2
        case rateLimited = 3
        case blocked = 4
        case protocolViolation = 5
        case idle = 6
        case duplicateSession = 7
        case other = 255
    }

    /// Type bytes.
    public enum MessageType: UInt8, Sendable {
        case identity = 0x00, hello = 0x01, reconcile = 0x02, want = 0x03, envelopes = 0x04
        case announce = 0x05, ping = 0x06, pong = 0x07, bye = 0x08, unsupported = 0x09
    }

    public var type: MessageType {
        switch self {
        case .identity: .identity
        case .hello: .hello
        case .reconcile: .reconcile
        case .want: .want
        case .envelopes: .envelopes
        case .announce: .announce
        case .ping: .ping
        case .pong: .pong
        case .bye: .bye
        case .unsupported: .unsupported
        }
    }
}

/// Protocol constants.
public enum SyncProtocol {
    /// The version this node speaks.
    public static let version: UInt16 = 1
    public static let minimumVersion: UInt16 = 1
    /// The Noise prologue: both sides must agree on it.
    public static let prologue = Array("palier-sync-v1".utf8)
    /// The largest sync message (one Noise transport message minus its 16-byte tag).
    public static let maximumMessageLength = 65535 - 16
    /// Envelopes per `envelopes` message: 15 × 4096 bytes stay under the message limit.
    public static let maximumBatch: UInt16 = 15
    /// Ids per `want` or `announce` message.
    public static let maximumIDs = 2000
    /// The signed text of an identity proof: this, a role byte (0 initiator, 1 responder),
    /// then the 32-byte Noise handshake hash.
    public static let identityDomain = Array("palier-sync-identity-v1\0".utf8)

    public static func identityMessage(initiator: Bool, handshakeHash: [UInt8]) -> [UInt8] {
        identityDomain + [initiator ? 0 : 1] + handshakeHash
    }
}

/// Unknown type bytes are not an error of the message: the receiver answers `unsupported`.
public enum DecodedSyncMessage: Hashable, Sendable {
    case known(SyncMessage)
    case unknown(type: UInt8)
}

extension SyncMessage {
    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        w.u8(type.rawValue)
        switch self {
        case .identity(let building, let signature):
            w.raw(building.bytes)
            w.raw(signature.bytes)
        case .hello(let hello):
            w.u16(hello.version)
            w.u16(hello.minimumVersion)
            w.string8(hello.name.prefix(utf8Bytes: 64))
            w.u16(hello.maximumBatch)
        case .reconcile(let bytes):
            w.raw(bytes)
        case .want(let ids), .announce(let ids):
            w.varint(UInt64(ids.count))
            for id in ids { w.raw(id.bytes) }
        case .envelopes(let list):
            w.varint(UInt64(list.count))
            for bytes in list {
                w.varint(UInt64(bytes.count))
                w.raw(bytes)
            }
        case .ping(let nonce), .pong(let nonce):
            w.u64(nonce)
        case .bye(let reason, let text):
            w.u8(reason.rawValue)
            w.string8(text.prefix(utf8Bytes: 255))
        case .unsupported(let type):
            w.u8(type)
        }
        return w.bytes
    }

    /// Decodes one message. Unknown types decode to `.unknown`; anything malformed throws.
    public static func decode(_ bytes: [UInt8]) throws(SyncMessageError) -> DecodedSyncMessage {
        var r = SyncReader(bytes)
        guard !bytes.isEmpty else { throw .empty }
        let typeByte = try r.u8()
        guard let type = MessageType(rawValue: typeByte) else { return .unknown(type: typeByte) }
        let message: SyncMessage
        switch type {
        case .identity:
            let building = PublicKey(bytes: try r.raw(PublicKey.byteCount))!
            let signature = Signature(bytes: try r.raw(Signature.byteCount))!
            message = .identity(building: building, signature: signature)
        case .hello:
            let version = try r.u16()
            let minimum = try r.u16()
            let name = try r.string8()
            guard name.utf8.count <= 64 else { throw .tooLarge("building name over 64 bytes") }
            let batch = try r.u16()
            // Later versions may append fields to hello: they are ignored.
            return .known(.hello(Hello(version: version, minimumVersion: minimum, name: name, maximumBatch: batch)))
        case .reconcile:
            message = .reconcile(try r.raw(r.remaining))
        case .want, .announce:
            let count = try r.count(itemSize: EnvelopeID.byteCount)
            guard count <= SyncProtocol.maximumIDs else { throw .tooLarge("\(count) ids in one message") }
            var ids: [EnvelopeID] = []
            ids.reserveCapacity(count)
            for _ in 0..<count { ids.append(try r.id()) }
            message = type == .want ? .want(ids) : .announce(ids)
        case .envelopes:
            let count = try r.count(itemSize: 1)
            var list: [[UInt8]] = []
            for _ in 0..<count {
                let length = try r.varint()
                guard length <= UInt64(Limits.maximumEnvelopeBytes) else { throw .tooLarge("an envelope of \(length) bytes") }
                list.append(try r.raw(Int(length)))
            }
            message = .envelopes(list)
        case .ping:
            message = .ping(try r.u64())
        case .pong:
            message = .pong(try r.u64())
        case .bye:
            let reason = ByeReason(rawValue: try r.u8()) ?? .other
            message = .bye(reason, try r.string8())
        case .unsupported:
            message = .unsupported(type: try r.u8())
        }
        guard r.isAtEnd else { throw .trailingBytes }
        return .known(message)
    }
}
