/// Range-based set reconciliation in the manner of Negentropy (docs/protocol.md §8).
///
/// Both sides hold a sorted ``SyncItemSet``. A message is a list of consecutive ranges, each
/// ending at an exclusive ``SyncBound`` and carrying one of: *skip* (nothing to do), a
/// *fingerprint* of the sender's items in the range, or the sender's full *id list* for it.
/// The receiver answers fingerprints that differ from its own by splitting the range (or by
/// its id list when the range is small) and resolves id lists at once: ids it lacks become
/// `need`, ids the sender lacks become `have`. The exchange ends when a side has nothing but
/// skips to say: it then sends an empty message (the version byte alone).
///
/// The machine keeps no state between rounds: each reply depends only on the message and the
/// item set, so either side may be restarted or the set may change between rounds.
public struct ReconciliationStateMachine: Sendable {
    public static let version: UInt8 = 1
    enum Mode: UInt64 { case skip = 0, fingerprint = 1, idList = 2 }

    public let set: SyncItemSet
    public let crypto: any CryptoProvider
    /// Ranges a differing range is split into.
    public var branching = 16
    /// Ranges holding fewer items than this are sent as id lists.
    public var idListThreshold = 32
    /// Replies stop growing at this size; what is left is covered by one fingerprint and
    /// reconciled in the next round.
    public var messageLimit = 65_000

    public init(set: SyncItemSet, crypto: any CryptoProvider) {
        self.set = set
        self.crypto = crypto
    }

    /// What one incoming message asks of this side.
    public struct Reply: Sendable {
        /// The answer to send; nil when the incoming message was the empty "done" message.
        public var message: [UInt8]?
        /// True when `message` is the empty "done" message: nothing more to reconcile.
        public var isDone: Bool
        /// Ids the peer holds and this side lacks: ask for them.
        public var need: [EnvelopeID] = []
        /// Ids this side holds and the peer lacks: send their bodies.
        public var have: [EnvelopeID] = []
    }

    /// The opening message: the whole set as fingerprints of `branching` ranges (or one id list).
    public func initiate() -> [UInt8] {
        var writer = RangeWriter()
        split(0..<set.count, upper: .infinity, into: &writer)
        return writer.finish()
    }

    /// Answers one message from the peer.
    public func respond(to message: [UInt8]) throws(SyncMessageError) -> Reply {
        var reader = SyncReader(message)
        guard try reader.u8() == Self.version else { throw .malformed("unknown reconciliation version") }
        if reader.isAtEnd { return Reply(message: nil, isDone: true) }

        var writer = RangeWriter()
        var reply = Reply(message: nil, isDone: false)
        var lower = 0
        var previous: UInt64 = 0
        var lastBound: SyncBound?
        while !reader.isAtEnd {
            let bound = try Self.readBound(&reader, previous: &previous)
            if let lastBound, !Self.ascending(lastBound, bound) { throw .malformed("range bounds out of order") }
            lastBound = bound
            let upper = set.index(of: bound, from: lower)
            guard let mode = Mode(rawValue: try reader.varint()) else { throw .malformed("unknown range mode") }

            if writer.byteCount > messageLimit {
                // Stop here: one fingerprint for everything from `lower` on; the rest comes next round.
                writer.fingerprint(upper: .infinity, set.fingerprint(lower..<set.count, crypto: crypto))
                return Reply(message: writer.finish(), isDone: false, need: reply.need, have: reply.have)
            }
            switch mode {
            case .skip:
                writer.skip(upper: bound)
            case .fingerprint:
                let theirs = try reader.raw(SyncFingerprint.byteCount)
                if set.fingerprint(lower..<upper, crypto: crypto) == theirs {
                    writer.skip(upper: bound)
                } else {
                    split(lower..<upper, upper: bound, into: &writer)
                }
            case .idList:
                let count = try reader.count(itemSize: EnvelopeID.byteCount)
                var theirs = Set<EnvelopeID>(minimumCapacity: count)
                for _ in 0..<count { theirs.insert(try reader.id()) }
                var mine = Set<EnvelopeID>(minimumCapacity: upper - lower)
                for item in set.items[lower..<upper] {
                    mine.insert(item.id)
                    if !theirs.contains(item.id) { reply.have.append(item.id) }
                }
                // Sorted, so that what follows does not depend on hash order (replayable runs).
                reply.need += theirs.filter { !mine.contains($0) }.sorted()
                writer.skip(upper: bound)
            }
            lower = upper
        }
        reply.message = writer.finish()
        reply.isDone = false
        return reply
    }

