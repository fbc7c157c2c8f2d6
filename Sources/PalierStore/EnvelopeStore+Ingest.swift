import Foundation
import GRDB
import PalierCore

extension EnvelopeStore {
    /// Ingests a batch: the one path for envelopes typed on the CLI and envelopes from peers.
    ///
    /// Each envelope is decoded and checked against the clock outside the transaction; then, in
    /// one write transaction, ids already held (or erased) are set aside with no write and no
    /// signature check, each new signature is verified once, retracts erase what they name
    /// (whichever of retract and target arrives first), and the batch is committed at once.
    /// - Parameter now: the node's wall clock, Unix milliseconds.
    public func ingest(_ batch: [[UInt8]], now: UInt64) throws(StoreError) -> IngestReport {
        try ingest(decoded: batch.map { bytes in Result { () throws(EnvelopeError) in try validator.decode(bytes) } }, now: now)
    }

    /// Ingests envelopes a caller has already decoded (their ids computed), so that sync's
    /// checks before ingest cost no second decode; decoding failures are refused at their index.
    public func ingest(decoded batch: [Result<UnverifiedEnvelope, EnvelopeError>], now: UInt64) throws(StoreError) -> IngestReport {
        var report = IngestReport()
        var candidates: [(index: Int, envelope: UnverifiedEnvelope)] = []
        candidates.reserveCapacity(batch.count)
        var seen = Set<EnvelopeID>(minimumCapacity: batch.count)
        for (index, decoded) in batch.enumerated() {
            do throws(EnvelopeError) {
                let unverified = try decoded.get()
                try EnvelopeValidator.admit(unverified.content, now: now, localBuilding: building)
                if seen.insert(unverified.id).inserted {
                    candidates.append((index, unverified))
                } else {
                    report.duplicates += 1
                }
            } catch where error.isTransient {
                report.deferred.append((index, error))
            } catch {
                report.refused.append((index, error))
            }
        }

        let gone = try write { db in
            let held = try RawStatement(db, sql: Self.heldSQL)
            var unknown: [(index: Int, envelope: UnverifiedEnvelope)] = []
            unknown.reserveCapacity(candidates.count)
            for candidate in candidates {
                held.bind(1, candidate.envelope.id.bytes)
                if try held.exists() {
                    report.duplicates += 1
                } else {
                    unknown.append(candidate)
                }
            }
            // Verification in a loop of its own keeps libsodium's tables warm in the cache.
            var fresh: [Envelope] = []
            fresh.reserveCapacity(unknown.count)
            for (index, candidate) in unknown {
                do throws(EnvelopeError) {
                    fresh.append(try validator.verify(candidate))
                } catch {
                    report.refused.append((index, error))
                }
            }

            var changes = ViewChanges()
            let erasedOnArrival = try Self.applyRetractions(fresh: fresh, report: &report, changes: &changes, db)

            let insert = try RawStatement(db, sql: """
                INSERT INTO envelope (id, kind, author, hlc, expiresAt, target, bytes, scope, building, subject)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                """)
            var newest: UInt64 = 0
            for envelope in fresh {
                newest = max(newest, envelope.timestamp.rawValue)
                if erasedOnArrival.contains(envelope.id) {
                    try Self.recordErased(id: envelope.id, author: envelope.author, expiresAt: envelope.expiresAt, db)
                    report.erasedOnArrival.append(envelope.id)
                    continue
                }
                insert.bind(1, envelope.id.bytes)
                insert.bind(2, Int64(envelope.kind.rawValue))
                insert.bind(3, envelope.author.bytes)
                insert.bind(4, Int64(bitPattern: envelope.timestamp.rawValue))
                insert.bind(5, Int64(clamping: envelope.expiresAt))
                if let target = envelope.target { insert.bind(6, target.bytes) } else { insert.bindNull(6) }
                insert.bind(7, envelope.bytes)
                insert.bind(8, Int64(envelope.content.scope.rawValue))
                insert.bind(9, envelope.building.bytes)
                if case .grant(let grant) = envelope.content.payload { insert.bind(10, grant.subject.bytes) } else { insert.bindNull(10) }
                try insert.run()
                try Self.recordAttachments(of: envelope, db)
                report.accepted.append(envelope.id)
                changes.note(envelope)
                if case .post = envelope.content.payload { changes.decoded[envelope.id] = (insert.lastInsertedRowID, envelope) }
            }
            try Self.refreshView(changes, viewer: building, db)

            // The clock moves past everything accepted, so later local posts order after them.
            if newest > 0 {
                let last = UInt64(bitPattern: try Self.counter(.clock, db))
                if newest > last { try Self.setCounter(.clock, Int64(bitPattern: newest), db) }
            }
            let changed = report.accepted.count + report.erasedOnArrival.count + report.erased.count
            try Self.addToCounter(.changes, changed, db)
            try Self.addToCounter(.deferredFutureDated, report.deferred.count, db)
            try Self.addToCounter(.refused, report.refused.count, db)
            // Erasures and hides may leave blobs no post needs.
            let mayFree = !report.erased.isEmpty || fresh.contains { $0.kind == .hide || $0.kind == .retract }
            return mayFree ? try Self.collectBlobRows(now: now, db) : []
        }
        deleteBlobFiles(gone)
        report.refused.sort { $0.index < $1.index }
        return report
    }

