import FuzzSupport
import PalierCore
import PalierCrypto

/// The rateless IBLT decoder against a fixed set of 300 ids, fed a peer's coded symbols: the
/// input's first byte sets the batch size, then 48 bytes a symbol (32 sum, 8 checksum, 8
/// count, little-endian). Any symbols decode, stay undecided or are refused with a
/// `SketchError` within `maximumSymbols`; a finished decoding leaves every symbol empty.
let crypto = SodiumCrypto()
let local = SketchEncoder((0..<300).map { n in SketchItem(EnvelopeID(bytes: crypto.blake2b256([UInt8(n & 0xff), UInt8(n >> 8)]))!, crypto: crypto) }, prefix: 1400)

@main enum Target { static func main() { runFuzzer { data, size in fuzz(data, size) } } }

func fuzz(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let input = bytes(data, size)
    guard let first = input.first else { return 0 }
    let batch = Int(first % 32) + 1
    func word(_ at: Int) -> UInt64 { (0..<8).reduce(UInt64(0)) { $0 | UInt64(input[at + $1]) << (8 * UInt64($1)) } }
    var symbols: [CodedSymbol] = []
    var offset = 1
    while offset + 48 <= input.count {
        symbols.append(CodedSymbol(sum: SIMD4(word(offset), word(offset + 8), word(offset + 16), word(offset + 24)),
                                   checksum: word(offset + 32), count: Int64(bitPattern: word(offset + 40))))
        offset += 48
    }
    var decoder = SketchDecoder(crypto: crypto, maximumSymbols: 1400)
    var start = 0
    while start < symbols.count {
        let end = min(start + batch, symbols.count)
        do {
            if try decoder.receive(Array(symbols[start..<end]), startingAt: start, local: local.symbols[start..<end]) { break }
        } catch {
            return 0
        }
        start = end
    }
    invariant(decoder.remoteOnly.count + decoder.localOnly.count <= decoder.received * 64, "more ids than symbols can hold")
    return 0
}
