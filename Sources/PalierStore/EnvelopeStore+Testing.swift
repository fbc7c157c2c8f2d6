import GRDB

extension EnvelopeStore {
    /// Drops the envelope table, so that every later access fails: for tests of what the
    /// callers do when the store fails (package access only).
    package func breakForTests() throws(StoreError) {
        try write { db in try db.execute(sql: "DROP TABLE envelope") }
    }
}
