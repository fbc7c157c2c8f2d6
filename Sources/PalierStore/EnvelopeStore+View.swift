import Foundation
import GRDB
import PalierCore

/// The materialised view: what ``ViewRules`` decide for this store's building, kept in three
/// tables in the same transaction as every change to the envelope table (ingest, erasure,
/// expiry, quarantine), so that reading the view is a matter of index lookups.
///
/// - `view_standing`: per (building, subject), the building's latest grant for the subject.
/// - `view_profile`: per building, its latest profile.
/// - `view_item`: the posts shown, with the revision (post or edit) whose content shows, the
///   author's role and grant, and the shown event's times.
///
/// A change names what it can affect — a post, its edits and hides name the post; a grant names
/// its (building, subject), whose posts and hides are then looked at again; a profile names its
/// building — and only those rows are computed again, from the envelope table, by the rules of
/// ``ViewRules`` (which stays the specification: a property test holds the tables to it).
/// Rows depend on what is live: reads first delete what has expired (``purgeExpired(now:)``),
/// which is itself such a change.
extension EnvelopeStore {
    /// What a change to the envelope table can affect in the view.
    struct ViewChanges {
        var posts = Set<EnvelopeID>()
        var standings = Set<StandingKey>()
        var profiles = Set<PublicKey>()
        /// Posts this change has just stored, with their numbers (an ingest's fresh posts), so
        /// that computing their rows reads and decodes them no second time.
        var decoded: [EnvelopeID: (seq: Int64, envelope: Envelope)] = [:]

        var isEmpty: Bool { posts.isEmpty && standings.isEmpty && profiles.isEmpty }

        /// Notes an envelope that was added or removed.
        mutating func note(_ envelope: Envelope) {
            switch envelope.content.payload {
            case .post: posts.insert(envelope.id)
            case .edit, .hide: posts.insert(envelope.target!)
            // Retracts erase physically: what they erase is removed, and noted, by itself.
            case .retract: break
            case .grant(let grant): standings.insert(StandingKey(building: envelope.building, subject: grant.subject))
            case .profile: profiles.insert(envelope.building)
            }
        }
    }

    struct StandingKey: Hashable {
        let building: PublicKey
        let subject: PublicKey
    }

    static let viewMigration = """
        -- Grants' subjects, so that a (building, subject) finds its grants by index.
        ALTER TABLE envelope ADD COLUMN subject BLOB;
        CREATE INDEX envelope_subject ON envelope(building, subject) WHERE subject IS NOT NULL;
        -- A building's posts and hides by author: what a change of standing affects.
        CREATE INDEX envelope_author ON envelope(building, author, kind);
        CREATE TABLE view_standing (
            building BLOB NOT NULL,
            subject BLOB NOT NULL,
            grantID BLOB NOT NULL,
            role INTEGER,               -- NULL: the latest grant revokes
            displayName TEXT NOT NULL,
            hlc INTEGER NOT NULL,
            expiresAt INTEGER NOT NULL,
            PRIMARY KEY (building, subject)
        ) WITHOUT ROWID;
        CREATE TABLE view_profile (
            building BLOB NOT NULL PRIMARY KEY,
            envelope BLOB NOT NULL,
            name TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE TABLE view_item (
            id BLOB NOT NULL PRIMARY KEY,
            kind INTEGER NOT NULL,
            scope INTEGER NOT NULL,
            building BLOB NOT NULL,
            author BLOB NOT NULL,
            hlc INTEGER NOT NULL,
            expiresAt INTEGER NOT NULL,
            revision BLOB NOT NULL,
            revisionHLC INTEGER NOT NULL,
            role INTEGER,                -- NULL: the building key posted
            grantID BLOB,
            startsAt INTEGER,            -- the shown event's times
            endsAt INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX view_item_newest ON view_item(hlc DESC, id);
        -- The screen reads each kind's newest, the events by start, and the next expiry.
        CREATE INDEX view_item_kind ON view_item(kind, hlc DESC, id);
        CREATE INDEX view_item_agenda ON view_item(kind, startsAt, id) WHERE startsAt IS NOT NULL;
        CREATE INDEX view_item_expiry ON view_item(expiresAt);
        """

