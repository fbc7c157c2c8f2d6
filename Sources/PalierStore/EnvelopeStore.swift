import Foundation
import GRDB
import PalierCore

/// The node's SQLite store: the set of valid envelopes (the CRDT state), the ids of erased
/// envelopes, and a few counters. Safe to share between threads and between processes (WAL).
public final class EnvelopeStore: Sendable {
    /// The building whose node this store belongs to.
    public let building: PublicKey
    let writer: any DatabaseWriter
    public let validator: EnvelopeValidator
    /// Signalled after every write transaction of this process (and by the running node when
    /// the CLI tells it the store changed).
    public let changes = ChangeSignal()
    /// The bytes of images (`blobs/` beside the database file, or in memory).
    public let blobFiles: BlobFiles

    /// Opens the store at `path` (creating it when missing, unless `mustExist`), or an in-memory
    /// store when `path` is nil. Refuses — and changes nothing — a file that is empty or not
    /// SQLite, a store of a newer schema, and a damaged one.
    public init(path: String?, building: PublicKey, validator: EnvelopeValidator, mustExist: Bool = false) throws(StoreError) {
        self.building = building
        self.validator = validator
        self.blobFiles = BlobFiles(directory: path.map { (($0 as NSString).deletingLastPathComponent as NSString).appendingPathComponent("blobs") })
        var configuration = Configuration()
        // The CLI and a running node share the file: wait for each other instead of failing.
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            // WAL (DatabasePool) with NORMAL sync: a crash may lose the last commits, never
            // corrupt; a peer offers lost envelopes again.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // Ids are random: a larger page cache keeps the id index in memory.
            try db.execute(sql: "PRAGMA cache_size = -32768")
            // Checkpoint every 8192 pages (32 MiB of WAL) instead of 1000: the random id index
            // pages are copied back to the database file once per checkpoint, not once per few
            // batches. Measured: +5 % ingest rate (docs/benchmarks.md).
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 8192")
            // After a checkpoint the WAL file shrinks back to at most 64 MiB: bounded on a small disk.
            try db.execute(sql: "PRAGMA journal_size_limit = 67108864")
        }
        let migrator = Self.migrator(viewer: building)
        if let path, try Self.checkFile(path, mustExist: mustExist) {
            // Looked at read-only first: a store refused here is not written to at all.
            do {
                var readOnly = Configuration()
                readOnly.readonly = true
                // A CLI command may hold the file for a moment as the node starts (`palier list`
                // while systemd starts palier): wait as every other access does, instead of
                // refusing the store as "locked".
                readOnly.busyMode = configuration.busyMode
                let queue = try DatabaseQueue(path: path, configuration: readOnly)
                defer { try? queue.close() }
                let (tables, superseded, applied) = try queue.read { db in
                    (try String.fetchSet(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"),
                     try migrator.hasBeenSuperseded(db), try migrator.appliedIdentifiers(db))
                }
                // Tables without palier's migration record: another program's database, or a
                // damaged schema (migrating would fail on "table already exists").
                if !tables.isEmpty && !tables.contains("grdb_migrations") {
                    throw StoreError.notAStore(path: path, why: "it holds tables but no palier schema")
                }
                if superseded {
                    throw StoreError.newerSchema(path: path, store: Self.schemaName(applied), known: Self.latestMigration)
                }
            } catch {
                throw Self.refusal(error, path: path)
            }
        }
        do {
            if let path {
                writer = try DatabasePool(path: path, configuration: configuration)
            } else {
                writer = try DatabaseQueue(configuration: configuration)
            }
            try migrator.migrate(writer)
        } catch {
            throw Self.refusal(error, path: path ?? ":memory:")
        }
    }

    /// The newest schema this binary knows ("v12").
    static let latestMigration = "v12"

    /// The newest schema among applied migration names ("v12: …" → "v12").
    static func schemaName(_ identifiers: Set<String>) -> String {
        let numbers = identifiers.compactMap { id -> Int? in
            guard id.hasPrefix("v") else { return nil }
            return Int(id.dropFirst().prefix { $0.isNumber })
        }
        return numbers.max().map { "v\($0)" } ?? identifiers.sorted().last ?? "?"
    }

