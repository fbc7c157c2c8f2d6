/// Why an envelope was refused. Decoding never crashes: it yields an envelope or one of these.
public struct EnvelopeError: Error, Hashable, Sendable, CustomStringConvertible {
    package enum Code: Hashable, Sendable {
        case tooLarge(Int)
        case truncated
        case trailingBytes(Int)
        case unsupportedVersion(UInt8)
        case unknownKind(UInt8)
        case unknownScope(UInt8)
        case unknownRole(UInt8)
        case invalidFlag(String)
        case invalidUTF8(String)
        case tooLong(field: String, length: Int, limit: Int, unit: String)
        case empty(String)
        case controlCharacter(String)
        case invalidLanguage
        case zeroTimestamp
        case expiryNotAfterCreation
        case expiryTooFar(days: Int, limit: Int)
        case eventEndsBeforeStart
        case editOfNonContentKind(UInt8)
        case notSignedByBuilding(Kind)
        case invalidCoordinates
        case invalidExtension(UInt8)
        case invalidAttachment(AttachmentProblem)
        case neverShown
        case badSignature
        case expired
        case fromTheFuture(secondsAhead: UInt64)
        case foreignBuildingScope
    }
    package let code: Code

    package init(_ code: Code) { self.code = code }

    /// Larger than 4 KiB.
    public static func tooLarge(_ n: Int) -> Self { Self(.tooLarge(n)) }
    /// The bytes end in the middle of a field.
    public static let truncated = Self(.truncated)
    /// Bytes remain after the signature.
    public static func trailingBytes(_ n: Int) -> Self { Self(.trailingBytes(n)) }
    public static func unsupportedVersion(_ v: UInt8) -> Self { Self(.unsupportedVersion(v)) }
    public static func unknownKind(_ k: UInt8) -> Self { Self(.unknownKind(k)) }
    public static func unknownScope(_ s: UInt8) -> Self { Self(.unknownScope(s)) }
    public static func unknownRole(_ r: UInt8) -> Self { Self(.unknownRole(r)) }
    public static func invalidFlag(_ field: String) -> Self { Self(.invalidFlag(field)) }
    public static func invalidUTF8(_ field: String) -> Self { Self(.invalidUTF8(field)) }
    public static func tooLong(_ field: String, length: Int, limit: Int, unit: String) -> Self {
        Self(.tooLong(field: field, length: length, limit: limit, unit: unit))
    }
    public static func empty(_ field: String) -> Self { Self(.empty(field)) }
    public static func controlCharacter(_ field: String) -> Self { Self(.controlCharacter(field)) }
    public static let invalidLanguage = Self(.invalidLanguage)
    public static let zeroTimestamp = Self(.zeroTimestamp)
    public static let expiryNotAfterCreation = Self(.expiryNotAfterCreation)
    public static func expiryTooFar(days: Int, limit: Int) -> Self { Self(.expiryTooFar(days: days, limit: limit)) }
    public static let eventEndsBeforeStart = Self(.eventEndsBeforeStart)
    public static func editOfNonContentKind(_ k: UInt8) -> Self { Self(.editOfNonContentKind(k)) }
    public static func notSignedByBuilding(_ kind: Kind) -> Self { Self(.notSignedByBuilding(kind)) }
    public static let invalidCoordinates = Self(.invalidCoordinates)
    /// What is wrong with a post's images or link.
    public enum AttachmentProblem: Hashable, Sendable {
        case tooManyImages(Int)
        case repeatedImage
        case imageTooLarge(bytes: UInt64)
        case imageDimensions(width: Int, height: Int)
        case unknownImageType(UInt8)
        case link(String)
    }

    public static func invalidAttachment(_ problem: AttachmentProblem) -> Self { Self(.invalidAttachment(problem)) }

    /// A post extension out of order, repeated, or of the wrong length for its tag.
    public static func invalidExtension(_ tag: UInt8) -> Self { Self(.invalidExtension(tag)) }
    /// A post that starts showing after it stops or expires.
    public static let neverShown = Self(.neverShown)
    /// The signature does not verify for the author's key.
    public static let badSignature = Self(.badSignature)
    /// Its expiry has passed.
    public static let expired = Self(.expired)
    /// Created more than 10 minutes ahead of this node's clock: refused for now, offered again later.
    public static func fromTheFuture(secondsAhead: UInt64) -> Self { Self(.fromTheFuture(secondsAhead: secondsAhead)) }
    /// A `building`-scope envelope of another building: such envelopes never leave their node.
    public static let foreignBuildingScope = Self(.foreignBuildingScope)

    /// True for refusals that say nothing bad about the sender (clock skew).
    public var isTransient: Bool {
        if case .fromTheFuture = code { return true }
        return false
    }