    /// v5. Each envelope gets a number in arrival order (`seq`, never reused: a deleted
    /// newest envelope's number is not given again, so that "stored after row n" stays true),
    /// and the view's rows are keyed by their post's number. View rows used to be keyed by the
    /// post's random id: every batch of posts then dirtied a page of that table per post, so
    /// that each commit wrote most of the table to the WAL again (4 KiB per post at 100,000
    /// posts). By number, new rows are appended. A post's row goes with its envelope (trigger).
    static let numberingMigration = """
        CREATE TABLE envelope_numbered (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            id BLOB NOT NULL UNIQUE,
            kind INTEGER NOT NULL,
            author BLOB NOT NULL,
            hlc INTEGER NOT NULL,
            expiresAt INTEGER NOT NULL,
            target BLOB,
            bytes BLOB NOT NULL,
            scope INTEGER NOT NULL DEFAULT 0,
            building BLOB,
            subject BLOB
        );
        INSERT INTO envelope_numbered (seq, id, kind, author, hlc, expiresAt, target, bytes, scope, building, subject)
            SELECT rowid, id, kind, author, hlc, expiresAt, target, bytes, scope, building, subject FROM envelope ORDER BY rowid;
        DROP TABLE envelope;
        ALTER TABLE envelope_numbered RENAME TO envelope;
        CREATE INDEX envelope_target ON envelope(kind, target) WHERE target IS NOT NULL;
        CREATE INDEX envelope_expiry ON envelope(expiresAt);
        CREATE INDEX envelope_subject ON envelope(building, subject) WHERE subject IS NOT NULL;
        CREATE INDEX envelope_author ON envelope(building, author, kind);
        DROP TABLE view_item;
        CREATE TABLE view_item (
            seq INTEGER PRIMARY KEY,     -- the post's envelope.seq
            id BLOB NOT NULL,
            kind INTEGER NOT NULL,
            scope INTEGER NOT NULL,
            building BLOB NOT NULL,
            author BLOB NOT NULL,
            hlc INTEGER NOT NULL,
            expiresAt INTEGER NOT NULL,
            revision BLOB NOT NULL,
            revisionHLC INTEGER NOT NULL,
            role INTEGER,                -- NULL: the building key posted
            grantID BLOB,
            startsAt INTEGER,            -- the shown event's times
            endsAt INTEGER,
            showsFrom INTEGER            -- v9; here for stores that reach v5 after it was added
        );
        CREATE INDEX view_item_newest ON view_item(hlc DESC, id);
        CREATE INDEX view_item_kind ON view_item(kind, hlc DESC, id);
        CREATE INDEX view_item_agenda ON view_item(kind, startsAt, id) WHERE startsAt IS NOT NULL;
        CREATE INDEX view_item_expiry ON view_item(expiresAt);
        CREATE TRIGGER envelope_view_row AFTER DELETE ON envelope BEGIN
            DELETE FROM view_item WHERE seq = OLD.seq;
        END;
        """

    /// Fills the subject column where it is empty and computes the whole view (the migrations
    /// that add them).
    static func buildView(_ db: Database, viewer: PublicKey) throws {
        var changes = ViewChanges()
        let rows = try Row.fetchCursor(db, sql: "SELECT id, bytes, subject IS NULL FROM envelope")
        var subjects: [(Data, Data)] = []
        while let row = try rows.next() {
            let envelope = try storedEnvelope(id: row[0], bytes: row[1])
            changes.note(envelope)
            if case .grant(let grant) = envelope.content.payload, row[2] as Bool { subjects.append((Data(grant.subject.bytes), row[0])) }
        }
        for (subject, id) in subjects {
            try db.execute(sql: "UPDATE envelope SET subject = ? WHERE id = ?", arguments: [subject, id])
        }
        try refreshView(changes, viewer: viewer, db)
    }

