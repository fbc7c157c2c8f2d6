/// A building admin's decision about another building.
public enum BuildingStance: UInt8, Sendable, Codable, CustomStringConvertible {
    /// Its neighbourhood posts show on this building's screen.
    case follow = 1
    /// Its envelopes are refused and never relayed; its node is not synced with.
    case block = 2

    public var description: String { self == .follow ? "followed" : "blocked" }
}

/// Whose posts this building's screen shows and whose envelopes the node refuses.
public struct FederationPolicy: Hashable, Sendable {
    public var followed: Set<PublicKey>
    public var blocked: Set<PublicKey>
    /// The kinds of a followed building's posts that show here, when not the default.
    public var followedKinds: [PublicKey: Set<Kind>]

    /// What a follow shows unless told otherwise: a neighbour's events, tips, classifieds and
    /// promos. Its notices, flashes and alerts are about its own building (its lift, its water,
    /// its meetings): they stay on its own screen.
    public static let defaultFollowedKinds: Set<Kind> = [.event, .tip, .classified, .promo]

    public init(followed: Set<PublicKey> = [], blocked: Set<PublicKey> = [], followedKinds: [PublicKey: Set<Kind>] = [:]) {
        self.followed = followed
        self.blocked = blocked
        self.followedKinds = followedKinds
    }

    public init(stances: [PublicKey: BuildingStance], kinds: [PublicKey: Set<Kind>] = [:]) {
        self.init(
            followed: Set(stances.filter { $0.value == .follow }.keys),
            blocked: Set(stances.filter { $0.value == .block }.keys),
            followedKinds: kinds.filter { stances[$0.key] == .follow })
    }

    /// The kinds of `building`'s posts this screen shows when it follows it.
    public func kinds(from building: PublicKey) -> Set<Kind> {
        followedKinds[building] ?? Self.defaultFollowedKinds
    }

    /// Whether the screen of `local` shows a `kind` post of `building`: all of its own, and
    /// the followed kinds of followed buildings; never a blocked one's.
    public func screenShows(building: PublicKey, kind: Kind, local: PublicKey) -> Bool {
        building == local || (followed.contains(building) && !blocked.contains(building) && kinds(from: building).contains(kind))
    }

    /// The buildings whose `kind` posts this screen of `local` shows: `local` first.
    public func buildings(showing kind: Kind, local: PublicKey) -> [PublicKey] {
        [local] + followed.subtracting(blocked).subtracting([local]).filter { kinds(from: $0).contains(kind) }.sorted()
    }
}

extension Kind {
    /// A set of content kinds as one number (bit `code` for each), as the store keeps it.
    public static func mask(_ kinds: Set<Kind>) -> Int64 {
        kinds.reduce(0) { $0 | (1 << Int64($1.rawValue)) }
    }

    /// The content kinds of a ``mask(_:)``; unknown bits are ignored.
    public static func kinds(mask: Int64) -> Set<Kind> {
        Set(contentKinds.filter { mask & (1 << Int64($0.rawValue)) != 0 })
    }
}
