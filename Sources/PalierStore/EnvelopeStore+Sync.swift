import Foundation
import GRDB
import PalierCore

/// A building this node has synced with, for `palier peers`.
public struct PeerRecord: Sendable, Hashable, Codable {
    public var building: PublicKey
    public var name: String
    public var address: String
    /// Unix milliseconds of the last message received.
    public var lastContact: UInt64
    public var connected: Bool
    /// Unix milliseconds of the last reconciliation round finished with it: the last time the
    /// two stores were known to agree. nil: none yet.
    public var lastSync: UInt64?
    /// The last round trip measured with it (sync `ping`/`pong`), in milliseconds.
    public var roundTrip: UInt64?

    public init(building: PublicKey, name: String, address: String, lastContact: UInt64, connected: Bool, lastSync: UInt64? = nil,
                roundTrip: UInt64? = nil) {
        self.roundTrip = roundTrip
        self.building = building
        self.name = name
        self.address = address
        self.lastContact = lastContact
        self.connected = connected
        self.lastSync = lastSync
    }
}

extension PublicKey: Codable {
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text: text)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

extension EnvelopeStore {
    // MARK: - What sync reads

    /// The items reconciliation compares: live neighbourhood envelopes of buildings not blocked.
    public func syncItems(now: UInt64, policy: FederationPolicy) throws(StoreError) -> [SyncItem] {
        try read { db in
            let statement = try RawStatement(db, sql: "SELECT hlc, id, building FROM envelope WHERE scope = 1 AND expiresAt > ?1")
            statement.bind(1, Int64(clamping: now))
            var items: [SyncItem] = []
            while try statement.step() {
                if !policy.blocked.isEmpty, let building = PublicKey(bytes: statement.blob(2)), policy.blocked.contains(building) {
                    continue
                }
                items.append(SyncItem(timestamp: UInt64(bitPattern: statement.int64(0)), id: EnvelopeID(bytes: statement.blob(1))!))
            }
            return items
        }
    }

    /// Which of `ids` this node holds or has erased: it need not fetch them.
    public func held(_ ids: [EnvelopeID]) throws(StoreError) -> Set<EnvelopeID> {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let held = try RawStatement(db, sql: Self.heldSQL)
            var result = Set<EnvelopeID>()
            for id in ids {
                held.bind(1, id.bytes)
                if try held.exists() { result.insert(id) }
            }
            return result
        }
    }

    /// The bytes of those `ids` that may leave this node: live, neighbourhood scope, not from a
    /// blocked building. Building-scope envelopes are never returned.
    public func shareableEnvelopes(_ ids: [EnvelopeID], now: UInt64, policy: FederationPolicy) throws(StoreError) -> [(id: EnvelopeID, bytes: [UInt8])] {
        guard !ids.isEmpty else { return [] }
        return try read { db in
            let statement = try RawStatement(db, sql: "SELECT bytes, building FROM envelope WHERE id = ?1 AND scope = 1 AND expiresAt > ?2")
            var result: [(EnvelopeID, [UInt8])] = []
            for id in ids {
                statement.bind(1, id.bytes)
                statement.bind(2, Int64(clamping: now))
                defer { statement.reset() }
                guard try statement.step() else { continue }
                if let building = PublicKey(bytes: statement.blob(1)), policy.blocked.contains(building) { continue }
                result.append((id, statement.blob(0)))
            }
            return result
        }
    }

    /// Neighbourhood envelopes stored after row `rowID` (any process may have written them),
    /// and the highest row id seen: how a running node notices posts made with the CLI.
    public func neighbourhoodIDs(afterRow rowID: Int64) throws(StoreError) -> (ids: [EnvelopeID], lastRow: Int64) {
        try read { db in
            let statement = try RawStatement(db, sql: "SELECT rowid, id, scope FROM envelope WHERE rowid > ?1 ORDER BY rowid")
            statement.bind(1, rowID)
            var last = rowID
            var ids: [EnvelopeID] = []
            while try statement.step() {
                last = max(last, statement.int64(0))
                if statement.int64(2) == 1 { ids.append(EnvelopeID(bytes: statement.blob(1))!) }
            }
            return (ids, last)
        }
    }

    /// The highest envelope row id: where ``neighbourhoodIDs(afterRow:)`` starts.
    public func lastRowID() throws(StoreError) -> Int64 {
        try read { db in try Int64.fetchOne(db, sql: "SELECT max(rowid) FROM envelope") ?? 0 }
    }

    // MARK: - Follow and block

    public func federationPolicy() throws(StoreError) -> FederationPolicy {
        try read { db in
            var stances: [PublicKey: BuildingStance] = [:]
            var kinds: [PublicKey: Set<Kind>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT building, policy, kinds FROM building_policy") {
                let key: Data = row[0]
                if let building = PublicKey(bytes: [UInt8](key)), let stance = BuildingStance(rawValue: UInt8(clamping: row[1] as Int)) {
                    stances[building] = stance
                    if let mask = row[2] as Int64? { kinds[building] = Kind.kinds(mask: mask) }
                }
            }
            return FederationPolicy(stances: stances, kinds: kinds)
        }
    }

    /// Records (or with nil, forgets) this building's stance towards `building`; `kinds`: for a
    /// follow, the kinds of its posts that show here (nil: the default ones).
    public func setStance(_ stance: BuildingStance?, for building: PublicKey, kinds: Set<Kind>? = nil, now: UInt64) throws(StoreError) {
        try write { db in
            if let stance {
                try db.execute(
                    sql: "INSERT OR REPLACE INTO building_policy (building, policy, updatedAt, kinds) VALUES (?, ?, ?, ?)",
                    arguments: [Data(building.bytes), Int(stance.rawValue), Int64(clamping: now),
                                stance == .follow ? kinds.map(Kind.mask) : nil])
            } else {
                try db.execute(sql: "DELETE FROM building_policy WHERE building = ?", arguments: [Data(building.bytes)])
            }
            try Self.addToCounter(.changes, 1, db)
        }
    }

    // MARK: - Peers

    public func recordPeer(_ peer: PeerRecord) throws(StoreError) {
        try write { db in
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO peer (building, name, address, lastContact, connected, lastSync, roundTrip)
                    VALUES (?, ?, ?, ?, ?, coalesce(?, (SELECT lastSync FROM peer WHERE building = ?)),
                            coalesce(?, (SELECT roundTrip FROM peer WHERE building = ?)))
                    """,
                arguments: [Data(peer.building.bytes), peer.name, peer.address, Int64(clamping: peer.lastContact), peer.connected,
                            peer.lastSync.map { Int64(clamping: $0) }, Data(peer.building.bytes),
                            peer.roundTrip.map { Int64(clamping: $0) }, Data(peer.building.bytes)])
        }
    }

    /// At start: no session survives a restart.
    public func markPeersDisconnected() throws(StoreError) {
        try write { db in try db.execute(sql: "UPDATE peer SET connected = 0") }
    }

    public func peers() throws(StoreError) -> [PeerRecord] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT building, name, address, lastContact, connected, lastSync, roundTrip FROM peer ORDER BY name").compactMap { row in
                let key: Data = row[0]
                guard let building = PublicKey(bytes: [UInt8](key)) else { return nil }
                return PeerRecord(building: building, name: row[1], address: row[2], lastContact: UInt64(clamping: row[3] as Int64), connected: row[4],
                                  lastSync: (row[5] as Int64?).map { UInt64(clamping: $0) }, roundTrip: (row[6] as Int64?).map { UInt64(clamping: $0) })
            }
        }
    }
}