    /// Computes again every view row `changes` can affect, from the envelope table.
    static func refreshView(_ changes: ViewChanges, viewer: PublicKey, _ db: Database) throws {
        guard !changes.isEmpty else { return }
        var posts = changes.posts
        for key in changes.standings {
            try refreshStanding(key, db)
            // Its posts and its hides are looked at again.
            let affected = try RawStatement(db, sql: """
                SELECT id, kind, target FROM envelope WHERE building = ?1 AND author = ?2 AND (kind < 16 OR kind = \(Kind.hide.rawValue))
                """)
            affected.bind(1, key.building.bytes)
            affected.bind(2, key.subject.bytes)
            defer { affected.reset() }
            while try affected.step() {
                if affected.int64(1) < 16 {
                    posts.insert(EnvelopeID(bytes: affected.blob(0))!)
                } else if !affected.isNull(2), let target = EnvelopeID(bytes: affected.blob(2)) {
                    posts.insert(target)
                }
            }
        }
        for building in changes.profiles { try refreshProfile(building, db) }
        let context = try PostContext(db, viewer: viewer)
        for post in posts { try context.refresh(post, decoded: changes.decoded[post]) }
    }

    private static func refreshStanding(_ key: StandingKey, _ db: Database) throws {
        let latest = try RawStatement(db, sql: """
            SELECT id, bytes FROM envelope WHERE building = ?1 AND subject = ?2 AND kind = \(Kind.grant.rawValue)
            ORDER BY hlc DESC, id DESC LIMIT 1
            """)
        latest.bind(1, key.building.bytes)
        latest.bind(2, key.subject.bytes)
        defer { latest.reset() }
        guard try latest.step() else {
            try db.execute(sql: "DELETE FROM view_standing WHERE building = ? AND subject = ?",
                           arguments: [Data(key.building.bytes), Data(key.subject.bytes)])
            return
        }
        let envelope = try storedEnvelope(id: Data(latest.blob(0)), bytes: Data(latest.blob(1)))
        guard case .grant(let grant) = envelope.content.payload else { throw StoreError.database("a grant row holds another kind") }
        try db.execute(sql: """
            INSERT OR REPLACE INTO view_standing (building, subject, grantID, role, displayName, hlc, expiresAt)
            VALUES (?, ?, ?, ?, ?, ?, ?)
            """, arguments: [
                Data(key.building.bytes), Data(key.subject.bytes), Data(envelope.id.bytes), grant.role.map { Int($0.rawValue) },
                grant.displayName, Int64(bitPattern: envelope.timestamp.rawValue), Int64(clamping: envelope.expiresAt),
            ])
    }

    private static func refreshProfile(_ building: PublicKey, _ db: Database) throws {
        let latest = try RawStatement(db, sql: """
            SELECT id, bytes FROM envelope WHERE building = ?1 AND kind = \(Kind.profile.rawValue) ORDER BY hlc DESC, id DESC LIMIT 1
            """)
        latest.bind(1, building.bytes)
        defer { latest.reset() }
        guard try latest.step() else {
            try db.execute(sql: "DELETE FROM view_profile WHERE building = ?", arguments: [Data(building.bytes)])
            return
        }
        let envelope = try storedEnvelope(id: Data(latest.blob(0)), bytes: Data(latest.blob(1)))
        guard case .profile(let profile) = envelope.content.payload else { throw StoreError.database("a profile row holds another kind") }
        try db.execute(sql: "INSERT OR REPLACE INTO view_profile (building, envelope, name) VALUES (?, ?, ?)",
                       arguments: [Data(building.bytes), Data(envelope.id.bytes), profile.name])
    }

    /// The statements that compute one post's row, prepared once per change.
    private struct PostContext {
        let db: Database
        let viewer: PublicKey
        let post: RawStatement
        let edits: RawStatement
        let hides: RawStatement
        let standing: RawStatement
        let upsert: RawStatement
        let delete: RawStatement

        init(_ db: Database, viewer: PublicKey) throws {
            self.db = db
            self.viewer = viewer
            post = try RawStatement(db, sql: "SELECT seq, bytes FROM envelope WHERE id = ?1")
            upsert = try RawStatement(db, sql: """
                INSERT OR REPLACE INTO view_item (id, kind, scope, building, author, hlc, expiresAt, revision, revisionHLC, role, grantID, startsAt, endsAt, seq, showsFrom)
                VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                """)
            delete = try RawStatement(db, sql: "DELETE FROM view_item WHERE seq = ?1")
            edits = try RawStatement(db, sql: "SELECT id, bytes FROM envelope WHERE kind = \(Kind.edit.rawValue) AND target = ?1")
            hides = try RawStatement(db, sql: "SELECT building, author FROM envelope WHERE kind = \(Kind.hide.rawValue) AND target = ?1")
            standing = try RawStatement(db, sql: "SELECT role, grantID FROM view_standing WHERE building = ?1 AND subject = ?2")
        }

