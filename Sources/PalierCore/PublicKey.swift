/// An Ed25519 public key: a building (node) key, or a person's or organisation's key.
///
/// Its text form (``text``) is meant to be read aloud and compared by people: 56 characters of
/// RFC 4648 base32 (lower case) in 14 groups of 4, encoding the 32 key bytes followed by a
/// 3-byte CRC-24 check, so that a typo is caught instead of naming another key.
public struct PublicKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Length of an Ed25519 public key in bytes.
    public static let byteCount = 32

    /// The 32 key bytes.
    public let bytes: [UInt8]

    /// Wraps 32 key bytes; nil for any other length.
    public init?(bytes: [UInt8]) {
        guard bytes.count == Self.byteCount else { return nil }
        self.bytes = bytes
    }

    /// Parses the text form, ignoring case, spaces and dashes.
    public init(text: String) throws(KeyTextError) {
        self.bytes = try KeyText.decode(text)
    }

    /// The human-comparable text form, e.g. `mfrg-gzdf-…` (14 groups).
    public var text: String { KeyText.encode(bytes) }

    /// The first two groups of the text form: enough to tell keys apart on a screen.
    public var shortText: String { String(text.prefix(9)) }

    public var hex: String { hexString(bytes) }

    public func hash(into hasher: inout Hasher) {
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    public var description: String { text }

    public static func < (lhs: PublicKey, rhs: PublicKey) -> Bool {
        lhs.bytes.lexicographicallyPrecedes(rhs.bytes)
    }
}

/// Why a key's text form could not be read.
public struct KeyTextError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case badCharacter(Character)
        case badLength(Int)
        case checksum
        case badAddress(String)
    }
    private let code: Code

    /// An invite's onion address that is not a v3 onion address with a port.
    public static func badAddress(_ text: String) -> Self { Self(code: .badAddress(text)) }

    /// A character outside the base32 alphabet.
    public static func badCharacter(_ c: Character) -> Self { Self(code: .badCharacter(c)) }
    /// Not 56 base32 characters once spaces and dashes are removed.
    public static func badLength(_ n: Int) -> Self { Self(code: .badLength(n)) }
    /// The check characters do not match: most likely a typo.
    public static let checksum = Self(code: .checksum)

    public var description: String {
        switch code {
        case .badCharacter(let c): "'\(c)' is not a letter of a palier key (a–z, 2–7)"
        case .badLength(let n): "a palier key has 56 letters and digits, this one has \(n)"
        case .checksum: "the key's check letters do not match: it was probably mistyped"
        case .badAddress(let text): "“\(text.prefix(80))” is not an onion address with a port (<56 letters and digits>.onion:<port>)"
        }
    }
}

enum KeyText {
    static let textLength = 56

    static func encode(_ key: [UInt8]) -> String {
        // 35 bytes = 280 bits = exactly 56 characters: no padding.
        encodeChecked(key)
    }

    /// Any bytes and their CRC-24, in base32 (the last character padded with zero bits), in
    /// groups of four: the text form of keys, invites and enrolment codes.
    static func encodeChecked(_ payload: [UInt8]) -> String {
        let crc = crc24(payload)
        let chars = Array(Base32.encode(payload + [UInt8(crc >> 16 & 0xff), UInt8(crc >> 8 & 0xff), UInt8(crc & 0xff)]).utf8)
        var grouped = [UInt8]()
        for (index, c) in chars.enumerated() {
            if index > 0 && index % 4 == 0 { grouped.append(UInt8(ascii: "-")) }
            grouped.append(c)
        }
        return String(decoding: grouped, as: UTF8.self)
    }

    static func decode(_ text: String) throws(KeyTextError) -> [UInt8] {
        let key = try decodeChecked(text, maximumCharacters: textLength)
        guard key.count == 32 else { throw .badLength(text.filter { $0 != "-" && !$0.isWhitespace }.count) }
        return key
    }

    /// What ``encodeChecked(_:)`` wrote: the payload, its CRC checked. Reads at most
    /// `maximumCharacters` characters (hostile text is not decoded past it).
    static func decodeChecked(_ text: String, maximumCharacters: Int) throws(KeyTextError) -> [UInt8] {
        var values = [UInt8]()
        for c in text {
            if c == "-" || c == " " || c == "\t" { continue }
            guard let value = value(of: c) else { throw .badCharacter(c) }
            values.append(value)
            guard values.count <= maximumCharacters else { throw .badLength(values.count) }
        }
        // At least the CRC; leftover bits (under 5) are the padding of the last character.
        guard values.count * 5 / 8 >= 3, values.count * 5 % 8 < 5 else { throw .badLength(values.count) }
        guard let data = Base32.bytes(fromValues: values) else { throw .checksum }
        let payload = Array(data[0..<(data.count - 3)])
        let crc = crc24(payload)
        let n = payload.count
        guard data[n] == UInt8(crc >> 16 & 0xff), data[n + 1] == UInt8(crc >> 8 & 0xff), data[n + 2] == UInt8(crc & 0xff) else {
            throw .checksum
        }
        return payload
    }

    private static func value(of c: Character) -> UInt8? {
        guard let ascii = c.asciiValue else { return nil }
        return Base32.value(of: ascii)
    }

    /// CRC-24 as in OpenPGP (RFC 4880 §6.1): init 0xB704CE, polynomial 0x864CFB.
    static func crc24(_ data: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xB704CE
        for byte in data {
            crc ^= UInt32(byte) << 16
            for _ in 0..<8 {
                crc <<= 1
                if crc & 0x1000000 != 0 { crc ^= 0x864CFB }
            }
        }
        return crc & 0xFFFFFF
    }
}
