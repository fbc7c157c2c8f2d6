/// What an envelope is. Content kinds are shown on screens; control kinds act on other envelopes
/// or on the building itself. The raw values are the wire codes (docs/protocol.md).
public enum Kind: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case tip = 1
    case classified = 2
    case event = 3
    case notice = 4
    case flash = 5
    case alert = 6
    case promo = 7
    case edit = 16
    case retract = 17
    case hide = 18
    case grant = 19
    case profile = 20

    /// The kinds shown on a screen.
    public static let contentKinds: [Kind] = [.tip, .classified, .event, .notice, .flash, .alert, .promo]

    public var isContent: Bool { rawValue < 16 }

    /// Control kinds that name another envelope (the `target` field).
    public var hasTarget: Bool { self == .edit || self == .retract || self == .hide }

    /// Where a post of this kind goes unless its author says otherwise: notices, flashes and
    /// alerts are about the building (its lift, its water, its meetings) and stay on its node;
    /// the rest is for the neighbourhood.
    public var defaultScope: Scope {
        switch self {
        case .notice, .flash, .alert: .building
        default: .neighbourhood
        }
    }

    /// Grants may live 400 days; everything else 90.
    public var maximumLifetimeMillis: UInt64 {
        self == .grant ? Limits.maximumGrantLifetimeMillis : Limits.maximumLifetimeMillis
    }

    public var name: String {
        switch self {
        case .tip: "tip"
        case .classified: "classified"
        case .event: "event"
        case .notice: "notice"
        case .flash: "flash"
        case .alert: "alert"
        case .promo: "promo"
        case .edit: "edit"
        case .retract: "retract"
        case .hide: "hide"
        case .grant: "grant"
        case .profile: "profile"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let kind = Kind.allCases.first(where: { $0.name == name }) else { return nil }
        self = kind
    }
}

/// Where an envelope may travel.
public enum Scope: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    /// Never leaves the node it was posted on.
    case building = 0
    /// Replicates to every node of the network.
    case neighbourhood = 1

    public var name: String { self == .building ? "building" : "neighbourhood" }
    public var description: String { name }

    public init?(name: String) {
        switch name {
        case "building": self = .building
        case "neighbourhood", "neighborhood": self = .neighbourhood
        default: return nil
        }
    }
}

/// A role a building grants to a key. Each role may post a fixed set of kinds.
public enum Role: UInt8, CaseIterable, Sendable, Codable, CustomStringConvertible {
    case resident = 1
    case admin = 2
    case council = 3
    case syndic = 4
    case landlord = 5
    case elevator = 6
    case merchant = 7
    case city = 8
    case association = 9

    /// The content and moderation kinds this role may post. Anyone with a valid grant may also
    /// edit and retract their own posts.
    public var allowedKinds: Set<Kind> {
        switch self {
        case .resident: [.tip, .classified, .event]
        case .admin: [.tip, .classified, .event, .notice, .flash, .alert, .promo, .hide]
        case .council: [.tip, .classified, .event, .notice]
        case .syndic: [.notice, .event]
        case .landlord: [.notice, .event, .flash, .alert]
        case .elevator: [.notice, .flash, .alert]
        case .merchant: [.promo]
        case .city: [.notice, .event]
        case .association: [.event, .notice, .tip]
        }
    }

    public func mayPost(_ kind: Kind) -> Bool {
        kind == .edit || kind == .retract || allowedKinds.contains(kind)
    }

    public var name: String {
        switch self {
        case .resident: "resident"
        case .admin: "admin"
        case .council: "council"
        case .syndic: "syndic"
        case .landlord: "landlord"
        case .elevator: "elevator"
        case .merchant: "merchant"
        case .city: "city"
        case .association: "association"
        }
    }

    public var description: String { name }

    public init?(name: String) {
        guard let role = Role.allCases.first(where: { $0.name == name }) else { return nil }
        self = role
    }
}
