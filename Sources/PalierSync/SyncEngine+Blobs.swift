import PalierCore
import PalierStore

/// A blob being fetched from one peer: the next offset expected and the end asked for.
struct BlobDownload {
    let record: BlobRecord
    var next: Int
    var lastProgress: UInt64
}

/// A blob being sent to one peer: what is left of the range it asked for.
struct BlobUpload {
    let record: BlobRecord
    var next: Int
    let end: Int
}

/// Blob transfer (docs/protocol.md §8.1): a node fetches the images of the posts it stores —
/// never others — one blob at a time from each peer, in chunks, appended to a partial file
/// that survives a cut, checked against its hash and its post's description before it is kept,
/// within the node's budget. It sends only blobs of neighbourhood posts it holds, paced by a
/// byte rate per peer.
extension SyncEngine {
    /// How long a peer that said it lacks a blob is not asked for it again.
    static let blobMissingBackOff: UInt64 = 60_000
    /// Blob transfers a peer may have asked of this node at once; more is a violation.
    static let maximumBlobUploads = 4

    var blobsEnabled: Bool { configuration.blobBudget > 0 && blobCheck != nil }

    /// Whether blob chunks wait for a peer's byte allowance (sent by a later tick).
    public var hasPacedBlobChunks: Bool { !blobUploads.isEmpty }

    /// Starts fetching missing blobs from the peers that can send them and are not busy.
    func fetchBlobs(now: UInt64) -> [SyncOutput] {
        nextBlobScan = now + configuration.blobScanInterval
        guard blobsEnabled else { return [] }
        let idle = sessions.keys.sorted().filter {
            blobDownloads[$0] == nil && sessions[$0]!.helloReceived && sessions[$0]!.features.contains(.blobs)
        }
        guard !idle.isEmpty, let missing = storeRead({ () throws(StoreError) in try store.missingBlobs(limit: 64) }), !missing.isEmpty,
              let used = storeRead({ () throws(StoreError) in try store.blobBytes() }) else {
            statistics.blobsWaitingForRoom = 0
            return []
        }
        var out: [SyncOutput] = []
        var room = configuration.blobBudget - used
        var busy = Set(blobDownloads.values.map(\.record.id))
        var overBudget = 0
        for record in missing where !busy.contains(record.id) {
            guard Int64(record.byteCount) <= room else {
                overBudget += 1
                continue
            }
            guard let peer = idle.first(where: { peer in blobDownloads[peer] == nil && (blobUnavailable[record.id]?[peer] ?? 0) <= now }) else { continue }
            var offset = store.blobFiles.partialLength(record.id)
            if offset >= record.byteCount {
                // A transfer that gathered all its bytes but was not kept (a crash): checked again from the start.
                store.blobFiles.deletePartial(record.id)
                offset = 0
            }
            busy.insert(record.id)
            room -= Int64(record.byteCount)
            blobDownloads[peer] = BlobDownload(record: record, next: offset, lastProgress: now)
            out.append(send(.blobWant(record.id, offset: UInt64(offset), length: UInt64(record.byteCount - offset)), to: peer, now: now))
        }
        statistics.blobsWaitingForRoom = overBudget
        return out
    }

    /// A chunk of the blob this node fetches from `peer`.
    func receiveBlobChunk(_ id: BlobID, offset: UInt64, bytes: [UInt8], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard var download = blobDownloads[peer], download.record.id == id else {
            return [.close(peer, .protocolViolation, "a chunk of a blob not asked for", backOff: true)]
        }
        guard offset == UInt64(download.next), bytes.count <= download.record.byteCount - download.next else {
            blobDownloads[peer] = nil
            return [.close(peer, .protocolViolation, "a blob chunk out of place or past the blob's end", backOff: true)]
        }
        do throws(StoreError) {
            try store.blobFiles.appendPartial(id, bytes)
        } catch {
            // The bytes so far stay; the transfer resumes later.
            recordStoreFailure(error)
            blobDownloads[peer] = nil
            return []
        }
        statistics.blobBytesReceived += bytes.count
        download.next += bytes.count
        download.lastProgress = now
        guard download.next == download.record.byteCount else {
            blobDownloads[peer] = download
            return []
        }
        blobDownloads[peer] = nil
        let finished = finishBlob(download.record, from: peer, now: now)
        // A peer being closed is asked nothing more.
        if finished.contains(where: { if case .close = $0 { true } else { false } }) { return finished }
        return finished + fetchBlobs(now: now)
    }

    /// A whole blob: kept if its bytes hash to its id and are the image its post describes.
    private func finishBlob(_ record: BlobRecord, from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let bytes = storeRead({ () throws(StoreError) in try store.blobFiles.partialBytes(record.id) }) else { return [] }
        guard bytes.count == record.byteCount, crypto.blake2b256(bytes) == record.id.bytes else {
            store.blobFiles.deletePartial(record.id)
            statistics.blobsRefusedFromPeers += 1
            blobUnavailable[record.id, default: [:]][peer] = now + 5 * 60_000
            return [.close(peer, .invalidEnvelopes, "sent a blob whose bytes do not match its hash", backOff: true)]
        }
        if let problem = blobCheck?(bytes, record) {
            // The bytes are what the author signed: the author's fault, not the peer's.
            statistics.blobsRefusedFromAuthors += 1
            statistics.lastBlobRefusal = problem
            _ = storeRead { () throws(StoreError) in try store.refuseBlob(record.id, reason: problem, now: now) }
            return []
        }
        do throws(StoreError) {
            try store.keepBlob(record, bytes: bytes, budget: configuration.blobBudget, now: now)
            store.blobFiles.deletePartial(record.id)
            statistics.blobsFetched += 1
        } catch {
            // Over budget (another blob took the room first) or a failed write: the partial
            // stays complete and is checked again at the next attempt.
            recordStoreFailure(error)
        }
        return []
    }