    public var description: String {
        switch code {
        case .tooLarge(let n): L("the envelope is \(n) bytes; the limit is \(Limits.maximumEnvelopeBytes) bytes", "l'enveloppe fait \(n) octets ; la limite est de \(Limits.maximumEnvelopeBytes) octets")
        case .truncated: L("the envelope is truncated", "l'enveloppe est tronquée")
        case .trailingBytes(let n): L("the envelope has \(n) unexpected bytes after its signature", "l'enveloppe a \(n) octets inattendus après sa signature")
        case .unsupportedVersion(let v): L("envelope version \(v) is not supported (this node speaks version \(EnvelopeContent.currentVersion))", "la version d'enveloppe \(v) n'est pas prise en charge (ce nœud parle la version \(EnvelopeContent.currentVersion))")
        case .unknownKind(let k): L("kind code \(k) is unknown", "le code de genre \(k) est inconnu")
        case .unknownScope(let s): L("scope code \(s) is unknown", "le code de portée \(s) est inconnu")
        case .unknownRole(let r): L("role code \(r) is unknown", "le code de rôle \(r) est inconnu")
        case .invalidFlag(let f): L("the \(f) flag must be 0 or 1", "l'indicateur \(f) doit valoir 0 ou 1")
        case .invalidAttachment(let problem):
            switch problem {
            case .tooManyImages(let n): L("a post carries at most \(Limits.maximumImages) images, not \(n)", "une publication porte au plus \(Limits.maximumImages) images, pas \(n)")
            case .repeatedImage: L("the same image is attached twice", "la même image est jointe deux fois")
            case .imageTooLarge(let n): L("an image of \(n) bytes: the limit is \(Limits.maximumBlobBytes) bytes", "une image de \(n) octets : la limite est de \(Limits.maximumBlobBytes) octets")
            case .imageDimensions(let w, let h): L("an image of \(w) × \(h) pixels: each side must be 1 to \(Limits.maximumImageSide)", "une image de \(w) × \(h) pixels : chaque côté doit mesurer de 1 à \(Limits.maximumImageSide)")
            case .unknownImageType(let code): L("unknown image type \(code)", "type d'image inconnu \(code)")
            case .link(let why): L("the link is refused: \(why)", "le lien est refusé : \(why)")
            }
        case .invalidExtension(let tag): L("post extension \(tag) is out of order, repeated, or of the wrong length", "l'extension \(tag) de la publication est hors d'ordre, répétée ou de mauvaise longueur")
        case .neverShown: L("the post would never be shown: it starts showing after it stops (or after it expires)", "la publication ne serait jamais affichée : son affichage commence après sa fin (ou après son échéance)")
        case .invalidUTF8(let f): L("the \(f) is not valid UTF-8", "\(Self.field(f)) n'est pas de l'UTF-8 valide")
        case .tooLong(let f, let length, let limit, let unit): L("the \(f) is \(length) \(unit); the limit is \(limit) \(unit)", "\(Self.field(f)) fait \(length) \(Self.unit(unit)) ; la limite est de \(limit) \(Self.unit(unit))")
        case .empty(let f): L("the \(f) must not be empty", "\(Self.field(f)) ne doit pas être vide")
        case .controlCharacter(let f): L("the \(f) contains a control character", "\(Self.field(f)) contient un caractère de contrôle")
        case .invalidLanguage: L("the language tag must be at most 16 letters, digits and dashes", "l'étiquette de langue doit compter au plus 16 lettres, chiffres et tirets")
        case .zeroTimestamp: L("the timestamp is zero", "l'horodatage vaut zéro")
        case .expiryNotAfterCreation: L("the expiry is not after the creation time", "l'échéance n'est pas postérieure à la création")
        case .expiryTooFar(let days, let limit): L("the expiry is \(days) days after creation; the limit is \(limit) days", "l'échéance est \(days) jours après la création ; la limite est de \(limit) jours")
        case .eventEndsBeforeStart: L("the event ends before it starts", "l'événement finit avant de commencer")
        case .editOfNonContentKind(let k): L("an edit must carry content of a post kind, not kind code \(k)", "une modification doit porter le contenu d'une publication, pas le code de genre \(k)")
        case .notSignedByBuilding(let kind): L("a \(kind) must be signed by the building key itself", "une enveloppe de genre « \(kind) » doit être signée par la clé de l'immeuble même")
        case .invalidCoordinates: L("the coordinates are out of range", "les coordonnées sont hors limites")
        case .badSignature: L("the signature does not match the author's key", "la signature ne correspond pas à la clé de l'auteur")
        case .expired: L("the envelope has expired", "l'enveloppe a expiré")
        case .fromTheFuture(let s): L("the envelope was created \(s) s in the future; it will be accepted once the clocks agree", "l'enveloppe a été créée \(s) s dans le futur ; elle sera acceptée quand les horloges s'accorderont")
        case .foreignBuildingScope: L("a building-scope envelope of another building cannot be accepted here", "une enveloppe réservée à un autre immeuble ne peut pas être acceptée ici")
        }
    }

    /// A field's name in French, with its article, for the sentences above.
    static func field(_ name: String) -> String {
        switch name {
        case "title": "le titre"
        case "body": "le texte"
        case "place": "le lieu"
        case "reason": "le motif"
        case "display name": "le nom affiché"
        case "building name": "le nom de l'immeuble"
        case "address": "l'adresse"
        default: "le champ « \(name) »"
        }
    }

    static func unit(_ unit: String) -> String {
        switch unit {
        case "bytes": "octets"
        case "characters": "caractères"
        default: unit
        }
    }
}
