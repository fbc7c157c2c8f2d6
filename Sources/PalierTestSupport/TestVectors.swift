import PalierCore
import PalierCrypto

/// The published test vectors of docs/protocol.md: fixed seeds, fixed content.
public enum TestVectors {
    /// Building key seed: bytes 0x00, 0x01, … 0x1f.
    public static let buildingKey = SigningKey(seed: (0..<32).map { UInt8($0) })!
    /// Resident key seed: bytes 0x20, 0x21, … 0x3f.
    public static let residentKey = SigningKey(seed: (32..<64).map { UInt8($0) })!

    /// 2026-11-01T08:00:00Z
    static let created: UInt64 = 1_793_520_000_000

    /// Vector 1: the building grants the resident role.
    public static var grantContent: EnvelopeContent {
        EnvelopeContent(
            kind: .grant, scope: .neighbourhood,
            building: buildingKey.publicKey, author: buildingKey.publicKey,
            timestamp: HybridTimestamp(millis: created, counter: 0),
            expiresAt: created + 365 * Limits.millisPerDay,
            payload: .grant(Grant(subject: residentKey.publicKey, role: .resident, displayName: "Camille, 3e étage"))
        )
    }

    /// Vector 2: the resident posts a tip.
    public static var tipContent: EnvelopeContent {
        EnvelopeContent(
            kind: .tip, scope: .neighbourhood,
            building: buildingKey.publicKey, author: residentKey.publicKey,
            timestamp: HybridTimestamp(millis: created + 60_000, counter: 1),
            expiresAt: created + 60_000 + 7 * Limits.millisPerDay,
            payload: .post(PostContent(
                title: "Fuite d'eau au local vélos",
                body: "Le robinet fuit : merci de ne pas l'utiliser avant jeudi.",
                language: "fr"
            ))
        )
    }

    /// Vector 4: the building schedules a notice for its own building (shows-from).
    public static var scheduledNoticeContent: EnvelopeContent {
        let from = created + 2 * Limits.millisPerDay - 3_600_000
        return EnvelopeContent(
            kind: .notice, scope: .building,
            building: buildingKey.publicKey, author: buildingKey.publicKey,
            timestamp: HybridTimestamp(millis: created + 120_000, counter: 0),
            expiresAt: from + 7 * Limits.millisPerDay,
            payload: .post(PostContent(
                title: "Ramonage des conduits",
                body: "Le ramoneur passe mardi ; merci de laisser l'accès aux caves.",
                language: "fr", showsFrom: from
            ))
        )
    }

    /// The blob of vector 6: BLAKE2b-256 of the 18 ASCII bytes "palier blob vector".
    public static let imageBlob = BlobID(hex: "bf377833c726724ddce05078c151b51fa03b5855f03f793086b4e40ee810b0c3")!

    /// Vector 6: two hours after vector 1 the resident offers a child's bike, with a photo and a link.
    public static var imagePostContent: EnvelopeContent {
        EnvelopeContent(
            kind: .classified, scope: .neighbourhood,
            building: buildingKey.publicKey, author: residentKey.publicKey,
            timestamp: HybridTimestamp(millis: created + 7_200_000, counter: 0),
            expiresAt: created + 7_200_000 + 14 * Limits.millisPerDay,
            payload: .post(PostContent(
                title: "Vélo d'enfant à donner",
                body: "16 pouces, bon état. Loge du bâtiment B.",
                language: "fr",
                images: [ImageReference(blob: imageBlob, byteCount: 48_213, type: .jpeg, width: 1600, height: 1200,
                                        alt: "Un vélo d'enfant rouge appuyé contre un mur")],
                link: "https://exemple.fr/velo"
            ))
        )
    }

    /// Vector 5: the resident edits the tip of vector 2 and takes it off the screens early.
    public static var editEndingEarlyContent: EnvelopeContent {
        let tip = try! residentKey.sign(tipContent)
        return EnvelopeContent(
            kind: .edit, scope: .neighbourhood,
            building: buildingKey.publicKey, author: residentKey.publicKey,
            timestamp: HybridTimestamp(millis: created + 3_600_000, counter: 0),
            expiresAt: tip.expiresAt, target: tip.id,
            payload: .edit(kind: .tip, content: PostContent(
                title: "Fuite d'eau au local vélos (réparée)",
                body: "Le plombier est passé : le robinet est réparé.",
                language: "fr", showsUntil: created + 28 * 3_600_000
            ))
        )
    }
}
