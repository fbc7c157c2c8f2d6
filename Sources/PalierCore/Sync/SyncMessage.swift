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
    /// Asks for the sender's peer's coded symbols `start ..< start + count` (sketch
    /// reconciliation, §9.2); `setSize` is how many items the asker holds.
    case sketchRequest(start: UInt64, count: UInt64, setSize: UInt64)
    /// Coded symbols of the sender's set, the first at index `start`, part of an answer that
    /// ends before index `end` (an answer may take several messages).
    case sketchSymbols(start: UInt64, end: UInt64, symbols: [CodedSymbol])
    /// "Send me bytes `offset ..< offset + length` of this blob" (§8.1).
    case blobWant(BlobID, offset: UInt64, length: UInt64)
    /// Bytes of a blob from `offset`: part of the answer to a `blob_want`.
    case blobChunk(BlobID, offset: UInt64, bytes: [UInt8])
    /// "I do not hold this blob, or may not share it."
    case blobMissing(BlobID)
    /// Where buildings' sync ports answer as onion services, each signed by its building (§13.4).
    case onionAddresses([OnionAnnouncement])

    public struct Hello: Hashable, Sendable {
        /// The highest protocol version the sender speaks.
        public var version: UInt16
        /// The lowest protocol version the sender still speaks.
        public var minimumVersion: UInt16
        /// The building's display name (at most 64 bytes of UTF-8).
        public var name: String
        /// The most envelopes the sender accepts in one `envelopes` message.
        public var maximumBatch: UInt16
        /// What the sender can do beyond version 1, one bit each (``SyncFeatures``). A varint
        /// after `maximum_batch`; a hello without it has none.
        public var features: SyncFeatures

        public init(version: UInt16 = SyncProtocol.version, minimumVersion: UInt16 = SyncProtocol.minimumVersion, name: String,
                    maximumBatch: UInt16 = SyncProtocol.maximumBatch, features: SyncFeatures = .supported) {
            self.version = version
            self.minimumVersion = minimumVersion
            self.name = name
            self.maximumBatch = maximumBatch
            self.features = features
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
        /// The sender could not store what it received (a full disk): it asks again later.
        case retryLater = 8
        case other = 255
    }

    /// Type bytes.
    public enum MessageType: UInt8, Sendable {
        case identity = 0x00, hello = 0x01, reconcile = 0x02, want = 0x03, envelopes = 0x04
        case announce = 0x05, ping = 0x06, pong = 0x07, bye = 0x08, unsupported = 0x09
        case sketchRequest = 0x0A, sketchSymbols = 0x0B
        case blobWant = 0x0C, blobChunk = 0x0D, blobMissing = 0x0E
        case onionAddresses = 0x0F
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
        case .sketchRequest: .sketchRequest
        case .sketchSymbols: .sketchSymbols
        case .blobWant: .blobWant
        case .blobChunk: .blobChunk
        case .blobMissing: .blobMissing
        case .onionAddresses: .onionAddresses
        }
    }
}

