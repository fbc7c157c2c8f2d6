/// The residents' channel (docs/protocol.md, part 3): a resident's own machine talks to its
/// building's node. Plain Noise XX (no network key: residents never learn it), then each side
/// proves its Ed25519 key over the handshake hash, then one request and its answer at a time.
public enum ResidentProtocol {
    public static let prologue = Array("palier-residents-v1".utf8)
    public static let identityDomain = Array("palier-residents-identity-v1\0".utf8)
    public static let joinDomain = Array("palier-join-v1\0".utf8)
    /// The node's default port for residents (sync: 7481, kiosk: 7480).
    public static let defaultPort = 7482
    /// Tries of a wrong secret before the code is burnt.
    public static let maximumJoinTries = 5

    /// What a side signs to prove its key: the domain, its role (0: initiator, the resident;
    /// 1: responder, the node) and the handshake hash.
    public static func identityMessage(initiator: Bool, handshakeHash: [UInt8]) -> [UInt8] {
        identityDomain + [initiator ? 0 : 1] + handshakeHash
    }

    /// What the join proof authenticates (HMAC-SHA-256 keyed with the code's secret): the
    /// domain, the handshake hash, the resident's key. Bound to the session, it is worth
    /// nothing to anyone who relays it.
    public static func joinMessage(handshakeHash: [UInt8], resident: PublicKey) -> [UInt8] {
        joinDomain + handshakeHash + resident.bytes
    }
}

/// One message of the residents' channel: a type byte, then its fields.
public enum ResidentMessage: Hashable, Sendable {
    /// Both sides, first: the key and a signature over ``ResidentProtocol/identityMessage(initiator:handshakeHash:)``.
    case identity(key: PublicKey, signature: Signature)
    /// Resident: redeem enrolment code `code` (8 bytes), proving its secret.
    case join(code: [UInt8], proof: [UInt8])
    /// Node: the building granted `role` to the resident's key by envelope `grant`.
    case joined(role: Role, displayName: String, grant: EnvelopeID)
    /// Resident: one signed envelope (at most 4096 bytes) for the building.
    case submit([UInt8])
    /// Node: what became of a submitted envelope.
    case answer(Answer)
    /// Either side closes; `reason` says why (``Refusal``), `text` is the sender's sentence.
    case bye(Refusal, String)
    /// Resident: redeem the short code whose id is `shortID` (§15.8): the resident's CPace element.
    case claim(shortID: UInt16, element: [UInt8])
    /// Node: its CPace element and its confirmation that it holds the same key.
    case challenge(element: [UInt8], confirmation: [UInt8])
    /// Resident: its confirmation; the node answers `joined` or `bye`.
    case confirm([UInt8])
    /// Resident: bytes of an image from `offset`, before the `submit` that names it (§15.5);
    /// no answer.
    case blob(BlobID, offset: UInt32, bytes: [UInt8])

    public struct Answer: Hashable, Sendable {
        public enum Outcome: UInt8, Sendable {
            /// Stored and relayed.
            case accepted = 0
            /// The node held it already (a resend from the outbox): nothing new.
            case alreadyStored = 1
            /// Kept aside until an admin approves it.
            case held = 2
            /// Refused; `reason` says why.
            case refused = 3
        }
        public var id: EnvelopeID
        public var outcome: Outcome
        public var reason: Refusal
        /// The node's sentence about a refusal (at most 255 bytes of UTF-8), for logs.
        public var detail: String

        public init(id: EnvelopeID, outcome: Outcome, reason: Refusal = .none, detail: String = "") {
            self.id = id
            self.outcome = outcome
            self.reason = reason
            self.detail = detail
        }
    }

    /// Why a node refuses a resident, a join or an envelope (the resident's CLI says it in its
    /// own words). Unknown values read as `.other`.
    public enum Refusal: UInt8, Sendable {
        case none = 0
        /// The key holds no role in this building (never granted, or revoked): only `join`.
        case notAMember = 1
        /// No such enrolment code, or expired, already used, or burnt.
        case codeNotValid = 2
        /// The proof does not match the code's secret (the count of tries left is in the text).
        case wrongSecret = 3
        /// The envelope does not decode, or breaks a rule of part 1.
        case invalidEnvelope = 4
        /// The envelope is not signed by the session's key.
        case notYourKey = 5
        /// The envelope is for another building.
        case otherBuilding = 6
        /// The key's role may not post this kind.
        case notAllowed = 7
        /// Too many submissions: the session is closed; try later.
        case rateLimited = 8
        /// The node could not store it now (a full disk); it is kept in the outbox.
        case retryLater = 9
        /// The message was not expected here.
        case protocolViolation = 10
        /// The node is stopping.
        case shutdown = 11
        /// An image the envelope names was not sent whole, is not the image described, or
        /// would pass the node's image budget.
        case image = 12
        case other = 255
    }

