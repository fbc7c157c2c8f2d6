import Foundation
import GRDB
import PalierCore

/// A blob as the store knows it: from the references of the envelopes that name it.
public struct BlobRecord: Hashable, Sendable {
    public var id: BlobID
    public var byteCount: Int
    public var type: ImageType
    public var width: Int
    public var height: Int

    public init(id: BlobID, byteCount: Int, type: ImageType, width: Int, height: Int) {
        self.id = id
        self.byteCount = byteCount
        self.type = type
        self.width = width
        self.height = height
    }

    public init(_ reference: ImageReference) {
        self.init(id: reference.blob, byteCount: Int(reference.byteCount), type: reference.type,
                  width: Int(reference.width), height: Int(reference.height))
    }

    /// Whether these are what `reference` says.
    public func matches(_ reference: ImageReference) -> Bool { self == BlobRecord(reference) }
}

/// How much room images take.
public struct BlobUsage: Hashable, Sendable {
    public var count: Int
    public var bytes: Int64
    /// Blobs posts need that are not held yet (fetching, or waiting for room or a peer).
    public var missing: Int
    /// Blobs whose bytes did not match their post (never fetched again).
    public var refused: Int

    public init(count: Int, bytes: Int64, missing: Int, refused: Int) {
        self.count = count
        self.bytes = bytes
        self.missing = missing
        self.refused = refused
    }
}

/// The images of posts (docs/protocol.md §2.2.2, §8.1): which blobs the stored envelopes
/// reference, which the node holds, which it still needs, and which may go.
///
/// A blob is **needed** while a stored post, or an edit of it by its author, references it and
/// the post is not hidden by its own building (the hide that applies everywhere); a resident's
/// post waiting for moderation keeps its images too. Erasure,
/// expiry and quarantine delete envelopes, and their references with them (a trigger); the
/// blobs no longer needed are then deleted, rows in the same transaction and files after it.
/// A blob kept for a post about to be written (``keepBlob(_:bytes:budget:now:)``) is spared for a
/// minute, until its post names it.
extension EnvelopeStore {
    static let blobMigration = """
        CREATE TABLE attachment (
            envelope BLOB NOT NULL,     -- the post or edit that references the blob
            post BLOB NOT NULL,         -- the post it belongs to (itself, or the edit's target)
            author BLOB NOT NULL,
            blob BLOB NOT NULL,
            size INTEGER NOT NULL,
            type INTEGER NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            PRIMARY KEY (envelope, blob)
        ) WITHOUT ROWID;
        CREATE INDEX attachment_blob ON attachment(blob);
        CREATE INDEX attachment_post ON attachment(post);
        CREATE TRIGGER envelope_attachments AFTER DELETE ON envelope BEGIN
            DELETE FROM attachment WHERE envelope = OLD.id;
        END;
        \(pendingAttachmentsTrigger)
        CREATE TABLE blob (
            id BLOB PRIMARY KEY,
            size INTEGER NOT NULL,
            type INTEGER NOT NULL,
            storedAt INTEGER NOT NULL,
            pinnedUntil INTEGER          -- kept for a post not written yet
        ) WITHOUT ROWID;
        CREATE TABLE blob_refused (
            id BLOB PRIMARY KEY,
            reason TEXT NOT NULL,
            at INTEGER NOT NULL
        ) WITHOUT ROWID;
        """

    /// A resident's post held for moderation keeps its images until approved (then the
    /// envelope table holds it) or rejected. (It names the envelope table: whatever rebuilds
    /// that table drops it first and makes it again after.)
    static let pendingAttachmentsTrigger = """
        CREATE TRIGGER pending_attachments AFTER DELETE ON pending BEGIN
            DELETE FROM attachment WHERE envelope = OLD.id AND NOT EXISTS (SELECT 1 FROM envelope WHERE id = OLD.id);
        END;
        """

    /// References whose post shows somewhere: the post is stored, the reference is the post's
    /// or its author's edit's, and no hide of the post's own building names it.
    static let neededReferences = """
        attachment a JOIN envelope p ON p.id = a.post
        WHERE a.author = p.author
          AND NOT EXISTS (SELECT 1 FROM envelope h WHERE h.kind = \(Kind.hide.rawValue) AND h.target = a.post AND h.building = p.building)
        """

    /// Records the references of a post or edit just stored (and unpins the blobs it names).
    static func recordAttachments(of envelope: Envelope, _ db: Database) throws {
        guard let content = envelope.content.postContent, !content.images.isEmpty else { return }
        let post = envelope.target ?? envelope.id
        for image in content.images {
            try db.execute(sql: """
                INSERT OR IGNORE INTO attachment (envelope, post, author, blob, size, type, width, height) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """, arguments: [Data(envelope.id.bytes), Data(post.bytes), Data(envelope.author.bytes), Data(image.blob.bytes),
                                 Int64(image.byteCount), Int64(image.type.rawValue), Int64(image.width), Int64(image.height)])
            try db.execute(sql: "UPDATE blob SET pinnedUntil = NULL WHERE id = ?", arguments: [Data(image.blob.bytes)])
        }
    }

