import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// Onion addresses between engines (docs/protocol.md §13.4): given at hello, checked against
/// their building's key, kept newest-first, passed on once.
struct OnionAddressSyncTests {
    static let onion = OnionAddress(key: [UInt8](repeating: 0x42, count: 32))!
    static let otherOnion = OnionAddress(key: [UInt8](repeating: 0x43, count: 32))!

    static func learned(_ outputs: [SyncOutput]) -> [OnionAnnouncement] {
        outputs.compactMap { if case .learnedOnion(let a) = $0 { a } else { nil } }
    }

    static func sent(_ outputs: [SyncOutput]) -> [OnionAnnouncement] {
        outputs.flatMap { output -> [OnionAnnouncement] in
            if case .send(_, .onionAddresses(let list)) = output { list } else { [] }
        }
    }

    @Test("a node gives its own signed address and those it holds at hello, to peers that take them only")
    func givenAtHello() throws {
        let third = Fixtures.key(702)
        let own = Fixtures.key(700).announce(Self.onion, port: 7481, now: Fixtures.epoch)
        let h = try EngineHarness { $0.onion = own }
        let held = third.announce(Self.otherOnion, port: 7000, now: Fixtures.epoch)
        #expect(try h.store.recordOnionAnnouncement(held, learnedFrom: nil, now: h.now))
        // The peer's own address is not given back to it.
        let peers = h.peerKey.announce(Self.otherOnion, port: 9, now: Fixtures.epoch)
        #expect(try h.store.recordOnionAnnouncement(peers, learnedFrom: nil, now: h.now))
        let out = h.open()
        #expect(Set(Self.sent(out)) == [own, held])
        // A peer whose hello lacks the feature gets none.
        let old = try EngineHarness { $0.onion = own }
        #expect(Self.sent(old.open(hello: .init(name: "old", features: [.sketch, .blobs]))).isEmpty)
        // And the hello says this node takes them.
        guard case .send(_, .hello(let hello)) = try #require(h.engine.sessionOpened(9, remote: third.publicKey, initiator: true, now: h.now).first) else {
            Issue.record("no hello")
            return
        }
        #expect(hello.features.contains(.onionAddresses))
    }

    @Test("an address signed by its building is kept, reported, and passed on to the other peers once")
    func learnedAndPassedOn() throws {
        let h = try EngineHarness()
        h.open()
        // A second peer that takes addresses.
        let other = Fixtures.key(703)
        _ = h.engine.sessionOpened(2, remote: other.publicKey, initiator: false, now: h.now)
        _ = h.engine.receive(SyncMessage.hello(.init(name: "other")).encoded(), from: 2, now: h.now)
        let third = Fixtures.key(702)
        let announcement = third.announce(Self.onion, port: 7481, now: Fixtures.epoch)
        let out = h.send(.onionAddresses([announcement]))
        #expect(Self.learned(out) == [announcement])
        #expect(out.contains { if case .send(2, .onionAddresses([announcement])) = $0 { true } else { false } })
        #expect(!out.contains { if case .send(1, .onionAddresses) = $0 { true } else { false } })
        #expect(try h.store.onionAnnouncements() == [announcement])
        // Again: nothing new, nothing passed on.
        #expect(h.send(.onionAddresses([announcement])).isEmpty)
        // An older one does not replace it; a newer one does.
        let older = third.announce(Self.otherOnion, port: 7481, now: Fixtures.epoch - 1)
        #expect(h.send(.onionAddresses([older])).isEmpty)
        let newer = third.announce(Self.otherOnion, port: 7482, now: Fixtures.epoch + 1)
        #expect(Self.learned(h.send(.onionAddresses([newer]))) == [newer])
        #expect(try h.store.onionAnnouncements() == [newer])
        #expect(h.engine.statistics.onionAddressesLearned == 2)
    }

    @Test("an address announcement signed by another key is refused: the session ends, the peer is blamed, nothing is kept")
    func signedByAnotherKey() throws {
        let h = try EngineHarness()
        h.open()
        let victim = Fixtures.key(702), relay = Fixtures.key(704)
        let genuine = victim.announce(Self.onion, port: 7481, now: Fixtures.epoch)
        // The relay's own signature over the victim's statement, pointing elsewhere.
        let bytes = OnionAnnouncement.signedBytes(building: victim.publicKey, issued: Fixtures.epoch + 1, address: Self.otherOnion, port: 7481)
        let forged = OnionAnnouncement(building: victim.publicKey, issued: Fixtures.epoch + 1, address: Self.otherOnion, port: 7481,
                                       signature: relay.sign(bytes))
        // The genuine one in the same message is not kept either: the message is refused whole.
        let out = h.send(.onionAddresses([genuine, forged]))
        #expect(out.contains { if case .close(_, .protocolViolation, _, true) = $0 { true } else { false } }, "\(out)")
        #expect(Self.learned(out).isEmpty)
        #expect(try h.store.onionAnnouncements().isEmpty)
        #expect(h.engine.statistics.onionAddressesRefused == 1)
        // A genuine signature over other fields (the port changed) is refused alike.
        let h2 = try EngineHarness()
        h2.open()
        let tampered = OnionAnnouncement(building: genuine.building, issued: genuine.issued, address: genuine.address, port: 7482, signature: genuine.signature)
        #expect(EngineHarness.closes(h2.send(.onionAddresses([tampered])), .protocolViolation))
        #expect(try h2.store.onionAnnouncements().isEmpty)
    }

    @Test("this node's own building and addresses issued far ahead are not kept")
    func ownAndFuture() throws {
        let h = try EngineHarness()
        h.open()
        let own = h.key.announce(Self.onion, port: 1, now: Fixtures.epoch)
        #expect(h.send(.onionAddresses([own])).isEmpty)
        let ahead = Fixtures.key(705).announce(Self.onion, port: 1, now: h.now + 3_600_000)
        #expect(h.send(.onionAddresses([ahead])).isEmpty)
        #expect(try h.store.onionAnnouncements().isEmpty)
        #expect(h.engine.statistics.onionAddressesRefused == 1)
    }

    @Test("the first ping after hello measures the round trip; a pong with another nonce measures nothing")
    func roundTrip() throws {
        let h = try EngineHarness()
        let out = h.open()
        guard case .send(_, .ping(let nonce))? = out.last else {
            Issue.record("no ping after hello: \(out)")
            return
        }
        #expect(h.engine.roundTrip(h.peer) == nil)
        h.now += 1_234
        h.send(.pong(nonce &+ 1))
        #expect(h.engine.roundTrip(h.peer) == nil)
        h.send(.pong(nonce))
        #expect(h.engine.roundTrip(h.peer) == 1_234)
    }
}
