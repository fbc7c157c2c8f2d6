import PalierCore
import PalierStore

extension SyncEngine {
    /// Envelopes from a peer: the same ingest path as the CLI's, after the federation checks.
    ///
    /// Envelopes of blocked buildings are refused unstored (the sender is not blamed: it may
    /// not block them). An author over its rate limit has the excess dropped unstored, to be
    /// offered again by a later reconciliation. A malformed or forged envelope, or one that may
    /// not leave its building, closes the session and backs the peer off. Expired and
    /// future-dated envelopes are refused without blame (clocks differ; the latter come again).
    func ingest(_ list: [[UInt8]], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        statistics.bodiesReceived += list.count
        let out = ingestBodies(list, from: peer, now: now)
        // The places of the wants these bodies answered go to the next ones (not on a session
        // being closed).
        if out.contains(where: { if case .close = $0 { true } else { false } }) { return out }
        return out + askMore(of: peer, now: now) + (blobsEnabled && nextBlobScan <= now ? fetchBlobs(now: now) : [])
    }

    private func ingestBodies(_ list: [[UInt8]], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        var decoded: [UnverifiedEnvelope] = []
        decoded.reserveCapacity(list.count)
        let validator = EnvelopeValidator(crypto: crypto)
        for bytes in list {
            do throws(EnvelopeError) {
                decoded.append(try validator.decode(bytes))
            } catch {
                statistics.refusedInvalid += 1
                return [.close(peer, .invalidEnvelopes, "sent an invalid envelope: \(error)", backOff: true)]
            }
        }
        // Posts with images: their blobs are looked for once the batch is stored.
        if decoded.contains(where: { $0.content.postContent?.images.isEmpty == false }) { nextBlobScan = now }
        // Whatever becomes of them, these bodies came: their wants are answered.
        if sessions[peer]?.asked.isEmpty == false {
            for envelope in decoded { sessions[peer]?.asked.remove(envelope.id) }
        }
        // Duplicates cost the author nothing: only new envelopes count against its limit.
        let held = storeRead({ () throws(StoreError) in try store.held(decoded.map(\.id)) }) ?? []
        // A batch the store refuses costs its authors nothing.
        let limitsBefore = authorLimits
        var batch: [Result<UnverifiedEnvelope, EnvelopeError>] = []
        batch.reserveCapacity(list.count)
        for envelope in decoded {
            let content = envelope.content
            if policy.blocked.contains(content.building) {
                statistics.refusedBlocked += 1
                continue
            }
            if !held.contains(envelope.id) {
                var limit = authorLimits[content.author]
                    ?? TokenBucket(capacity: configuration.authorBurst, perMillisecond: configuration.authorPerMinute / 60_000, now: now)
                let allowed = limit.take(now: now)
                authorLimits[content.author] = limit
                guard allowed else {
                    statistics.droppedRateLimited += 1
                    continue
                }
            }
            batch.append(.success(envelope))
        }
        guard !batch.isEmpty else { return [] }

        let report: IngestReport
        do throws(StoreError) {
            report = try store.ingest(decoded: batch, now: now)
        } catch {
            authorLimits = limitsBefore
            let ids = batch.compactMap { if case .success(let envelope) = $0 { envelope.id } else { nil } }
            return writeFailed(error, batch: ids, from: peer, now: now)
        }
        nextWritePause = configuration.writePause
        statistics.writesFailing = false
        let arrived = report.accepted + report.erasedOnArrival
        for id in arrived { pendingWants[id] = nil }
        sessions[peer]?.markKnown(arrived)
        statistics.bodiesAccepted += report.accepted.count

        let blamed = report.refused.filter { $0.error != .expired }
        if let first = blamed.first {
            statistics.refusedInvalid += blamed.count
            return [.close(peer, .invalidEnvelopes, "sent an invalid envelope: \(first.error)", backOff: true)]
                + announce(report.accepted, except: peer)
        }
        return announce(report.accepted, except: peer)
    }

    /// The store could not write a batch from `peer` (a full disk…). Nothing is lost: the peer
    /// still holds the envelopes. It is told to retry later (`bye` 8, no blame), nothing is asked
    /// of any peer for a pause that doubles while writes keep failing, and the ids are left
    /// unasked so that the rounds after the pause fetch them again.
    func writeFailed(_ error: StoreError, batch ids: [EnvelopeID], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        recordStoreFailure(error)
        statistics.envelopesNotStored += ids.count
        statistics.writesFailing = true
        for id in ids { pendingWants[id] = nil }
        // One refusal starts a pause; the batches already on their way during it do not lengthen it.
        if now >= writesPausedUntil {
            let pause = max(nextWritePause, configuration.writePause)
            writesPausedUntil = now.addingReportingOverflow(pause).overflow ? .max : now + pause
            nextWritePause = min(pause.multipliedReportingOverflow(by: 2).overflow ? .max : pause * 2, configuration.maximumWritePause)
        }
        let wait = (writesPausedUntil - now) / 1000
        for session in sessions.keys { sessions[session]?.reconciling = false }
        return [.close(peer, .retryLater, "could not store what was sent (\(error)); asking again in \(wait) s", backOff: false)]
    }
}
