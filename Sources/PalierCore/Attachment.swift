/// The content address of a blob: BLAKE2b-256 of its bytes (docs/protocol.md §2.2.2).
public struct BlobID: ContentAddress {
    public let bytes: [UInt8]

    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }
}

/// The image formats a post may reference. The raw values are the wire codes.
public enum ImageType: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case jpeg = 1
    case png = 2
    case webp = 3

    /// The media type, as HTTP and the feed say it.
    public var mediaType: String {
        switch self {
        case .jpeg: "image/jpeg"
        case .png: "image/png"
        case .webp: "image/webp"
        }
    }

    /// The file name extension of a stored blob.
    public var fileExtension: String {
        switch self {
        case .jpeg: "jpg"
        case .png: "png"
        case .webp: "webp"
        }
    }

    public var description: String { mediaType }
}

/// An image a post shows, by reference: the blob's address and what a node needs to know
/// before fetching it (its size, for the budget and the transfer; its type and pixel size, to
/// check the bytes and lay out the screen) and the alt text every image must have.
public struct ImageReference: Hashable, Sendable {
    public var blob: BlobID
    public var byteCount: UInt32
    public var type: ImageType
    public var width: UInt16
    public var height: UInt16
    /// What the image shows, for those who cannot see it (required; one line).
    public var alt: String

    public init(blob: BlobID, byteCount: UInt32, type: ImageType, width: UInt16, height: UInt16, alt: String) {
        self.blob = blob
        self.byteCount = byteCount
        self.type = type
        self.width = width
        self.height = height
        self.alt = alt
    }
}

/// The limits of attachments (docs/protocol.md, "Limits").
extension Limits {
    /// Images one post may carry.
    public static let maximumImages = 4
    /// The largest blob a node accepts.
    public static let maximumBlobBytes = 1 << 20
    /// The largest width or height of an image, in pixels.
    public static let maximumImageSide = 4096
    public static let maximumAltScalars = 200
    public static let maximumLinkBytes = 512
}

/// A post's link: an `http` or `https` URL that screens show as a QR code, never as text to
/// click. Checked here, so that a screen never meets `javascript:` or a line break.
public enum LinkRules {
    /// Why `link` is not a link a screen may show, or nil when it is.
    public static func problem(_ link: String) -> String? {
        let bytes = Array(link.utf8)
        guard bytes.count <= Limits.maximumLinkBytes else { return L("it is longer than \(Limits.maximumLinkBytes) bytes", "elle dépasse \(Limits.maximumLinkBytes) octets") }
        // Printable ASCII only: an international name is written in its xn-- form.
        guard bytes.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { return L("it has spaces or characters other than ASCII (write an international name in its xn-- form)", "elle contient des espaces ou des caractères hors ASCII (écrivez un nom international sous sa forme xn--)") }
        let lower = link.lowercased()
        let rest: Substring
        if lower.hasPrefix("https://") { rest = lower.dropFirst(8) } else if lower.hasPrefix("http://") { rest = lower.dropFirst(7) } else {
            return L("it does not start with https:// or http://", "elle ne commence pas par https:// ou http://")
        }
        let host = rest.prefix { $0 != "/" && $0 != "?" && $0 != "#" }
        guard !host.isEmpty, !host.contains("@"), host.first != ":" else { return L("it names no host", "elle ne nomme aucun hôte") }
        return nil
    }
}
