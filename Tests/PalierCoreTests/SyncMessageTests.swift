import PalierCore
import PalierTestSupport
import Testing

struct SyncMessageTests {
    static let id = EnvelopeID(bytes: [UInt8](repeating: 0xab, count: 32))!

    @Test("every message decodes to itself", arguments: [
        SyncMessage.identity(building: Fixtures.key(1).publicKey, signature: Signature(bytes: [UInt8](repeating: 7, count: 64))!),
        .hello(.init(name: "Résidence Les Tilleuls")),
        .reconcile([1, 0, 0, 0]),
        .want([id, id]),
        .envelopes([[1, 2, 3], Array(repeating: 9, count: 300)]),
        .announce([id]),
        .ping(.max),
        .pong(0),
        .bye(.rateLimited, "trop de messages"),
        .unsupported(type: 0x42),
    ])
    func roundTrip(_ message: SyncMessage) throws {
        #expect(try SyncMessage.decode(message.encoded()) == .known(message))
    }

    @Test("long texts are cut at a character boundary, never inside one")
    func longTexts() throws {
        let bye = SyncMessage.bye(.other, String(repeating: "é", count: 200))
        guard case .known(.bye(_, let text)) = try SyncMessage.decode(bye.encoded()) else { Issue.record("not a bye"); return }
        #expect(text == String(repeating: "é", count: 127))
        let hello = SyncMessage.hello(.init(name: String(repeating: "ô", count: 50)))
        guard case .known(.hello(let decoded)) = try SyncMessage.decode(hello.encoded()) else { Issue.record("not a hello"); return }
        #expect(decoded.name == String(repeating: "ô", count: 32))
    }

    @Test("malformed messages throw; unknown types decode as unknown")
    func malformed() throws {
        #expect(try SyncMessage.decode([0x7f, 1, 2]) == .unknown(type: 0x7f))
        #expect(throws: SyncMessageError.empty) { try SyncMessage.decode([]) }
        #expect(throws: SyncMessageError.truncated) { try SyncMessage.decode([0x06, 1, 2]) }
        #expect(throws: SyncMessageError.trailingBytes) { try SyncMessage.decode(SyncMessage.ping(1).encoded() + [0]) }
        // A count larger than what follows is refused before anything is allocated for it.
        #expect(throws: SyncMessageError.truncated) { try SyncMessage.decode([0x03, 0xff, 0xff, 0xff, 0xff, 0x0f]) }
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode([0x04, 0x01, 0x80, 0x80, 0x04]) }  // an envelope of 65536 bytes
        var random = SeededRandom(seed: 11)
        for _ in 0..<5_000 {
            _ = try? SyncMessage.decode(random.bytes(Int.random(in: 1...40, using: &random)))
        }
    }
}

struct OnionAnnouncementMessageTests {
    static func announcement(_ n: UInt8, port: UInt16 = 7481, issued: UInt64 = 1) -> OnionAnnouncement {
        OnionAnnouncement(building: PublicKey(bytes: [UInt8](repeating: n, count: 32))!, issued: issued,
                          address: OnionAddress(key: [UInt8](repeating: n &+ 1, count: 32))!, port: port,
                          signature: Signature(bytes: [UInt8](repeating: n &+ 2, count: 64))!)
    }

