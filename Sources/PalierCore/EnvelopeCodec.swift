/// The canonical binary encoding of envelopes (docs/protocol.md, "Envelope bytes").
///
/// There is exactly one encoding of a given content: fixed field order, big-endian integers,
/// length-prefixed UTF-8, no optional padding, and decoding refuses anything else.
public enum EnvelopeCodec {
    /// Prepended to the content bytes to form the message that is signed and hashed, so that a
    /// palier signature can never be mistaken for a signature over anything else.
    public static let signatureDomain: [UInt8] = Array("palier-envelope-v1".utf8) + [0]

    /// Bytes before the kind-specific fields: version, kind, scope, building, author, timestamp, expiry.
    static let headerLength = 1 + 1 + 1 + 32 + 32 + 8 + 8

    /// The content bytes of a valid envelope. Throws if the content breaks a rule.
    public static func encode(_ content: EnvelopeContent) throws(EnvelopeError) -> [UInt8] {
        try EnvelopeRules.check(content)
        var w = ByteWriter()
        w.u8(content.version)
        w.u8(content.kind.rawValue)
        w.u8(content.scope.rawValue)
        w.raw(content.building.bytes)
        w.raw(content.author.bytes)
        w.u64(content.timestamp.rawValue)
        w.u64(content.expiresAt)
        if let target = content.target { w.raw(target.bytes) }
        switch content.payload {
        case .post(let post):
            writePost(post, to: &w)
        case .edit(let kind, let post):
            w.u8(kind.rawValue)
            writePost(post, to: &w)
        case .retract:
            break
        case .hide(let reason):
            w.string16(reason)
        case .grant(let grant):
            w.raw(grant.subject.bytes)
            w.u8(grant.role?.rawValue ?? 0)
            w.string16(grant.displayName)
        case .profile(let profile):
            w.string16(profile.name)
            w.string16(profile.address)
            if let c = profile.coordinates {
                w.u8(1)
                w.i32(c.latitudeMicrodegrees)
                w.i32(c.longitudeMicrodegrees)
            } else {
                w.u8(0)
            }
        }
        guard w.bytes.count + Signature.byteCount <= Limits.maximumEnvelopeBytes else {
            throw .tooLarge(w.bytes.count + Signature.byteCount)
        }
        return w.bytes
    }

    /// The message a signature covers and whose BLAKE2b-256 is the id: domain, then content bytes.
    public static func signedMessage(contentBytes: some Collection<UInt8>) -> [UInt8] {
        var message = [UInt8]()
        message.reserveCapacity(signatureDomain.count + contentBytes.count)
        message.append(contentsOf: signatureDomain)
        message.append(contentsOf: contentBytes)
        return message
    }

    /// Splits envelope bytes into content and signature and decodes the content, checking every
    /// rule that does not depend on the clock. The signature is not checked here.
    public static func decode(_ bytes: [UInt8]) throws(EnvelopeError) -> (content: EnvelopeContent, contentLength: Int, signature: Signature) {
        guard bytes.count <= Limits.maximumEnvelopeBytes else { throw .tooLarge(bytes.count) }
        var r = ByteReader(bytes)
        let version = try r.u8()
        guard version == EnvelopeContent.currentVersion else { throw .unsupportedVersion(version) }
        let kindCode = try r.u8()
        guard let kind = Kind(rawValue: kindCode) else { throw .unknownKind(kindCode) }
        let scopeCode = try r.u8()
        guard let scope = Scope(rawValue: scopeCode) else { throw .unknownScope(scopeCode) }
        let building = PublicKey(bytes: try r.raw(32))!
        let author = PublicKey(bytes: try r.raw(32))!
        let timestamp = HybridTimestamp(rawValue: try r.u64())
        let expiresAt = try r.u64()
        let target: EnvelopeID? = kind.hasTarget ? EnvelopeID(bytes: try r.raw(32))! : nil
        let payload: Payload
        switch kind {
        case .tip, .classified, .event, .notice, .flash, .alert, .promo:
            payload = .post(try readPost(kind: kind, from: &r))
        case .edit:
            let innerCode = try r.u8()
            guard let inner = Kind(rawValue: innerCode), inner.isContent else { throw .editOfNonContentKind(innerCode) }
            payload = .edit(kind: inner, content: try readPost(kind: inner, from: &r))
        case .retract:
            payload = .retract
        case .hide:
            payload = .hide(reason: try r.string16("reason"))
        case .grant:
            let subject = PublicKey(bytes: try r.raw(32))!
            let roleCode = try r.u8()
            let role: Role?
            if roleCode == 0 {
                role = nil
            } else {
                guard let known = Role(rawValue: roleCode) else { throw .unknownRole(roleCode) }
                role = known
            }
            payload = .grant(Grant(subject: subject, role: role, displayName: try r.string16("display name")))
        case .profile:
            let name = try r.string16("building name")
            let address = try r.string16("address")
            let flag = try r.u8()
            var coordinates: Coordinates?
            switch flag {
            case 0: coordinates = nil
            case 1: coordinates = Coordinates(latitudeMicrodegrees: try r.i32(), longitudeMicrodegrees: try r.i32())
            default: throw .invalidFlag("coordinates")
            }
            payload = .profile(BuildingProfile(name: name, address: address, coordinates: coordinates))
        }
        let contentLength = r.offset
        let signatureBytes = try r.raw(Signature.byteCount)
        guard r.remaining == 0 else { throw .trailingBytes(r.remaining) }
        let content = EnvelopeContent(
            version: version, kind: kind, scope: scope, building: building, author: author,
            timestamp: timestamp, expiresAt: expiresAt, target: target, payload: payload
        )
        try EnvelopeRules.check(content)
        return (content, contentLength, Signature(bytes: signatureBytes)!)
    }