    /// Refuses what is not a store before SQLite touches it: a missing file (when it must
    /// exist), an empty file, a file that is not SQLite. Returns whether a store file exists.
    static func checkFile(_ path: String, mustExist: Bool) throws(StoreError) -> Bool {
        guard let handle = FileHandle(forReadingAtPath: path) else {
            if FileManager.default.fileExists(atPath: path) {
                throw .cannotOpen(path: path, reason: "it cannot be read (permissions?)")
            }
            if mustExist { throw .missing(path: path) }
            return false
        }
        defer { try? handle.close() }
        let header = (try? handle.read(upToCount: 16)) ?? Data()
        if header.isEmpty { throw .notAStore(path: path, why: "it is empty, 0 bytes") }
        guard header == Data("SQLite format 3\0".utf8) else { throw .notAStore(path: path, why: "it is not an SQLite database") }
        return true
    }

    /// A store that SQLite reports damaged or not a database, as that; anything else as a
    /// failure to open.
    static func refusal(_ error: any Error, path: String) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            return .corrupt(path: path, detail: error.message ?? "\(error.resultCode)")
        }
        return .cannotOpen(path: path, reason: "\(error)")
    }

    /// Append-only, named migrations. `viewer`: the building whose view the store keeps.
    static func migrator(viewer: PublicKey) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: envelopes, erased ids, counters") { db in
            try db.execute(sql: """
                -- The envelope bytes are the truth; the other columns are what queries need.
                CREATE TABLE envelope (
                    id BLOB NOT NULL PRIMARY KEY,
                    kind INTEGER NOT NULL,
                    author BLOB NOT NULL,
                    hlc INTEGER NOT NULL,
                    expiresAt INTEGER NOT NULL,
                    target BLOB,
                    bytes BLOB NOT NULL
                );
                -- Edits, retracts and hides by what they name.
                CREATE INDEX envelope_target ON envelope(kind, target) WHERE target IS NOT NULL;
                CREATE INDEX envelope_expiry ON envelope(expiresAt);
                -- Erased (retracted) envelopes: only the id is kept, until the envelope would
                -- have expired, so that it is never accepted again.
                CREATE TABLE erased (
                    id BLOB NOT NULL PRIMARY KEY,
                    author BLOB NOT NULL,
                    expiresAt INTEGER NOT NULL
                );
                CREATE INDEX erased_expiry ON erased(expiresAt);
                CREATE TABLE counter (
                    name TEXT NOT NULL PRIMARY KEY,
                    value INTEGER NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2: scope and building columns, federation tables") { db in
            try db.execute(sql: """
                ALTER TABLE envelope ADD COLUMN scope INTEGER NOT NULL DEFAULT 0;
                ALTER TABLE envelope ADD COLUMN building BLOB;
                -- Follow and block decisions of this building's admins (1 = follow, 2 = block).
                CREATE TABLE building_policy (
                    building BLOB NOT NULL PRIMARY KEY,
                    policy INTEGER NOT NULL,
                    updatedAt INTEGER NOT NULL
                );
                -- Buildings this node has met over sync: for `palier peers`.
                CREATE TABLE peer (
                    building BLOB NOT NULL PRIMARY KEY,
                    name TEXT NOT NULL,
                    address TEXT NOT NULL,
                    lastContact INTEGER NOT NULL,
                    connected INTEGER NOT NULL
                );
                """)
            // Fill the new columns from the envelope bytes, the source of truth.
            let rows = try Row.fetchAll(db, sql: "SELECT id, bytes FROM envelope")
            for row in rows {
                let bytes: Data = row[1]
                let content = try EnvelopeCodec.decode([UInt8](bytes)).content
                try db.execute(
                    sql: "UPDATE envelope SET scope = ?, building = ? WHERE id = ?",
                    arguments: [Int(content.scope.rawValue), Data(content.building.bytes), row[0] as Data])
            }
        }
        migrator.registerMigration("v3: quarantine and suspended buildings") { db in
            try db.execute(sql: """
                -- Envelopes set aside after the node stopped while handling them (a crash):
                -- kept, never shown, never relayed, and never fetched again, until an admin
                -- releases them.
                CREATE TABLE quarantine (
                    id BLOB NOT NULL PRIMARY KEY,
                    bytes BLOB NOT NULL,
                    expiresAt INTEGER NOT NULL,
                    since INTEGER NOT NULL,
                    reason TEXT NOT NULL
                );
                -- Buildings refused until a time: one whose message the node died handling.
                CREATE TABLE suspension (
                    building BLOB NOT NULL PRIMARY KEY,
                    untilTime INTEGER NOT NULL,
                    reason TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v4: the materialised view") { db in
            // The tables; v5 renumbers the envelopes and computes the rows (with the subjects).
            try db.execute(sql: viewMigration)
        }
        migrator.registerMigration("v5: envelopes numbered in arrival order, view rows by number") { db in
            try db.execute(sql: numberingMigration)
            try buildView(db, viewer: viewer)
        }
        migrator.registerMigration("v6: residents' enrolment codes") { db in
            try db.execute(sql: enrolmentMigration)
        }
        migrator.registerMigration("v7: residents' posts held for moderation") { db in
            try db.execute(sql: pendingMigration)
        }
        migrator.registerMigration("v8: the kinds a follow shows") { db in
            // NULL: the default kinds (FederationPolicy.defaultFollowedKinds).
            try db.execute(sql: "ALTER TABLE building_policy ADD COLUMN kinds INTEGER")
        }
        migrator.registerMigration("v9: posts scheduled to show later") { db in
            // Envelopes stored before could not carry the shows-from extension: NULL is right.
            // A store that reached v5 after this version has the column already.
            if try !db.columns(in: "view_item").contains(where: { $0.name == "showsFrom" }) {
                try db.execute(sql: "ALTER TABLE view_item ADD COLUMN showsFrom INTEGER")
            }
            try db.execute(sql: "CREATE INDEX view_item_scheduled ON view_item(showsFrom) WHERE showsFrom IS NOT NULL")
        }
        migrator.registerMigration("v10: when each neighbour last finished a reconciliation round") { db in
            // NULL: not since this version (palier status says "not yet").
            try db.execute(sql: "ALTER TABLE peer ADD COLUMN lastSync INTEGER")
        }
        migrator.registerMigration("v11: images: the blobs posts reference, and those held") { db in
            try db.execute(sql: blobMigration)
            try backfillAttachments(db)
        }
        migrator.registerMigration("v12: onion addresses of buildings, introductions, round trips") { db in
            try db.execute(sql: onionMigration)
        }
        return migrator
    }

    enum Counter: String {
        /// The hybrid logical clock's last timestamp.
        case clock = "hlc.last"
        case deferredFutureDated = "refused.future"
        case refused = "refused.invalid"
        /// Bumped by every transaction that changes the set: watchers poll it.
        case changes = "changes"
    }

    /// A number that changes whenever the stored set changes, in this process or another
    /// (the CLI writing while `palier run` runs): a cheap way to notice new envelopes.
    public func changeCount() throws(StoreError) -> Int64 {
        try read { db in try Self.counter(.changes, db) }
    }

    // MARK: - Reading

    /// All live envelopes (expiry after `now`), in no particular order.
    public func liveEnvelopes(now: UInt64) throws(StoreError) -> [Envelope] {
        try read { db in
            let rows = try Row.fetchCursor(db, sql: "SELECT id, bytes FROM envelope WHERE expiresAt > ?", arguments: [Int64(clamping: now)])
            var result: [Envelope] = []
            while let row = try rows.next() {
                let id: Data = row[0]
                let bytes: Data = row[1]
                result.append(try Self.storedEnvelope(id: id, bytes: bytes))
            }
            return result
        }
    }

    /// What the screen of this building shows at `now`, read from the materialised view
    /// (``ViewRules`` applied to the live envelopes, kept up to date by every write). Deletes
    /// what has expired first, if anything has.
    public func view(now: UInt64) throws(StoreError) -> BuildingView {
        try purgeExpiredIfAny(now: now)
        return try read { db in try Self.readView(db, now: now) }
    }

    /// BLAKE2b-256 of the view's canonical bytes: equal on two nodes exactly when they show the same.
    public func stateDigest(now: UInt64) throws(StoreError) -> [UInt8] {
        validator.crypto.blake2b256(try view(now: now).canonicalBytes())
    }

    /// The stored envelope with this id, if held (erased envelopes are not).
    public func envelope(_ id: EnvelopeID) throws(StoreError) -> Envelope? {
        try read { db in
            guard let bytes = try Data.fetchOne(db, sql: "SELECT bytes FROM envelope WHERE id = ?", arguments: [Data(id.bytes)]) else {
                return nil
            }
            return try Self.storedEnvelope(id: Data(id.bytes), bytes: bytes)
        }
    }

    /// Whether this id was erased by a retract.
    public func isErased(_ id: EnvelopeID) throws(StoreError) -> Bool {
        try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM erased WHERE id = ?", arguments: [Data(id.bytes)]) ?? false
        }
    }

    /// Ids of held or erased envelopes whose hex form starts with `prefix` (as `git` resolves short ids).
    public func ids(matchingHexPrefix prefix: String) throws(StoreError) -> [EnvelopeID] {
        let lower = prefix.lowercased()
        guard !lower.isEmpty, lower.count <= 64, lower.allSatisfy(\.isHexDigit) else { return [] }
        // Compare on whole bytes with SQL, then on the odd last digit in Swift.
        let evenPrefix = bytes(fromHex: lower.prefix(lower.count / 2 * 2)) ?? []
        return try read { db in
            let sql = """
                SELECT id FROM envelope WHERE substr(id, 1, ?) = ?
                UNION SELECT id FROM erased WHERE substr(id, 1, ?) = ?
                """
            let args: StatementArguments = [evenPrefix.count, Data(evenPrefix), evenPrefix.count, Data(evenPrefix)]
            return try Data.fetchAll(db, sql: sql, arguments: args)
                .compactMap { EnvelopeID(bytes: [UInt8]($0)) }
                .filter { $0.hex.hasPrefix(lower) }
        }
    }

    public func statistics() throws(StoreError) -> StoreStatistics {
        try read { db in
            var byKind: [Kind: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT kind, count(*) FROM envelope GROUP BY kind") {
                if let kind = Kind(rawValue: UInt8(clamping: row[0] as Int)) { byKind[kind] = row[1] }
            }
            return StoreStatistics(
                envelopes: try Int.fetchOne(db, sql: "SELECT count(*) FROM envelope") ?? 0,
                erased: try Int.fetchOne(db, sql: "SELECT count(*) FROM erased") ?? 0,
                byKind: byKind,
                deferredFutureDated: Int(try Self.counter(.deferredFutureDated, db)),
                refused: Int(try Self.counter(.refused, db)),
                lastTimestamp: HybridTimestamp(rawValue: UInt64(bitPattern: try Self.counter(.clock, db)))
            )
        }
    }

    /// The earliest expiry after `now` among held envelopes: when the view next changes by itself.
    public func nextExpiry(after now: UInt64) throws(StoreError) -> UInt64? {
        try read { db in
            try Int64.fetchOne(db, sql: "SELECT min(expiresAt) FROM envelope WHERE expiresAt > ?", arguments: [Int64(clamping: now)])
                .map { UInt64(clamping: $0) }
        }
    }

    // MARK: - Writing

    /// The next timestamp of the node's hybrid logical clock: after everything the node has
    /// signed or accepted, at or after the wall clock. Reading it changes nothing; ingesting the
    /// envelope that carries it moves the stored clock forward.
    public func nextTimestamp(wallMillis: UInt64) throws(StoreError) -> HybridTimestamp {
        try read { db in
            var clock = HybridLogicalClock(last: HybridTimestamp(rawValue: UInt64(bitPattern: try Self.counter(.clock, db))))
            return clock.tick(wallMillis: wallMillis)
        }
    }

    /// Deletes envelopes and erased ids whose expiry has passed. Returns how many envelopes went.
    @discardableResult
    public func purgeExpired(now: UInt64) throws(StoreError) -> Int {
        let (removed, gone) = try write { db in
            var changes = ViewChanges()
            let expired = try Row.fetchCursor(db, sql: "SELECT id, bytes FROM envelope WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            while let row = try expired.next() { changes.note(try Self.storedEnvelope(id: row[0], bytes: row[1])) }
            try db.execute(sql: "DELETE FROM envelope WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            let removed = db.changesCount
            try Self.refreshView(changes, viewer: building, db)
            try db.execute(sql: "DELETE FROM erased WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            try db.execute(sql: "DELETE FROM quarantine WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            try db.execute(sql: "DELETE FROM suspension WHERE untilTime <= ?", arguments: [Int64(clamping: now)])
            try db.execute(sql: "DELETE FROM pending WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            try db.execute(sql: "DELETE FROM enrolment WHERE expiresAt <= ?", arguments: [Int64(clamping: now)])
            try Self.addToCounter(.changes, removed, db)
            return (removed, removed > 0 ? try Self.collectBlobRows(now: now, db) : [])
        }
        deleteBlobFiles(gone)
        return removed
    }

    // MARK: - Helpers

    static func storedEnvelope(id: Data, bytes: Data) throws -> Envelope {
        // Stored envelopes were verified on ingest; decoding checks they were not damaged since.
        let raw = [UInt8](bytes)
        let decoded = try EnvelopeCodec.decode(raw)
        guard let envelopeID = EnvelopeID(bytes: [UInt8](id)) else { throw StoreError.database("damaged envelope id") }
        return Envelope(id: envelopeID, content: decoded.content, signature: decoded.signature, bytes: raw)
    }

    static func counter(_ counter: Counter, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(db, sql: "SELECT value FROM counter WHERE name = ?", arguments: [counter.rawValue]) ?? 0
    }

    static func setCounter(_ counter: Counter, _ value: Int64, _ db: Database) throws {
        try db.execute(
            sql: "INSERT INTO counter(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = excluded.value",
            arguments: [counter.rawValue, value]
        )
    }

    static func addToCounter(_ counter: Counter, _ delta: Int, _ db: Database) throws {
        guard delta != 0 else { return }
        try db.execute(
            sql: "INSERT INTO counter(name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET value = value + excluded.value",
            arguments: [counter.rawValue, delta]
        )
    }

    func read<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        do { return try writer.read(body) } catch { throw Self.wrap(error) }
    }

    func write<T>(_ body: (Database) throws -> T) throws(StoreError) -> T {
        let result: T
        do { result = try writer.write(body) } catch { throw Self.wrap(error) }
        changes.signal()
        return result
    }

    static func wrap(_ error: any Error) -> StoreError {
        if let error = error as? StoreError { return error }
        if let error = error as? DatabaseError, error.resultCode == .SQLITE_CORRUPT || error.resultCode == .SQLITE_NOTADB {
            return .corrupt(path: "of this node", detail: error.message ?? "\(error.resultCode)")
        }
        return .database("\(error)")
    }
}

extension EnvelopeStore {
    /// A consistent copy of the whole store at `path` (SQLite's `VACUUM INTO`), made while the
    /// node runs: readers and writers go on. Refuses to write over an existing file.
    /// SQLite's `PRAGMA integrity_check`: nil when the store is sound, else SQLite's first
    /// findings (at most 10 lines).
    public func integrityProblems() throws(StoreError) -> String? {
        try read { db in
            let lines = try String.fetchAll(db, sql: "PRAGMA integrity_check(10)")
            return lines == ["ok"] ? nil : lines.joined(separator: "; ")
        }
    }

    public func snapshot(to path: String) throws(StoreError) {
        guard !FileManager.default.fileExists(atPath: path) else { throw .cannotOpen(path: path, reason: "a file is already there") }
        do { try writer.vacuum(into: path) } catch { throw Self.wrap(error) }
    }
}
