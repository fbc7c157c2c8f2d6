import PalierCore
import PalierStore

/// Sketch reconciliation (rateless IBLT, docs/protocol.md §9.2): the side that starts a round
/// asks for the peer's coded symbols, decodes them against its own, then asks for the ids it
/// lacks and sends those the peer lacks — one round trip for the symbols whatever the size of
/// the sets, when the first batch suffices.
extension SyncEngine {
    /// Symbols asked for first (1.3 KiB): one difference or a few decode from them; the peer
    /// adds what the difference in set sizes calls for.
    static let firstSketchRequest = 32
    /// The most symbols one request is answered with, and one round may take in all.
    static let maximumSketchSymbols = 1 << 18

    /// Makes the first `count` coded symbols of this node's items now rather than at the first
    /// sketch round (benchmarks: a running node makes them once, keeps them up to date, and
    /// keeps every symbol a round made it compute).
    public func prepareSketch(now: UInt64, symbols count: Int) throws(StoreError) {
        _ = sketchSymbols(set: try itemSet(now: now), upTo: count)
    }

    func startSketch(_ peer: PeerID, set: SyncItemSet, now: UInt64) -> [SyncOutput] {
        // Past 4 symbols per item on either side, ranges do better: fall back there.
        let limit = min(Self.maximumSketchSymbols, 4 * set.count + 4096)
        sessions[peer]?.sketch = SketchDecoder(crypto: crypto, maximumSymbols: limit)
        sessions[peer]?.sketchRequested = Self.firstSketchRequest
        sessions[peer]?.sketchAsked = Self.firstSketchRequest
        sessions[peer]?.sketchRequests = 1
        sessions[peer]?.sketchVersion = itemSetVersion
        return [send(.sketchRequest(start: 0, count: UInt64(Self.firstSketchRequest), setSize: UInt64(set.count)), to: peer, now: now)]
    }

    /// The least a first answer holds for a difference of `d` in set sizes: ⌈1.5 d⌉ + ⌈3 √d⌉ +
    /// 16, so that a node that was away (it lacks what it missed) decodes from one answer. About
    /// 1.35 symbols per difference are needed for thousands, 1.5–1.8 for tens or hundreds, with
    /// a spread that grows like √d. `d` comes from the peer: taken at most 2^18.
    static func firstAnswer(sizeDifference: UInt64) -> Int {
        let d = Int(min(sizeDifference, UInt64(maximumSketchSymbols)))
        var root = Int(Double(d).squareRoot())
        while root * root < d { root += 1 }
        return d + (d + 1) / 2 + 3 * root + 16
    }

    /// Answers a request with the symbols asked for, and a first request with at least
    /// ``firstAnswer(sizeDifference:)`` symbols.
    func answerSketch(start: UInt64, count: UInt64, setSize: UInt64, to peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let set = currentItems(now: now) else { return [] }
        let began = ContinuousClock.now
        defer { statistics.sketchWork += ContinuousClock.now - began }
        guard start < UInt64(Self.maximumSketchSymbols) else {
            return [.close(peer, .protocolViolation, "coded symbols asked from index \(start)", backOff: true)]
        }
        var wanted = count
        if start == 0 {
            let own = UInt64(set.count)
            let difference = setSize > own ? setSize - own : own - setSize
            wanted = max(wanted, UInt64(Self.firstAnswer(sizeDifference: difference)))
        }
        // Never more than the budget a round may take against this set (a short request must not
        // buy a long answer), nor than the asker's own, which its set size gives.
        let askers = setSize > UInt64(Self.maximumSketchSymbols) ? UInt64(Self.maximumSketchSymbols) : 4 * setSize + 4096
        let budget = min(UInt64(min(Self.maximumSketchSymbols, 4 * set.count + 4096)), askers)
        // Past it: an empty answer, which tells the asker to go on by ranges.
        guard start < budget else { return [send(.sketchSymbols(start: start, end: start, symbols: []), to: peer, now: now)] }
        let end = Int(start) + Int(min(wanted, budget - start))
        let symbols = sketchSymbols(set: set, upTo: end)[Int(start)..<end]
        var out: [SyncOutput] = []
        for chunk in stride(from: symbols.startIndex, to: symbols.endIndex, by: SyncProtocol.maximumSymbolsPerMessage) {
            let last = min(chunk + SyncProtocol.maximumSymbolsPerMessage, symbols.endIndex)
            out.append(send(.sketchSymbols(start: UInt64(chunk), end: UInt64(end), symbols: Array(symbols[chunk..<last])), to: peer, now: now))
        }
        return out
    }