    /// Either the id list of `range`, or `branching` fingerprinted sub-ranges of it.
    private func split(_ range: Range<Int>, upper: SyncBound, into writer: inout RangeWriter) {
        if range.count < idListThreshold {
            writer.idList(upper: upper, set.items[range].map(\.id))
            return
        }
        let perBucket = range.count / branching
        let extra = range.count % branching
        var start = range.lowerBound
        for bucket in 0..<branching {
            let end = start + perBucket + (bucket < extra ? 1 : 0)
            let bound = bucket == branching - 1 ? upper : SyncBound.between(set.items[end - 1], set.items[end])
            writer.fingerprint(upper: bound, set.fingerprint(start..<end, crypto: crypto))
            start = end
        }
    }

    static func ascending(_ a: SyncBound, _ b: SyncBound) -> Bool {
        a.timestamp != b.timestamp ? a.timestamp < b.timestamp : a.idPrefix.lexicographicallyPrecedes(b.idPrefix)
    }

    static func readBound(_ reader: inout SyncReader, previous: inout UInt64) throws(SyncMessageError) -> SyncBound {
        let code = try reader.varint()
        let length = Int(try reader.u8())
        guard length <= EnvelopeID.byteCount else { throw .malformed("id prefix over 32 bytes") }
        let prefix = try reader.raw(length)
        if code == 0 { return SyncBound(timestamp: .max, idPrefix: prefix) }
        let (timestamp, overflow) = previous.addingReportingOverflow(code - 1)
        guard !overflow, timestamp < .max else { throw .malformed("range bound timestamp overflows") }
        previous = timestamp
        return SyncBound(timestamp: timestamp, idPrefix: prefix)
    }
}

/// Writes ranges, merging consecutive skips and leaving out a trailing one.
struct RangeWriter {
    private var writer = ByteWriter()
    private var pendingSkip: SyncBound?
    private var previous: UInt64 = 0

    init() { writer.u8(ReconciliationStateMachine.version) }

    var byteCount: Int { writer.bytes.count }

    mutating func skip(upper: SyncBound) { pendingSkip = upper }

    mutating func fingerprint(upper: SyncBound, _ fingerprint: [UInt8]) {
        flushSkip()
        bound(upper)
        writer.varint(ReconciliationStateMachine.Mode.fingerprint.rawValue)
        writer.raw(fingerprint)
    }

    mutating func idList(upper: SyncBound, _ ids: [EnvelopeID]) {
        flushSkip()
        bound(upper)
        writer.varint(ReconciliationStateMachine.Mode.idList.rawValue)
        writer.varint(UInt64(ids.count))
        for id in ids { writer.raw(id.bytes) }
    }

    /// The message; the version byte alone when every range was a skip ("done").
    mutating func finish() -> [UInt8] {
        writer.bytes
    }

    private mutating func flushSkip() {
        guard let skip = pendingSkip else { return }
        pendingSkip = nil
        bound(skip)
        writer.varint(ReconciliationStateMachine.Mode.skip.rawValue)
    }

    private mutating func bound(_ bound: SyncBound) {
        if bound.timestamp == .max {
            writer.varint(0)
        } else {
            writer.varint(bound.timestamp - previous + 1)
            previous = bound.timestamp
        }
        writer.u8(UInt8(bound.idPrefix.count))
        writer.raw(bound.idPrefix)
    }
}
