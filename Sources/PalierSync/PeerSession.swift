import PalierCore

/// What the engine knows about one open session.
struct PeerSession {
    let remote: PublicKey
    /// True on the side that dialled: it starts reconciliation rounds.
    let initiator: Bool
    var name = ""
    var helloReceived = false
    var maximumBatch = Int(SyncProtocol.maximumBatch)
    var reconciling = false
    /// When the last reconciliation round with this peer finished (Unix milliseconds).
    var lastReconciled: UInt64?
    /// What the peer announced it can do in `hello`.
    var features = SyncFeatures()
    /// The sketch reconciliation this side asked for and is decoding, how far it asked, how
    /// many requests it made, and the store's change count when the round began (items that
    /// arrive meanwhile mix two versions of this side's set into the difference).
    var sketch: SketchDecoder?
    var sketchRequested = 0
    var sketchAsked = 0
    var sketchRequests = 0
    var sketchVersion: Int64 = 0
    var lastReconcile: UInt64 = 0
    var lastReceived: UInt64
    var lastSent: UInt64 = 0
    /// When this side's unanswered ping left (its nonce), and the last round trip measured.
    var pingSent: UInt64?
    var roundTrip: UInt64?
    var messageLimit: TokenBucket
    /// New ids stored after the session opened and before the peer's `hello`: announced when
    /// it comes (bounded; past it, reconciliation finds the rest).
    var announceAfterHello: [EnvelopeID] = []
    static let announceAfterHelloLimit = 10_000

    /// Ids asked of this peer and not yet received, and those waiting to be asked (bounded:
    /// past `wantQueueLimit`, a later round finds the rest).
    var asked = Set<EnvelopeID>()
    private var wantQueue: [EnvelopeID] = []
    private var wantHead = 0
    static let wantQueueLimit = 1 << 18

    mutating func queueWants(_ ids: [EnvelopeID]) {
        let room = Self.wantQueueLimit - (wantQueue.count - wantHead)
        wantQueue.append(contentsOf: ids.prefix(max(room, 0)))
    }

    var hasQueuedWants: Bool { wantHead < wantQueue.count }

    mutating func nextQueuedWant() -> EnvelopeID? {
        guard wantHead < wantQueue.count else { return nil }
        let id = wantQueue[wantHead]
        wantHead += 1
        if wantHead == wantQueue.count {
            wantQueue.removeAll(keepingCapacity: false)
            wantHead = 0
        }
        return id
    }

    /// Ids the peer holds (it announced or sent them, or we sent them): never announced to it.
    /// Bounded: forgotten wholesale past `knownLimit`, which costs at most a repeated announce.
    private var known = Set<EnvelopeID>()
    private static let knownLimit = 100_000

    init(remote: PublicKey, initiator: Bool, now: UInt64, configuration: SyncEngine.Configuration) {
        self.remote = remote
        self.initiator = initiator
        self.lastReceived = now
        self.messageLimit = TokenBucket(capacity: configuration.peerMessageBurst, perMillisecond: configuration.peerMessagesPerSecond / 1000, now: now)
    }

    func knows(_ id: EnvelopeID) -> Bool { known.contains(id) }

    mutating func markKnown(_ ids: some Sequence<EnvelopeID>) {
        if known.count > Self.knownLimit { known.removeAll(keepingCapacity: true) }
        known.formUnion(ids)
    }
}

/// A token bucket on the engine's clock (Unix milliseconds).
struct TokenBucket {
    let capacity: Double
    let perMillisecond: Double
    private var tokens: Double
    private var last: UInt64

    init(capacity: Double, perMillisecond: Double, now: UInt64) {
        self.capacity = capacity
        self.perMillisecond = perMillisecond
        self.tokens = capacity
        self.last = now
    }

    /// When `count` tokens will be there (at the last take if they were then).
    func time(for count: Double) -> UInt64 {
        let missing = count - tokens
        return missing <= 0 ? last : last + UInt64((missing / perMillisecond).rounded(.up))
    }

    /// Tokens there are at `now` (none taken).
    func available(now: UInt64) -> Double {
        now > last ? min(capacity, tokens + Double(now - last) * perMillisecond) : tokens
    }

    /// Takes `count` tokens if there are as many.
    mutating func take(_ count: Double = 1, now: UInt64) -> Bool {
        if now > last {
            tokens = min(capacity, tokens + Double(now - last) * perMillisecond)
            last = now
        }
        guard tokens >= count else { return false }
        tokens -= count
        return true
    }
}