        /// The author's authority in `building` for `kind` (rule 2): the role (nil for the
        /// building key) and grant, or nil when it may not.
        func authority(of author: PublicKey, in building: PublicKey, for kind: Kind) throws -> (role: Role?, grant: EnvelopeID?)? {
            if author == building { return (nil, nil) }
            standing.bind(1, building.bytes)
            standing.bind(2, author.bytes)
            defer { standing.reset() }
            guard try standing.step(), !standing.isNull(0),
                  let role = Role(rawValue: UInt8(clamping: standing.int64(0))), role.mayPost(kind) else { return nil }
            return (role, EnvelopeID(bytes: standing.blob(1)))
        }

        /// Computes post `id`'s row again (`decoded`: the post and its number, when the caller
        /// holds it decoded). A post no longer stored has no row: it went with its envelope.
        func refresh(_ id: EnvelopeID, decoded: (seq: Int64, envelope: Envelope)?) throws {
            guard let post = try decoded ?? stored(id) else { return }
            let (seq, envelope) = post
            guard let row = try shownRow(envelope) else {
                delete.bind(1, seq)
                try delete.run()
                return
            }
            let (shown, granted) = row
            let content = shown.content.postContent
            let event = content?.event
            upsert.bind(1, id.bytes)
            upsert.bind(2, Int64(envelope.kind.rawValue))
            upsert.bind(3, Int64(envelope.content.scope.rawValue))
            upsert.bind(4, envelope.building.bytes)
            upsert.bind(5, envelope.author.bytes)
            upsert.bind(6, Int64(bitPattern: envelope.timestamp.rawValue))
            // An edit's shows-until ends the post's time early.
            upsert.bind(7, Int64(clamping: min(envelope.expiresAt, content?.showsUntil ?? .max)))
            upsert.bind(8, shown.id.bytes)
            upsert.bind(9, Int64(bitPattern: shown.timestamp.rawValue))
            if let role = granted.role { upsert.bind(10, Int64(role.rawValue)) } else { upsert.bindNull(10) }
            if let grant = granted.grant { upsert.bind(11, grant.bytes) } else { upsert.bindNull(11) }
            if let event {
                upsert.bind(12, Int64(clamping: event.startsAt))
                upsert.bind(13, Int64(clamping: event.endsAt))
            } else {
                upsert.bindNull(12)
                upsert.bindNull(13)
            }
            upsert.bind(14, seq)
            if let from = content?.showsFrom { upsert.bind(15, Int64(clamping: from)) } else { upsert.bindNull(15) }
            try upsert.run()
        }

        /// Post `id` and its number, from the table.
        private func stored(_ id: EnvelopeID) throws -> (seq: Int64, envelope: Envelope)? {
            post.bind(1, id.bytes)
            defer { post.reset() }
            guard try post.step() else { return nil }
            return (post.int64(0), try storedEnvelope(id: Data(id.bytes), bytes: Data(post.blob(1))))
        }

        /// The revision of `envelope` (a post) that shows and its author's authority, by rules
        /// 1–6, or nil when it is not shown.
        private func shownRow(_ envelope: Envelope) throws -> (shown: Envelope, granted: (role: Role?, grant: EnvelopeID?))? {
            let id = envelope.id
            let content = envelope.content
            guard content.kind.isContent, content.scope == .neighbourhood || content.building == viewer,
                  let granted = try authority(of: content.author, in: content.building, for: content.kind) else { return nil }
            // Rule 6: a hide by the post's building, or by the viewer, from a key that may hide there.
            hides.bind(1, id.bytes)
            defer { hides.reset() }
            while try hides.step() {
                let building = PublicKey(bytes: hides.blob(0))!
                guard building == content.building || building == viewer else { continue }
                if try authority(of: PublicKey(bytes: hides.blob(1))!, in: building, for: .hide) != nil { return nil }
            }
            // Rule 4: the latest of the post and its author's edits of the same kind.
            var shown = envelope
            edits.bind(1, id.bytes)
            defer { edits.reset() }
            while try edits.step() {
                let edit = try storedEnvelope(id: Data(edits.blob(0)), bytes: Data(edits.blob(1)))
                guard edit.author == envelope.author, case .edit(let kind, _) = edit.content.payload, kind == envelope.kind else { continue }
                if Envelope.precedes(shown, edit) { shown = edit }
            }
            return (shown, granted)
        }
    }
}

