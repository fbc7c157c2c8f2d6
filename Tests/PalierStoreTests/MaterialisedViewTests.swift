import Foundation
import PalierCore
import PalierCrypto
@testable import PalierStore
import PalierTestSupport
import Testing

/// The materialised view is ViewRules applied to the set: after any history — grants after the
/// posts they allow, revocations, edits, retracts before and after their targets, hides,
/// expiries, the store closed and opened again in between — the tables give exactly the view
/// the pure function computes from every envelope the store took.
@Suite struct MaterialisedViewTests {
    @Test(arguments: Array(UInt64(1)...200))
    func theTablesAreTheRules(seed: UInt64) throws {
        let world = RandomNeighbourhood(seed: seed &+ 10_000, size: 70)
        let home = world.home.publicKey
        var random = SeededRandom(seed: seed &* 31)
        let path = makeTemporaryDirectory("palier-view").appendingPathComponent("palier.sqlite").path
        var store = try EnvelopeStore(path: path, building: home, validator: .sodium)
        var taken: [Envelope] = []
        let byID = Dictionary(world.envelopes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })

        var order = world.envelopes
        order.shuffle(using: &random)
        // Five stages at later and later times: each takes a part of the history, then the view
        // is compared (expiries happen between stages: lifetimes run from 1 to 400 days).
        let instants = [2 * 3_600_000, 3 * Fixtures.day, 20 * Fixtures.day, 60 * Fixtures.day, 200 * Fixtures.day].map { Fixtures.epoch + $0 }
        let stages = order.chunked(into: 5)
        for (stage, now) in zip(stages, instants) {
            var rest = stage[...]
            while !rest.isEmpty {
                let batch = Array(rest.prefix(Int.random(in: 1...6, using: &random)))
                rest = rest.dropFirst(batch.count)
                let report = try store.ingest(batch.map(\.bytes), now: now)
                taken += (report.accepted + report.erasedOnArrival).compactMap { byID[$0] }
                if Int.random(in: 0..<8, using: &random) == 0 {
                    store = try EnvelopeStore(path: path, building: home, validator: .sodium)
                }
            }
            let expected = ViewRules.view(of: taken, now: now, viewer: home)
            let actual = try store.view(now: now)
            #expect(actual == expected, "seed \(seed) at +\((now - Fixtures.epoch) / 3_600_000) h: \(Self.difference(actual, expected))")
        }
    }

    @Test("a store made before the view existed gets it computed when opened")
    func migration() throws {
        let world = RandomNeighbourhood(seed: 77, size: 80)
        let home = world.home.publicKey
        let now = Fixtures.epoch + 2 * 3_600_000
        let path = makeTemporaryDirectory("palier-view").appendingPathComponent("palier.sqlite").path
        let store = try EnvelopeStore(path: path, building: home, validator: .sodium)
        let report = try store.ingest(world.envelopes.map(\.bytes), now: now)
        let expected = try store.view(now: now)
        #expect(!expected.items.isEmpty)
        #expect(report.accepted.count > 0)
        // Undo v4 and v5 as an older palier would have left the file: no view tables, no subject
        // column, envelopes not numbered.
        try store.rewindToVersion3ForTests()
        let reopened = try EnvelopeStore(path: path, building: home, validator: .sodium)
        #expect(try reopened.view(now: now) == expected)
    }

    static func difference(_ a: BuildingView, _ b: BuildingView) -> String {
        if a.items != b.items {
            let onlyA = Set(a.items.map(\.id)).subtracting(b.items.map(\.id)).map { String($0.hex.prefix(8)) }
            let onlyB = Set(b.items.map(\.id)).subtracting(a.items.map(\.id)).map { String($0.hex.prefix(8)) }
            let differing = zip(a.items, b.items).first { $0 != $1 }.map { "\($0)\n≠\n\($1)" } ?? ""
            return "items: tables only \(onlyA), rules only \(onlyB) \(differing)"
        }
        if a.memberships != b.memberships { return "memberships \(a.memberships.count) vs \(b.memberships.count)" }
        return "profiles \(a.profiles.map(\.envelope)) vs \(b.profiles.map(\.envelope))"
    }
}

extension Array {
    func chunked(into parts: Int) -> [ArraySlice<Element>] {
        let size = (count + parts - 1) / parts
        return (0..<parts).map { self[Swift.min($0 * size, count)..<Swift.min(($0 + 1) * size, count)] }
    }
}

/// Schema v11 on a store that already held image posts (a newer node's, kept with an extension
/// the older version did not read): their references are filled in when the store is opened.
struct BlobMigrationTests {
    @Test("opening an older store fills in the images its posts name, so that they are fetched")
    func backfill() throws {
        let key = Fixtures.key(3)
        let path = makeTemporaryDirectory("palier-blobs").appendingPathComponent("palier.sqlite").path
        let store = try EnvelopeStore(path: path, building: key.publicKey, validator: .sodium)
        let blob = Fixtures.blob(7, size: 2000)
        let post = Fixtures.imagePost(by: key, in: key.publicKey, images: [blob.reference])
        #expect(try store.ingest([post.bytes], now: Fixtures.epoch + 1000).accepted == [post.id])
        try store.rewindToVersion3ForTests()
        let reopened = try EnvelopeStore(path: path, building: key.publicKey, validator: .sodium)
        #expect(try reopened.missingBlobs(limit: 10) == [BlobRecord(blob.reference)])
        #expect(try reopened.wantedBlob(blob.reference.blob) == BlobRecord(blob.reference))
    }
}