    /// Fills the references of envelopes stored before this schema (a newer node's posts kept
    /// with an extension this version did not know).
    static func backfillAttachments(_ db: Database) throws {
        let rows = try Row.fetchCursor(db, sql: "SELECT id, bytes FROM envelope WHERE kind < \(Kind.retract.rawValue)")
        while let row = try rows.next() { try recordAttachments(of: try storedEnvelope(id: row[0], bytes: row[1]), db) }
    }

    /// Deletes the rows of blobs no longer needed and returns them, for their files to go
    /// after the transaction.
    static func collectBlobRows(now: UInt64, _ db: Database) throws -> [(BlobID, ImageType)] {
        let rows = try Row.fetchAll(db, sql: """
            SELECT b.id, b.type FROM blob b
            WHERE (b.pinnedUntil IS NULL OR b.pinnedUntil <= ?)
              AND b.id NOT IN (SELECT a.blob FROM \(neededReferences))
              AND b.id NOT IN (SELECT a.blob FROM attachment a JOIN pending q ON q.id = a.envelope)
            """, arguments: [Int64(clamping: now)])
        var gone: [(BlobID, ImageType)] = []
        for row in rows {
            let data: Data = row[0]
            guard let id = BlobID(bytes: Array(data)), let type = ImageType(rawValue: UInt8(clamping: row[1] as Int64)) else { continue }
            try db.execute(sql: "DELETE FROM blob WHERE id = ?", arguments: [data])
            gone.append((id, type))
        }
        return gone
    }

    /// Deletes the files of blobs whose rows went.
    func deleteBlobFiles(_ gone: [(BlobID, ImageType)]) {
        for (id, type) in gone { blobFiles.delete(id, type: type) }
    }

    /// Deletes blobs no longer needed, and files that no row names (left by a crash between a
    /// transaction and its files), and transfers of blobs no longer wanted. Returns how many
    /// blobs went.
    @discardableResult
    public func collectBlobs(now: UInt64) throws(StoreError) -> Int {
        let gone = try write { db in try Self.collectBlobRows(now: now, db) }
        deleteBlobFiles(gone)
        let (held, wanted) = try read { db in
            (Set(try Data.fetchAll(db, sql: "SELECT id FROM blob").map { Array($0) }),
             Set(try Data.fetchAll(db, sql: "SELECT a.blob FROM \(Self.neededReferences)").map { Array($0) }))
        }
        let present = blobFiles.present()
        for (id, type) in present.complete where !held.contains(id.bytes) { blobFiles.delete(id, type: type) }
        for id in present.partial where !wanted.contains(id.bytes) || held.contains(id.bytes) { blobFiles.deletePartial(id) }
        return gone.count
    }

    // MARK: Reading

    static func record(_ row: Row, from column: Int = 0) -> BlobRecord? {
        let data: Data = row[column]
        guard let id = BlobID(bytes: Array(data)), let type = ImageType(rawValue: UInt8(clamping: row[column + 2] as Int64)) else { return nil }
        return BlobRecord(id: id, byteCount: row[column + 1], type: type, width: row[column + 3], height: row[column + 4])
    }