    public enum MessageType: UInt8, Sendable {
        case identity = 0x00, join = 0x01, joined = 0x02, submit = 0x03, answer = 0x04, bye = 0x05
        case claim = 0x06, challenge = 0x07, confirm = 0x08, blob = 0x09
    }

    public static let codeIDLength = 8
    public static let proofLength = 32
    /// A CPace element (ristretto255) and a confirmation (HMAC-SHA-256).
    public static let elementLength = 32
    public static let confirmationLength = 32

    public func encoded() -> [UInt8] {
        var w = ByteWriter()
        switch self {
        case .identity(let key, let signature):
            w.u8(MessageType.identity.rawValue)
            w.raw(key.bytes)
            w.raw(signature.bytes)
        case .join(let code, let proof):
            w.u8(MessageType.join.rawValue)
            w.raw(code)
            w.raw(proof)
        case .joined(let role, let name, let grant):
            w.u8(MessageType.joined.rawValue)
            w.u8(role.rawValue)
            w.string8(String(name.prefix(utf8Bytes: 255)))
            w.raw(grant.bytes)
        case .submit(let envelope):
            w.u8(MessageType.submit.rawValue)
            w.raw(envelope)
        case .answer(let answer):
            w.u8(MessageType.answer.rawValue)
            w.raw(answer.id.bytes)
            w.u8(answer.outcome.rawValue)
            w.u8(answer.reason.rawValue)
            w.string8(String(answer.detail.prefix(utf8Bytes: 255)))
        case .bye(let reason, let text):
            w.u8(MessageType.bye.rawValue)
            w.u8(reason.rawValue)
            w.string8(String(text.prefix(utf8Bytes: 255)))
        case .claim(let shortID, let element):
            w.u8(MessageType.claim.rawValue)
            w.u16(shortID)
            w.raw(element)
        case .challenge(let element, let confirmation):
            w.u8(MessageType.challenge.rawValue)
            w.raw(element)
            w.raw(confirmation)
        case .confirm(let confirmation):
            w.u8(MessageType.confirm.rawValue)
            w.raw(confirmation)
        case .blob(let id, let offset, let bytes):
            w.u8(MessageType.blob.rawValue)
            w.raw(id.bytes)
            w.u32(offset)
            w.raw(bytes)
        }
        return w.bytes
    }

    /// Decodes one message; every length is checked before it is read, nothing may follow.
    public static func decode(_ bytes: [UInt8]) throws(SyncMessageError) -> ResidentMessage {
        guard !bytes.isEmpty else { throw .empty }
        var r = SyncReader(bytes)
        let typeByte = try r.u8()
        guard let type = MessageType(rawValue: typeByte) else { throw .malformed("unknown residents' message type \(typeByte)") }
        let message: ResidentMessage
        switch type {
        case .identity:
            message = .identity(key: PublicKey(bytes: try r.raw(PublicKey.byteCount))!, signature: Signature(bytes: try r.raw(Signature.byteCount))!)
        case .join:
            message = .join(code: try r.raw(codeIDLength), proof: try r.raw(proofLength))
        case .joined:
            guard let role = Role(rawValue: try r.u8()) else { throw .malformed("unknown role") }
            let name = try r.string8()
            message = .joined(role: role, displayName: name, grant: try r.id())
        case .submit:
            let envelope = try r.raw(r.remaining)
            guard !envelope.isEmpty else { throw .truncated }
            guard envelope.count <= Limits.maximumEnvelopeBytes else { throw .tooLarge("an envelope of \(envelope.count) bytes") }
            message = .submit(envelope)
        case .answer:
            let id = try r.id()
            guard let outcome = Answer.Outcome(rawValue: try r.u8()) else { throw .malformed("unknown outcome") }
            let reason = Refusal(rawValue: try r.u8()) ?? .other
            message = .answer(Answer(id: id, outcome: outcome, reason: reason, detail: try r.string8()))
        case .bye:
            let reason = Refusal(rawValue: try r.u8()) ?? .other
            message = .bye(reason, try r.string8())
        case .claim:
            message = .claim(shortID: try r.u16(), element: try r.raw(elementLength))
        case .challenge:
            message = .challenge(element: try r.raw(elementLength), confirmation: try r.raw(confirmationLength))
        case .confirm:
            message = .confirm(try r.raw(confirmationLength))
        case .blob:
            let id = BlobID(bytes: try r.raw(BlobID.byteCount))!
            let offset = UInt32(try r.u16()) << 16 | UInt32(try r.u16())
            let bytes = try r.raw(r.remaining)
            guard !bytes.isEmpty else { throw .malformed("an empty image chunk") }
            guard bytes.count <= SyncProtocol.maximumChunkBytes else { throw .tooLarge("an image chunk of \(bytes.count) bytes") }
            guard UInt64(offset) + UInt64(bytes.count) <= UInt64(Limits.maximumBlobBytes) else { throw .malformed("an image chunk past 1 MiB") }
            message = .blob(id, offset: offset, bytes: bytes)
        }
        guard r.isAtEnd else { throw .trailingBytes }
        return message
    }
}
