/// The rules every envelope obeys whatever the time: limits, text hygiene, field presence.
/// Applied when encoding (so a node cannot sign an invalid envelope) and when decoding.
public enum EnvelopeRules {
    public static func check(_ c: EnvelopeContent) throws(EnvelopeError) {
        guard c.version == EnvelopeContent.currentVersion else { throw .unsupportedVersion(c.version) }
        guard c.timestamp.rawValue != 0 else { throw .zeroTimestamp }
        guard c.expiresAt > c.createdAt else { throw .expiryNotAfterCreation }
        let lifetime = c.expiresAt - c.createdAt
        if lifetime > c.kind.maximumLifetimeMillis {
            let limit = Int(c.kind.maximumLifetimeMillis / Limits.millisPerDay)
            throw .expiryTooFar(days: Self.days(roundingUp: lifetime), limit: limit)
        }
        // The target is present exactly for the kinds that act on another envelope.
        if c.kind.hasTarget != (c.target != nil) { throw .invalidFlag("target") }

        switch c.payload {
        case .post(let post):
            guard c.kind.isContent, (post.event != nil) == (c.kind == .event) else { throw .unknownKind(c.kind.rawValue) }
            try checkPost(post, expiresAt: c.expiresAt)
        case .edit(let kind, let post):
            guard c.kind == .edit else { throw .unknownKind(c.kind.rawValue) }
            guard kind.isContent, (post.event != nil) == (kind == .event) else { throw .editOfNonContentKind(kind.rawValue) }
            try checkPost(post, expiresAt: c.expiresAt)
        case .retract:
            guard c.kind == .retract else { throw .unknownKind(c.kind.rawValue) }
        case .hide(let reason):
            guard c.kind == .hide else { throw .unknownKind(c.kind.rawValue) }
            try checkLine(reason, field: "reason", limit: Limits.maximumReasonScalars, allowEmpty: true)
        case .grant(let grant):
            guard c.kind == .grant else { throw .unknownKind(c.kind.rawValue) }
            guard c.author == c.building else { throw .notSignedByBuilding(.grant) }
            try checkLine(grant.displayName, field: "display name", limit: Limits.maximumDisplayNameScalars, allowEmpty: grant.role == nil)
        case .profile(let profile):
            guard c.kind == .profile else { throw .unknownKind(c.kind.rawValue) }
            guard c.author == c.building else { throw .notSignedByBuilding(.profile) }
            try checkLine(profile.name, field: "building name", limit: Limits.maximumBuildingNameScalars, allowEmpty: false)
            try checkLine(profile.address, field: "address", limit: Limits.maximumAddressScalars, allowEmpty: true)
            if let co = profile.coordinates {
                guard abs(Int(co.latitudeMicrodegrees)) <= 90_000_000, abs(Int(co.longitudeMicrodegrees)) <= 180_000_000 else {
                    throw .invalidCoordinates
                }
            }
        }
    }

    static func checkPost(_ post: PostContent, expiresAt: UInt64) throws(EnvelopeError) {
        // Shown at some time: from before until, and before the envelope is gone.
        let from = post.showsFrom ?? 0
        guard from < min(post.showsUntil ?? .max, expiresAt) else { throw .neverShown }
        var tags = Set<UInt8>()
        for ext in post.otherExtensions {
            guard !PostExtension.known.contains(ext.tag), ext.value.count <= Int(UInt16.max),
                  tags.insert(ext.tag).inserted else { throw .invalidExtension(ext.tag) }
        }
        try checkLine(post.title, field: "title", limit: Limits.maximumTitleScalars, allowEmpty: false)
        let bodyBytes = post.body.utf8.count
        guard bodyBytes <= Limits.maximumBodyBytes else {
            throw .tooLong("body", length: bodyBytes, limit: Limits.maximumBodyBytes, unit: "bytes")
        }
        if TextScan.containsControl(post.body, allowingLineBreaks: true) { throw .controlCharacter("body") }
        let language = post.language.utf8
        guard language.count <= Limits.maximumLanguageBytes,
              language.allSatisfy({ isASCIIAlphanumeric($0) || $0 == UInt8(ascii: "-") }) else {
            throw .invalidLanguage
        }
        try checkAttachments(post)
        if let event = post.event {
            guard event.endsAt >= event.startsAt else { throw .eventEndsBeforeStart }
            try checkLine(event.place, field: "place", limit: Limits.maximumPlaceScalars, allowEmpty: true)
        }
    }

