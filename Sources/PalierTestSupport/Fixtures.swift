import PalierCore
import PalierCrypto

/// Deterministic keys and envelopes for tests and benchmarks.
public enum Fixtures {
    /// A fixed instant (2026-11-01T00:00:00Z) that tests use as "now".
    public static let epoch: UInt64 = 1_793_491_200_000
    public static let day = Limits.millisPerDay

    /// A key derived from a small number, the same on every run.
    public static func key(_ n: UInt64) -> SigningKey {
        var random = SeededRandom(seed: 0x5EED_0000 &+ n)
        return SigningKey(seed: random.bytes(32))!
    }

    /// A content post.
    public static func post(
        _ kind: Kind = .tip, by author: SigningKey, in building: PublicKey, at millis: UInt64 = epoch,
        counter: UInt16 = 0, lifetime: UInt64 = 7 * day, scope: Scope = .neighbourhood,
        title: String = "Bonjour", body: String = "Le marché de la place est ouvert dimanche.", showsFrom: UInt64? = nil
    ) -> Envelope {
        let event = kind == .event ? EventDetails(startsAt: millis + day, endsAt: millis + day + 3_600_000, place: "Cour") : nil
        return sign(author, EnvelopeContent(
            kind: kind, scope: scope, building: building, author: author.publicKey,
            timestamp: HybridTimestamp(millis: millis, counter: counter), expiresAt: millis + lifetime,
            payload: .post(PostContent(title: title, body: body, language: "fr", event: event, showsFrom: showsFrom))
        ))
    }

    /// A grant (or revocation, when `role` is nil) signed by the building key.
    public static func grant(
        _ role: Role?, to subject: PublicKey, by building: SigningKey, name: String = "Voisin",
        at millis: UInt64 = epoch, counter: UInt16 = 0, lifetime: UInt64 = 365 * day
    ) -> Envelope {
        sign(building, EnvelopeContent(
            kind: .grant, scope: .neighbourhood, building: building.publicKey, author: building.publicKey,
            timestamp: HybridTimestamp(millis: millis, counter: counter), expiresAt: millis + lifetime,
            payload: .grant(Grant(subject: subject, role: role, displayName: role == nil ? "" : name))
        ))
    }

    /// An edit of `target` by its author.
    public static func edit(
        _ target: Envelope, by author: SigningKey, title: String, at millis: UInt64, counter: UInt16 = 0, showsUntil: UInt64? = nil
    ) -> Envelope {
        var content = target.content.postContent!
        content.title = title
        if let showsUntil { content.showsUntil = showsUntil }
        return sign(author, EnvelopeContent(
            kind: .edit, scope: target.content.scope, building: target.building, author: author.publicKey,
            timestamp: HybridTimestamp(millis: millis, counter: counter), expiresAt: target.expiresAt,
            target: target.id, payload: .edit(kind: target.kind, content: content)
        ))
    }

    /// A retract of `target`, living exactly as long as the target.
    public static func retract(_ target: Envelope, by author: SigningKey, in building: PublicKey, at millis: UInt64) -> Envelope {
        sign(author, EnvelopeContent(
            kind: .retract, scope: target.content.scope, building: building, author: author.publicKey,
            timestamp: HybridTimestamp(millis: millis), expiresAt: target.expiresAt, target: target.id, payload: .retract
        ))
    }

    /// A hide of `target` by `hider` on behalf of `building`.
    public static func hide(
        _ target: Envelope, by hider: SigningKey, for building: PublicKey, at millis: UInt64, lifetime: UInt64 = 30 * day
    ) -> Envelope {
        sign(hider, EnvelopeContent(
            kind: .hide, scope: .neighbourhood, building: building, author: hider.publicKey,
            timestamp: HybridTimestamp(millis: millis), expiresAt: millis + lifetime, target: target.id,
            payload: .hide(reason: "modération")
        ))
    }

    /// A building profile.
    public static func profile(of building: SigningKey, name: String, at millis: UInt64 = epoch, counter: UInt16 = 0) -> Envelope {
        sign(building, EnvelopeContent(
            kind: .profile, scope: .neighbourhood, building: building.publicKey, author: building.publicKey,
            timestamp: HybridTimestamp(millis: millis, counter: counter), expiresAt: millis + 90 * day,
            payload: .profile(BuildingProfile(name: name, address: "3 rue des Lilas, Lyon"))
        ))
    }

    /// Bytes standing for an image in tests of transfer (the check is a test's to stub), and the
    /// reference a post makes to them.
    public static func blob(_ n: UInt64, size: Int = 150_000, alt: String = "Un vélo rouge") -> (bytes: [UInt8], reference: ImageReference) {
        var random = SeededRandom(seed: 0xB10B_0000 &+ n)
        let bytes = random.bytes(size)
        let reference = ImageReference(blob: BlobID(bytes: BLAKE2b.hash256(bytes))!, byteCount: UInt32(size), type: .jpeg,
                                       width: 800, height: 600, alt: alt)
        return (bytes, reference)
    }

    /// A classified with images.
    public static func imagePost(
        by author: SigningKey, in building: PublicKey, images: [ImageReference], at millis: UInt64 = epoch,
        scope: Scope = .neighbourhood, lifetime: UInt64 = 7 * day, title: String = "Vélo à donner", link: String? = nil
    ) -> Envelope {
        sign(author, EnvelopeContent(
            kind: .classified, scope: scope, building: building, author: author.publicKey,
            timestamp: HybridTimestamp(millis: millis), expiresAt: millis + lifetime,
            payload: .post(PostContent(title: title, body: "Bon état.", language: "fr", images: images, link: link))
        ))
    }

    public static func sign(_ key: SigningKey, _ content: EnvelopeContent) -> Envelope {
        do { return try key.sign(content) } catch { fatalError("fixture breaks a protocol rule: \(error)") }
    }
}
