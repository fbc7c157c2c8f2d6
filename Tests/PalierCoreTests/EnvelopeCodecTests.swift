import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

@Suite struct EnvelopeCodecTests {
    let building = Fixtures.key(1)
    let alice = Fixtures.key(2)
    let validator = EnvelopeValidator.sodium

    var samples: [Envelope] {
        let tip = Fixtures.post(.tip, by: alice, in: building.publicKey)
        return [
            tip,
            Fixtures.post(.event, by: alice, in: building.publicKey),
            Fixtures.post(.alert, by: building, in: building.publicKey, scope: .building, title: "Coupure d'eau", body: ""),
            Fixtures.edit(tip, by: alice, title: "Bonjour à tous", at: Fixtures.epoch + 1),
            Fixtures.retract(tip, by: alice, in: building.publicKey, at: Fixtures.epoch + 2),
            Fixtures.hide(tip, by: building, for: building.publicKey, at: Fixtures.epoch + 3),
            Fixtures.grant(.resident, to: alice.publicKey, by: building),
            Fixtures.grant(nil, to: alice.publicKey, by: building),
            Fixtures.profile(of: building, name: "Résidence Les Tilleuls"),
        ]
    }

    @Test func everyKindRoundTrips() throws {
        for envelope in samples {
            let opened = try validator.open(envelope.bytes)
            #expect(opened == envelope)
            #expect(try EnvelopeCodec.encode(opened.content) + opened.signature.bytes == envelope.bytes)
        }
    }

    @Test func everySingleBitFlipIsRefused() throws {
        // Flipping any bit of any field — header, author, text, signature — must never yield an
        // envelope: either the bytes no longer decode, or the signature no longer verifies.
        for envelope in samples {
            var flips = 0
            for byte in envelope.bytes.indices {
                for bit in 0..<8 {
                    var mutated = envelope.bytes
                    mutated[byte] ^= 1 << bit
                    #expect(throws: EnvelopeError.self) { try validator.open(mutated) }
                    flips += 1
                }
            }
            #expect(flips == envelope.bytes.count * 8)
        }
    }

    @Test func anotherAuthorsKeyIsRefused() throws {
        let envelope = Fixtures.post(by: alice, in: building.publicKey)
        var forged = envelope.bytes
        forged.replaceSubrange(35..<67, with: Fixtures.key(3).publicKey.bytes)
        #expect(throws: EnvelopeError.badSignature) { try validator.open(forged) }
    }

    @Test func randomBytesNeverCrashDecode() {
        var random = SeededRandom(seed: 42)
        var outcomes = (ok: 0, refused: 0)
        let valid = samples.map(\.bytes)
        for i in 0..<12_000 {
            let input: [UInt8]
            switch i % 3 {
            case 0:
                input = random.bytes(Int.random(in: 0...5000, using: &random))
            case 1:
                // A valid envelope with a random stretch overwritten: reaches deep into the decoder.
                var bytes = valid[i % valid.count]
                let start = Int.random(in: 0..<bytes.count, using: &random)
                let length = Int.random(in: 1...8, using: &random)
                for j in start..<min(bytes.count, start + length) { bytes[j] = UInt8.random(in: 0...255, using: &random) }
                input = bytes
            default:
                // Truncated or extended valid envelopes.
                let bytes = valid[i % valid.count]
                let cut = Int.random(in: 0...bytes.count + 10, using: &random)
                input = cut <= bytes.count ? Array(bytes[0..<cut]) : bytes + random.bytes(cut - bytes.count)
            }
            do {
                let decoded = try validator.decode(input)
                // Whatever decodes must re-encode to the very same content bytes.
                #expect(try EnvelopeCodec.encode(decoded.content) + decoded.signature.bytes == input)
                outcomes.ok += 1
            } catch {
                outcomes.refused += 1
            }
        }
        #expect(outcomes.ok + outcomes.refused == 12_000)
        // Most inputs are refused; some mutations land in free text or the signature and still decode.
        #expect(outcomes.refused > 8_000)
        #expect(outcomes.ok > 0)
    }

