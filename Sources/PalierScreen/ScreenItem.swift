import PalierCore

/// One item as a screen shows it: display-ready, text already made safe.
public struct ScreenItem: Hashable, Sendable, Codable {
    public struct Author: Hashable, Sendable, Codable {
        public var name: String
        /// The role the building granted, or `building` for the building itself.
        public var role: String
        /// True for the building itself and the roles that speak for an institution
        /// (admin, council, syndic, landlord, elevator, city): screens mark them as official.
        public var verified: Bool
    }

    public struct Event: Hashable, Sendable, Codable {
        public var start: UInt64
        public var end: UInt64
        public var place: String
    }

    /// The post's id (64 hex digits).
    public var id: String
    public var kind: String
    public var title: String
    public var body: String
    public var language: String
    public var author: Author
    /// The name of the building the post comes from.
    public var building: String
    /// True for a post of this node's own building.
    public var local: Bool
    /// 3 alert, 2 flash, 1 notice, 0 the rest. Items with `preempts` interrupt the rotation.
    public var priority: Int
    public var preempts: Bool
    /// When the item is on the playlist: Unix milliseconds, `from` inclusive, `until` exclusive.
    public var from: UInt64
    public var until: UInt64
    /// How long a screen should show it each time round.
    public var displaySeconds: Int
    public var event: Event?
    /// Changes when the content changes (the id of the envelope whose content is shown).
    public var revision: String
}
