/// One post as a screen or `palier list` shows it: the post merged with its latest edit and with
/// what the grants say about its author.
public struct ViewItem: Hashable, Sendable {
    /// The post's id (edits keep it).
    public let id: EnvelopeID
    public let kind: Kind
    public let scope: Scope
    public let building: PublicKey
    public let author: PublicKey
    /// The author's role; nil when the building key itself posted.
    public let role: Role?
    /// The grant's display name, or the building's name when the building key posted.
    public let authorName: String
    /// The origin building's name from its latest profile, if one is known.
    public let buildingName: String?
    /// The content shown: the post's, or its latest edit's.
    public let content: PostContent
    public let postedAt: HybridTimestamp
    /// The envelope whose content is shown: the post itself or the winning edit.
    public let revision: EnvelopeID
    /// When the shown edit was made; nil when unedited.
    public let editedAt: HybridTimestamp?
    public let expiresAt: UInt64
    /// The grant that authorises the author; nil for the building key.
    public let grant: EnvelopeID?

    public init(id: EnvelopeID, kind: Kind, scope: Scope, building: PublicKey, author: PublicKey, role: Role?, authorName: String, buildingName: String?, content: PostContent, postedAt: HybridTimestamp, revision: EnvelopeID, editedAt: HybridTimestamp?, expiresAt: UInt64, grant: EnvelopeID?) {
        self.id = id
        self.kind = kind
        self.scope = scope
        self.building = building
        self.author = author
        self.role = role
        self.authorName = authorName
        self.buildingName = buildingName
        self.content = content
        self.postedAt = postedAt
        self.revision = revision
        self.editedAt = editedAt
        self.expiresAt = expiresAt
        self.grant = grant
    }
}

/// A key's current standing in a building, from the building's latest live grant for it.
public struct Membership: Hashable, Sendable {
    public let building: PublicKey
    public let subject: PublicKey
    /// nil: the latest grant revokes.
    public let role: Role?
    public let displayName: String
    public let grantedAt: HybridTimestamp
    public let expiresAt: UInt64
    public let grant: EnvelopeID

    public init(building: PublicKey, subject: PublicKey, role: Role?, displayName: String, grantedAt: HybridTimestamp, expiresAt: UInt64, grant: EnvelopeID) {
        self.building = building
        self.subject = subject
        self.role = role
        self.displayName = displayName
        self.grantedAt = grantedAt
        self.expiresAt = expiresAt
        self.grant = grant
    }
}

/// A building's latest live profile.
public struct ProfileEntry: Hashable, Sendable {
    public let building: PublicKey
    public let profile: BuildingProfile
    public let envelope: EnvelopeID
    public let updatedAt: HybridTimestamp

    public init(building: PublicKey, profile: BuildingProfile, envelope: EnvelopeID, updatedAt: HybridTimestamp) {
        self.building = building
        self.profile = profile
        self.envelope = envelope
        self.updatedAt = updatedAt
    }
}

/// What a node shows: a deterministic function of its set of envelopes, the time and which
/// building is looking (see ``ViewRules``).
public struct BuildingView: Hashable, Sendable {
    /// Visible posts, newest first (timestamp descending, then id ascending).
    public let items: [ViewItem]
    /// Current memberships, ordered by building then subject.
    public let memberships: [Membership]
    /// Latest profile of each building, ordered by building key.
    public let profiles: [ProfileEntry]

    public init(items: [ViewItem], memberships: [Membership], profiles: [ProfileEntry]) {
        self.items = items
        self.memberships = memberships
        self.profiles = profiles
    }

    /// Canonical bytes of the view, hashed into the state digest: the same on two nodes exactly
    /// when they show the same posts with the same content, roles and profiles.
    public func canonicalBytes() -> [UInt8] {
        var w = ByteWriter(capacity: 16 + items.count * 100)
        w.raw(Array("palier-view-v1".utf8))
        w.u64(UInt64(items.count))
        for item in items {
            w.raw(item.id.bytes)
            w.raw(item.revision.bytes)
            w.u8(item.role?.rawValue ?? 0)
            w.raw(item.grant?.bytes ?? [UInt8](repeating: 0, count: 32))
        }
        w.u64(UInt64(memberships.count))
        for m in memberships { w.raw(m.grant.bytes) }
        w.u64(UInt64(profiles.count))
        for p in profiles { w.raw(p.envelope.bytes) }
        return w.bytes
    }

    public func profile(of building: PublicKey) -> BuildingProfile? {
        profiles.first { $0.building == building }?.profile
    }

    public func membership(of subject: PublicKey, in building: PublicKey) -> Membership? {
        memberships.first { $0.building == building && $0.subject == subject }
    }
}