    @Test func hugeLengthPrefixesDoNotAllocate() {
        var bytes = samples[0].bytes
        // Title length prefix sits right after the 83-byte header.
        bytes[83] = 0xff
        bytes[84] = 0xff
        #expect(throws: EnvelopeError.truncated) { try validator.decode(bytes) }
        #expect(throws: EnvelopeError.tooLarge(5000)) { try validator.decode([UInt8](repeating: 1, count: 5000)) }
        #expect(throws: EnvelopeError.trailingBytes(1)) { try validator.decode(samples[0].bytes + [0]) }
    }

    func content(_ post: PostContent, kind: Kind = .tip, lifetime: UInt64 = Fixtures.day) -> EnvelopeContent {
        EnvelopeContent(
            kind: kind, scope: .neighbourhood, building: building.publicKey, author: alice.publicKey,
            timestamp: HybridTimestamp(millis: Fixtures.epoch), expiresAt: Fixtures.epoch + lifetime, payload: .post(post)
        )
    }

    @Test("shows-from, shows-until and unknown extensions read back as signed; bad extensions are refused")
    func postExtensions() throws {
        let expiry = Fixtures.epoch + Fixtures.day
        // Each time field at 0, 1, its largest valid value − 1 and its largest valid value.
        for from in [UInt64(0), 1, expiry - 2, expiry - 1] {
            let envelope = try alice.sign(content(PostContent(title: "t", showsFrom: from)))
            #expect(try validator.decode(envelope.bytes).content.postContent?.showsFrom == from)
        }
        for until in [UInt64(1), 2, UInt64.max - 1, UInt64.max] {
            let envelope = try alice.sign(content(PostContent(title: "t", showsUntil: until)))
            #expect(try validator.decode(envelope.bytes).content.postContent?.showsUntil == until)
        }
        #expect(throws: EnvelopeError.neverShown) { try alice.sign(content(PostContent(title: "t", showsFrom: expiry))) }
        #expect(throws: EnvelopeError.neverShown) { try alice.sign(content(PostContent(title: "t", showsFrom: .max))) }
        #expect(throws: EnvelopeError.neverShown) { try alice.sign(content(PostContent(title: "t", showsUntil: 0))) }
        #expect(throws: EnvelopeError.neverShown) { try alice.sign(content(PostContent(title: "t", showsFrom: 10, showsUntil: 10))) }

        // An extension of a later version is kept: the bytes, the id and the signature stay.
        let future = PostExtension(tag: 9, value: [1, 2, 3])
        let both = try alice.sign(content(PostContent(title: "t", showsFrom: 5, showsUntil: 50, otherExtensions: [future])))
        let read = try validator.decode(both.bytes)
        #expect(read.content.postContent == PostContent(title: "t", showsFrom: 5, showsUntil: 50, otherExtensions: [future]))
        #expect(read.id == both.id)
        #expect(try EnvelopeCodec.encode(read.content) == Array(both.bytes.dropLast(Signature.byteCount)))
        #expect(throws: EnvelopeError.invalidExtension(1)) {
            try alice.sign(content(PostContent(title: "t", otherExtensions: [PostExtension(tag: 1, value: [0])])))
        }