    @Test("onion_addresses round-trips at 0, 1, 255 and 256 entries, every field at its edges; 257 and port 0 are refused")
    func edges() throws {
        for count in [0, 1, 255, 256] {
            let message = SyncMessage.onionAddresses((0..<count).map { Self.announcement(UInt8(truncatingIfNeeded: $0)) })
            #expect(try SyncMessage.decode(message.encoded()) == .known(message))
            #expect(message.encoded().count <= SyncProtocol.maximumMessageLength)
        }
        for (port, issued) in [(UInt16(1), UInt64(0)), (2, 1), (.max - 1, .max - 1), (.max, .max)] {
            let message = SyncMessage.onionAddresses([Self.announcement(9, port: port, issued: issued)])
            #expect(try SyncMessage.decode(message.encoded()) == .known(message))
        }
        let tooMany = SyncMessage.onionAddresses((0..<257).map { Self.announcement(UInt8(truncatingIfNeeded: $0)) })
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode(tooMany.encoded()) }
        let portZero = SyncMessage.onionAddresses([Self.announcement(1, port: 0)])
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode(portZero.encoded()) }
        // Truncated anywhere, or with a byte more: malformed.
        let one = SyncMessage.onionAddresses([Self.announcement(3)]).encoded()
        for cut in 1..<one.count {
            #expect(throws: SyncMessageError.self) { try SyncMessage.decode(Array(one.prefix(cut))) }
        }
        #expect(throws: SyncMessageError.self) { try SyncMessage.decode(one + [0]) }
    }

    @Test("what a building signs: the domain, then the fields in wire order")
    func signedBytes() {
        let a = Self.announcement(5, port: 0x1d3d, issued: 0x0102_0304_0506_0708)
        let expected = Array("palier-onion-address-v1\0".utf8) + [UInt8](repeating: 5, count: 32) + [1, 2, 3, 4, 5, 6, 7, 8]
            + [UInt8](repeating: 6, count: 32) + [0x1d, 0x3d]
        #expect(a.signedBytes == expected)
    }
}

struct TorReplyTests {
    static func parse(_ lines: [String]) throws -> [TorReply] {
        var parser = TorReplyParser()
        return try lines.compactMap { try parser.feed($0) }
    }

    @Test("tor's replies: single lines, mid lines, data blocks, quoted values")
    func replies() throws {
        let replies = try Self.parse([
            "250-PROTOCOLINFO 1",
            #"250-AUTH METHODS=COOKIE,SAFECOOKIE COOKIEFILE="/run/tor/control.authcookie""#,
            #"250-VERSION Tor="0.4.9.11""#,
            "250 OK",
            "250-ServiceID=qhwk5s4wdyjs72bqhve5fonzt7tx22c7ip2csoj5yxzoefbgfglktnad",
            "250 OK",
            "250+config-text=",
            "SocksPort 9050",
            "..dot-stuffed",
            ".",
            "250 OK",
            "650 STATUS_CLIENT NOTICE CIRCUIT_ESTABLISHED",
            "552 Unrecognized key \"x\"",
        ])
        #expect(replies.count == 5)
        #expect(replies[0].isOK)
        let auth = try #require(replies[0].lines.first { $0.hasPrefix("AUTH ") })
        #expect(TorReply.field("METHODS", in: auth) == "COOKIE,SAFECOOKIE")
        #expect(TorReply.field("COOKIEFILE", in: auth) == "/run/tor/control.authcookie")
        #expect(TorReply.field("MISSING", in: auth) == nil)
        #expect(replies[1].value("ServiceID") == "qhwk5s4wdyjs72bqhve5fonzt7tx22c7ip2csoj5yxzoefbgfglktnad")
        #expect(replies[2].value("config-text") == "SocksPort 9050\n.dot-stuffed")
        #expect(replies[3].isEvent)
        #expect(replies[4].status == 552 && !replies[4].isOK)
        #expect(TorReply.field("PROGRESS", in: "NOTICE BOOTSTRAP PROGRESS=100 TAG=done SUMMARY=\"Done\"") == "100")
        #expect(TorReply.unquoted(#""a\"b\\c""#) == #"a"b\c"#)
    }

    @Test("lines that are not replies are refused", arguments: ["", "25", "250", "abc OK", "250*x", "25a OK", "052 OK"])
    func refused(_ line: String) {
        var parser = TorReplyParser()
        #expect(throws: TorReplyError.self) { try parser.feed(line) }
    }

    @Test("a reply mixing codes, too long a line, too many lines are refused")
    func bounds() throws {
        var parser = TorReplyParser()
        _ = try parser.feed("250-a")
        #expect(throws: TorReplyError.self) { try parser.feed("251 b") }
        var long = TorReplyParser()
        #expect(throws: TorReplyError.self) { try long.feed("250 " + String(repeating: "x", count: TorReplyParser.maximumLineBytes)) }
        var many = TorReplyParser()
        #expect(throws: TorReplyError.self) {
            for _ in 0...TorReplyParser.maximumLines { _ = try many.feed("250-x") }
        }
    }
}
