import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// Images and links in posts (docs/protocol.md §2.2.2): every field at its edges, refusals with
/// their reasons, and decoding that keeps the signed bytes.
struct AttachmentTests {
    static let key = Fixtures.key(1)

    static func content(images: [ImageReference] = [], link: String? = nil) -> EnvelopeContent {
        EnvelopeContent(kind: .classified, scope: .neighbourhood, building: key.publicKey, author: key.publicKey,
                        timestamp: HybridTimestamp(millis: Fixtures.epoch), expiresAt: Fixtures.epoch + Fixtures.day,
                        payload: .post(PostContent(title: "Vélo", images: images, link: link)))
    }

    static func image(_ n: UInt8 = 1, size: UInt32 = 1000, width: UInt16 = 800, height: UInt16 = 600, alt: String = "Un vélo") -> ImageReference {
        ImageReference(blob: BlobID(bytes: [UInt8](repeating: n, count: 32))!, byteCount: size, type: .jpeg, width: width, height: height, alt: alt)
    }

    static func roundTrip(_ content: EnvelopeContent) throws -> EnvelopeContent {
        let envelope = try key.sign(content)
        return try EnvelopeValidator.sodium.open(envelope.bytes).content
    }

    @Test("images and a link read back as signed")
    func roundTrips() throws {
        let content = Self.content(images: [Self.image(1), Self.image(2, alt: "Deux")], link: "https://exemple.fr/velo?id=3#photos")
        #expect(try Self.roundTrip(content) == content)
    }