    /// Blobs that posts need and the node does not hold (nor refused), at most `limit`, the
    /// most recently referenced first.
    public func missingBlobs(limit: Int) throws(StoreError) -> [BlobRecord] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT a.blob, a.size, a.type, a.width, a.height FROM \(Self.neededReferences)
                  AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.id = a.blob)
                  AND NOT EXISTS (SELECT 1 FROM blob_refused r WHERE r.id = a.blob)
                GROUP BY a.blob ORDER BY max(p.seq) DESC LIMIT ?
                """, arguments: [limit]).compactMap { Self.record($0) }
        }
    }

    /// The blob `id` if a post needs it and the node neither holds nor refused it.
    public func wantedBlob(_ id: BlobID) throws(StoreError) -> BlobRecord? {
        try read { db in
            guard try Bool.fetchOne(db, sql: "SELECT 1 FROM blob WHERE id = ? UNION ALL SELECT 1 FROM blob_refused WHERE id = ?",
                                    arguments: [Data(id.bytes), Data(id.bytes)]) == nil else { return nil }
            return try Row.fetchOne(db, sql: "SELECT a.blob, a.size, a.type, a.width, a.height FROM \(Self.neededReferences) AND a.blob = ? LIMIT 1",
                                    arguments: [Data(id.bytes)]).flatMap { Self.record($0) }
        }
    }

    /// The blob `id` if the node holds it and may give it to a neighbour: a neighbourhood post
    /// references it (a building's own posts' images never leave it, like the posts).
    public func shareableBlob(_ id: BlobID) throws(StoreError) -> BlobRecord? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT b.id, b.size, b.type, a.width, a.height FROM blob b
                JOIN attachment a ON a.blob = b.id JOIN envelope e ON e.id = a.envelope
                WHERE b.id = ? AND e.scope = \(Scope.neighbourhood.rawValue) LIMIT 1
                """, arguments: [Data(id.bytes)]).flatMap { Self.record($0) }
        }
    }

    /// The bytes of a held blob named as its file is (`<hash>.jpg`), for the kiosk page; nil
    /// when the name is not a held blob's.
    public func heldBlobBytes(named name: String) throws(StoreError) -> (bytes: [UInt8], type: ImageType)? {
        guard let (id, type) = BlobFiles.parse(name), let record = try heldBlob(id), record.type == type else { return nil }
        return (try blobFiles.read(id, type: type, offset: 0, length: record.byteCount), type)
    }

    /// The blob `id` if the node holds it.
    public func heldBlob(_ id: BlobID) throws(StoreError) -> BlobRecord? {
        try read { db in
            try Row.fetchOne(db, sql: """
                SELECT b.id, b.size, b.type, coalesce(a.width, 0), coalesce(a.height, 0) FROM blob b
                LEFT JOIN attachment a ON a.blob = b.id WHERE b.id = ? LIMIT 1
                """, arguments: [Data(id.bytes)]).flatMap { Self.record($0) }
        }
    }

    /// The bytes the held blobs take (cheaper than ``blobUsage()``).
    public func blobBytes() throws(StoreError) -> Int64 {
        try read { db in Int64(try Double.fetchOne(db, sql: "SELECT total(size) FROM blob") ?? 0) }
    }

    public func blobUsage() throws(StoreError) -> BlobUsage {
        try read { db in
            let row = try Row.fetchOne(db, sql: "SELECT count(*), total(size) FROM blob")!
            let missing = try Int.fetchOne(db, sql: """
                SELECT count(DISTINCT a.blob) FROM \(Self.neededReferences)
                  AND NOT EXISTS (SELECT 1 FROM blob b WHERE b.id = a.blob)
                  AND NOT EXISTS (SELECT 1 FROM blob_refused r WHERE r.id = a.blob)
                """) ?? 0
            let refused = try Int.fetchOne(db, sql: "SELECT count(*) FROM blob_refused") ?? 0
            return BlobUsage(count: row[0], bytes: Int64(row[1] as Double), missing: missing, refused: refused)
        }
    }

    // MARK: Writing

    /// Keeps a whole, checked blob: its file, then its row — refused, and nothing kept, when it
    /// would take the images past `budget` bytes. A blob kept before its post is written is
    /// spared by collection for a minute.
    public func keepBlob(_ record: BlobRecord, bytes: [UInt8], budget: Int64, now: UInt64, pinned: Bool = false) throws(StoreError) {
        if try heldBlob(record.id) != nil { return }
        let used = try blobBytes()
        guard used + Int64(bytes.count) <= budget else { throw .blobBudget(needed: Int64(bytes.count), used: used, budget: budget) }
        try blobFiles.write(record.id, type: record.type, bytes: bytes)
        do {
            try write { db in
                let used = try Double.fetchOne(db, sql: "SELECT total(size) FROM blob") ?? 0
                guard Int64(used) + Int64(bytes.count) <= budget else {
                    throw StoreError.blobBudget(needed: Int64(bytes.count), used: Int64(used), budget: budget)
                }
                try db.execute(sql: "INSERT OR IGNORE INTO blob (id, size, type, storedAt, pinnedUntil) VALUES (?, ?, ?, ?, ?)",
                               arguments: [Data(record.id.bytes), bytes.count, Int64(record.type.rawValue), Int64(clamping: now),
                                           pinned ? Int64(clamping: now.addingReportingOverflow(60_000).partialValue) : nil])
                // Screens show a post's image once it is here.
                try Self.addToCounter(.changes, 1, db)
            }
        } catch {
            blobFiles.delete(record.id, type: record.type)
            throw error
        }
    }

    /// Remembers that a blob's bytes, though they match its hash, are not the image its post
    /// describes: the author's fault, so it is never fetched again.
    public func refuseBlob(_ id: BlobID, reason: String, now: UInt64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT OR REPLACE INTO blob_refused (id, reason, at) VALUES (?, ?, ?)",
                           arguments: [Data(id.bytes), reason, Int64(clamping: now)])
        }
        blobFiles.deletePartial(id)
    }
}
