/// The text and fields of a content post (tip, classified, notice, flash, alert, promo, event).
public struct PostContent: Hashable, Sendable {
    public var title: String
    public var body: String
    /// A short BCP 47 language tag such as `fr` or `fr-FR`; may be empty.
    public var language: String
    /// Present for events only.
    public var event: EventDetails?
    /// When screens start showing it (Unix ms; extension 1, docs/protocol.md §2.2.1). nil: at once.
    public var showsFrom: UInt64?
    /// When screens stop showing it, if before the envelope's expiry (extension 2). An edit
    /// sets it to take a post off the screens early.
    public var showsUntil: UInt64?
    /// Images the post shows (extension 3), at most four.
    public var images: [ImageReference]
    /// An address screens show as a QR code (extension 4).
    public var link: String?
    /// Extensions this version does not know, kept so that the signed bytes stay the same.
    public var otherExtensions: [PostExtension]

    public init(title: String, body: String = "", language: String = "", event: EventDetails? = nil,
                showsFrom: UInt64? = nil, showsUntil: UInt64? = nil, images: [ImageReference] = [], link: String? = nil,
                otherExtensions: [PostExtension] = []) {
        self.title = title
        self.body = body
        self.language = language
        self.event = event
        self.showsFrom = showsFrom
        self.showsUntil = showsUntil
        self.images = images
        self.link = link
        self.otherExtensions = otherExtensions
    }
}

/// A post extension as it travels: a tag and its value (docs/protocol.md §2.2.1).
public struct PostExtension: Hashable, Sendable {
    public static let showsFrom: UInt8 = 1
    public static let showsUntil: UInt8 = 2
    public static let images: UInt8 = 3
    public static let link: UInt8 = 4
    /// The tags this version reads.
    public static let known: Set<UInt8> = [showsFrom, showsUntil, images, link]

    public var tag: UInt8
    public var value: [UInt8]

    public init(tag: UInt8, value: [UInt8]) {
        self.tag = tag
        self.value = value
    }
}

/// When and where an event takes place. Times are Unix milliseconds.
public struct EventDetails: Hashable, Sendable {
    public var startsAt: UInt64
    public var endsAt: UInt64
    public var place: String

    public init(startsAt: UInt64, endsAt: UInt64, place: String) {
        self.startsAt = startsAt
        self.endsAt = endsAt
        self.place = place
    }
}

/// Coordinates in millionths of a degree (fixed point, so that the signed bytes are exact).
public struct Coordinates: Hashable, Sendable {
    public var latitudeMicrodegrees: Int32
    public var longitudeMicrodegrees: Int32

    public init(latitudeMicrodegrees: Int32, longitudeMicrodegrees: Int32) {
        self.latitudeMicrodegrees = latitudeMicrodegrees
        self.longitudeMicrodegrees = longitudeMicrodegrees
    }

    /// Coordinates in degrees; nil unless the latitude lies within ±90 and the longitude
    /// within ±180 (a typed 4500 or a NaN must be refused, not converted).
    public init?(latitude: Double, longitude: Double) {
        guard abs(latitude) <= 90, abs(longitude) <= 180 else { return nil }
        self.latitudeMicrodegrees = Int32((latitude * 1_000_000).rounded())
        self.longitudeMicrodegrees = Int32((longitude * 1_000_000).rounded())
    }

    public var latitude: Double { Double(latitudeMicrodegrees) / 1_000_000 }
    public var longitude: Double { Double(longitudeMicrodegrees) / 1_000_000 }
}

/// A building's public description, signed by its building key.
public struct BuildingProfile: Hashable, Sendable {
    public var name: String
    public var address: String
    public var coordinates: Coordinates?

    public init(name: String, address: String = "", coordinates: Coordinates? = nil) {
        self.name = name
        self.address = address
        self.coordinates = coordinates
    }
}

/// A role given to a key by a building, or taken back (`role == nil`).
public struct Grant: Hashable, Sendable {
    public var subject: PublicKey
    /// nil revokes whatever the subject held.
    public var role: Role?
    public var displayName: String

    public init(subject: PublicKey, role: Role?, displayName: String) {
        self.subject = subject
        self.role = role
        self.displayName = displayName
    }
}

/// The kind-specific part of an envelope.
public enum Payload: Hashable, Sendable {
    /// tip, classified, event, notice, flash, alert, promo.
    case post(PostContent)
    /// New content for the target post; `kind` must be the target's kind.
    case edit(kind: Kind, content: PostContent)
    case retract
    case hide(reason: String)
    case grant(Grant)
    case profile(BuildingProfile)
}

/// Everything an envelope says, before it is signed.
public struct EnvelopeContent: Hashable, Sendable {
    public static let currentVersion: UInt8 = 1

    public var version: UInt8
    public var kind: Kind
    public var scope: Scope
    /// The building the author belongs to.
    public var building: PublicKey
    public var author: PublicKey
    public var timestamp: HybridTimestamp
    /// Unix milliseconds after which the envelope is gone everywhere.
    public var expiresAt: UInt64
    /// The envelope that an edit, retract or hide acts on.
    public var target: EnvelopeID?
    public var payload: Payload

    public init(
        version: UInt8 = EnvelopeContent.currentVersion,
        kind: Kind,
        scope: Scope,
        building: PublicKey,
        author: PublicKey,
        timestamp: HybridTimestamp,
        expiresAt: UInt64,
        target: EnvelopeID? = nil,
        payload: Payload
    ) {
        self.version = version
        self.kind = kind
        self.scope = scope
        self.building = building
        self.author = author
        self.timestamp = timestamp
        self.expiresAt = expiresAt
        self.target = target
        self.payload = payload
    }

    /// Unix milliseconds at creation (the wall-clock part of the timestamp).
    public var createdAt: UInt64 { timestamp.millis }

    /// The content a post shows, whether it is the post itself or an edit of one.
    public var postContent: PostContent? {
        switch payload {
        case .post(let content), .edit(_, let content): content
        default: nil
        }
    }
}

/// A decoded, verified envelope: its content, signature, id and exact bytes.
public struct Envelope: Hashable, Sendable {
    public let id: EnvelopeID
    public let content: EnvelopeContent
    public let signature: Signature
    /// The envelope as it travels and is stored: content bytes then the signature.
    public let bytes: [UInt8]

    /// Only ``EnvelopeValidator`` and signers make envelopes, after checking or making the signature.
    package init(id: EnvelopeID, content: EnvelopeContent, signature: Signature, bytes: [UInt8]) {
        self.id = id
        self.content = content
        self.signature = signature
        self.bytes = bytes
    }

    public var kind: Kind { content.kind }
    public var author: PublicKey { content.author }
    public var building: PublicKey { content.building }
    public var timestamp: HybridTimestamp { content.timestamp }
    public var expiresAt: UInt64 { content.expiresAt }
    public var target: EnvelopeID? { content.target }

    /// Last-writer-wins order: timestamp, then id.
    public static func precedes(_ a: Envelope, _ b: Envelope) -> Bool {
        a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.id < b.id
    }
}
