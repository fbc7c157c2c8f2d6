import Foundation
import PalierCore
import PalierStore
import PalierTestSupport
import Testing

/// Onion addresses in the store: the newest per building, bounded, kept across reopening.
struct OnionStoreTests {
    static func announcement(_ n: Int, issued: UInt64 = 1, port: UInt16 = 7481) -> OnionAnnouncement {
        var key = [UInt8](repeating: 0, count: 32)
        key[0] = UInt8(n >> 8)
        key[1] = UInt8(n & 0xff)
        return OnionAnnouncement(building: PublicKey(bytes: key)!, issued: issued, address: OnionAddress(key: key)!, port: port,
                                 signature: Signature(bytes: [UInt8](repeating: 1, count: 64))!)
    }

    @Test("the newest address per building is kept, at most 1,024 buildings; a building held is still updated; they survive reopening")
    func bounded() throws {
        let path = makeTemporaryDirectory().appendingPathComponent("palier.sqlite").path
        let store = try EnvelopeStore(path: path, building: Fixtures.key(1).publicKey, validator: .sodium)
        for n in 0..<EnvelopeStore.maximumOnionAddresses {
            #expect(try store.recordOnionAnnouncement(Self.announcement(n), learnedFrom: nil, now: 0))
        }
        #expect(try !store.recordOnionAnnouncement(Self.announcement(5000), learnedFrom: nil, now: 0), "past the bound, a new building is not kept")
        #expect(try !store.recordOnionAnnouncement(Self.announcement(3, issued: 1, port: 9), learnedFrom: nil, now: 0), "not newer")
        #expect(try !store.recordOnionAnnouncement(Self.announcement(3, issued: 0, port: 9), learnedFrom: nil, now: 0), "older")
        #expect(try store.recordOnionAnnouncement(Self.announcement(3, issued: 2, port: 9), learnedFrom: nil, now: 0), "newer")
        #expect(try store.onionAnnouncements().count == EnvelopeStore.maximumOnionAddresses)
        let reopened = try EnvelopeStore(path: path, building: Fixtures.key(1).publicKey, validator: .sodium)
        let held = try reopened.onionAnnouncements()
        #expect(held.count == EnvelopeStore.maximumOnionAddresses)
        #expect(held.first { $0.building == Self.announcement(3).building }?.port == 9)
        // Introductions, and forgetting both when the node changes networks.
        try reopened.addIntroduction("x.onion:1", now: 0)
        try reopened.addIntroduction("x.onion:1", now: 1)
        #expect(try reopened.introductions() == ["x.onion:1"])
        try reopened.forgetOnionAddresses()
        #expect(try reopened.onionAnnouncements().isEmpty && reopened.introductions().isEmpty)
    }

    @Test("issued at its edges reads back as written", arguments: [UInt64(0), 1, .max - 1, .max])
    func issuedEdges(_ issued: UInt64) throws {
        let store = try EnvelopeStore(path: nil, building: Fixtures.key(1).publicKey, validator: .sodium)
        #expect(try store.recordOnionAnnouncement(Self.announcement(1, issued: issued), learnedFrom: nil, now: .max))
        #expect(try store.onionAnnouncements().first?.issued == issued)
        // Only a later one replaces it.
        #expect(try store.recordOnionAnnouncement(Self.announcement(1, issued: issued &+ 1, port: 2), learnedFrom: nil, now: .max) == (issued < .max))
    }
}