    /// Images and link (extensions 3 and 4, docs/protocol.md §2.2.2).
    static func checkAttachments(_ post: PostContent) throws(EnvelopeError) {
        guard post.images.count <= Limits.maximumImages else { throw .invalidAttachment(.tooManyImages(post.images.count)) }
        var seen = Set<BlobID>()
        for image in post.images {
            guard seen.insert(image.blob).inserted else { throw .invalidAttachment(.repeatedImage) }
            guard image.byteCount > 0, image.byteCount <= UInt32(Limits.maximumBlobBytes) else {
                throw .invalidAttachment(.imageTooLarge(bytes: UInt64(image.byteCount)))
            }
            guard image.width > 0, image.height > 0, Int(image.width) <= Limits.maximumImageSide,
                  Int(image.height) <= Limits.maximumImageSide else {
                throw .invalidAttachment(.imageDimensions(width: Int(image.width), height: Int(image.height)))
            }
            try checkLine(image.alt, field: "alt", limit: Limits.maximumAltScalars, allowEmpty: false)
        }
        if let link = post.link, let problem = LinkRules.problem(link) { throw .invalidAttachment(.link(problem)) }
    }

    /// A single line of text: no control characters, at most `limit` Unicode scalars (code points).
    static func checkLine(_ text: String, field: String, limit: Int, allowEmpty: Bool) throws(EnvelopeError) {
        if !allowEmpty && text.isEmpty { throw .empty(field) }
        if TextScan.containsControl(text, allowingLineBreaks: false) { throw .controlCharacter(field) }
        let count = TextScan.scalarCount(text)
        guard count <= limit else { throw .tooLong(field, length: count, limit: limit, unit: "characters") }
    }


    /// Whole days in `millis`, rounded up. `millis` comes from a stranger's envelope and may be
    /// anything up to 2^64 − 1: dividing first cannot overflow, adding a day's millis first can.
    static func days(roundingUp millis: UInt64) -> Int {
        let (days, rest) = millis.quotientAndRemainder(dividingBy: Limits.millisPerDay)
        return Int(days) + (rest == 0 ? 0 : 1)
    }

    static func isASCIIAlphanumeric(_ c: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(c) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(c)
            || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(c)
    }
}

/// Scans of valid UTF-8 on its bytes: the hot path of every decode.
enum TextScan {
    /// Whether the text holds a C0 or C1 control character or DEL (tab and line feed allowed
    /// when `allowingLineBreaks`). C1 controls U+0080…U+009F are encoded 0xC2 0x80…0x9F.
    static func containsControl(_ text: String, allowingLineBreaks: Bool) -> Bool {
        var text = text
        return text.withUTF8 { utf8 in
            var previous: UInt8 = 0
            for byte in utf8 {
                if byte < 0x20 {
                    if !(allowingLineBreaks && (byte == 0x0A || byte == 0x09)) { return true }
                } else if byte == 0x7F || (previous == 0xC2 && byte >= 0x80 && byte <= 0x9F) {
                    return true
                }
                previous = byte
            }
            return false
        }
    }

    /// The number of Unicode scalars (code points): bytes that do not continue a sequence.
    static func scalarCount(_ text: String) -> Int {
        var text = text
        return text.withUTF8 { utf8 in utf8.reduce(0) { $0 + ($1 & 0xC0 == 0x80 ? 0 : 1) } }
    }
}
