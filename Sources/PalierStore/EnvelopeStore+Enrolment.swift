import Foundation
import GRDB
import PalierCore

/// One-time enrolment codes (docs/protocol.md part 3): made by `palier enrol`, redeemed once by
/// a resident's `palier join`, which proves the secret. Local to this node, never synced.
public struct Enrolment: Hashable, Sendable {
    public var id: [UInt8]
    public var secret: [UInt8]
    public var role: Role
    public var displayName: String
    public var expiresAt: UInt64
    public var triesLeft: Int
    /// When it was redeemed (nil: not yet), and by which key.
    public var usedAt: UInt64?
    public var usedBy: PublicKey?

    public init(id: [UInt8], secret: [UInt8], role: Role, displayName: String, expiresAt: UInt64,
                triesLeft: Int = ResidentProtocol.maximumJoinTries, usedAt: UInt64? = nil, usedBy: PublicKey? = nil) {
        self.id = id
        self.secret = secret
        self.role = role
        self.displayName = displayName
        self.expiresAt = expiresAt
        self.triesLeft = triesLeft
        self.usedAt = usedAt
        self.usedBy = usedBy
    }

    /// Whether it can still be redeemed at `now`.
    public func isRedeemable(now: UInt64) -> Bool { usedAt == nil && triesLeft > 0 && now < expiresAt }
}

extension EnvelopeStore {
    static let enrolmentMigration = """
        CREATE TABLE enrolment (
            id BLOB NOT NULL PRIMARY KEY,
            secret BLOB NOT NULL,
            role INTEGER NOT NULL,
            displayName TEXT NOT NULL,
            expiresAt INTEGER NOT NULL,
            triesLeft INTEGER NOT NULL,
            usedAt INTEGER,
            usedBy BLOB
        );
        """

    public func addEnrolment(_ enrolment: Enrolment) throws(StoreError) {
        try write { db in
            try db.execute(sql: """
                INSERT INTO enrolment (id, secret, role, displayName, expiresAt, triesLeft) VALUES (?, ?, ?, ?, ?, ?)
                """, arguments: [Data(enrolment.id), Data(enrolment.secret), Int(enrolment.role.rawValue), enrolment.displayName,
                                 Int64(clamping: enrolment.expiresAt), enrolment.triesLeft])
        }
    }

    public func enrolment(id: [UInt8]) throws(StoreError) -> Enrolment? {
        try read { db in
            guard let row = try Row.fetchOne(db, sql: "SELECT * FROM enrolment WHERE id = ?", arguments: [Data(id)]) else { return nil }
            return try Self.enrolment(row)
        }
    }

    /// Codes made and not yet redeemed, burnt or expired at `now`, soonest expiry first.
    public func openEnrolments(now: UInt64) throws(StoreError) -> [Enrolment] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT * FROM enrolment WHERE usedAt IS NULL AND triesLeft > 0 AND expiresAt > ? ORDER BY expiresAt
                """, arguments: [Int64(clamping: now)]).map(Self.enrolment)
        }
    }

    /// Counts a wrong secret against code `id`; returns the tries left (0: burnt).
    public func recordWrongSecret(id: [UInt8]) throws(StoreError) -> Int {
        try write { db in
            try db.execute(sql: "UPDATE enrolment SET triesLeft = max(triesLeft - 1, 0) WHERE id = ?", arguments: [Data(id)])
            return try Int.fetchOne(db, sql: "SELECT triesLeft FROM enrolment WHERE id = ?", arguments: [Data(id)]) ?? 0
        }
    }

    /// Spends one try of code `id` before its secret is tried (a short code's PAKE, whose every
    /// run is a guess): the tries left after it, or nil when the code cannot be redeemed.
    public func spendTry(id: [UInt8], now: UInt64) throws(StoreError) -> Int? {
        try write { db in
            try db.execute(sql: """
                UPDATE enrolment SET triesLeft = triesLeft - 1 WHERE id = ? AND usedAt IS NULL AND triesLeft > 0 AND expiresAt > ?
                """, arguments: [Data(id), Int64(clamping: now)])
            guard db.changesCount == 1 else { return nil }
            return try Int.fetchOne(db, sql: "SELECT triesLeft FROM enrolment WHERE id = ?", arguments: [Data(id)])
        }
    }

    /// Marks code `id` redeemed by `key`, if it still can be: true for exactly one caller.
    /// `spentTry`: the try of this redemption was spent beforehand (``spendTry(id:now:)``), so the
    /// code may have none left.
    public func claimEnrolment(id: [UInt8], by key: PublicKey, now: UInt64, spentTry: Bool = false) throws(StoreError) -> Bool {
        try write { db in
            try db.execute(sql: """
                UPDATE enrolment SET usedAt = ?, usedBy = ? WHERE id = ? AND usedAt IS NULL AND triesLeft >= ? AND expiresAt > ?
                """, arguments: [Int64(clamping: now), Data(key.bytes), Data(id), spentTry ? 0 : 1, Int64(clamping: now)])
            return db.changesCount == 1
        }
    }

    /// Undoes a claim whose grant could not be stored, so that the code can be used again.
    public func releaseEnrolment(id: [UInt8]) throws(StoreError) {
        try write { db in
            try db.execute(sql: "UPDATE enrolment SET usedAt = NULL, usedBy = NULL WHERE id = ?", arguments: [Data(id)])
        }
    }

    static func enrolment(_ row: Row) throws -> Enrolment {
        guard let role = Role(rawValue: UInt8(clamping: row["role"] as Int64)) else { throw StoreError.database("a damaged enrolment row") }
        return Enrolment(
            id: [UInt8](row["id"] as Data), secret: [UInt8](row["secret"] as Data), role: role, displayName: row["displayName"],
            expiresAt: UInt64(clamping: row["expiresAt"] as Int64), triesLeft: row["triesLeft"],
            usedAt: (row["usedAt"] as Int64?).map { UInt64(clamping: $0) }, usedBy: (row["usedBy"] as Data?).flatMap { PublicKey(bytes: [UInt8]($0)) })
    }
}
