/// The protocol's fixed limits (docs/protocol.md, "Limits").
public enum Limits {
    public static let maximumEnvelopeBytes = 4096
    public static let maximumTitleScalars = 120
    public static let maximumBodyBytes = 2000
    public static let maximumPlaceScalars = 120
    public static let maximumLanguageBytes = 16
    public static let maximumDisplayNameScalars = 64
    public static let maximumReasonScalars = 120
    public static let maximumBuildingNameScalars = 120
    public static let maximumAddressScalars = 200

    public static let millisPerDay: UInt64 = 86_400_000
    /// Every envelope but a grant expires at most 90 days after its creation.
    public static let maximumLifetimeMillis: UInt64 = 90 * millisPerDay
    /// A grant expires at most 400 days after its creation.
    public static let maximumGrantLifetimeMillis: UInt64 = 400 * millisPerDay
    /// Envelopes created further than this in the future are refused for now (not penalised).
    public static let maximumClockSkewMillis: UInt64 = 10 * 60 * 1000
}
