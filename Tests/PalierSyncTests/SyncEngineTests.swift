import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// One engine, fed messages by hand as a peer would send them.
final class EngineHarness {
    let key = Fixtures.key(700)
    let peerKey = Fixtures.key(701)
    let store: EnvelopeStore
    let engine: SyncEngine
    var now = Fixtures.epoch + 60_000
    let peer: PeerID = 1

    init(configure: (inout SyncEngine.Configuration) -> Void = { _ in }) throws {
        store = try EnvelopeStore(path: nil, building: key.publicKey, validator: .sodium)
        var configuration = SyncEngine.Configuration(name: "harness")
        configure(&configuration)
        engine = try SyncEngine(store: store, crypto: SodiumCrypto(), configuration: configuration)
    }

    @discardableResult
    func open(hello: SyncMessage.Hello = .init(name: "peer")) -> [SyncOutput] {
        _ = engine.sessionOpened(peer, remote: peerKey.publicKey, initiator: false, now: now)
        return send(.hello(hello))
    }

    @discardableResult
    func send(_ message: SyncMessage) -> [SyncOutput] { engine.receive(message.encoded(), from: peer, now: now) }

    func post(_ n: Int, at millis: UInt64? = nil, by author: SigningKey? = nil, building: SigningKey? = nil) -> Envelope {
        Fixtures.post(by: author ?? peerKey, in: (building ?? peerKey).publicKey, at: millis ?? Fixtures.epoch, title: "post \(n)")
    }

    var stored: Int { (try? store.statistics().envelopes) ?? -1 }

    static func closes(_ outputs: [SyncOutput], _ reason: SyncMessage.ByeReason) -> Bool {
        outputs.contains { if case .close(_, reason, _, _) = $0 { true } else { false } }
    }
}

struct SyncEngineTests {
    @Test("a reconcile whose id list names, in the wrong range, an id this node holds never asks for it (found by FuzzReconcile)")
    func idListOutsideItsRange() throws {
        let h = try EngineHarness()
        h.open()
        let held = h.post(1, at: Fixtures.epoch + 1000)
        #expect(try h.store.ingest([held.bytes], now: h.now).accepted == [held.id])
        // One range ending before every item (timestamp 1), listing the held id as if it lay there.
        let message: [UInt8] = [ReconciliationStateMachine.version, 2, 0, 2, 1] + held.id.bytes
        let out = h.send(.reconcile(message))
        #expect(!out.contains { if case .send(_, .want) = $0 { true } else { false } }, "\(out)")
        #expect(!EngineHarness.closes(out, .protocolViolation))
    }

    @Test("a forged signature closes the session, backs the peer off, and stores nothing")
    func forgedSignature() throws {
        let h = try EngineHarness()
        h.open()
        var bytes = h.post(1).bytes
        bytes[bytes.count - 1] ^= 0x01
        let out = h.send(.envelopes([bytes]))
        #expect(out.contains { if case .close(_, .invalidEnvelopes, _, true) = $0 { true } else { false } })
        #expect(h.stored == 0)
    }

    @Test("malformed envelope bytes close the session with nothing stored")
    func malformedEnvelope() throws {
        let h = try EngineHarness()
        h.open()
        #expect(EngineHarness.closes(h.send(.envelopes([[1, 2, 3]])), .invalidEnvelopes))
        #expect(h.stored == 0)
    }

    @Test("an unknown message type is answered `unsupported` and the session goes on")
    func unknownType() throws {
        let h = try EngineHarness()
        h.open()
        #expect(h.engine.receive([0x7f, 1, 2, 3], from: h.peer, now: h.now) == [.send(h.peer, .unsupported(type: 0x7f))])
        #expect(h.send(.ping(9)) == [.send(h.peer, .pong(9))])
    }

    @Test("a truncated sync message closes the session as a protocol violation")
    func truncatedMessage() throws {
        let h = try EngineHarness()
        h.open()
        let want = SyncMessage.want([EnvelopeID(bytes: [UInt8](repeating: 1, count: 32))!]).encoded()
        #expect(EngineHarness.closes(h.engine.receive(Array(want.dropLast(5)), from: h.peer, now: h.now), .protocolViolation))
    }

    @Test("messages before hello are a protocol violation")
    func beforeHello() throws {
        let h = try EngineHarness()
        _ = h.engine.sessionOpened(h.peer, remote: h.peerKey.publicKey, initiator: false, now: h.now)
        #expect(EngineHarness.closes(h.send(.announce([])), .protocolViolation))
    }

    @Test("a later version that still speaks ours is accepted; one that does not is told so")
    func versions() throws {
        let h = try EngineHarness()
        #expect(!EngineHarness.closes(h.open(hello: .init(version: 7, minimumVersion: 1, name: "future")), .incompatibleVersion))
        let old = try EngineHarness()
        #expect(EngineHarness.closes(old.open(hello: .init(version: 9, minimumVersion: 5, name: "too new")), .incompatibleVersion))
    }

