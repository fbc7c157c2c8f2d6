import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// The example session of docs/protocol.md §12: building B (holding one post) dials building A
/// (holding three). Run with PALIER_TRANSCRIPT=1 in the environment to print it.
struct TranscriptTests {
    @Test("the documented example session converges in one round trip")
    func exampleSession() throws {
        let a = Fixtures.key(1), b = Fixtures.key(6)
        let now = Fixtures.epoch + 3_600_000
        let posts = (0..<3).map { Fixtures.post(by: a, in: a.publicKey, at: Fixtures.epoch + UInt64($0) * 60_000, title: "Annonce \($0 + 1)") }
        let storeA = try EnvelopeStore(path: nil, building: a.publicKey, validator: .sodium)
        let storeB = try EnvelopeStore(path: nil, building: b.publicKey, validator: .sodium)
        _ = try storeA.ingest(posts.map(\.bytes), now: now)
        _ = try storeB.ingest([posts[0].bytes], now: now)
        let engineB = try SyncEngine(store: storeB, crypto: SodiumCrypto(), configuration: .init(name: "Le Clos"))
        let engineA = try SyncEngine(store: storeA, crypto: SodiumCrypto(), configuration: .init(name: "Les Tilleuls"))
        let pair = EnginePair(initiator: engineB, responder: engineA)
        pair.trace = { from, message in
            guard Environment.transcript else { return }
            print("\(from) \(message.type): \(hexString(message.encoded()))")
        }
        pair.run(now: now)
        #expect(try storeB.statistics().envelopes == 3)
        #expect(pair.roundTrips == 1)  // B sends its id list; A answers "done" and pushes what B lacks
    }
}

enum Environment {
    static var transcript: Bool {
        guard let value = getenv("PALIER_TRANSCRIPT") else { return false }
        return String(cString: value) == "1"
    }
}

#if canImport(Glibc)
import Glibc
#endif
