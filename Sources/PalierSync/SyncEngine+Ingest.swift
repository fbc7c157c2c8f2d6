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
        // Duplicates cost the author nothing: only new envelopes count against its limit.
        let held = storeRead({ () throws(StoreError) in try store.held(decoded.map(\.id)) }) ?? []
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
            // The store failed (disk full…): nothing is lost, reconciliation offers these again.
            recordStoreFailure(error)
            return []
        }
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
}
