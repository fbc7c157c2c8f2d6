import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Testing

@Suite struct IngestTests {
    let building = Fixtures.key(1)
    let alice = Fixtures.key(2)
    let now = Fixtures.epoch + 1000

    func makeStore() throws -> EnvelopeStore {
        try EnvelopeStore(path: nil, building: building.publicKey, validator: .sodium)
    }

    @Test func acceptsABatchAndCountsDuplicatesWithoutWriting() throws {
        let store = try makeStore()
        let posts = (0..<5).map { Fixtures.post(by: building, in: building.publicKey, counter: UInt16($0), title: "n\($0)") }
        let first = try store.ingest(posts.map(\.bytes), now: now)
        #expect(first.accepted == posts.map(\.id))
        #expect(first.duplicates == 0)
        let again = try store.ingest(posts.map(\.bytes) + posts.map(\.bytes), now: now)
        #expect(again.accepted.isEmpty)
        #expect(again.duplicates == 10)
        #expect(try store.statistics().envelopes == 5)
        #expect(try store.view(now: now).items.count == 5)
    }

    @Test func refusedEnvelopesLeaveTheStoreUnchanged() throws {
        let store = try makeStore()
        let good = Fixtures.post(by: building, in: building.publicKey)
        _ = try store.ingest([good.bytes], now: now)
        let before = try store.stateDigest(now: now)

        var forged = Fixtures.post(by: building, in: building.publicKey, title: "autre").bytes
        forged[forged.count - 1] ^= 1
        let expired = Fixtures.post(by: building, in: building.publicKey, at: now - 2 * Fixtures.day, lifetime: Fixtures.day)
        let foreignPrivate = Fixtures.post(by: alice, in: alice.publicKey, scope: .building)
        let report = try store.ingest([forged, Array(good.bytes.prefix(50)), expired.bytes, foreignPrivate.bytes, [0xff]], now: now)
        #expect(report.accepted.isEmpty)
        #expect(report.refused.map(\.index) == [0, 1, 2, 3, 4])
        #expect(report.refused[0].error == .badSignature)
        #expect(report.refused[1].error == .truncated)
        #expect(report.refused[2].error == .expired)
        #expect(report.refused[3].error == .foreignBuildingScope)
        #expect(try store.stateDigest(now: now) == before)
        #expect(try store.statistics().envelopes == 1)
        #expect(try store.statistics().refused == 5)
    }

    @Test func futureDatedEnvelopesAreDeferredThenAcceptedOnceInRange() throws {
        let store = try makeStore()
        let ahead = Fixtures.post(by: building, in: building.publicKey, at: now + 11 * 60_000)
        let report = try store.ingest([ahead.bytes], now: now)
        #expect(report.deferred.count == 1)
        #expect(report.refused.isEmpty)
        #expect(try store.statistics().deferredFutureDated == 1)
        #expect(try store.statistics().envelopes == 0)
        // Offered again two minutes later, within the 10-minute window: accepted.
        let later = try store.ingest([ahead.bytes], now: now + 2 * 60_000)
        #expect(later.accepted == [ahead.id])
    }

    @Test func retractErasesTheBodyWhicheverArrivesFirst() throws {
        let post = Fixtures.post(by: building, in: building.publicKey)
        let edit = Fixtures.edit(post, by: building, title: "v2", at: Fixtures.epoch + 5)
        let retract = Fixtures.retract(post, by: building, in: building.publicKey, at: Fixtures.epoch + 10)

        // Post and edit first, retract later.
        let a = try makeStore()
        _ = try a.ingest([post.bytes, edit.bytes], now: now)
        let r = try a.ingest([retract.bytes], now: now)
        #expect(Set(r.erased) == [post.id, edit.id])
        #expect(try a.envelope(post.id) == nil)
        #expect(try a.isErased(post.id))

        // Retract first: the post and its edit are never stored.
        let b = try makeStore()
        _ = try b.ingest([retract.bytes], now: now)
        let r2 = try b.ingest([edit.bytes, post.bytes], now: now)
        #expect(r2.accepted.isEmpty)
        #expect(Set(r2.erasedOnArrival) == [post.id, edit.id])

        // All in one batch.
        let c = try makeStore()
        _ = try c.ingest([post.bytes, retract.bytes, edit.bytes], now: now)

        for store in [a, b, c] {
            #expect(try store.statistics().envelopes == 1)  // the retract itself
            #expect(try store.view(now: now).items.isEmpty)
            // Offered again, the erased post is a duplicate: never re-accepted.
            let again = try store.ingest([post.bytes], now: now)
            #expect(again.duplicates == 1 && again.accepted.isEmpty)
        }
        #expect(try a.stateDigest(now: now) == b.stateDigest(now: now))
        #expect(try b.stateDigest(now: now) == c.stateDigest(now: now))
    }

    @Test func aRetractByAnotherAuthorErasesNothing() throws {
        let store = try makeStore()
        let post = Fixtures.post(by: building, in: building.publicKey)
        let foreign = Fixtures.retract(post, by: alice, in: building.publicKey, at: Fixtures.epoch + 10)
        _ = try store.ingest([foreign.bytes, post.bytes], now: now)
        #expect(try store.envelope(post.id) != nil)
        #expect(try store.view(now: now).items.count == 1)
    }

