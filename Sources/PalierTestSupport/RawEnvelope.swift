import PalierCore
import PalierCrypto

/// Envelope bytes written field by field with no rule applied, then signed: what a hostile or
/// broken peer can send. The layout is docs/protocol.md §2 (big-endian integers, 16-bit
/// lengths before text, 8-bit before the language).
public struct RawEnvelope: Sendable {
    public var version: UInt8 = EnvelopeContent.currentVersion
    public var kind: Kind = .tip
    public var scope: Scope = .neighbourhood
    public var building: PublicKey
    public var author: SigningKey
    public var timestamp: UInt64 = HybridTimestamp(millis: Fixtures.epoch).rawValue
    public var expiresAt: UInt64 = Fixtures.epoch + 7 * Fixtures.day
    public var title = "Bonjour"
    public var body = ""
    public var language = "fr"
    /// For events: start, end (Unix milliseconds), place.
    public var event: (start: UInt64, end: UInt64, place: String)?
    /// Post extensions as written, in the order given (tag, value).
    public var extensions: [(tag: UInt8, value: [UInt8])] = []

    public init(author: SigningKey, building: PublicKey? = nil) {
        self.author = author
        self.building = building ?? author.publicKey
    }

    /// Content bytes (a content kind only), then the author's signature over them.
    public var bytes: [UInt8] {
        var content: [UInt8] = [version, kind.rawValue, scope.rawValue] + building.bytes + author.publicKey.bytes
        content += Self.u64(timestamp) + Self.u64(expiresAt)
        content += Self.string16(title) + Self.string16(body)
        content += [UInt8(language.utf8.count)] + Array(language.utf8)
        if let event { content += Self.u64(event.start) + Self.u64(event.end) + Self.string16(event.place) }
        for ext in extensions { content += [ext.tag, UInt8(ext.value.count >> 8), UInt8(ext.value.count & 0xff)] + ext.value }
        return content + author.sign(EnvelopeCodec.signedMessage(contentBytes: content)).bytes
    }

    public static func u64(_ v: UInt64) -> [UInt8] { (0..<8).map { UInt8(truncatingIfNeeded: v >> (56 - 8 * UInt64($0))) } }
    static func string16(_ s: String) -> [UInt8] {
        let utf8 = Array(s.utf8)
        return [UInt8(utf8.count >> 8), UInt8(utf8.count & 0xff)] + utf8
    }
}

/// The four values a test tries for every outside number: 0, 1, max − 1, max.
public func extremes<T: FixedWidthInteger>(_: T.Type) -> [T] { [0, 1, T.max - 1, T.max] }