// MARK: - Reading the view

extension EnvelopeStore {
    /// Deletes what has expired at `now` (and so brings the view to `now`), if anything has: one
    /// index seek when nothing has.
    func purgeExpiredIfAny(now: UInt64) throws(StoreError) {
        let due = try read { db in
            try Bool.fetchOne(db, sql: "SELECT 1 FROM envelope WHERE expiresAt <= ? LIMIT 1", arguments: [Int64(clamping: now)]) ?? false
        }
        if due { try purgeExpired(now: now) }
    }

    /// The view's items, newest first, from `offset` (nil `limit`: all).
    static func readItems(_ db: Database, limit: Int? = nil, offset: Int = 0, where condition: String = "1",
                          order: String = "vi.hlc DESC, vi.id ASC", arguments: StatementArguments = []) throws -> [ViewItem] {
        let rows = try Row.fetchCursor(db, sql: """
            SELECT vi.id, vi.kind, vi.scope, vi.building, vi.author, vi.hlc, vi.expiresAt, vi.revision, vi.revisionHLC, vi.role,
                   vi.grantID, rev.bytes, st.displayName, pr.name
            FROM view_item vi
            JOIN envelope rev ON rev.id = vi.revision
            LEFT JOIN view_standing st ON st.building = vi.building AND st.subject = vi.author
            LEFT JOIN view_profile pr ON pr.building = vi.building
            WHERE \(condition)
            ORDER BY \(order)
            LIMIT \(limit ?? -1) OFFSET \(offset)
            """, arguments: arguments)
        var items: [ViewItem] = []
        while let row = try rows.next() {
            let id = try envelopeID(row[0])
            let revision = try envelopeID(row[7])
            let shown = try storedEnvelope(id: row[7], bytes: row[11])
            guard let kind = Kind(rawValue: UInt8(clamping: row[1] as Int64)), let scope = Scope(rawValue: UInt8(clamping: row[2] as Int64)),
                  let building = PublicKey(bytes: [UInt8](row[3] as Data)), let author = PublicKey(bytes: [UInt8](row[4] as Data)),
                  let content = shown.content.postContent else { throw StoreError.database("a damaged view row for \(id.hex)") }
            let role = (row[9] as Int64?).flatMap { Role(rawValue: UInt8(clamping: $0)) }
            let buildingName: String? = row[13]
            let grantName: String? = row[12]
            let revisionHLC = HybridTimestamp(rawValue: UInt64(bitPattern: row[8]))
            items.append(ViewItem(
                id: id, kind: kind, scope: scope, building: building, author: author, role: role,
                authorName: (author == building ? nil : grantName) ?? buildingName ?? "",
                buildingName: buildingName, content: content,
                postedAt: HybridTimestamp(rawValue: UInt64(bitPattern: row[5])), revision: revision,
                editedAt: revision == id ? nil : revisionHLC, expiresAt: UInt64(clamping: row[6] as Int64),
                grant: try (row[10] as Data?).map(envelopeID)))
        }
        return items
    }

