import PalierCore

/// A building key on paper (docs/protocol.md §16): its 32-byte seed and one check byte as 24
/// words of ``PaperKeyWords`` (11 bits each, 264 bits). The check byte is the first byte of
/// BLAKE2b-256("palier-paper-key-v1" ‖ seed): a word typed wrong in a way the list does not
/// catch is caught by it, but for one in 256.
public enum PaperKey {
    public static let wordCount = 24
    static let context = Array("palier-paper-key-v1".utf8)

    /// The 24 words of `key`'s seed.
    public static func words(_ key: SigningKey) -> [String] {
        let bytes = key.seed + [checkByte(key.seed)]
        var words: [String] = []
        var accumulator = 0, bits = 0
        for byte in bytes {
            accumulator = (accumulator << 8) | Int(byte)
            bits += 8
            while bits >= 11 {
                bits -= 11
                words.append(PaperKeyWords.list[(accumulator >> bits) & 0x7FF])
                accumulator &= (1 << bits) - 1
            }
        }
        return words
    }

    /// The key the words give back. Case, accents, spaces, dashes, numbering ("1." "12)")
    /// and lines do not matter; a word may be cut to its first four letters.
    public static func key(from text: String) throws(PaperKeyError) -> SigningKey {
        let typed = String(String.UnicodeScalarView(text.lowercased().unicodeScalars.map(unaccented)))
            .split(whereSeparator: { !$0.isLetter })
            .map(String.init)
        guard typed.count == wordCount else { throw .wordCount(typed.count) }
        var indices: [Int] = []
        for (position, word) in typed.enumerated() {
            guard let index = index(of: word) else { throw .unknownWord(position + 1, word) }
            indices.append(index)
        }
        var bytes: [UInt8] = []
        var accumulator = 0, bits = 0
        for index in indices {
            accumulator = (accumulator << 11) | index
            bits += 11
            while bits >= 8 {
                bits -= 8
                bytes.append(UInt8((accumulator >> bits) & 0xFF))
                accumulator &= (1 << bits) - 1
            }
        }
        let seed = Array(bytes.prefix(32))
        guard bytes.count == 33, bytes[32] == checkByte(seed), let key = SigningKey(seed: seed) else { throw .checkFailed }
        return key
    }

    /// A word's place in the list: the whole word, or its first four letters (or more).
    static func index(of word: String) -> Int? {
        guard word.count >= 4 else { return nil }
        let prefix = String(word.prefix(4))
        guard let index = prefixIndex[prefix] else { return nil }
        return PaperKeyWords.list[index].hasPrefix(word) || word == PaperKeyWords.list[index] ? index : nil
    }

    static let prefixIndex: [String: Int] = {
        var table: [String: Int] = [:]
        for (index, word) in PaperKeyWords.list.enumerated() { table[String(word.prefix(4))] = index }
        return table
    }()

    /// The letter under a French accent (the list has none; a keyboard may add them).
    static func unaccented(_ scalar: Unicode.Scalar) -> Unicode.Scalar {
        switch scalar {
        case "à", "â", "ä": "a"
        case "é", "è", "ê", "ë": "e"
        case "î", "ï": "i"
        case "ô", "ö": "o"
        case "ù", "û", "ü": "u"
        case "ç": "c"
        case "ÿ": "y"
        default: scalar
        }
    }

    static func checkByte(_ seed: [UInt8]) -> UInt8 {
        BLAKE2b.hash256(context + seed)[0]
    }
}

public enum PaperKeyError: Error, Equatable, Sendable, CustomStringConvertible {
    case wordCount(Int)
    case unknownWord(Int, String)
    case checkFailed

    public var description: String {
        switch self {
        case .wordCount(let count): L("a paper key has 24 words, and \(count) were given", "une clé sur papier a 24 mots, et \(count) ont été donnés")
        case .unknownWord(let position, let word): L("word \(position), “\(word)”, is not one of the paper key's words (check its spelling)", "le mot \(position), « \(word) », n'est pas un des mots des clés sur papier (vérifiez son orthographe)")
        case .checkFailed: L("the words do not check out: one of them is wrong or two are swapped", "les mots ne se vérifient pas : l'un d'eux est faux ou deux sont inversés")
        }
    }
}