    /// A peer lacks a blob this node asked it for.
    func blobMissing(_ id: BlobID, from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard blobDownloads[peer]?.record.id == id else { return [] }
        blobDownloads[peer] = nil
        blobUnavailable[id, default: [:]][peer] = now + Self.blobMissingBackOff
        return fetchBlobs(now: now)
    }

    /// A peer asks for a range of a blob.
    func answerBlobWant(_ id: BlobID, offset: UInt64, length: UInt64, from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let found = storeRead({ () throws(StoreError) in try store.shareableBlob(id) }), let record = found else {
            return [send(.blobMissing(id), to: peer, now: now)]
        }
        guard offset + length <= UInt64(record.byteCount) else {
            return [.close(peer, .protocolViolation, "asked for bytes past a blob's end", backOff: true)]
        }
        var queue = blobUploads[peer] ?? []
        queue.removeAll { $0.record.id == id }
        guard queue.count < Self.maximumBlobUploads else {
            return [.close(peer, .protocolViolation, "asked for more than \(Self.maximumBlobUploads) blobs at once", backOff: true)]
        }
        queue.append(BlobUpload(record: record, next: Int(offset), end: Int(offset + length)))
        blobUploads[peer] = queue
        return sendBlobChunks(to: peer, now: now)
    }

    /// Sends the chunks the peer's byte allowance permits now; the tick sends the rest.
    func sendBlobChunks(to peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard var queue = blobUploads[peer], !queue.isEmpty else { return [] }
        var limit = blobSendLimits[peer]
            ?? TokenBucket(capacity: configuration.blobBurstBytes, perMillisecond: configuration.blobBytesPerSecond / 1000, now: now)
        var out: [SyncOutput] = []
        while var upload = queue.first {
            let length = min(SyncProtocol.maximumChunkBytes, upload.end - upload.next)
            guard limit.take(Double(length), now: now) else { break }
            guard let bytes = storeRead({ () throws(StoreError) in
                try store.blobFiles.read(upload.record.id, type: upload.record.type, offset: upload.next, length: length)
            }), bytes.count == length else {
                // Gone since (its post erased): the peer hears it is missing.
                queue.removeFirst()
                out.append(send(.blobMissing(upload.record.id), to: peer, now: now))
                continue
            }
            out.append(send(.blobChunk(upload.record.id, offset: UInt64(upload.next), bytes: bytes), to: peer, now: now))
            statistics.blobBytesSent += length
            upload.next += length
            if upload.next >= upload.end { queue.removeFirst() } else { queue[0] = upload }
        }
        blobSendLimits[peer] = limit
        blobUploads[peer] = queue.isEmpty ? nil : queue
        return out
    }

    /// Periodic blob work: stalled downloads end (their bytes stay for later), paced uploads
    /// go on, and missing blobs are looked for again.
    func blobTick(now: UInt64) -> [SyncOutput] {
        var out: [SyncOutput] = []
        for (peer, download) in blobDownloads where now >= download.lastProgress + configuration.blobStallTimeout {
            // A peer that stops sending has not lied: its bytes so far are kept and another
            // peer (or it, later) is asked for the rest.
            blobDownloads[peer] = nil
            blobUnavailable[download.record.id, default: [:]][peer] = now + Self.blobMissingBackOff
            statistics.blobTransfersStalled += 1
        }
        for peer in blobUploads.keys.sorted() { out += sendBlobChunks(to: peer, now: now) }
        if blobsEnabled, now >= nextBlobScan { out += fetchBlobs(now: now) }
        return out
    }

    /// When blob work is next due, for ``nextTick()``.
    func nextBlobTick() -> UInt64? {
        var next: UInt64?
        func consider(_ t: UInt64) { next = min(next ?? t, t) }
        for download in blobDownloads.values { consider(download.lastProgress + configuration.blobStallTimeout) }
        for (peer, queue) in blobUploads {
            guard let first = queue.first else { continue }
            let length = Double(min(SyncProtocol.maximumChunkBytes, first.end - first.next))
            consider(blobSendLimits[peer]?.time(for: length) ?? 0)
        }
        if blobsEnabled, sessions.values.contains(where: { $0.features.contains(.blobs) }) { consider(nextBlobScan) }
        return next
    }

    func blobSessionClosed(_ peer: PeerID) {
        blobDownloads[peer] = nil
        blobUploads[peer] = nil
        blobSendLimits[peer] = nil
        for id in Array(blobUnavailable.keys) {
            blobUnavailable[id]?[peer] = nil
            if blobUnavailable[id]?.isEmpty == true { blobUnavailable[id] = nil }
        }
    }
}