        // Hand-made tails: out of order, repeated, wrong length, cut short.
        let plain = try EnvelopeCodec.encode(content(PostContent(title: "t")))
        func signed(_ tail: [UInt8]) -> [UInt8] {
            let body = plain + tail
            return body + alice.sign(EnvelopeCodec.signedMessage(contentBytes: body)).bytes
        }
        let time: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 9]
        let laterTime: [UInt8] = [0, 0, 0, 0, 0, 0, 0, 10]
        #expect(try validator.decode(signed([1, 0, 8] + time + [2, 0, 8] + laterTime + [0x30, 0, 0])).content.postContent?.otherExtensions
                == [PostExtension(tag: 0x30, value: [])])
        #expect(throws: EnvelopeError.invalidExtension(1)) { try validator.decode(signed([2, 0, 8] + time + [1, 0, 8] + time)) }
        #expect(throws: EnvelopeError.invalidExtension(1)) { try validator.decode(signed([1, 0, 8] + time + [1, 0, 8] + time)) }
        #expect(throws: EnvelopeError.invalidExtension(1)) { try validator.decode(signed([1, 0, 7] + time.prefix(7))) }
        #expect(throws: EnvelopeError.invalidExtension(2)) { try validator.decode(signed([2, 0, 9] + time + [0])) }
        #expect(throws: EnvelopeError.truncated) { try validator.decode(signed([7, 0xFF, 0xFF, 1])) }
        #expect(throws: EnvelopeError.trailingBytes(2)) { try validator.decode(signed([7, 0])) }
    }

    @Test func limitsAreEnforcedWhenSigning() {
        #expect(throws: EnvelopeError.tooLong("title", length: 121, limit: 120, unit: "characters")) {
            try alice.sign(content(PostContent(title: String(repeating: "é", count: 121))))
        }
        // 120 characters of two bytes each are fine: the limit counts characters, not bytes.
        #expect(throws: Never.self) { try alice.sign(content(PostContent(title: String(repeating: "é", count: 120)))) }
        #expect(throws: EnvelopeError.tooLong("body", length: 2001, limit: 2000, unit: "bytes")) {
            try alice.sign(content(PostContent(title: "t", body: String(repeating: "a", count: 2001))))
        }
        #expect(throws: EnvelopeError.empty("title")) { try alice.sign(content(PostContent(title: ""))) }
        #expect(throws: EnvelopeError.controlCharacter("title")) { try alice.sign(content(PostContent(title: "a\u{7}b"))) }
        #expect(throws: EnvelopeError.expiryTooFar(days: 91, limit: 90)) {
            try alice.sign(content(PostContent(title: "t"), lifetime: 91 * Fixtures.day))
        }
        #expect(throws: EnvelopeError.invalidLanguage) { try alice.sign(content(PostContent(title: "t", language: "fr_FR"))) }
    }

    @Test func grantsMayLiveLongerButOnlyFromTheBuildingKey() throws {
        #expect(throws: Never.self) { Fixtures.grant(.resident, to: alice.publicKey, by: building, lifetime: 400 * Fixtures.day) }
        let selfGrant = EnvelopeContent(
            kind: .grant, scope: .neighbourhood, building: building.publicKey, author: alice.publicKey,
            timestamp: HybridTimestamp(millis: Fixtures.epoch), expiresAt: Fixtures.epoch + Fixtures.day,
            payload: .grant(Grant(subject: alice.publicKey, role: .admin, displayName: "moi"))
        )
        #expect(throws: EnvelopeError.notSignedByBuilding(.grant)) { try alice.sign(selfGrant) }
    }

    @Test func invalidUTF8IsRefused() throws {
        var bytes = try EnvelopeCodec.encode(content(PostContent(title: "ab")))
        bytes[85] = 0xC3  // 'a' becomes the first byte of a two-byte sequence followed by 'b'
        #expect(throws: EnvelopeError.invalidUTF8("title")) { try EnvelopeCodec.decode(bytes + [UInt8](repeating: 0, count: 64)) }
    }

    @Test func admissionDependsOnTheClockAndScope() throws {
        let post = Fixtures.post(by: alice, in: building.publicKey)
        let local = building.publicKey
        #expect(throws: Never.self) { try EnvelopeValidator.admit(post.content, now: Fixtures.epoch, localBuilding: local) }
        #expect(throws: EnvelopeError.expired) {
            try EnvelopeValidator.admit(post.content, now: post.expiresAt, localBuilding: local)
        }
        #expect(throws: EnvelopeError.fromTheFuture(secondsAhead: 601)) {
            try EnvelopeValidator.admit(post.content, now: Fixtures.epoch - 601_000, localBuilding: local)
        }
        #expect(throws: Never.self) { try EnvelopeValidator.admit(post.content, now: Fixtures.epoch - 600_000, localBuilding: local) }
        let private_ = Fixtures.post(by: alice, in: local, scope: .building)
        #expect(throws: EnvelopeError.foreignBuildingScope) {
            try EnvelopeValidator.admit(private_.content, now: Fixtures.epoch, localBuilding: Fixtures.key(9).publicKey)
        }
    }
}
