import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// Blob transfer between two engines (docs/protocol.md §8.1), with the image check stubbed: the
/// bytes here are random, and PalierImagingTests checks real images.
struct BlobSyncTests {
    /// Two buildings' engines on in-memory stores; A holds a neighbourhood post with an image.
    final class Pair {
        let keyA = Fixtures.key(800), keyB = Fixtures.key(801)
        let storeA: EnvelopeStore, storeB: EnvelopeStore
        let a: SyncEngine, b: SyncEngine
        let blob: (bytes: [UInt8], reference: ImageReference)
        let post: Envelope
        var now = Fixtures.epoch + 60_000
        var closes: [(side: String, reason: SyncMessage.ByeReason, text: String, blamed: Bool)] = []
        let pair: EnginePair

        init(size: Int = 150_000, scope: Scope = .neighbourhood, budgetB: Int64 = 512 << 20,
             check: @escaping @Sendable ([UInt8], BlobRecord) -> String? = { _, _ in nil }) throws {
            storeA = try EnvelopeStore(path: nil, building: keyA.publicKey, validator: .sodium)
            storeB = try EnvelopeStore(path: nil, building: keyB.publicKey, validator: .sodium)
            a = try SyncEngine(store: storeA, crypto: SodiumCrypto(), configuration: .init(name: "A"))
            var configurationB = SyncEngine.Configuration(name: "B")
            configurationB.blobBudget = budgetB
            b = try SyncEngine(store: storeB, crypto: SodiumCrypto(), configuration: configurationB)
            a.blobCheck = check
            b.blobCheck = check
            blob = Fixtures.blob(1, size: size)
            post = Fixtures.imagePost(by: keyA, in: keyA.publicKey, images: [blob.reference], scope: scope)
            try storeA.keepBlob(BlobRecord(blob.reference), bytes: blob.bytes, budget: 512 << 20, now: now)
            #expect(try storeA.ingest([post.bytes], now: now).accepted == [post.id])
            pair = EnginePair(initiator: b, responder: a)
            pair.onClose = { [unowned self] side, reason, text, blamed in closes.append((side, reason, text, blamed)) }
        }

        func heldByB() throws -> [UInt8]? {
            guard try storeB.heldBlob(blob.reference.blob) != nil else { return nil }
            return try storeB.blobFiles.read(blob.reference.blob, type: .jpeg, offset: 0, length: 1 << 20)
        }
    }

    @Test("a post's image crosses to the neighbour in chunks within the frame limit, checked and kept")
    func anImageCrosses() throws {
        let p = try Pair()
        var chunkSizes: [Int] = []
        p.pair.trace = { _, message in if case .blobChunk(_, _, let bytes) = message { chunkSizes.append(bytes.count) } }
        p.pair.run(now: p.now)
        #expect(try p.storeB.envelope(p.post.id) != nil)
        #expect(try p.heldByB() == p.blob.bytes)
        #expect(chunkSizes == [61_440, 61_440, 150_000 - 2 * 61_440])
        #expect(p.b.statistics.blobsFetched == 1)
        #expect(p.closes.isEmpty)
        #expect(try p.storeB.blobUsage() == BlobUsage(count: 1, bytes: 150_000, missing: 0, refused: 0))
    }

    @Test("a building's own post's image never leaves it: asked for, it is missing")
    func buildingScopeStaysHome() throws {
        let p = try Pair(scope: .building)
        p.pair.run(now: p.now)
        #expect(try p.storeB.envelope(p.post.id) == nil)
        // Asked by hand all the same:
        _ = p.a.sessionOpened(9, remote: p.keyB.publicKey, initiator: false, now: p.now)
        _ = p.a.receive(SyncMessage.hello(.init(name: "B")).encoded(), from: 9, now: p.now)
        let answer = p.a.receive(SyncMessage.blobWant(p.blob.reference.blob, offset: 0, length: 150_000).encoded(), from: 9, now: p.now)
        #expect(answer == [.send(9, .blobMissing(p.blob.reference.blob))])
    }

    @Test("bytes that do not hash to the blob id: the peer is blamed and nothing is kept")
    func wrongBytesBlameThePeer() throws {
        let p = try Pair()
        // A's file is damaged (or A lies): same name, other bytes.
        var forged = p.blob.bytes
        forged[70_000] ^= 1
        p.storeA.blobFiles.delete(p.blob.reference.blob, type: .jpeg)
        try p.storeA.blobFiles.write(p.blob.reference.blob, type: .jpeg, bytes: forged)
        p.pair.run(now: p.now)
        #expect(try p.heldByB() == nil)
        #expect(p.storeB.blobFiles.partialLength(p.blob.reference.blob) == 0, "the bytes are dropped")
        #expect(p.closes.contains { $0.side == "B" && $0.reason == .invalidEnvelopes && $0.blamed })
        #expect(p.b.statistics.blobsRefusedFromPeers == 1)
    }