    private static func writePost(_ post: PostContent, to w: inout ByteWriter) {
        w.string16(post.title)
        w.string16(post.body)
        w.string8(post.language)
        if let event = post.event {
            w.u64(event.startsAt)
            w.u64(event.endsAt)
            w.string16(event.place)
        }
        for ext in extensions(of: post) {
            w.u8(ext.tag)
            w.u16(UInt16(ext.value.count))
            w.raw(ext.value)
        }
    }

    /// A post's extensions in the order they are written: by tag.
    static func extensions(of post: PostContent) -> [PostExtension] {
        func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
        var all = post.otherExtensions
        if let from = post.showsFrom { all.append(PostExtension(tag: PostExtension.showsFrom, value: u64(from))) }
        if let until = post.showsUntil { all.append(PostExtension(tag: PostExtension.showsUntil, value: u64(until))) }
        if !post.images.isEmpty { all.append(PostExtension(tag: PostExtension.images, value: imagesValue(post.images))) }
        if let link = post.link { all.append(PostExtension(tag: PostExtension.link, value: Array(link.utf8))) }
        return all.sorted { $0.tag < $1.tag }
    }

    private static func readPost(kind: Kind, from r: inout ByteReader) throws(EnvelopeError) -> PostContent {
        let title = try r.string16("title")
        let body = try r.string16("body")
        let language = try r.string8("language")
        var event: EventDetails?
        if kind == .event {
            let start = try r.u64()
            let end = try r.u64()
            event = EventDetails(startsAt: start, endsAt: end, place: try r.string16("place"))
        }
        var post = PostContent(title: title, body: body, language: language, event: event)
        // Extensions run up to the signature: tag, 2-byte length, value; tags strictly increasing.
        var previous: UInt8?
        while r.remaining > Signature.byteCount {
            // Fewer bytes than an extension's tag and length: stray bytes, not an extension.
            guard r.remaining - Signature.byteCount >= 3 else { throw .trailingBytes(r.remaining - Signature.byteCount) }
            let tag = try r.u8()
            let length = Int(try r.u16())
            guard length <= r.remaining - Signature.byteCount else { throw .truncated }
            let value = try r.raw(length)
            if let previous, tag <= previous { throw .invalidExtension(tag) }
            previous = tag
            switch tag {
            case PostExtension.showsFrom, PostExtension.showsUntil:
                guard value.count == 8 else { throw .invalidExtension(tag) }
                let time = value.reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
                if tag == PostExtension.showsFrom { post.showsFrom = time } else { post.showsUntil = time }
            case PostExtension.images:
                post.images = try readImages(value)
            case PostExtension.link:
                guard let link = String(validating: value, as: UTF8.self) else { throw .invalidUTF8("link") }
                post.link = link
            default:
                post.otherExtensions.append(PostExtension(tag: tag, value: value))
            }
        }
        return post
    }

    /// Extension 3: `count: u8`, then per image its blob (32 bytes), `size: u32`, `type: u8`,
    /// `width: u16`, `height: u16` and `alt: str16`.
    static func imagesValue(_ images: [ImageReference]) -> [UInt8] {
        var w = ByteWriter(capacity: 64 * images.count)
        w.u8(UInt8(clamping: images.count))
        for image in images {
            w.raw(image.blob.bytes)
            w.u32(image.byteCount)
            w.u8(image.type.rawValue)
            w.u16(image.width)
            w.u16(image.height)
            w.string16(image.alt)
        }
        return w.bytes
    }

    static func readImages(_ value: [UInt8]) throws(EnvelopeError) -> [ImageReference] {
        var r = ByteReader(value)
        let count = Int(try r.u8())
        // An empty list would be written as no extension at all: other bytes, another id.
        guard count > 0 else { throw .invalidExtension(PostExtension.images) }
        var images: [ImageReference] = []
        for _ in 0..<count {
            let blob = BlobID(bytes: try r.raw(BlobID.byteCount))!
            let size = try r.u32()
            let code = try r.u8()
            guard let type = ImageType(rawValue: code) else { throw .invalidAttachment(.unknownImageType(code)) }
            let width = try r.u16()
            let height = try r.u16()
            images.append(ImageReference(blob: blob, byteCount: size, type: type, width: width, height: height, alt: try r.string16("alt")))
        }
        guard r.remaining == 0 else { throw .invalidExtension(PostExtension.images) }
        return images
    }
}
