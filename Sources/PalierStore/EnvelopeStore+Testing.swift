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
    /// Takes the file back to before the materialised view (migration v4), as an older palier
    /// left it: for the test of that migration (package access only).
    package func dropViewForTests() throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                DROP TABLE view_item; DROP TABLE view_standing; DROP TABLE view_profile;
                DROP INDEX envelope_subject; DROP INDEX envelope_author;
                ALTER TABLE envelope DROP COLUMN subject;
                DELETE FROM grdb_migrations WHERE identifier LIKE 'v4:%';
                """)
        }
    }
}
