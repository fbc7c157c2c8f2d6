/// The coded symbols 0..<``count`` of one set, kept up to date as items come and go, and
/// extended on demand: a session reads the prefix it needs and never encodes the set again.
///
/// Each item's index sequence is walked once: the indices inside the prefix are applied when
/// the item is added, and the item then waits in `pending` under its first index past the
/// prefix, to be applied when the prefix grows that far. Adding or removing an item costs its
/// indices inside the prefix (about 2 ln(count) of them); growing the prefix by one symbol
/// costs the items that map to it (about 2n/(count + 2)).
public struct SketchEncoder: Sendable {
    public private(set) var symbols: [CodedSymbol] = []
    /// Every item of the set with its walk along its index sequence, in slots that removed
    /// items leave free for the next ones (the hot loop of `extend` indexes an array, not a
    /// dictionary of ids).
    private var walks: [Walk?] = []
    private var slots: [EnvelopeID: Int32] = [:]
    private var freeSlots: [Int32] = []
    /// Slots of the items waiting for the prefix to reach their next index, by that index.
    private var pending: [UInt64: [Int32]] = [:]

    struct Walk: Sendable {
        let item: SketchItem
        let words: SIMD4<UInt64>
        /// Positioned at the item's first index past the prefix.
        var indices: SketchIndices
    }

    public init() {}

    public init(_ items: some Sequence<SketchItem>, prefix: Int = 0) {
        extend(to: prefix)
        for item in items { insert(item) }
    }

    /// The number of items in the set.
    public var itemCount: Int { slots.count }
    public var count: Int { symbols.count }

    public func contains(_ id: EnvelopeID) -> Bool { slots[id] != nil }

    /// Adds an item (an id already in the set is left as it is).
    public mutating func insert(_ item: SketchItem) {
        guard slots[item.id] == nil else { return }
        var walk = Walk(item: item, words: CodedSymbol.words(item.id), indices: item.indices)
        while let index = walk.indices.upcoming, index < UInt64(symbols.count) {
            symbols[Int(index)].apply(item, words: walk.words, direction: 1)
            _ = walk.indices.next()
        }
        let slot: Int32
        if let free = freeSlots.popLast() {
            slot = free
            walks[Int(slot)] = walk
        } else {
            slot = Int32(walks.count)
            walks.append(walk)
        }
        slots[item.id] = slot
        if let next = walk.indices.upcoming { pending[next, default: []].append(slot) }
    }

    /// Takes an item out of the set (an id not in it is ignored).
    public mutating func remove(_ id: EnvelopeID) {
        guard let slot = slots.removeValue(forKey: id), let walk = walks[Int(slot)] else { return }
        if let next = walk.indices.upcoming, var waiting = pending[next], let position = waiting.firstIndex(of: slot) {
            waiting.remove(at: position)
            pending[next] = waiting.isEmpty ? nil : waiting
        }
        var indices = walk.item.indices
        while let index = indices.upcoming, index < UInt64(symbols.count) {
            symbols[Int(index)].apply(walk.item, words: walk.words, direction: -1)
            _ = indices.next()
        }
        walks[Int(slot)] = nil
        freeSlots.append(slot)
    }

    /// Grows the prefix to `count` symbols (at most ``Sketch/indexLimit``).
    public mutating func extend(to count: Int) {
        let count = min(count, Int(Sketch.indexLimit))
        symbols.reserveCapacity(count)
        while symbols.count < count {
            let index = UInt64(symbols.count)
            var symbol = CodedSymbol.empty
            for slot in pending.removeValue(forKey: index) ?? [] {
                guard var walk = walks[Int(slot)] else { continue }
                symbol.apply(walk.item, words: walk.words, direction: 1)
                _ = walk.indices.next()
                walks[Int(slot)] = walk
                if let next = walk.indices.upcoming { pending[next, default: []].append(slot) }
            }
            symbols.append(symbol)
        }
    }
}