    @Test("a future-dated envelope is refused without blame, and accepted once in range")
    func futureDated() throws {
        let h = try EngineHarness()
        h.open()
        let early = h.post(1, at: h.now + 20 * 60_000)
        let out = h.send(.envelopes([early.bytes]))
        #expect(out.isEmpty)
        #expect(h.stored == 0)
        h.now += 15 * 60_000
        h.send(.envelopes([early.bytes]))
        #expect(try h.store.envelope(early.id) != nil)
    }

    @Test("a flood of duplicates stores one row")
    func duplicates() throws {
        let h = try EngineHarness()
        h.open()
        let post = h.post(1)
        for _ in 0..<200 { h.send(.envelopes(Array(repeating: post.bytes, count: 15))) }
        #expect(h.stored == 1)
    }

    @Test("envelopes from a blocked building are refused unstored, without closing the session")
    func blockedBuilding() throws {
        let h = try EngineHarness()
        let blocked = Fixtures.key(702)
        try h.store.setStance(.block, for: blocked.publicKey, now: h.now)
        _ = h.engine.reloadPolicy()
        h.open()
        let out = h.send(.envelopes([h.post(1, by: blocked, building: blocked).bytes, h.post(2).bytes]))
        #expect(!EngineHarness.closes(out, .invalidEnvelopes))
        #expect(h.stored == 1)
        #expect(h.engine.statistics.refusedBlocked == 1)
        // A session with the blocked building itself is refused.
        #expect(EngineHarness.closes(h.engine.sessionOpened(2, remote: blocked.publicKey, initiator: false, now: h.now), .blocked))
    }

    @Test("an author over its rate limit has the excess dropped, to be accepted later")
    func authorRateLimit() throws {
        let h = try EngineHarness { $0.authorBurst = 5; $0.authorPerMinute = 6 }
        h.open()
        let posts = (0..<10).map { h.post($0) }
        h.send(.envelopes(posts.map(\.bytes)))
        #expect(h.stored == 5)
        #expect(h.engine.statistics.droppedRateLimited == 5)
        h.now += 60_000
        h.send(.envelopes(posts.map(\.bytes)))
        #expect(h.stored == 10)
    }

    @Test("a peer flooding messages is closed and backed off")
    func peerRateLimit() throws {
        let h = try EngineHarness { $0.peerMessageBurst = 50; $0.peerMessagesPerSecond = 10 }
        h.open()
        var closed = false
        for i in 0..<100 where !closed { closed = EngineHarness.closes(h.send(.ping(UInt64(i))), .rateLimited) }
        #expect(closed)
    }

    @Test("building-scope envelopes are never sent, even when asked for by id")
    func buildingScopeNeverLeaves() throws {
        let h = try EngineHarness()
        let secret = Fixtures.post(by: h.key, in: h.key.publicKey, at: Fixtures.epoch, scope: .building)
        let shared = Fixtures.post(by: h.key, in: h.key.publicKey, at: Fixtures.epoch, title: "shared")
        _ = try h.store.ingest([secret.bytes, shared.bytes], now: h.now)
        h.open()
        let out = h.send(.want([secret.id, shared.id]))
        #expect(out == [.send(h.peer, .envelopes([shared.bytes]))])
    }

    @Test("an announced id is asked for once, even when several peers announce it")
    func wantOnce() throws {
        let h = try EngineHarness()
        h.open()
        _ = h.engine.sessionOpened(2, remote: Fixtures.key(703).publicKey, initiator: false, now: h.now)
        _ = h.engine.receive(SyncMessage.hello(.init(name: "other")).encoded(), from: 2, now: h.now)
        let id = h.post(1).id
        #expect(h.send(.announce([id])) == [.send(h.peer, .want([id]))])
        #expect(h.engine.receive(SyncMessage.announce([id]).encoded(), from: 2, now: h.now).isEmpty)
    }
}

/// protocol.md §14: where two rules meet.
@Suite struct PrecisePointsTests {
    @Test("an expired envelope with a bad signature is dropped without blame (admission comes before the signature)")
    func expiredAndForged() throws {
        let h = try EngineHarness()
        h.open()
        var bytes = Fixtures.post(by: h.peerKey, in: h.peerKey.publicKey, at: Fixtures.epoch, lifetime: 1_000).bytes
        bytes[bytes.count - 1] ^= 1
        let out = h.send(.envelopes([bytes]))
        #expect(!out.contains { if case .close = $0 { true } else { false } })
        #expect(h.stored == 0)
    }

    @Test("an envelope over 4096 bytes makes the message malformed: bye 5, not 2")
    func oversizedEnvelope() throws {
        let h = try EngineHarness()
        h.open()
        #expect(EngineHarness.closes(h.send(.envelopes([[UInt8](repeating: 1, count: 4097)])), .protocolViolation))
        #expect(h.stored == 0)
    }