    @Test(arguments: [
        // size: 0 refused, 1 and max − 1 and max accepted, max + 1 refused
        (UInt32(0), false), (UInt32(1), true), (UInt32(Limits.maximumBlobBytes - 1), true), (UInt32(Limits.maximumBlobBytes), true),
        (UInt32(Limits.maximumBlobBytes + 1), false), (UInt32.max, false),
    ])
    func sizeAtItsEdges(size: UInt32, accepted: Bool) throws {
        let content = Self.content(images: [Self.image(size: size)])
        if accepted { #expect(try Self.roundTrip(content) == content) } else { #expect(throws: EnvelopeError.self) { try Self.key.sign(content) } }
    }

    @Test(arguments: [
        (UInt16(0), false), (UInt16(1), true), (UInt16(Limits.maximumImageSide - 1), true), (UInt16(Limits.maximumImageSide), true),
        (UInt16(Limits.maximumImageSide + 1), false), (UInt16.max, false),
    ])
    func sidesAtTheirEdges(side: UInt16, accepted: Bool) throws {
        for content in [Self.content(images: [Self.image(width: side)]), Self.content(images: [Self.image(height: side)])] {
            if accepted { #expect(try Self.roundTrip(content) == content) } else { #expect(throws: EnvelopeError.self) { try Self.key.sign(content) } }
        }
    }

    @Test("one to four images; none is no extension, five are refused; one image twice is refused")
    func countAtItsEdges() throws {
        for count in 1...4 {
            let content = Self.content(images: (1...count).map { Self.image(UInt8($0)) })
            #expect(try Self.roundTrip(content) == content)
        }
        #expect(throws: EnvelopeError.invalidAttachment(.tooManyImages(5))) { try Self.key.sign(Self.content(images: (1...5).map { Self.image(UInt8($0)) })) }
        #expect(throws: EnvelopeError.invalidAttachment(.repeatedImage)) { try Self.key.sign(Self.content(images: [Self.image(1), Self.image(1)])) }
        // A count of 0 written by hand: refused (it would re-encode as no extension, another id).
        var raw = RawEnvelope(author: Self.key)
        raw.extensions = [(3, [0])]
        #expect(throws: EnvelopeError.self) { try EnvelopeValidator.sodium.open(raw.bytes) }
    }

    @Test("alt text: required, one line, at most 200 characters")
    func altText() throws {
        #expect(throws: EnvelopeError.empty("alt")) { try Self.key.sign(Self.content(images: [Self.image(alt: "")])) }
        #expect(throws: EnvelopeError.controlCharacter("alt")) { try Self.key.sign(Self.content(images: [Self.image(alt: "a\nb")])) }
        let longest = String(repeating: "é", count: Limits.maximumAltScalars)
        #expect(try Self.roundTrip(Self.content(images: [Self.image(alt: longest)])).postContent?.images.first?.alt == longest)
        #expect(throws: EnvelopeError.self) { try Self.key.sign(Self.content(images: [Self.image(alt: longest + "e")])) }
    }

    @Test("an unknown image type and a truncated or overlong images value are refused")
    func malformedImages() throws {
        var value = [UInt8(1)] + [UInt8](repeating: 7, count: 32) + [0, 0, 3, 232] + [9] + [3, 32, 2, 88] + [0, 1, 0x61]
        var raw = RawEnvelope(author: Self.key)
        raw.extensions = [(3, value)]
        #expect(throws: EnvelopeError.invalidAttachment(.unknownImageType(9))) { try EnvelopeValidator.sodium.open(raw.bytes) }
        value[37] = 1
        raw.extensions = [(3, value)]
        #expect(try EnvelopeValidator.sodium.open(raw.bytes).content.postContent?.images.count == 1)
        raw.extensions = [(3, Array(value.dropLast()))]
        #expect(throws: EnvelopeError.self) { try EnvelopeValidator.sodium.open(raw.bytes) }
        raw.extensions = [(3, value + [0])]
        #expect(throws: EnvelopeError.self) { try EnvelopeValidator.sodium.open(raw.bytes) }
    }

    @Test(arguments: [
        ("https://exemple.fr", true), ("http://mairie-lyon.fr/agenda?m=12", true), ("HTTPS://EXEMPLE.FR/", true),
        ("https://xn--caf-dma.fr/", true), (String("https://exemple.fr/" + String(repeating: "a", count: 512 - 19)), true),
        (String("https://exemple.fr/" + String(repeating: "a", count: 512 - 18)), false),
        ("javascript:alert(1)", false), ("ftp://exemple.fr", false), ("https://", false), ("https:///chemin", false),
        ("https://exemple.fr/a b", false), ("https://café.fr", false), ("https://exemple.fr/\n", false), ("", false),
        ("https://user@exemple.fr", false), ("data:text/html,<b>", false),
    ])
    func links(link: String, accepted: Bool) throws {
        let content = Self.content(link: link)
        if accepted { #expect(try Self.roundTrip(content).postContent?.link == link) } else { #expect(throws: EnvelopeError.self) { try Self.key.sign(content) } }
    }

    @Test("the blob messages read back, and ranges outside 1 MiB, empty or oversized chunks are malformed")
    func blobMessages() throws {
        let id = BlobID(bytes: [UInt8](repeating: 5, count: 32))!
        let max = UInt64(Limits.maximumBlobBytes)
        for message in [SyncMessage.blobWant(id, offset: 0, length: 1), .blobWant(id, offset: max - 1, length: 1), .blobWant(id, offset: 0, length: max),
                        .blobChunk(id, offset: 0, bytes: [1]), .blobChunk(id, offset: max - UInt64(SyncProtocol.maximumChunkBytes),
                                                                        bytes: [UInt8](repeating: 2, count: SyncProtocol.maximumChunkBytes)),
                        .blobMissing(id)] {
            #expect(try SyncMessage.decode(message.encoded()) == .known(message))
        }
        for bad in [SyncMessage.blobWant(id, offset: 0, length: 0), .blobWant(id, offset: max, length: 1), .blobWant(id, offset: 1, length: max),
                    .blobWant(id, offset: .max, length: .max), .blobChunk(id, offset: 0, bytes: []), .blobChunk(id, offset: max, bytes: [1]),
                    .blobChunk(id, offset: 0, bytes: [UInt8](repeating: 0, count: SyncProtocol.maximumChunkBytes + 1))] {
            #expect(throws: SyncMessageError.self, "\(bad.type)") { try SyncMessage.decode(bad.encoded()) }
        }
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode(Array(SyncMessage.blobMissing(id).encoded().dropLast())) }
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode(SyncMessage.blobMissing(id).encoded() + [0]) }
    }
}
