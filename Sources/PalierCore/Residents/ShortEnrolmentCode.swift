/// The short form of an enrolment code, to type: 12 characters such as `K7QM-2XPA-9RTD`
/// (docs/protocol.md §15.8). It carries no building key and no address: the resident's client
/// finds the node (an address given with `--address`, else the buildings nearby over mDNS) and
/// both sides prove the code to each other with a PAKE (CPace), which lets a wrong guess learn
/// nothing beyond "wrong". So 36 bits of secret, tried 5 times at most, are enough.
///
/// Bits, most significant first: short id (16) ‖ secret (36) ‖ check (8) = 60 bits, written
/// as 12 digits of Crockford's base32 (`0-9 A-Z` without `I L O U`). The check is the CRC-8
/// (polynomial 0x07, initial value 0) of the first 52 bits as 7 bytes big-endian (4 zero bits
/// at the front): it catches every mistyped character and most swaps of two.
public struct ShortEnrolmentCode: Hashable, Sendable {
    public static let characterCount = 12
    public static let secretBits = 36
    public static let secretLimit: UInt64 = 1 << 36
    /// Crockford's base32 digits, in order.
    public static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ")

    /// Names the code among the node's open codes; not secret.
    public var shortID: UInt16
    /// The low 36 bits count; the rest must be zero.
    public var secret: UInt64

    public init(shortID: UInt16, secret: UInt64) {
        precondition(secret < Self.secretLimit)
        self.shortID = shortID
        self.secret = secret
    }

    /// The 12 characters without dashes, upper case: the PAKE's password.
    public var canonical: String {
        let data = UInt64(shortID) << 36 | secret
        let value = data << 8 | UInt64(Self.crc8(data))
        return String((0..<Self.characterCount).reversed().map { Self.alphabet[Int(value >> UInt64(5 * $0) & 31)] })
    }

    /// As shown to people: groups of four, `K7QM-2XPA-9RTD`.
    public var text: String {
        let c = Array(canonical)
        return [c[0..<4], c[4..<8], c[8..<12]].map { String($0) }.joined(separator: "-")
    }

    /// The password both sides run the PAKE with.
    public var password: [UInt8] { Array(canonical.utf8) }

    /// Reads a code as typed: case, spaces and dashes do not matter, and `O`, `I`, `L` read as
    /// `0`, `1`, `1` (Crockford's base32).
    public init(text: String) throws(EnrolmentCodeError) {
        let characters = text.uppercased().filter { $0 != "-" && !$0.isWhitespace }
        guard characters.count == Self.characterCount else { throw .notACode }
        var value: UInt64 = 0
        for character in characters {
            let read: Character = switch character {
            case "O": "0"
            case "I", "L": "1"
            default: character
            }
            guard let digit = Self.alphabet.firstIndex(of: read) else { throw .notACode }
            value = value << 5 | UInt64(digit)
        }
        let data = value >> 8
        guard UInt8(truncatingIfNeeded: value) == Self.crc8(data) else { throw .mistyped }
        self.init(shortID: UInt16(truncatingIfNeeded: data >> 36), secret: data & (Self.secretLimit - 1))
    }

    /// CRC-8 (polynomial x⁸ + x² + x + 1, initial value 0, no reflection) of the 52 data bits
    /// as 7 bytes big-endian.
    static func crc8(_ data: UInt64) -> UInt8 {
        var crc: UInt8 = 0
        for shift in stride(from: 48, through: 0, by: -8) {
            crc ^= UInt8(truncatingIfNeeded: data >> UInt64(shift))
            for _ in 0..<8 { crc = crc & 0x80 != 0 ? crc << 1 ^ 0x07 : crc << 1 }
        }
        return crc
    }
}