    @Test("another building's building-scope envelope is blamed: bye 2")
    func foreignBuildingScope() throws {
        let h = try EngineHarness()
        h.open()
        let post = Fixtures.post(by: h.peerKey, in: h.peerKey.publicKey, scope: .building)
        #expect(EngineHarness.closes(h.send(.envelopes([post.bytes])), .invalidEnvelopes))
        #expect(h.stored == 0)
    }

    @Test("a post stored between the session's opening and the peer's hello is announced when the hello comes")
    func announcedAfterHello() throws {
        let h = try EngineHarness()
        _ = h.engine.sessionOpened(h.peer, remote: h.peerKey.publicKey, initiator: false, now: h.now)
        let post = Fixtures.post(by: h.key, in: h.key.publicKey, at: Fixtures.epoch, title: "Entre les deux")
        _ = try h.store.ingest([post.bytes], now: h.now)
        #expect(h.engine.localChanges(now: h.now).isEmpty, "no hello yet: nothing is sent")
        let out = h.send(.hello(.init(name: "peer")))
        #expect(out.contains { if case .send(_, .announce(let ids)) = $0 { ids == [post.id] } else { false } })
    }

    @Test("varints need not be minimal: 0x80 0x00 reads as 0")
    func nonMinimalVarint() throws {
        #expect(try SyncMessage.decode([SyncMessage.MessageType.want.rawValue, 0x80, 0x00]) == .known(.want([])))
        #expect(SyncMessage.want([]).encoded() == [SyncMessage.MessageType.want.rawValue, 0x00])
    }
}

/// Store failures during sync are counted with their cause, never swallowed.
@Suite struct StoreFailureTests {
    @Test("a store that cannot be read makes the step skip, counted with its cause, and nothing crashes")
    func unreadableStore() throws {
        let h = try EngineHarness()
        h.open()
        try h.store.breakForTests()
        let out = h.send(.reconcile(ReconciliationStateMachine(set: SyncItemSet([]), crypto: SodiumCrypto()).initiate()))
        #expect(out.isEmpty)
        _ = h.send(.announce([h.post(1).id]))
        #expect(h.engine.statistics.storeFailures == 2)
        #expect(h.engine.statistics.lastStoreFailure?.contains("no such table") == true)
    }

    @Test("a full disk: the peer is told to retry later (bye 8, no blame), nothing is asked during the pause, and the next round fetches everything")
    func fullDisk() throws {
        let a = try EnvelopeStore(path: nil, building: Fixtures.key(710).publicKey, validator: .sodium)
        let b = try EnvelopeStore(path: nil, building: Fixtures.key(711).publicKey, validator: .sodium)
        let author = Fixtures.key(712)
        let posts = (0..<300).map { Fixtures.post(by: author, in: author.publicKey, at: Fixtures.epoch + UInt64($0), title: "annonce \($0)", body: String(repeating: "x", count: 400)) }
        _ = try a.ingest(posts.map(\.bytes), now: Fixtures.epoch + 60_000)
        let engineA = try SyncEngine(store: a, crypto: SodiumCrypto(), configuration: .init(name: "A"))
        let engineB = try SyncEngine(store: b, crypto: SodiumCrypto(), configuration: .init(name: "B"))
        try b.simulateFullDiskForTests(true)

        var now = Fixtures.epoch + 60_000
        let first = EnginePair(initiator: engineB, responder: engineA)
        var closes: [(SyncMessage.ByeReason, Bool)] = []
        first.onClose = { _, reason, _, backOff in closes.append((reason, backOff)) }
        first.run(now: now)
        #expect(try b.statistics().envelopes == 0)
        #expect(closes.first.map { $0.0 } == .retryLater)
        #expect(closes.first.map { $0.1 } == false, "a full disk is not the peer's fault")
        let stats = engineB.statistics
        #expect(stats.envelopesNotStored > 0)
        #expect(stats.writesFailing)
        #expect(stats.lastStoreFailure?.contains("full") == true, "the cause is named: \(stats.lastStoreFailure ?? "")")

        // During the pause, still full: an announce is not answered with a want.
        now += 1_000
        let fresh = Fixtures.post(by: author, in: author.publicKey, at: Fixtures.epoch + 400, title: "nouvelle annonce")
        _ = try a.ingest([fresh.bytes], now: now)
        let answer = engineB.receive(SyncMessage.announce([fresh.id]).encoded(), from: 1, now: now)
        #expect(!answer.contains { if case .send(_, .want) = $0 { true } else { false } })
        #expect(engineB.statistics.wantsDeferred == 1)

        // Room back: when the pause ends, the tick starts a round at once (the interval is not
        // due yet) and everything arrives, the author's rate limit not spent by the refused batch.
        try b.simulateFullDiskForTests(false)
        now += engineB.configuration.writePause
        #expect(now < Fixtures.epoch + 60_000 + engineB.configuration.reconcileInterval)
        first.tick(now: now)
        #expect(try b.statistics().envelopes == posts.count + 1)
        #expect(!engineB.statistics.writesFailing)
    }
}