    @Test("bytes that hash right but are not the image described: the author's fault, never fetched again, no blame")
    func theAuthorsFault() throws {
        let p = try Pair(check: { _, _ in "the bytes are not image/jpeg" })
        p.pair.run(now: p.now)
        #expect(try p.heldByB() == nil)
        #expect(p.closes.isEmpty)
        #expect(p.b.statistics.blobsRefusedFromAuthors == 1)
        #expect(try p.storeB.missingBlobs(limit: 10).isEmpty)
        #expect(try p.storeB.blobUsage().refused == 1)
    }

    @Test("a blob over the budget is not fetched, and the count says so")
    func overBudget() throws {
        let p = try Pair(budgetB: 100_000)
        p.pair.run(now: p.now)
        #expect(try p.storeB.envelope(p.post.id) != nil, "the post comes without its image")
        #expect(try p.heldByB() == nil)
        #expect(p.b.statistics.blobsWaitingForRoom == 1)
        #expect(try p.storeB.blobUsage().missing == 1)
        #expect(throws: StoreError.self) {
            try p.storeB.keepBlob(BlobRecord(p.blob.reference), bytes: p.blob.bytes, budget: 100_000, now: p.now)
        }
        #expect(try p.storeB.blobUsage().count == 0)
    }

    @Test("a transfer cut after its first chunk resumes from the bytes it has")
    func resumesAfterACut() throws {
        let p = try Pair()
        let harness = p.b
        _ = harness.sessionOpened(1, remote: p.keyA.publicKey, initiator: true, now: p.now)
        try p.storeB.ingest([p.post.bytes], now: p.now)
        let asked = harness.receive(SyncMessage.hello(.init(name: "A")).encoded(), from: 1, now: p.now)
        let id = p.blob.reference.blob
        #expect(asked.contains(.send(1, .blobWant(id, offset: 0, length: 150_000))))
        _ = harness.receive(SyncMessage.blobChunk(id, offset: 0, bytes: Array(p.blob.bytes[0..<61_440])).encoded(), from: 1, now: p.now)
        harness.sessionClosed(1)
        #expect(p.storeB.blobFiles.partialLength(id) == 61_440)
        // Another session later: the want starts where the bytes stop.
        _ = harness.sessionOpened(2, remote: p.keyA.publicKey, initiator: true, now: p.now + 1000)
        let again = harness.receive(SyncMessage.hello(.init(name: "A")).encoded(), from: 2, now: p.now + 1000)
        #expect(again.contains(.send(2, .blobWant(id, offset: 61_440, length: 150_000 - 61_440))))
        _ = harness.receive(SyncMessage.blobChunk(id, offset: 61_440, bytes: Array(p.blob.bytes[61_440..<122_880])).encoded(), from: 2, now: p.now + 1000)
        _ = harness.receive(SyncMessage.blobChunk(id, offset: 122_880, bytes: Array(p.blob.bytes[122_880...])).encoded(), from: 2, now: p.now + 1000)
        #expect(try p.heldByB() == p.blob.bytes)
        #expect(p.storeB.blobFiles.partialLength(id) == 0)
    }

    @Test("chunks not asked for, out of place or past the blob's end are protocol violations")
    func hostileChunks() throws {
        let id = Fixtures.blob(1, size: 150_000).reference.blob
        func fresh() throws -> (Pair, [SyncOutput]) {
            let p = try Pair()
            _ = p.b.sessionOpened(1, remote: p.keyA.publicKey, initiator: true, now: p.now)
            try p.storeB.ingest([p.post.bytes], now: p.now)
            return (p, p.b.receive(SyncMessage.hello(.init(name: "A")).encoded(), from: 1, now: p.now))
        }
        func violation(_ out: [SyncOutput]) -> Bool { out.contains { if case .close(1, .protocolViolation, _, true) = $0 { true } else { false } } }
        var (p, _) = try fresh()
        // Not asked: another blob.
        #expect(violation(p.b.receive(SyncMessage.blobChunk(Fixtures.blob(2).reference.blob, offset: 0, bytes: [1]).encoded(), from: 1, now: p.now)))
        (p, _) = try fresh()
        // Out of place: a chunk that skips bytes.
        #expect(violation(p.b.receive(SyncMessage.blobChunk(id, offset: 10, bytes: [1]).encoded(), from: 1, now: p.now)))
        (p, _) = try fresh()
        // Endless: past the blob's declared size.
        _ = p.b.receive(SyncMessage.blobChunk(id, offset: 0, bytes: Array(p.blob.bytes[0..<61_440])).encoded(), from: 1, now: p.now)
        _ = p.b.receive(SyncMessage.blobChunk(id, offset: 61_440, bytes: Array(p.blob.bytes[61_440..<122_880])).encoded(), from: 1, now: p.now)
        #expect(violation(p.b.receive(SyncMessage.blobChunk(id, offset: 122_880, bytes: [UInt8](repeating: 0, count: 61_440)).encoded(), from: 1, now: p.now)))
        #expect(try p.heldByB() == nil)
    }

    @Test("a peer that stops sending frees the transfer after the stall timeout; the bytes stay for later")
    func aStalledTransfer() throws {
        let p = try Pair()
        _ = p.b.sessionOpened(1, remote: p.keyA.publicKey, initiator: true, now: p.now)
        try p.storeB.ingest([p.post.bytes], now: p.now)
        _ = p.b.receive(SyncMessage.hello(.init(name: "A")).encoded(), from: 1, now: p.now)
        let id = p.blob.reference.blob
        _ = p.b.receive(SyncMessage.blobChunk(id, offset: 0, bytes: Array(p.blob.bytes[0..<61_440])).encoded(), from: 1, now: p.now)
        _ = p.b.tick(now: p.now + 31_000)
        #expect(p.b.statistics.blobTransfersStalled == 1)
        #expect(p.storeB.blobFiles.partialLength(id) == 61_440)
    }

    @Test("a peer asking for more than four blobs at once, or past a blob's end, is refused; sending is paced")
    func servingIsBounded() throws {
        let p = try Pair()
        _ = p.a.sessionOpened(9, remote: p.keyB.publicKey, initiator: false, now: p.now)
        _ = p.a.receive(SyncMessage.hello(.init(name: "B")).encoded(), from: 9, now: p.now)
        let id = p.blob.reference.blob
        let past = p.a.receive(SyncMessage.blobWant(id, offset: 100_000, length: 60_000).encoded(), from: 9, now: p.now)
        #expect(past.contains { if case .close(9, .protocolViolation, _, true) = $0 { true } else { false } })
        // Pacing: a burst of 1 MiB, then 8 MiB/s: 20 asks of the whole blob send about 1 MiB at once.
        _ = p.a.sessionOpened(10, remote: p.keyB.publicKey, initiator: false, now: p.now)
        _ = p.a.receive(SyncMessage.hello(.init(name: "B")).encoded(), from: 10, now: p.now)
        var sent = 0
        for _ in 0..<3 {
            for output in p.a.receive(SyncMessage.blobWant(id, offset: 0, length: 150_000).encoded(), from: 10, now: p.now) {
                if case .send(_, .blobChunk(_, _, let bytes)) = output { sent += bytes.count }
            }
        }
        #expect(sent <= 1 << 20)
    }

    @Test("a retract erases the post and deletes its image on both nodes")
    func retractDeletesOnBoth() throws {
        let p = try Pair()
        p.pair.run(now: p.now)
        #expect(try p.heldByB() != nil)
        let retract = Fixtures.retract(p.post, by: p.keyA, in: p.keyA.publicKey, at: Fixtures.epoch + 1000)
        try p.storeA.ingest([retract.bytes], now: p.now + 1000)
        #expect(try p.storeA.heldBlob(p.blob.reference.blob) == nil)
        _ = p.a.localChanges(now: p.now + 1000)
        p.pair.tick(now: p.now + 31_000)
        p.pair.run(now: p.now + 31_000)
        // B learns the retract by announce or reconciliation.
        try p.storeB.ingest([retract.bytes], now: p.now + 31_000)
        #expect(try p.heldByB() == nil)
        #expect(try p.storeB.blobUsage().count == 0)
    }

    @Test("expiry and a hide by the post's own building delete the image; a hide by another building does not")
    func expiryAndHides() throws {
        let p = try Pair()
        p.pair.run(now: p.now)
        // A neighbour (B) hides it on its own screen: B keeps the image for others.
        let theirHide = Fixtures.hide(p.post, by: p.keyB, for: p.keyB.publicKey, at: Fixtures.epoch + 2000)
        try p.storeB.ingest([theirHide.bytes], now: p.now + 2000)
        #expect(try p.heldByB() != nil)
        // The post's own building hides it: everywhere.
        let ownHide = Fixtures.hide(p.post, by: p.keyA, for: p.keyA.publicKey, at: Fixtures.epoch + 3000)
        try p.storeB.ingest([ownHide.bytes], now: p.now + 3000)
        #expect(try p.heldByB() == nil)
        // Expiry at A.
        try p.storeA.purgeExpired(now: p.post.expiresAt)
        #expect(try p.storeA.heldBlob(p.blob.reference.blob) == nil)
        #expect(p.storeA.blobFiles.present().complete.isEmpty)
    }
}
