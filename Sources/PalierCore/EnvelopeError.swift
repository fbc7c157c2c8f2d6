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
        case .tooLarge(let n): "the envelope is \(n) bytes; the limit is \(Limits.maximumEnvelopeBytes) bytes"
        case .truncated: "the envelope is truncated"
        case .trailingBytes(let n): "the envelope has \(n) unexpected bytes after its signature"
        case .unsupportedVersion(let v): "envelope version \(v) is not supported (this node speaks version \(EnvelopeContent.currentVersion))"
        case .unknownKind(let k): "kind code \(k) is unknown"
        case .unknownScope(let s): "scope code \(s) is unknown"
        case .unknownRole(let r): "role code \(r) is unknown"
        case .invalidFlag(let f): "the \(f) flag must be 0 or 1"
        case .invalidExtension(let tag): "post extension \(tag) is out of order, repeated, or of the wrong length"
        case .neverShown: "the post would never be shown: it starts showing after it stops (or after it expires)"
        case .invalidUTF8(let f): "the \(f) is not valid UTF-8"
        case .tooLong(let f, let length, let limit, let unit): "the \(f) is \(length) \(unit); the limit is \(limit) \(unit)"
        case .empty(let f): "the \(f) must not be empty"
        case .controlCharacter(let f): "the \(f) contains a control character"
        case .invalidLanguage: "the language tag must be at most 16 letters, digits and dashes"
        case .zeroTimestamp: "the timestamp is zero"
        case .expiryNotAfterCreation: "the expiry is not after the creation time"
        case .expiryTooFar(let days, let limit): "the expiry is \(days) days after creation; the limit is \(limit) days"
        case .eventEndsBeforeStart: "the event ends before it starts"
        case .editOfNonContentKind(let k): "an edit must carry content of a post kind, not kind code \(k)"
        case .notSignedByBuilding(let kind): "a \(kind) must be signed by the building key itself"
        case .invalidCoordinates: "the coordinates are out of range"
        case .badSignature: "the signature does not match the author's key"
        case .expired: "the envelope has expired"
        case .fromTheFuture(let s): "the envelope was created \(s) s in the future; it will be accepted once the clocks agree"
        case .foreignBuildingScope: "a building-scope envelope of another building cannot be accepted here"
        }
    }
}