    /// Decodes the peer's symbols; once the difference is known, asks for what this side lacks
    /// and sends what the peer lacks. Symbols that no set gives close the session; a difference
    /// too large for the symbols allowed falls back to ranges.
    func receiveSketch(_ symbols: [CodedSymbol], start: UInt64, answerEnd: UInt64, from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard var decoder = sessions[peer]?.sketch else {
            // The rest of an answer whose first symbols were enough (or that was given up for
            // ranges) is expected; anything else was never asked for.
            let (end, overflow) = start.addingReportingOverflow(UInt64(symbols.count))
            if !overflow, end <= UInt64(sessions[peer]?.sketchRequested ?? 0) { return [] }
            return [.close(peer, .protocolViolation, "coded symbols that were not asked for", backOff: true)]
        }
        guard let set = currentItems(now: now) else { return [] }
        let began = ContinuousClock.now
        defer { statistics.sketchWork += ContinuousClock.now - began }
        let end = Int(clamping: start) &+ symbols.count
        guard start == UInt64(decoder.received), answerEnd <= UInt64(Self.maximumSketchSymbols), end <= Int(answerEnd) else {
            return [.close(peer, .protocolViolation, "coded symbols out of order", backOff: true)]
        }
        // An answer longer than this side's budget (a peer that does not cap it by the asker's
        // set size): ranges do better; the rest of the answer is let through unread.
        guard answerEnd <= UInt64(decoder.maximumSymbols) else {
            sessions[peer]?.sketchRequested = Int(answerEnd)
            return startRanges(peer, set: set, now: now)
        }
        // The answer may hold more than was asked: wait for all of it before asking again.
        let requested = max(sessions[peer]?.sketchRequested ?? 0, Int(answerEnd))
        sessions[peer]?.sketchRequested = requested
        let own = sketchSymbols(set: set, upTo: end)
        let done: Bool
        do throws(SketchError) {
            done = try decoder.receive(symbols, startingAt: Int(start), local: own[Int(start)..<end])
        } catch .tooManySymbols {
            return startRanges(peer, set: set, now: now)
        } catch {
            // One answer comes from one version of the peer's set, but answers to two requests
            // may not, and this side's set may have changed during the round: only a first
            // answer decoded against the set the round began with is held against the peer.
            if sessions[peer]?.sketchRequests ?? 0 > 1 || sessions[peer]?.sketchVersion != itemSetVersion {
                return startRanges(peer, set: set, now: now)
            }
            return [.close(peer, .protocolViolation, error.description, backOff: true)]
        }
        guard done else {
            sessions[peer]?.sketch = decoder
            // Wait for the whole answer; one that ends short of what was asked means the peer
            // reached its symbol budget: go on by ranges.
            guard decoder.received >= Int(answerEnd) else { return [] }
            guard Int(answerEnd) >= sessions[peer]?.sketchAsked ?? 0 else { return startRanges(peer, set: set, now: now) }
            // Not enough: ask for as many again.
            let more = min(decoder.received, decoder.maximumSymbols - decoder.received)
            guard more > 0 else { return startRanges(peer, set: set, now: now) }
            sessions[peer]?.sketchRequested = decoder.received + more
            sessions[peer]?.sketchAsked = decoder.received + more
            sessions[peer]?.sketchRequests += 1
            return [send(.sketchRequest(start: UInt64(decoder.received), count: UInt64(more), setSize: UInt64(set.count)), to: peer, now: now)]
        }
        sessions[peer]?.sketch = nil
        sessions[peer]?.reconciling = false
        sessions[peer]?.lastReconciled = now
        statistics.sketchSymbolsDecoded += decoder.received
        return push(decoder.localOnly, to: peer, now: now) + request(decoder.remoteOnly, from: peer, now: now)
    }

    /// The coded symbols of `set`, at least `count` of them, from the encoder made at the first
    /// sketch round and kept up to date with the set's changes since. The encoder is taken out
    /// of the cache while it changes, so that it is never copied (100,000 items would be).
    func sketchSymbols(set: SyncItemSet, upTo count: Int) -> [CodedSymbol] {
        var encoder: SketchEncoder
        var previous: SyncItemSet?
        if let cache = sketchCache {
            encoder = cache.encoder
            previous = cache.set
        } else {
            encoder = SketchEncoder(set.items.map { SketchItem($0.id, crypto: crypto) })
        }
        sketchCache = nil
        if let previous, previous.items.count != set.items.count || previous.items != set.items {
            let (added, removed) = set.changes(from: previous)
            for item in removed { encoder.remove(item.id) }
            for item in added { encoder.insert(SketchItem(item.id, crypto: crypto)) }
        }
        encoder.extend(to: count)
        let symbols = encoder.symbols
        sketchCache = (set, encoder)
        return symbols
    }
}

extension SyncItemSet {
    /// What `self` has that `old` lacks, and the reverse, by one walk of both sorted lists.
    public func changes(from old: SyncItemSet) -> (added: [SyncItem], removed: [SyncItem]) {
        var added: [SyncItem] = [], removed: [SyncItem] = []
        var i = 0, j = 0
        while i < items.count || j < old.items.count {
            if j == old.items.count || (i < items.count && items[i] < old.items[j]) {
                added.append(items[i]); i += 1
            } else if i == items.count || old.items[j] < items[i] {
                removed.append(old.items[j]); j += 1
            } else {
                i += 1; j += 1
            }
        }
        return (added, removed)
    }
}
