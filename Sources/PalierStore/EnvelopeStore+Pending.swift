import Foundation
import GRDB
import PalierCore

/// A resident's post held for moderation: signed and checked, kept outside the replicated set
/// (not shown, not relayed, not in sync) until an admin approves it (then ingested unchanged)
/// or rejects it (then deleted). It goes at its expiry like any envelope.
public struct PendingPost: Sendable, Hashable {
    public var envelope: Envelope
    public var receivedAt: UInt64
}

extension EnvelopeStore {
    static let pendingMigration = """
        CREATE TABLE pending (
            id BLOB NOT NULL PRIMARY KEY,
            bytes BLOB NOT NULL,
            author BLOB NOT NULL,
            receivedAt INTEGER NOT NULL,
            expiresAt INTEGER NOT NULL
        );
        """

    /// Keeps `envelope` (verified by the caller) for moderation; false when it was held already.
    @discardableResult
    public func hold(_ envelope: Envelope, now: UInt64) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: """
                INSERT OR IGNORE INTO pending (id, bytes, author, receivedAt, expiresAt) VALUES (?, ?, ?, ?, ?)
                """, arguments: [Data(envelope.id.bytes), Data(envelope.bytes), Data(envelope.author.bytes), Int64(clamping: now),
                                 Int64(clamping: envelope.expiresAt)])
            guard db.changesCount == 1 else { return false }
            try Self.recordAttachments(of: envelope, db)
            return true
        }
    }

    /// Posts waiting for moderation and not expired at `now`, oldest first.
    public func pendingPosts(now: UInt64) throws(StoreError) -> [PendingPost] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, bytes, receivedAt FROM pending WHERE expiresAt > ? ORDER BY receivedAt, id",
                             arguments: [Int64(clamping: now)]).map { row in
                PendingPost(envelope: try Self.storedEnvelope(id: row[0], bytes: row[1]), receivedAt: UInt64(clamping: row[2] as Int64))
            }
        }
    }

    public func pendingCount(now: UInt64) throws(StoreError) -> Int {
        try read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM pending WHERE expiresAt > ?", arguments: [Int64(clamping: now)]) ?? 0 }
    }

    /// Removes post `id` from moderation (approved: the caller ingests it; or rejected).
    /// Returns it, or nil when no such post waits.
    public func takePending(_ id: EnvelopeID) throws(StoreError) -> Envelope? {
        try write { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT id, bytes FROM pending WHERE id = ?", arguments: [Data(id.bytes)]) else { return nil }
            try db.execute(sql: "DELETE FROM pending WHERE id = ?", arguments: [Data(id.bytes)])
            return try Self.storedEnvelope(id: row[0], bytes: row[1])
        }
    }

    /// Ids of held posts starting with `prefix` (hex).
    public func pendingIDs(matchingHexPrefix prefix: String) throws(StoreError) -> [EnvelopeID] {
        try read { db in
            try Data.fetchAll(db, sql: "SELECT id FROM pending").compactMap { EnvelopeID(bytes: [UInt8]($0)) }
                .filter { $0.hex.hasPrefix(prefix.lowercased()) }
        }
    }

    /// How many posts (content kinds) by `author` in `building` the store holds: the
    /// `new-members` moderation holds a member's posts until three are on the node.
    public func postCount(by author: PublicKey, in building: PublicKey) throws(StoreError) -> Int {
        try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope WHERE building = ? AND author = ? AND kind < 16",
                             arguments: [Data(building.bytes), Data(author.bytes)]) ?? 0
        }
    }
}
