import PalierCore

/// What one ingest batch did. Every input is accounted for exactly once.
public struct IngestReport: Sendable {
    /// Stored as new envelopes, in input order.
    public var accepted: [EnvelopeID] = []
    /// New, valid, but erased on arrival by a retract already held: only the id is kept.
    public var erasedOnArrival: [EnvelopeID] = []
    /// Envelopes already held before this batch, or repeated within it: no write.
    public var duplicates = 0
    /// Created too far in the future: refused for now, not held against the sender.
    public var deferred: [(index: Int, error: EnvelopeError)] = []
    /// Refused for good: malformed, bad signature, expired, foreign building scope.
    public var refused: [(index: Int, error: EnvelopeError)] = []
    /// Envelopes held before this batch that a retract in it erased.
    public var erased: [EnvelopeID] = []

    public init() {}

    /// The first refusal or deferral for input `index`, if any.
    public func problem(at index: Int) -> EnvelopeError? {
        refused.first { $0.index == index }?.error ?? deferred.first { $0.index == index }?.error
    }
}

/// Counts for `palier status`.
public struct StoreStatistics: Sendable, Hashable {
    public var envelopes: Int
    public var erased: Int
    public var byKind: [Kind: Int]
    /// Envelopes refused because they were created too far in the future, since the store was made.
    public var deferredFutureDated: Int
    /// Envelopes refused for good (malformed, bad signature, expired, foreign scope).
    public var refused: Int
    public var lastTimestamp: HybridTimestamp
}
