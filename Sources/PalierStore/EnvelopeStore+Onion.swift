import Foundation
import GRDB
import PalierCore

extension EnvelopeStore {
    /// Store v12: the onion addresses buildings announced (the newest signed one of each), the
    /// onion addresses invites introduced, and each peer's measured round trip.
    static let onionMigration = """
        CREATE TABLE onion_address (
            building BLOB NOT NULL PRIMARY KEY, issued INTEGER NOT NULL, onionKey BLOB NOT NULL, port INTEGER NOT NULL,
            signature BLOB NOT NULL, learnedAt INTEGER NOT NULL, learnedFrom BLOB
        );
        CREATE TABLE introduction (endpoint TEXT NOT NULL PRIMARY KEY, addedAt INTEGER NOT NULL);
        ALTER TABLE peer ADD COLUMN roundTrip INTEGER;
        """

    /// The most buildings whose onion addresses a node keeps: more than a district has, few
    /// enough that a member signing addresses for made-up buildings cannot fill the store or
    /// keep the node dialling forever.
    public static let maximumOnionAddresses = 1024

    /// Keeps a building's signed onion address if it is newer than the one held (the caller has
    /// checked the signature) and, for a building not held yet, if fewer than
    /// ``maximumOnionAddresses`` are held. Returns whether it was kept.
    @discardableResult
    public func recordOnionAnnouncement(_ announcement: OnionAnnouncement, learnedFrom: PublicKey?, now: UInt64) throws(StoreError) -> Bool {
        try write { db in
            let held = try Int64.fetchOne(db, sql: "SELECT issued FROM onion_address WHERE building = ?", arguments: [Data(announcement.building.bytes)])
            if let held, UInt64(bitPattern: held) >= announcement.issued { return false }
            if held == nil, try Self.onionAddressCount(db) >= Self.maximumOnionAddresses { return false }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO onion_address (building, issued, onionKey, port, signature, learnedAt, learnedFrom)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [Data(announcement.building.bytes), Int64(bitPattern: announcement.issued), Data(announcement.address.key),
                            Int(announcement.port), Data(announcement.signature.bytes), Int64(clamping: now), learnedFrom.map { Data($0.bytes) }])
            return true
        }
    }

    /// How many buildings' onion addresses are held.
    public func onionAddressCount() throws(StoreError) -> Int {
        try read { db in try Self.onionAddressCount(db) }
    }

    static func onionAddressCount(_ db: Database) throws -> Int {
        try Int.fetchOne(db, sql: "SELECT count(*) FROM onion_address") ?? 0
    }

    /// Every onion address held, as signed by its building.
    public func onionAnnouncements() throws(StoreError) -> [OnionAnnouncement] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT building, issued, onionKey, port, signature FROM onion_address ORDER BY building").compactMap { row in
                let building: Data = row[0]
                let key: Data = row[2]
                let signature: Data = row[4]
                let port: Int = row[3]
                guard let building = PublicKey(bytes: [UInt8](building)), let address = OnionAddress(key: [UInt8](key)),
                      let signature = Signature(bytes: [UInt8](signature)), let port = UInt16(exactly: port), port > 0 else { return nil }
                return OnionAnnouncement(building: building, issued: UInt64(bitPattern: row[1]), address: address, port: port, signature: signature)
            }
        }
    }

    /// Remembers an onion address an invite gave (`host.onion:port`): dialled like a static
    /// peer until this node leaves the network.
    public func addIntroduction(_ endpoint: String, now: UInt64) throws(StoreError) {
        try write { db in
            try db.execute(sql: "INSERT OR IGNORE INTO introduction (endpoint, addedAt) VALUES (?, ?)", arguments: [endpoint, Int64(clamping: now)])
        }
    }

    public func introductions() throws(StoreError) -> [String] {
        try read { db in try String.fetchAll(db, sql: "SELECT endpoint FROM introduction ORDER BY addedAt, endpoint") }
    }

    /// Forgets the onion addresses learned and introduced (the node joined another network).
    public func forgetOnionAddresses() throws(StoreError) {
        try write { db in try db.execute(sql: "DELETE FROM onion_address; DELETE FROM introduction") }
    }
}
