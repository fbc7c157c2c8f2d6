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
        var report = IngestReport()
        var candidates: [(index: Int, envelope: UnverifiedEnvelope)] = []
        candidates.reserveCapacity(batch.count)
        var seen = Set<EnvelopeID>(minimumCapacity: batch.count)
        for (index, bytes) in batch.enumerated() {
            do throws(EnvelopeError) {
                let unverified = try validator.decode(bytes)
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

        try write { db in
            let known = try Self.heldIDs(among: candidates.map(\.envelope.id), db)
            var fresh: [Envelope] = []
            fresh.reserveCapacity(candidates.count)
            for (index, candidate) in candidates {
                if known.contains(candidate.id) {
                    report.duplicates += 1
                    continue
                }
                do throws(EnvelopeError) {
                    fresh.append(try validator.verify(candidate))
                } catch {
                    report.refused.append((index, error))
                }
            }

            let erasedOnArrival = try Self.applyRetractions(fresh: fresh, report: &report, db)

            let insert = try db.cachedStatement(sql: """
                INSERT INTO envelope (id, kind, scope, building, author, hlc, expiresAt, target, bytes, receivedAt)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """)
            var newest: UInt64 = 0
            for envelope in fresh {
                newest = max(newest, envelope.timestamp.rawValue)
                if erasedOnArrival.contains(envelope.id) {
                    try Self.recordErased(id: envelope.id, author: envelope.author, expiresAt: envelope.expiresAt, db)
                    report.erasedOnArrival.append(envelope.id)
                    continue
                }
                let c = envelope.content
                try insert.execute(arguments: [
                    Data(envelope.id.bytes), c.kind.rawValue, c.scope.rawValue, Data(c.building.bytes), Data(c.author.bytes),
                    Int64(bitPattern: c.timestamp.rawValue), Int64(clamping: c.expiresAt), c.target.map { Data($0.bytes) },
                    Data(envelope.bytes), Int64(clamping: now),
                ])
                report.accepted.append(envelope.id)
            }

            // The clock moves past everything accepted, so later local posts order after them.
            if newest > 0 {
                let last = UInt64(bitPattern: try Self.counter(.clock, db))
                if newest > last { try Self.setCounter(.clock, Int64(bitPattern: newest), db) }
            }
            try Self.addToCounter(.deferredFutureDated, report.deferred.count, db)
            try Self.addToCounter(.refused, report.refused.count, db)
        }
        report.refused.sort { $0.index < $1.index }
        return report
    }

    /// Ids among `ids` that are held or were erased.
    static func heldIDs(among ids: [EnvelopeID], _ db: Database) throws -> Set<EnvelopeID> {
        var held = Set<EnvelopeID>()
        for chunk in ids.chunked(500) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let args = StatementArguments(chunk.map { Data($0.bytes) })
            let sql = "SELECT id FROM envelope WHERE id IN (\(marks)) UNION ALL SELECT id FROM erased WHERE id IN (\(marks))"
            for data in try Data.fetchAll(db, sql: sql, arguments: args + args) {
                held.insert(EnvelopeID(bytes: [UInt8](data))!)
            }
        }
        return held
    }

    /// Applies the erasure rule (``ViewRules/retract(by:until:erases:by:until:)``) between the
    /// fresh envelopes and everything held. Erases held victims of fresh retracts, and returns
    /// the fresh envelopes that retracts (held or fresh) erase on arrival.
    static func applyRetractions(fresh: [Envelope], report: inout IngestReport, _ db: Database) throws -> Set<EnvelopeID> {
        struct Retraction { let target: EnvelopeID; let author: PublicKey; let expiresAt: UInt64 }
        var retractions: [EnvelopeID: [Retraction]] = [:]
        for r in fresh where r.kind == .retract {
            retractions[r.target!, default: []].append(Retraction(target: r.target!, author: r.author, expiresAt: r.expiresAt))
        }
        // A fresh post or edit can be erased by a held retract naming it (or, for an edit, its post).
        let victimTargets = fresh.flatMap { e -> [EnvelopeID] in
            e.kind == .edit ? [e.id, e.target!] : e.kind.isContent ? [e.id] : []
        }
        for chunk in Array(Set(victimTargets)).chunked(500) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let sql = "SELECT target, author, expiresAt FROM envelope WHERE kind = \(Kind.retract.rawValue) AND target IN (\(marks))"
            for row in try Row.fetchAll(db, sql: sql, arguments: StatementArguments(chunk.map { Data($0.bytes) })) {
                let target = EnvelopeID(bytes: [UInt8](row[0] as Data))!
                let r = Retraction(target: target, author: PublicKey(bytes: [UInt8](row[1] as Data))!, expiresAt: UInt64(row[2] as Int64))
                retractions[target, default: []].append(r)
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
        let freshTargets = fresh.filter { $0.kind == .retract }.map { $0.target! }
        for chunk in Array(Set(freshTargets)).chunked(250) {
            let marks = Array(repeating: "?", count: chunk.count).joined(separator: ",")
            let args = StatementArguments(chunk.map { Data($0.bytes) })
            let sql = """
                SELECT id, kind, author, expiresAt, target FROM envelope
                WHERE id IN (\(marks)) OR (kind = \(Kind.edit.rawValue) AND target IN (\(marks)))
                """
            for row in try Row.fetchAll(db, sql: sql, arguments: args + args) {
                let id = EnvelopeID(bytes: [UInt8](row[0] as Data))!
                guard let kind = Kind(rawValue: UInt8(clamping: row[1] as Int)) else { continue }
                let author = PublicKey(bytes: [UInt8](row[2] as Data))!
                let expiresAt = UInt64(row[3] as Int64)
                let target = (row[4] as Data?).flatMap { EnvelopeID(bytes: [UInt8]($0)) }
                guard erases(kind, author, expiresAt, target, id: id) else { continue }
                try db.execute(sql: "DELETE FROM envelope WHERE id = ?", arguments: [Data(id.bytes)])
                try recordErased(id: id, author: author, expiresAt: expiresAt, db)
                report.erased.append(id)
            }
        }
        return erasedOnArrival
    }

    static func recordErased(id: EnvelopeID, author: PublicKey, expiresAt: UInt64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT OR IGNORE INTO erased (id, author, expiresAt) VALUES (?, ?, ?)",
            arguments: [Data(id.bytes), Data(author.bytes), Int64(clamping: expiresAt)]
        )
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
