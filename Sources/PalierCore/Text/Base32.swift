/// RFC 4648 base32 without padding, lower case (`a–z`, `2–7`): the alphabet of palier's key text
/// and of onion addresses.
public enum Base32 {
    static let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567".utf8)

    /// `bytes` in base32; the last character is padded with zero bits.
    public static func encode(_ bytes: [UInt8]) -> String {
        var chars = [UInt8]()
        chars.reserveCapacity((bytes.count * 8 + 4) / 5)
        var buffer: UInt32 = 0
        var bits = 0
        for byte in bytes {
            buffer = buffer << 8 | UInt32(byte)
            bits += 8
            while bits >= 5 {
                chars.append(alphabet[Int(buffer >> UInt32(bits - 5) & 31)])
                bits -= 5
            }
            buffer &= (1 << UInt32(bits)) - 1
        }
        if bits > 0 { chars.append(alphabet[Int(buffer << UInt32(5 - bits) & 31)]) }
        return String(decoding: chars, as: UTF8.self)
    }

    /// Reads what ``encode(_:)`` wrote (either case); nil for a character outside the alphabet,
    /// a length no byte count gives, or padding bits that are not zero.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var values = [UInt8]()
        values.reserveCapacity(text.utf8.count)
        for c in text.utf8 {
            guard let value = value(of: c) else { return nil }
            values.append(value)
        }
        guard values.count * 5 % 8 < 5 else { return nil }
        return bytes(fromValues: values)
    }

    /// The 5-bit value of an ASCII character of the alphabet, in either case.
    static func value(of c: UInt8) -> UInt8? {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"): c - UInt8(ascii: "a")
        case UInt8(ascii: "A")...UInt8(ascii: "Z"): c - UInt8(ascii: "A")
        case UInt8(ascii: "2")...UInt8(ascii: "7"): c - UInt8(ascii: "2") + 26
        default: nil
        }
    }

    /// 5-bit values (0–31) to bytes; nil when the leftover padding bits are not zero.
    static func bytes(fromValues values: [UInt8]) -> [UInt8]? {
        var data = [UInt8]()
        data.reserveCapacity(values.count * 5 / 8)
        var buffer: UInt32 = 0
        var bits = 0
        for v in values {
            buffer = buffer << 5 | UInt32(v & 31)
            bits += 5
            if bits >= 8 {
                data.append(UInt8(buffer >> UInt32(bits - 8) & 0xff))
                bits -= 8
                buffer &= (1 << UInt32(bits)) - 1
            }
        }
        return buffer == 0 ? data : nil
    }
}
