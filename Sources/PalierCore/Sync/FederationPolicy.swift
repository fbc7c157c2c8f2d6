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

    public init(followed: Set<PublicKey> = [], blocked: Set<PublicKey> = []) {
        self.followed = followed
        self.blocked = blocked
    }

    public init(stances: [PublicKey: BuildingStance]) {
        self.init(
            followed: Set(stances.filter { $0.value == .follow }.keys),
            blocked: Set(stances.filter { $0.value == .block }.keys))
    }

    /// Whether the screen of `local` shows neighbourhood posts of `building`: its own, and
    /// those of followed buildings; never a blocked one.
    public func screenShows(building: PublicKey, local: PublicKey) -> Bool {
        building == local || (followed.contains(building) && !blocked.contains(building))
    }
}
