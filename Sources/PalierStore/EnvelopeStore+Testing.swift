import GRDB

extension EnvelopeStore {
    /// Drops the envelope table, so that every later access fails: for tests of what the
    /// callers do when the store fails (package access only).
    package func breakForTests() throws(StoreError) {
        try write { db in try db.execute(sql: "DROP TABLE envelope") }
    }

    /// Makes the store as full as a full disk: SQLite refuses any write that needs a new page
    /// ("database or disk is full", `SQLITE_FULL`), while reads go on. `full: false` gives the
    /// room back. For tests of what sync does on a full disk (package access only).
    package func simulateFullDiskForTests(_ full: Bool) throws(StoreError) {
        do {
            try writer.writeWithoutTransaction { db in
                if full {
                    let pages = try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 1
                    _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = \(pages)")
                } else {
                    _ = try Int.fetchOne(db, sql: "PRAGMA max_page_count = 4294967294")
                }
            }
        } catch { throw Self.wrap(error) }
    }
}

extension EnvelopeStore {
    /// Takes the file back to schema v3, as an older palier left it (no view tables, no subject
    /// column, envelopes not numbered, no images): for the tests of migrations v4, v5 and v11
    /// (package access only).
    package func rewindToVersion3ForTests() throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                DROP TRIGGER envelope_view_row;
                DROP TRIGGER pending_attachments; DROP TABLE attachment; DROP TABLE blob; DROP TABLE blob_refused;
                DROP TABLE view_item; DROP TABLE view_standing; DROP TABLE view_profile;
                CREATE TABLE envelope_v3 (
                    id BLOB NOT NULL PRIMARY KEY, kind INTEGER NOT NULL, author BLOB NOT NULL, hlc INTEGER NOT NULL,
                    expiresAt INTEGER NOT NULL, target BLOB, bytes BLOB NOT NULL, scope INTEGER NOT NULL DEFAULT 0, building BLOB
                );
                INSERT INTO envelope_v3 SELECT id, kind, author, hlc, expiresAt, target, bytes, scope, building FROM envelope ORDER BY seq;
                DROP TABLE envelope;
                ALTER TABLE envelope_v3 RENAME TO envelope;
                CREATE INDEX envelope_target ON envelope(kind, target) WHERE target IS NOT NULL;
                CREATE INDEX envelope_expiry ON envelope(expiresAt);
                DELETE FROM grdb_migrations WHERE identifier LIKE 'v4:%' OR identifier LIKE 'v5:%' OR identifier LIKE 'v11:%';
                """)
        }
    }
}