    /// Applies the erasure rule (``ViewRules/retract(by:until:erases:by:until:)``) between the
    /// fresh envelopes and everything held. Erases held victims of fresh retracts, and returns
    /// the fresh envelopes that retracts (held or fresh) erase on arrival.
    static func applyRetractions(fresh: [Envelope], report: inout IngestReport, changes: inout ViewChanges, _ db: Database) throws -> Set<EnvelopeID> {
        struct Retraction { let author: PublicKey; let expiresAt: UInt64 }
        var retractions: [EnvelopeID: [Retraction]] = [:]
        for r in fresh where r.kind == .retract {
            retractions[r.target!, default: []].append(Retraction(author: r.author, expiresAt: r.expiresAt))
        }
        let retract = Int64(Kind.retract.rawValue)
        // Held retracts matter only if there are any: one index seek tells.
        if try RawStatement(db, sql: "SELECT 1 FROM envelope WHERE kind = \(retract) AND target IS NOT NULL LIMIT 1").exists() {
            // A fresh post, edit or hide can be erased by a held retract naming it (or, for an
            // edit, its post).
            let named = try RawStatement(db, sql: "SELECT author, expiresAt FROM envelope WHERE kind = \(retract) AND target = ?1")
            var probed = Set<EnvelopeID>()
            for e in fresh where e.kind.isContent || e.kind == .edit || e.kind == .hide {
                for id in e.kind == .edit ? [e.id, e.target!] : [e.id] where probed.insert(id).inserted {
                    named.bind(1, id.bytes)
                    defer { named.reset() }
                    while try named.step() {
                        let r = Retraction(author: PublicKey(bytes: named.blob(0))!, expiresAt: UInt64(clamping: named.int64(1)))
                        retractions[id, default: []].append(r)
                    }
                }
            }
        }
        guard !retractions.isEmpty else { return [] }

        func erases(_ kind: Kind, _ author: PublicKey, _ expiresAt: UInt64, _ target: EnvelopeID?, id: EnvelopeID) -> Bool {
            let named = (retractions[id] ?? []) + (kind == .edit ? retractions[target!] ?? [] : [])
            return named.contains {
                ViewRules.retract(by: $0.author, until: $0.expiresAt, erases: kind, by: author, until: expiresAt)
            }
        }

        var erasedOnArrival = Set<EnvelopeID>()
        for e in fresh where erases(e.kind, e.author, e.expiresAt, e.target, id: e.id) {
            erasedOnArrival.insert(e.id)
        }

        // Held posts and edits named by a fresh retract.
        let victims = try RawStatement(db, sql: """
            SELECT id, kind, author, expiresAt, target FROM envelope
            WHERE id = ?1 OR (kind = \(Kind.edit.rawValue) AND target = ?1)
            """)
        let delete = try RawStatement(db, sql: "DELETE FROM envelope WHERE id = ?1")
        for target in Set(fresh.filter { $0.kind == .retract }.map { $0.target! }) {
            var erased: [(id: EnvelopeID, author: PublicKey, expiresAt: UInt64)] = []
            victims.bind(1, target.bytes)
            while try victims.step() {
                guard let kind = Kind(rawValue: UInt8(clamping: victims.int64(1))) else { continue }
                let id = EnvelopeID(bytes: victims.blob(0))!
                let author = PublicKey(bytes: victims.blob(2))!
                let expiresAt = UInt64(clamping: victims.int64(3))
                let victimTarget = victims.isNull(4) ? nil : EnvelopeID(bytes: victims.blob(4))
                if erases(kind, author, expiresAt, victimTarget, id: id) {
                    erased.append((id, author, expiresAt))
                    // The post it was, or the post it edited or hid, shows differently now.
                    if let post = kind == .edit || kind == .hide ? victimTarget : id { changes.posts.insert(post) }
                }
            }
            victims.reset()
            for victim in erased {
                delete.bind(1, victim.id.bytes)
                try delete.run()
                try recordErased(id: victim.id, author: victim.author, expiresAt: victim.expiresAt, db)
                report.erased.append(victim.id)
            }
        }
        return erasedOnArrival
    }

    static func recordErased(id: EnvelopeID, author: PublicKey, expiresAt: UInt64, _ db: Database) throws {
        let insert = try RawStatement(db, sql: "INSERT OR IGNORE INTO erased (id, author, expiresAt) VALUES (?1, ?2, ?3)")
        insert.bind(1, id.bytes)
        insert.bind(2, author.bytes)
        insert.bind(3, Int64(clamping: expiresAt))
        try insert.run()
    }
}
