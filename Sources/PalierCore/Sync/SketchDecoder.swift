/// Why a peer's coded symbols were refused.
public enum SketchError: Error, Hashable, Sendable, CustomStringConvertible {
    /// More symbols than this side accepts for one reconciliation.
    case tooManySymbols(Int)
    /// The symbols cannot come from any set: an id decoded twice, or a decoded prefix whose
    /// later symbols are not empty.
    case inconsistent(String)
    /// The peer's symbols do not start where this side expects them, or this side's own are missing.
    case outOfOrder(expected: Int, got: Int)

    public var description: String {
        switch self {
        case .tooManySymbols(let n): "\(n) coded symbols, more than one reconciliation may take"
        case .inconsistent(let why): "coded symbols that no set gives (\(why))"
        case .outOfOrder(let expected, let got): "coded symbols from index \(got), expected \(expected)"
        }
    }
}

/// Takes apart the difference between a peer's coded symbols and this side's own, as the
/// peer's symbols arrive in order (a peeling decoder). The ids found are those only the peer
/// holds (ask for them) and those only this side holds (send them).
///
/// Every id maps to symbol 0, so the difference is known in full once symbol 0, and with it
/// every symbol received, is empty. Hostile symbols cannot make it run away: it takes at most
/// `maximumSymbols`, every decoded id costs one walk of its indices, an id decoded twice or
/// a decoded symbol 0 beside symbols that are not empty is refused.
public struct SketchDecoder: Sendable {
    /// Ids the peer holds and this side lacks.
    public private(set) var remoteOnly: [EnvelopeID] = []
    /// Ids this side holds and the peer lacks.
    public private(set) var localOnly: [EnvelopeID] = []
    public let maximumSymbols: Int
    let crypto: any CryptoProvider

    /// The peer's symbols minus this side's, minus every id decoded so far.
    private var cells: [CodedSymbol] = []
    /// Decoded ids waiting for the next symbol they map to, by its index.
    private var pending: [UInt64: [Decoded]] = [:]
    private var decoded: Set<EnvelopeID> = []

    struct Decoded: Sendable {
        let item: SketchItem
        let words: SIMD4<UInt64>
        /// What taking the id out of a cell adds to its count: −1 for the peer's, +1 for ours.
        let direction: Int64
        var indices: SketchIndices
    }

    public init(crypto: any CryptoProvider, maximumSymbols: Int) {
        self.crypto = crypto
        self.maximumSymbols = maximumSymbols
    }

    /// Symbols received so far: the next batch starts at this index.
    public var received: Int { cells.count }

    /// True once the whole difference is known.
    public var isDone: Bool { !cells.isEmpty && cells[0].isEmpty }

    /// Takes the peer's symbols `remote`, which start at index ``received``, against this
    /// side's symbols at the same indices (`local`, as many). Returns ``isDone``.
    public mutating func receive(_ remote: [CodedSymbol], startingAt start: Int, local: ArraySlice<CodedSymbol>) throws(SketchError) -> Bool {
        guard start == cells.count else { throw .outOfOrder(expected: cells.count, got: start) }
        guard remote.count <= maximumSymbols - cells.count else { throw .tooManySymbols(cells.count + remote.count) }
        guard local.count == remote.count else { throw .outOfOrder(expected: start + remote.count, got: start + local.count) }
        var queue: [Int] = []
        for (offset, symbol) in remote.enumerated() {
            let index = UInt64(cells.count)
            var cell = symbol.subtracting(local[local.startIndex + offset])
            for var id in pending.removeValue(forKey: index) ?? [] {
                cell.apply(id.item, words: id.words, direction: id.direction)
                _ = id.indices.next()
                park(id)
            }
            cells.append(cell)
            if pureItem(cell) != nil { queue.append(Int(index)) }
        }
        while let index = queue.popLast() {
            guard let item = pureItem(cells[index]) else { continue }
            guard decoded.insert(item.id).inserted else { throw .inconsistent("an id decoded twice") }
            let remoteHolds = cells[index].count == 1
            if remoteHolds { remoteOnly.append(item.id) } else { localOnly.append(item.id) }
            var id = Decoded(item: item, words: CodedSymbol.words(item.id), direction: remoteHolds ? -1 : 1, indices: item.indices)
            while let next = id.indices.upcoming, next < UInt64(cells.count) {
                cells[Int(next)].apply(item, words: id.words, direction: id.direction)
                if pureItem(cells[Int(next)]) != nil { queue.append(Int(next)) }
                _ = id.indices.next()
            }
            park(id)
        }
        if isDone, let busy = cells.firstIndex(where: { !$0.isEmpty }) {
            throw .inconsistent("symbol 0 is empty but symbol \(busy) is not")
        }
        return isDone
    }

    /// The item a cell holds alone, if it holds exactly one: count ±1 and the checksum of its sum.
    private func pureItem(_ cell: CodedSymbol) -> SketchItem? {
        guard cell.count == 1 || cell.count == -1, let id = EnvelopeID(bytes: cell.sumBytes) else { return nil }
        let item = SketchItem(id, crypto: crypto)
        return item.checksum == cell.checksum ? item : nil
    }

    private mutating func park(_ id: Decoded) {
        if let next = id.indices.upcoming { pending[next, default: []].append(id) }
    }
}
