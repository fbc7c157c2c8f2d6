import Foundation
import GRDB
import PalierCore
import PalierCrypto
@testable import PalierStore
import PalierTestSupport
import Testing

/// A store that is not what it should be is refused with one sentence, and never rebuilt or
/// written over: a newer schema, an empty or foreign file, a damaged one, a missing one.
struct StoreRefusalTests {
    let home = Fixtures.key(1)

    func freshStore(posts: Int = 0) throws -> String {
        let path = makeTemporaryDirectory("palier-refusal").appendingPathComponent("palier.sqlite").path
        let store = try EnvelopeStore(path: path, building: home.publicKey, validator: .sodium)
        let envelopes = (0..<posts).map { Fixtures.post(by: home, in: home.publicKey, at: Fixtures.epoch + UInt64($0), title: "post \($0)") }
        if !envelopes.isEmpty { _ = try store.ingest(envelopes.map(\.bytes), now: Fixtures.epoch + 10_000) }
        return path
    }

    func open(_ path: String, mustExist: Bool = true) throws(StoreError) -> EnvelopeStore {
        try EnvelopeStore(path: path, building: home.publicKey, validator: .sodium, mustExist: mustExist)
    }

    /// The main file's bytes, to show that a refusal changed nothing.
    func bytes(_ path: String) -> Data { (try? Data(contentsOf: URL(fileURLWithPath: path))) ?? Data() }

    @Test("the newest schema name is the last migration's")
    func latestMigrationIsTheLastOne() throws {
        let last = try #require(EnvelopeStore.migrator(viewer: home.publicKey).migrations.last)
        #expect(last.hasPrefix(EnvelopeStore.latestMigration + ":"))
    }

    @Test("a store written by a newer palier is refused, naming both schemas; nothing is written")
    func newerSchema() throws {
        let path = try freshStore(posts: 3)
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in try db.execute(sql: "INSERT INTO grdb_migrations VALUES ('v99: a future table')") }
        try queue.close()
        let before = bytes(path)
        #expect {
            _ = try open(path)
        } throws: { error in
            (error as? StoreError)?.description.contains("schema v99; this palier knows up to \(EnvelopeStore.latestMigration)") == true
        }
        #expect(bytes(path) == before)
    }

    @Test("an empty file, a text file and another program's database are refused and left as they are")
    func notAStore() throws {
        let directory = makeTemporaryDirectory("palier-refusal")
        let empty = directory.appendingPathComponent("empty.sqlite").path
        FileManager.default.createFile(atPath: empty, contents: Data())
        let text = directory.appendingPathComponent("text.sqlite").path
        FileManager.default.createFile(atPath: text, contents: Data("{\"not\": \"a database\"}".utf8))
        let foreign = directory.appendingPathComponent("foreign.sqlite").path
        let queue = try DatabaseQueue(path: foreign)
        try queue.write { db in try db.execute(sql: "CREATE TABLE envelope (x); INSERT INTO envelope VALUES (1)") }
        try queue.close()
        for (path, why) in [(empty, "it is empty, 0 bytes"), (text, "it is not an SQLite database"), (foreign, "it holds tables but no palier schema")] {
            let before = bytes(path)
            #expect {
                _ = try open(path, mustExist: false)
            } throws: { error in
                (error as? StoreError)?.description.contains("is not a palier store (\(why))") == true
            }
            #expect(bytes(path) == before, "\(path) was changed")
        }
        #expect(try FileManager.default.attributesOfItem(atPath: empty)[.size] as? Int == 0)
    }

    @Test("a missing store of an initialised node is refused, never started over empty")
    func missing() throws {
        let path = makeTemporaryDirectory("palier-refusal").appendingPathComponent("palier.sqlite").path
        #expect { _ = try open(path) } throws: { error in (error as? StoreError)?.description.contains("is missing") == true }
        #expect(!FileManager.default.fileExists(atPath: path))
        // Creating one is what `palier init` does.
        _ = try open(path, mustExist: false)
        #expect(FileManager.default.fileExists(atPath: path))
    }

    @Test("a damaged store is reported as damaged, with the way out")
    func corrupt() throws {
        let path = try freshStore(posts: 400)
        // Checkpointed into the main file, then pages past the schema overwritten.
        let queue = try DatabaseQueue(path: path)
        try queue.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
        try queue.close()
        let handle = try #require(FileHandle(forUpdatingAtPath: path))
        let size = try handle.seekToEnd()
        try handle.seek(toOffset: 4096 * 2)
        handle.write(Data((0..<Int(size) - 4096 * 2).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }))
        try handle.close()
        var described = ""
        do {
            let store = try open(path)
            _ = try store.view(now: Fixtures.epoch + 10_000)
            _ = try store.statistics()
        } catch {
            described = "\(error)"
        }
        #expect(described.contains("is damaged (SQLite:") || described.contains("is not a palier store"), "\(described)")
    }

    @Test("a store another process holds for a moment (a CLI command as the node starts) is waited for, not refused as locked (found by the onion lab)")
    func heldForAMoment() async throws {
        let path = try freshStore(posts: 3)
        // Another process holds the file exclusively for a moment, as the last connection of a
        // CLI command does while it checkpoints and removes the WAL on closing.
        var exclusive = Configuration()
        exclusive.prepareDatabase { db in try db.execute(sql: "PRAGMA locking_mode = EXCLUSIVE") }
        let other = try DatabaseQueue(path: path, configuration: exclusive)
        try await other.write { db in try db.execute(sql: "PRAGMA user_version = 1") }
        let held = Task.detached {
            usleep(500_000)
            try other.close()
        }
        try await Task.sleep(for: .milliseconds(100))
        let store = try open(path)
        #expect(try store.statistics().envelopes == 3)
        try await held.value
    }
}
