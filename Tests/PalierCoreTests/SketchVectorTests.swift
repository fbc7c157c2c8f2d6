import Foundation
@testable import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// The sketch test vector of docs/protocol.md §9.2: two small sets, their first coded symbols
/// in hex as `sketchSymbols` carries them, and the difference decoded from them.
@Suite struct SketchVectorTests {
    static let crypto = SodiumCrypto()
    /// Item n's id: BLAKE2b-256 of the single byte n.
    static func id(_ n: UInt8) -> EnvelopeID { EnvelopeID(bytes: BLAKE2b.hash256([n]))! }
    /// Set A holds items 0…5, set B items 0…3 and 9.
    static let a = (0...5).map { id(UInt8($0)) }
    static let b = (0...3).map { id(UInt8($0)) } + [id(9)]
    static let symbolCount = 6

    /// One symbol as `sketchSymbols` writes it: sum, checksum (u64), count (varint).
    static func hex(_ symbol: CodedSymbol) -> String {
        var bytes = symbol.sumBytes
        bytes += (0..<8).map { UInt8(truncatingIfNeeded: symbol.checksum >> (56 - 8 * UInt64($0))) }
        var count = UInt64(bitPattern: symbol.count)
        while count >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: count) | 0x80); count >>= 7 }
        bytes.append(UInt8(count))
        return hexString(bytes)
    }

    static func symbols(_ ids: [EnvelopeID]) -> [CodedSymbol] {
        SketchEncoder(ids.map { SketchItem($0, crypto: crypto) }, prefix: symbolCount).symbols
    }

    /// The lines of the ```sketch block of the document.
    static func published() throws -> [String] {
        let text = try String(contentsOf: packageRoot.appendingPathComponent("docs/protocol.md"), encoding: .utf8)
        guard let block = text.components(separatedBy: "```sketch\n").dropFirst().first else { return [] }
        return block.components(separatedBy: "```")[0].split(separator: "\n").map(String.init)
    }

    @Test("the published symbols, index sequences and decoded difference are palier's")
    func vector() throws {
        var lines: [String] = []
        for (name, ids) in [("A", Self.a), ("B", Self.b)] {
            for (index, symbol) in Self.symbols(ids).enumerated() { lines.append("\(name)\(index): \(Self.hex(symbol))") }
        }
        for n: UInt8 in [0, 4, 9] {
            var indices = SketchItem(Self.id(n), crypto: Self.crypto).indices
            let first = (0..<6).compactMap { _ in indices.next() }
            lines.append("indices of item \(n): \(first.map(String.init).joined(separator: " "))")
        }
        var decoder = SketchDecoder(crypto: Self.crypto, maximumSymbols: 100)
        let done = try decoder.receive(Self.symbols(Self.a), startingAt: 0, local: Self.symbols(Self.b)[...])
        #expect(done)
        #expect(Set(decoder.remoteOnly) == [Self.id(4), Self.id(5)] && decoder.localOnly == [Self.id(9)])
        lines.append("B decodes A's symbols: A only \(decoder.remoteOnly.map(\.hex).sorted().joined(separator: " ")); B only \(decoder.localOnly.map(\.hex).joined(separator: " "))")
        let published = try Self.published()
        #expect(published == lines, "the ```sketch block of docs/protocol.md should read:\n\(lines.joined(separator: "\n"))")
    }
}