    /// The view at `now`: a post taken off the screens early by an edit's shows-until keeps its
    /// row (with that time as its expiry) until its envelope goes, but is not in the view.
    static func readView(_ db: Database, now: UInt64) throws -> BuildingView {
        let items = try readItems(db, where: "vi.expiresAt > \(Int64(clamping: now))")
        var memberships: [Membership] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT building, subject, role, displayName, hlc, expiresAt, grantID FROM view_standing ORDER BY building, subject
            """) {
            guard let building = PublicKey(bytes: [UInt8](row[0] as Data)), let subject = PublicKey(bytes: [UInt8](row[1] as Data)) else {
                throw StoreError.database("a damaged standing row")
            }
            memberships.append(Membership(
                building: building, subject: subject, role: (row[2] as Int64?).flatMap { Role(rawValue: UInt8(clamping: $0)) },
                displayName: row[3], grantedAt: HybridTimestamp(rawValue: UInt64(bitPattern: row[4])),
                expiresAt: UInt64(clamping: row[5] as Int64), grant: try envelopeID(row[6])))
        }
        var profiles: [ProfileEntry] = []
        for row in try Row.fetchAll(db, sql: """
            SELECT e.id, e.bytes FROM view_profile p JOIN envelope e ON e.id = p.envelope ORDER BY p.building
            """) {
            let envelope = try storedEnvelope(id: row[0], bytes: row[1])
            guard case .profile(let profile) = envelope.content.payload else { throw StoreError.database("a damaged profile row") }
            profiles.append(ProfileEntry(building: envelope.building, profile: profile, envelope: envelope.id, updatedAt: envelope.timestamp))
        }
        return BuildingView(items: items, memberships: memberships, profiles: profiles)
    }

    static func envelopeID(_ data: Data) throws -> EnvelopeID {
        guard let id = EnvelopeID(bytes: [UInt8](data)) else { throw StoreError.database("a damaged envelope id") }
        return id
    }
}

// MARK: - Queries for the screen and the CLI

/// A part of the view, read by index: the posts of some kinds (and roles), newest first or in
/// agenda order, from some buildings, at most `limit`.
public struct ViewQuery: Sendable, Hashable {
    public enum Order: Sendable, Hashable {
        /// Newest first (the view's order).
        case newest
        /// Events showing at `now` (from `leadTime` before their start until their end), by
        /// start then id.
        case agenda(leadTime: UInt64)
    }
    public var kinds: [Kind]
    /// nil: any author; otherwise only posts whose author has one of these roles (nil in the
    /// list: the building key itself).
    public var roles: [Role?]?
    public var order: Order
    public var limit: Int
    /// Items skipped first (pages of `palier list`).
    public var offset: Int
    /// Buildings whose posts are left out (blocked ones).
    public var excluding: [PublicKey]
    /// The buildings whose posts this query reads, in place of those given to the read (nil).
    public var buildings: [PublicKey]?
    /// Only what a screen shows now: not the posts scheduled to show later (`showsFrom`).
    public var onScreen: Bool

    public init(kinds: [Kind], roles: [Role?]? = nil, order: Order = .newest, limit: Int, offset: Int = 0, excluding: [PublicKey] = [],
                buildings: [PublicKey]? = nil, onScreen: Bool = false) {
        self.buildings = buildings
        self.onScreen = onScreen
        self.kinds = kinds
        self.roles = roles
        self.order = order
        self.limit = limit
        self.offset = offset
        self.excluding = excluding
    }
}

extension EnvelopeStore {
    /// The view items `query` names among the posts of `buildings` (nil: every building), live
    /// at `now`, in the view's order for `.newest`.
    public func viewItems(_ query: ViewQuery, buildings: [PublicKey]?, now: UInt64) throws(StoreError) -> [ViewItem] {
        try purgeExpiredIfAny(now: now)
        return try read { db in try Self.readItems(db, query, buildings: query.buildings ?? buildings, now: now) }
    }

    /// Several queries in one read transaction: the union of their items, in the view's order.
    public func viewItems(_ queries: [ViewQuery], buildings: [PublicKey]?, now: UInt64) throws(StoreError) -> [ViewItem] {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            var seen = Set<EnvelopeID>()
            var items: [ViewItem] = []
            for query in queries {
                for item in try Self.readItems(db, query, buildings: query.buildings ?? buildings, now: now) where seen.insert(item.id).inserted {
                    items.append(item)
                }
            }
            items.sort { a, b in a.postedAt != b.postedAt ? a.postedAt > b.postedAt : a.id < b.id }
            return items
        }
    }

    /// Post `id` as the view shows it at `now`, or nil when it is not shown. One lookup.
    public func viewItem(_ id: EnvelopeID, now: UInt64) throws(StoreError) -> ViewItem? {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            try Self.readItems(db, limit: 1, where: "vi.seq = (SELECT seq FROM envelope WHERE id = ?) AND vi.expiresAt > \(Int64(clamping: now))",
                               arguments: [Data(id.bytes)]).first
        }
    }

    /// The live hides naming post `id`, whatever their building.
    public func hides(of id: EnvelopeID, now: UInt64) throws(StoreError) -> [Envelope] {
        try read { db in
            try Row.fetchAll(db, sql: "SELECT id, bytes FROM envelope WHERE kind = \(Kind.hide.rawValue) AND target = ? AND expiresAt > ?",
                             arguments: [Data(id.bytes), Int64(clamping: now)]).map { try Self.storedEnvelope(id: $0[0], bytes: $0[1]) }
        }
    }

    /// The live hides by `building`, newest first.
    public func hides(in building: PublicKey, now: UInt64) throws(StoreError) -> [Envelope] {
        try read { db in
            try Row.fetchAll(db, sql: """
                SELECT id, bytes FROM envelope WHERE building = ? AND kind = \(Kind.hide.rawValue) AND expiresAt > ? ORDER BY hlc DESC, id
                """, arguments: [Data(building.bytes), Int64(clamping: now)]).map { try Self.storedEnvelope(id: $0[0], bytes: $0[1]) }
        }
    }

    /// How many items `query` names in all (its limit and offset aside).
    public func viewItemCount(_ query: ViewQuery, buildings: [PublicKey]?, now: UInt64) throws(StoreError) -> Int {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            let (condition, arguments) = Self.conditions(query, buildings: buildings, now: now)
            return try Int.fetchOne(db, sql: "SELECT count(*) FROM view_item vi WHERE \(condition)", arguments: arguments) ?? 0
        }
    }

    /// The current standing of `subject` in `building` (its latest live grant), by one lookup.
    public func membership(of subject: PublicKey, in building: PublicKey, now: UInt64) throws(StoreError) -> Membership? {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT role, displayName, hlc, expiresAt, grantID FROM view_standing WHERE building = ? AND subject = ?
                """, arguments: [Data(building.bytes), Data(subject.bytes)]) else { return nil }
            return Membership(
                building: building, subject: subject, role: (row[0] as Int64?).flatMap { Role(rawValue: UInt8(clamping: $0)) },
                displayName: row[1], grantedAt: HybridTimestamp(rawValue: UInt64(bitPattern: row[2])),
                expiresAt: UInt64(clamping: row[3] as Int64), grant: try Self.envelopeID(row[4]))
        }
    }

    /// How many keys `building` currently grants a role (revocations left out), by index.
    public func memberCount(in building: PublicKey, now: UInt64) throws(StoreError) -> Int {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            try Int.fetchOne(db, sql: "SELECT count(*) FROM view_standing WHERE building = ? AND role IS NOT NULL",
                             arguments: [Data(building.bytes)]) ?? 0
        }
    }

    /// Every building's name from its latest live profile (one small table, no post read).
    public func profileNames(now: UInt64) throws(StoreError) -> [PublicKey: String] {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            var names: [PublicKey: String] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT building, name FROM view_profile") {
                if let key = PublicKey(bytes: [UInt8](row[0] as Data)) { names[key] = row[1] }
            }
            return names
        }
    }

    /// The latest live profile of `building`, by one lookup.
    public func latestProfile(of building: PublicKey, now: UInt64) throws(StoreError) -> Envelope? {
        try purgeExpiredIfAny(now: now)
        return try read { db in
            guard let row = try Row.fetchOne(db, sql: """
                SELECT e.id, e.bytes FROM view_profile p JOIN envelope e ON e.id = p.envelope WHERE p.building = ?
                """, arguments: [Data(building.bytes)]) else { return nil }
            return try Self.storedEnvelope(id: row[0], bytes: row[1])
        }
    }

    /// The next instant after `now` at which a post of `buildings` expires, or an event of theirs
    /// comes within `leadTime` of its start, or ends: when the screen next changes by itself.
    /// `kinds`: only posts of these kinds count (nil: all).
    public func nextViewChange(after now: UInt64, leadTime: UInt64, buildings: [PublicKey]?, kinds: [Kind]? = nil) throws(StoreError) -> UInt64? {
        try purgeExpiredIfAny(now: now)
        let lead = Int64(clamping: leadTime)
        let t = Int64(clamping: now)
        var (filter, arguments) = Self.buildingFilter(buildings)
        if let kinds { filter += " AND vi.kind IN (\(kinds.isEmpty ? "NULL" : kinds.map { "\($0.rawValue)" }.joined(separator: ",")))" }
        return try read { db in
            // Three index seeks rather than one scan: the first expiry, and the first start and
            // end of an event to come.
            let appears = "COALESCE(vi.showsFrom, CASE WHEN vi.startsAt > \(lead) THEN vi.startsAt - \(lead) ELSE 0 END)"
            let queries = [
                "SELECT min(vi.showsFrom) FROM view_item vi WHERE vi.showsFrom > \(t) AND vi.expiresAt > \(t) AND \(filter)",
                "SELECT vi.expiresAt FROM view_item vi WHERE vi.expiresAt > \(t) AND \(filter) ORDER BY vi.expiresAt LIMIT 1",
                "SELECT min(\(appears)) FROM view_item vi WHERE vi.kind = \(Kind.event.rawValue) AND vi.startsAt IS NOT NULL AND \(appears) > \(t) AND vi.expiresAt > \(t) AND \(filter)",
                "SELECT min(vi.endsAt) FROM view_item vi WHERE vi.kind = \(Kind.event.rawValue) AND vi.startsAt IS NOT NULL AND vi.endsAt > \(t) AND vi.expiresAt > \(t) AND \(filter)",
            ]
            return try queries.compactMap { sql in try Int64.fetchOne(db, sql: sql, arguments: arguments).map { UInt64(clamping: $0) } }.min()
        }
    }

    static func buildingFilter(_ buildings: [PublicKey]?) -> (String, StatementArguments) {
        guard let buildings else { return ("1", []) }
        guard !buildings.isEmpty else { return ("0", []) }
        return ("vi.building IN (\(buildings.map { _ in "?" }.joined(separator: ",")))",
                StatementArguments(buildings.map { Data($0.bytes) }))
    }

    static func readItems(_ db: Database, _ query: ViewQuery, buildings: [PublicKey]?, now: UInt64) throws -> [ViewItem] {
        guard !query.kinds.isEmpty, query.limit > 0 else { return [] }
        let (condition, arguments) = conditions(query, buildings: buildings, now: now)
        let order = if case .agenda = query.order { "vi.startsAt ASC, vi.id ASC" } else { "vi.hlc DESC, vi.id ASC" }
        return try readItems(db, limit: query.limit, offset: max(query.offset, 0), where: condition, order: order, arguments: arguments)
    }

    /// The WHERE clause of `query` over `view_item vi`, and its arguments.
    static func conditions(_ query: ViewQuery, buildings: [PublicKey]?, now: UInt64) -> (String, StatementArguments) {
        let t = Int64(clamping: now)
        // Several kinds (a listing) read the view in its order; one kind reads its own index.
        let kind = query.kinds.count > 1 ? "+vi.kind" : "vi.kind"
        var conditions = ["vi.expiresAt > \(t)", "\(kind) IN (\(query.kinds.map { String($0.rawValue) }.joined(separator: ",")))"]
        var (filter, arguments) = buildingFilter(buildings)
        conditions.append(filter)
        if !query.excluding.isEmpty {
            conditions.append("vi.building NOT IN (\(query.excluding.map { _ in "?" }.joined(separator: ",")))")
            arguments += StatementArguments(query.excluding.map { Data($0.bytes) })
        }
        if let roles = query.roles {
            var alternatives = roles.compactMap { $0 }.map { "vi.role = \($0.rawValue)" }
            if roles.contains(where: { $0 == nil }) { alternatives.append("vi.author = vi.building") }
            conditions.append(alternatives.isEmpty ? "0" : "(" + alternatives.joined(separator: " OR ") + ")")
        }
        if case .agenda(let leadTime) = query.order {
            // An event shows from its shows-from, else from `leadTime` before its start.
            let lead = Int64(clamping: leadTime)
            conditions.append("vi.startsAt IS NOT NULL AND COALESCE(vi.showsFrom, CASE WHEN vi.startsAt > \(lead) THEN vi.startsAt - \(lead) ELSE 0 END) <= \(t) AND vi.endsAt > \(t)")
        } else if query.onScreen {
            conditions.append("(vi.showsFrom IS NULL OR vi.showsFrom <= \(t))")
        }
        return (conditions.joined(separator: " AND "), arguments)
    }
}