/// What a node can do beyond the first version of the protocol, announced in `hello`.
public struct SyncFeatures: OptionSet, Hashable, Sendable {
    public let rawValue: UInt64
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Sketch reconciliation: `sketchRequest` and `sketchSymbols` (§9.2).
    public static let sketch = SyncFeatures(rawValue: 1)
    /// What this node does.
    /// Blob transfer (§8.1): `blob_want`, `blob_chunk`, `blob_missing`.
    public static let blobs = SyncFeatures(rawValue: 2)
    /// Onion addresses (§13.4): `onion_addresses`.
    public static let onionAddresses = SyncFeatures(rawValue: 4)
    public static let supported: SyncFeatures = [.sketch, .blobs, .onionAddresses]
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
    /// Coded symbols per `sketchSymbols` message: 1300 × (32 + 8 + at most 10) bytes fit.
    public static let maximumSymbolsPerMessage = 1300
    /// The most bytes one `blob_chunk` carries (60 KiB: with its header it fits a frame).
    public static let maximumChunkBytes = 61_440
    /// Announcements per `onion_addresses` message (256 × 138 bytes).
    public static let maximumOnionAnnouncements = 256
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
            w.varint(hello.features.rawValue)
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
        case .sketchRequest(let start, let count, let setSize):
            w.u8(Sketch.version)
            w.varint(start)
            w.varint(count)
            w.varint(setSize)
        case .sketchSymbols(let start, let end, let symbols):
            w.u8(Sketch.version)
            w.varint(start)
            w.varint(end)
            w.varint(UInt64(symbols.count))
            for symbol in symbols {
                w.raw(symbol.sumBytes)
                w.u64(symbol.checksum)
                w.varint(UInt64(bitPattern: symbol.count))
            }
        case .blobWant(let blob, let offset, let length):
            w.raw(blob.bytes)
            w.varint(offset)
            w.varint(length)
        case .blobChunk(let blob, let offset, let bytes):
            w.raw(blob.bytes)
            w.varint(offset)
            w.raw(bytes)
        case .blobMissing(let blob):
            w.raw(blob.bytes)
        case .onionAddresses(let announcements):
            w.varint(UInt64(announcements.count))
            for announcement in announcements {
                w.raw(announcement.building.bytes)
                w.u64(announcement.issued)
                w.raw(announcement.address.key)
                w.u16(announcement.port)
                w.raw(announcement.signature.bytes)
            }
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
            // Features came after version 1's fields; later versions may append more: ignored.
            let features = r.isAtEnd ? SyncFeatures() : SyncFeatures(rawValue: try r.varint())
            return .known(.hello(Hello(version: version, minimumVersion: minimum, name: name, maximumBatch: batch, features: features)))
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
        case .sketchRequest:
            guard try r.u8() == Sketch.version else { throw .malformed("unknown sketch version") }
            message = .sketchRequest(start: try r.varint(), count: try r.varint(), setSize: try r.varint())
        case .sketchSymbols:
            guard try r.u8() == Sketch.version else { throw .malformed("unknown sketch version") }
            let start = try r.varint()
            let end = try r.varint()
            let count = try r.count(itemSize: 41)
            guard count <= SyncProtocol.maximumSymbolsPerMessage else { throw .tooLarge("\(count) coded symbols in one message") }
            var symbols: [CodedSymbol] = []
            symbols.reserveCapacity(count)
            for _ in 0..<count {
                let sum = CodedSymbol.words(try r.id())
                symbols.append(CodedSymbol(sum: sum, checksum: try r.u64(), count: Int64(bitPattern: try r.varint())))
            }
            guard end >= start, end - start >= UInt64(count) else { throw .malformed("coded symbols past the end of their answer") }
            message = .sketchSymbols(start: start, end: end, symbols: symbols)
        case .blobWant:
            let blob = BlobID(bytes: try r.raw(BlobID.byteCount))!
            let offset = try r.varint()
            let length = try r.varint()
            guard length > 0, offset < UInt64(Limits.maximumBlobBytes), length <= UInt64(Limits.maximumBlobBytes) - offset else {
                throw .malformed("a blob range \(offset) + \(length) outside 1 MiB")
            }
            message = .blobWant(blob, offset: offset, length: length)
        case .blobChunk:
            let blob = BlobID(bytes: try r.raw(BlobID.byteCount))!
            let offset = try r.varint()
            let bytes = try r.raw(r.remaining)
            guard !bytes.isEmpty else { throw .malformed("an empty blob chunk") }
            guard bytes.count <= SyncProtocol.maximumChunkBytes else { throw .tooLarge("a blob chunk of \(bytes.count) bytes") }
            guard offset < UInt64(Limits.maximumBlobBytes), UInt64(bytes.count) <= UInt64(Limits.maximumBlobBytes) - offset else {
                throw .malformed("a blob chunk past 1 MiB")
            }
            message = .blobChunk(blob, offset: offset, bytes: bytes)
        case .blobMissing:
            message = .blobMissing(BlobID(bytes: try r.raw(BlobID.byteCount))!)
        case .onionAddresses:
            let count = try r.count(itemSize: OnionAnnouncement.encodedCount)
            guard count <= SyncProtocol.maximumOnionAnnouncements else { throw .tooLarge("\(count) onion addresses in one message") }
            var announcements: [OnionAnnouncement] = []
            announcements.reserveCapacity(count)
            for _ in 0..<count {
                let building = PublicKey(bytes: try r.raw(PublicKey.byteCount))!
                let issued = try r.u64()
                let address = OnionAddress(key: try r.raw(OnionAddress.byteCount))!
                let port = try r.u16()
                guard port > 0 else { throw .malformed("an onion address with port 0") }
                let signature = Signature(bytes: try r.raw(Signature.byteCount))!
                announcements.append(OnionAnnouncement(building: building, issued: issued, address: address, port: port, signature: signature))
            }
            message = .onionAddresses(announcements)
        }
        guard r.isAtEnd else { throw .trailingBytes }
        return .known(message)
    }
}
