import Foundation
import GRDB
import PalierCore

/// An envelope set aside because the node stopped (crashed) while handling it.
public struct QuarantinedEnvelope: Sendable, Hashable {
    public let id: EnvelopeID
    public let bytes: [UInt8]
    public let expiresAt: UInt64
    /// When it was set aside, Unix milliseconds.
    public let since: UInt64
    public let reason: String
}

extension EnvelopeStore {
    /// Whether an id is held in any form: stored, erased (retracted), or quarantined. Held ids
    /// are never accepted or fetched again.
    static let heldSQL = """
        SELECT 1 FROM envelope WHERE id = ?1 UNION ALL SELECT 1 FROM erased WHERE id = ?1
        UNION ALL SELECT 1 FROM quarantine WHERE id = ?1
        """

    /// Moves every envelope stored after row `rowID` into quarantine: out of the view, the
    /// screen and sync, kept with its bytes so that an admin can look at it and release it.
    /// Returns the ids moved. Used at start-up when the previous run died before the screen
    /// had shown those envelopes (see PalierNode's `CrashJournal`).
    public func quarantine(afterRow rowID: Int64, reason: String, now: UInt64) throws(StoreError) -> [EnvelopeID] {
        try write { db in
            let rows = try Row.fetchAll(db, sql: "SELECT id, bytes, expiresAt FROM envelope WHERE rowid > ? ORDER BY rowid", arguments: [rowID])
            for row in rows {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO quarantine (id, bytes, expiresAt, since, reason) VALUES (?, ?, ?, ?, ?)",
                    arguments: [row[0] as Data, row[1] as Data, row[2] as Int64, Int64(clamping: now), reason])
            }
            var changes = ViewChanges()
            for row in rows { changes.note(try Self.storedEnvelope(id: row[0], bytes: row[1])) }
            try db.execute(sql: "DELETE FROM envelope WHERE rowid > ?", arguments: [rowID])
            try Self.refreshView(changes, viewer: building, db)
            try Self.addToCounter(.changes, rows.count, db)
            return rows.compactMap { EnvelopeID(bytes: [UInt8]($0[0] as Data)) }
        }
    }

    /// What is in quarantine, oldest first.
    public func quarantined() throws(StoreError) -> [QuarantinedEnvelope] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, bytes, expiresAt, since, reason FROM quarantine ORDER BY since, id").compactMap { row in
                guard let id = EnvelopeID(bytes: [UInt8](row[0] as Data)) else { return nil }
                return QuarantinedEnvelope(
                    id: id, bytes: [UInt8](row[1] as Data), expiresAt: UInt64(clamping: row[2] as Int64),
                    since: UInt64(clamping: row[3] as Int64), reason: row[4])
            }
        }
    }

    /// Takes envelopes out of quarantine and through the ordinary ingest path (an admin's
    /// decision: they may crash the node again). Returns the ingest report.
    public func release(_ ids: [EnvelopeID], now: UInt64) throws(StoreError) -> IngestReport {
        let all = try quarantined().filter { ids.contains($0.id) }
        try write { db in
            for envelope in all { try db.execute(sql: "DELETE FROM quarantine WHERE id = ?", arguments: [Data(envelope.id.bytes)]) }
        }
        return try ingest(all.map(\.bytes), now: now)
    }

    /// Refuses sessions with `building` until `until` (Unix milliseconds).
    public func suspend(_ building: PublicKey, until: UInt64, reason: String) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: "INSERT OR REPLACE INTO suspension (building, untilTime, reason) VALUES (?, ?, ?)",
                arguments: [Data(building.bytes), Int64(clamping: until), reason])
        }
    }

    /// Buildings suspended after `now`, with the time their suspension ends and why.
    public func suspensions(now: UInt64) throws(StoreError) -> [(building: PublicKey, until: UInt64, reason: String)] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT building, untilTime, reason FROM suspension WHERE untilTime > ? ORDER BY untilTime",
                             arguments: [Int64(clamping: now)]).compactMap { row in
                guard let building = PublicKey(bytes: [UInt8](row[0] as Data)) else { return nil }
                return (building, UInt64(clamping: row[1] as Int64), row[2])
            }
        }
    }
}