    @Test func purgeRemovesExpiredEnvelopesAndTheViewNeverShowsThem() throws {
        let store = try makeStore()
        let short = Fixtures.post(by: building, in: building.publicKey, lifetime: Fixtures.day)
        let long = Fixtures.post(by: building, in: building.publicKey, counter: 1, lifetime: 2 * Fixtures.day)
        _ = try store.ingest([short.bytes, long.bytes], now: now)
        #expect(try store.nextExpiry(after: now) == short.expiresAt)
        let later = short.expiresAt
        #expect(try store.purgeExpired(now: later - 1) == 0)
        let digest = try store.stateDigest(now: later)
        // Reading the view at `later` has already deleted what expired by then.
        #expect(try store.statistics().envelopes == 1)
        #expect(try store.view(now: later).items.map(\.id) == [long.id])
        #expect(try store.purgeExpired(now: later) == 0)
        #expect(try store.stateDigest(now: later) == digest)
    }

    @Test func theClockMovesPastAcceptedEnvelopes() throws {
        let store = try makeStore()
        let t1 = try store.nextTimestamp(wallMillis: now)
        #expect(t1 == HybridTimestamp(millis: now))
        #expect(try store.nextTimestamp(wallMillis: now) == t1)  // reading changes nothing
        let post = Fixtures.post(by: building, in: building.publicKey, at: t1.millis, counter: t1.counter)
        _ = try store.ingest([post.bytes], now: now)
        #expect(try store.nextTimestamp(wallMillis: now) > t1)
        let ahead = Fixtures.post(by: building, in: building.publicKey, at: now + 5 * 60_000)
        _ = try store.ingest([ahead.bytes], now: now)
        #expect(try store.nextTimestamp(wallMillis: now) > ahead.timestamp)
    }

    @Test func shortIDsResolveLikeGit() throws {
        let store = try makeStore()
        let post = Fixtures.post(by: building, in: building.publicKey)
        _ = try store.ingest([post.bytes], now: now)
        #expect(try store.ids(matchingHexPrefix: String(post.id.hex.prefix(7))) == [post.id])
        #expect(try store.ids(matchingHexPrefix: post.id.hex.uppercased()) == [post.id])
        #expect(try store.ids(matchingHexPrefix: "zz").isEmpty)
    }

    @Test func aFileStoreIsSharedBetweenConnections() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("palier-store-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("palier.sqlite").path
        let one = try EnvelopeStore(path: path, building: building.publicKey, validator: .sodium)
        let two = try EnvelopeStore(path: path, building: building.publicKey, validator: .sodium)
        let post = Fixtures.post(by: building, in: building.publicKey)
        _ = try one.ingest([post.bytes], now: now)
        #expect(try two.envelope(post.id) == post)
    }

    /// A running node announces what was stored after the last row it saw. A retract that
    /// erases the newest envelope used to take that envelope's row number again, and so was
    /// never announced: numbers are now never given twice.
    @Test func aRetractOfTheNewestEnvelopeIsStoredAfterIt() throws {
        let store = try makeStore()
        let post = Fixtures.post(by: building, in: building.publicKey)
        _ = try store.ingest([post.bytes], now: now)
        let seen = try store.lastRowID()
        let retract = Fixtures.retract(post, by: building, in: building.publicKey, at: Fixtures.epoch + 1_000)
        let report = try store.ingest([retract.bytes], now: now)
        #expect(report.accepted == [retract.id])
        #expect(report.erased == [post.id])
        let (ids, last) = try store.neighbourhoodIDs(afterRow: seen)
        #expect(ids == [retract.id])
        #expect(last > seen)
    }

    /// A hide can be taken back: its author's retract erases it, and the post shows again, in
    /// whatever order the three envelopes arrive (in one batch or one by one); the rules agree.
    @Test func aRetractedHideShowsThePostAgainInAnyOrder() throws {
        let post = Fixtures.post(by: building, in: building.publicKey, at: Fixtures.epoch, title: "Réunion")
        let hide = Fixtures.hide(post, by: building, for: building.publicKey, at: Fixtures.epoch + 10, lifetime: 7 * Fixtures.day - 10)
        let unhide = Fixtures.retract(hide, by: building, in: building.publicKey, at: Fixtures.epoch + 20)
        #expect(unhide.expiresAt >= hide.expiresAt)
        let all = [post, hide, unhide]
        let orders: [[Int]] = [[0, 1, 2], [0, 2, 1], [1, 0, 2], [1, 2, 0], [2, 0, 1], [2, 1, 0]]
        for order in orders {
            for batched in [true, false] {
                let store = try makeStore()
                if batched {
                    _ = try store.ingest(order.map { all[$0].bytes }, now: now)
                } else {
                    for index in order { _ = try store.ingest([all[index].bytes], now: now) }
                }
                #expect(try store.view(now: now).items.map(\.id) == [post.id], "order \(order), batched \(batched)")
                #expect(try store.envelope(hide.id) == nil, "the hide's bytes are erased")
            }
        }
        #expect(ViewRules.view(of: all, now: now, viewer: building.publicKey).items.map(\.id) == [post.id])
        #expect(ViewRules.view(of: [post, hide], now: now, viewer: building.publicKey).items.isEmpty)
        // Only the hide's author takes it back.
        let other = Fixtures.key(9)
        let foreign = Fixtures.retract(hide, by: other, in: building.publicKey, at: Fixtures.epoch + 20)
        #expect(ViewRules.view(of: [post, hide, foreign], now: now, viewer: building.publicKey).items.isEmpty)
    }
}
