@testable import PalierCrypto
import PalierCore
import PalierTestSupport
import Testing

/// The building key on paper (protocol.md §16), with vectors computed by an independent Python
/// script (hashlib's BLAKE2b, the list read from PaperKeyWords.swift).
@Suite struct PaperKeyTests {
    static let vectors: [(seed: [UInt8], words: String)] = [
        ((0..<32).map { UInt8($0) },
         "abandon airs liaison airs entier adieu bonus boue amie foule diffuser blessure absolue maladies efficace lire avis probable agricole cloche plier appui java titre"),
        ([UInt8](repeating: 0xFF, count: 32),
         "zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone zone triangle"),
    ]

    @Test("the list: 2,048 words of a to z, 4 to 8 letters, each known by its first four")
    func list() {
        let list = PaperKeyWords.list
        #expect(list.count == 2048)
        #expect(Set(list).count == 2048)
        #expect(Set(list.map { $0.prefix(4) }).count == 2048)
        #expect(list.allSatisfy { (4...8).contains($0.count) && $0.unicodeScalars.allSatisfy { ("a"..."z").contains($0) } })
        #expect(list == list.sorted())
    }

    @Test("known answers, both ways")
    func knownAnswers() throws {
        for vector in Self.vectors {
            let key = try #require(SigningKey(seed: vector.seed))
            #expect(PaperKey.words(key).joined(separator: " ") == vector.words)
            #expect(try PaperKey.key(from: vector.words).seed == vector.seed)
        }
    }

    @Test("random keys come back; four letters, capitals, accents, numbers and lines do not matter")
    func roundTrip() throws {
        var random = SeededRandom(seed: 14)
        for _ in 0..<200 {
            let key = try #require(SigningKey(seed: (0..<32).map { _ in UInt8.random(in: 0...255, using: &random) }))
            let words = PaperKey.words(key)
            #expect(words.count == 24)
            #expect(try PaperKey.key(from: words.joined(separator: " ")).seed == key.seed)
            #expect(try PaperKey.key(from: words.map { String($0.prefix(4)) }.joined(separator: "-")).seed == key.seed)
            let printed = words.enumerated().map { "\($0.offset + 1). \($0.element.uppercased())" }.joined(separator: "\n")
            #expect(try PaperKey.key(from: printed).seed == key.seed)
        }
        let accented = Self.vectors[0].words.replacingOccurrences(of: "entier", with: "ENTIÉR")
        #expect(try PaperKey.key(from: accented).seed == Self.vectors[0].seed)
    }

    @Test("a missing word, an unknown one, a misspelling or two swapped words are refused")
    func refusals() {
        let words = Self.vectors[0].words.split(separator: " ").map(String.init)
        #expect(throws: PaperKeyError.wordCount(23)) { try PaperKey.key(from: words.dropLast().joined(separator: " ")) }
        #expect(throws: PaperKeyError.wordCount(0)) { try PaperKey.key(from: "") }
        #expect(throws: PaperKeyError.wordCount(25)) { try PaperKey.key(from: (words + ["zone"]).joined(separator: " ")) }
        var unknown = words
        unknown[4] = "xylophone"
        #expect(throws: PaperKeyError.unknownWord(5, "xylophone")) { try PaperKey.key(from: unknown.joined(separator: " ")) }
        var short = words
        short[0] = "aba"
        #expect(throws: PaperKeyError.unknownWord(1, "aba")) { try PaperKey.key(from: short.joined(separator: " ")) }
        var misspelt = words
        misspelt[2] = "liaisom"
        #expect(throws: PaperKeyError.unknownWord(3, "liaisom")) { try PaperKey.key(from: misspelt.joined(separator: " ")) }
        var swapped = words
        swapped.swapAt(0, 1)
        #expect(throws: PaperKeyError.checkFailed) { try PaperKey.key(from: swapped.joined(separator: " ")) }
        // One word replaced by another of the list: the check byte catches all but about 1 in 256.
        var passed = 0
        for replacement in PaperKeyWords.list where replacement != words[10] {
            var changed = words
            changed[10] = replacement
            if (try? PaperKey.key(from: changed.joined(separator: " "))) != nil { passed += 1 }
        }
        #expect(passed < 2047 / 100, "\(passed) substitutions went unnoticed")
    }
}
