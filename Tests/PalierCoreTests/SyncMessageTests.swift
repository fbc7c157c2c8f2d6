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
