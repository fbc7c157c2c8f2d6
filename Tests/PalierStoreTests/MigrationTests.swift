import Foundation
import GRDB
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Testing

/// A store written by the first version of palier (schema v1) opens with the sync columns
/// filled from the envelope bytes, and nothing lost.
struct MigrationTests {
    @Test func aVersion1StoreGainsScopeAndBuildingFromItsBytes() throws {
        let path = makeTemporaryDirectory("palier-migration").appendingPathComponent("palier.sqlite").path
        let home = Fixtures.key(1)
        let shared = Fixtures.post(by: home, in: home.publicKey, at: Fixtures.epoch, title: "Pour le quartier")
        let local = Fixtures.post(by: home, in: home.publicKey, at: Fixtures.epoch, scope: .building, title: "Pour l'immeuble")
        // The v1 schema and migration record, exactly as the first version wrote them.
        let queue = try DatabaseQueue(path: path)
        try queue.write { db in
            try db.execute(sql: """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1: envelopes, erased ids, counters');
                CREATE TABLE envelope (id BLOB NOT NULL PRIMARY KEY, kind INTEGER NOT NULL, author BLOB NOT NULL,
                    hlc INTEGER NOT NULL, expiresAt INTEGER NOT NULL, target BLOB, bytes BLOB NOT NULL);
                CREATE INDEX envelope_target ON envelope(kind, target) WHERE target IS NOT NULL;
                CREATE INDEX envelope_expiry ON envelope(expiresAt);
                CREATE TABLE erased (id BLOB NOT NULL PRIMARY KEY, author BLOB NOT NULL, expiresAt INTEGER NOT NULL);
                CREATE INDEX erased_expiry ON erased(expiresAt);
                CREATE TABLE counter (name TEXT NOT NULL PRIMARY KEY, value INTEGER NOT NULL);
                """)
            for envelope in [shared, local] {
                try db.execute(
                    sql: "INSERT INTO envelope (id, kind, author, hlc, expiresAt, target, bytes) VALUES (?, ?, ?, ?, ?, NULL, ?)",
                    arguments: [Data(envelope.id.bytes), Int(envelope.kind.rawValue), Data(envelope.author.bytes),
                                Int64(bitPattern: envelope.timestamp.rawValue), Int64(envelope.expiresAt), Data(envelope.bytes)])
            }
        }
        try queue.close()

        let store = try EnvelopeStore(path: path, building: home.publicKey, validator: .sodium)
        #expect(try store.statistics().envelopes == 2)
        #expect(try store.syncItems(now: Fixtures.epoch + 1, policy: FederationPolicy()).map(\.id) == [shared.id])
        #expect(try store.view(now: Fixtures.epoch + 1).items.count == 2)
    }
}
