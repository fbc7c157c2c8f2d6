/// Why a sync message could not be read. A struct around a private enum of documented cases.
public struct SyncMessageError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case truncated
        case trailingBytes
        case empty
        case malformed(String)
        case tooLarge(String)
    }
    private let code: Code

    public static let truncated = Self(code: .truncated)
    public static let trailingBytes = Self(code: .trailingBytes)
    public static let empty = Self(code: .empty)
    public static func malformed(_ what: String) -> Self { Self(code: .malformed(what)) }
    public static func tooLarge(_ what: String) -> Self { Self(code: .tooLarge(what)) }

    public var description: String {
        switch code {
        case .truncated: "a sync message ends too early"
        case .trailingBytes: "a sync message has bytes after its end"
        case .empty: "an empty sync message"
        case .malformed(let what): "a malformed sync message (\(what))"
        case .tooLarge(let what): "a sync message is over a limit (\(what))"
        }
    }
}

/// Writes the sync protocol's fields: big-endian integers, LEB128 varints, short strings.
struct SyncWriter {
    var bytes: [UInt8] = []

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    /// Unsigned LEB128: 7 bits per byte, least significant group first, high bit = more.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    mutating func string8(_ s: String) {
        let utf8 = Array(s.utf8.prefix(255))
        u8(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what ``SyncWriter`` writes; every read checks the remaining length first, so a hostile
/// count or length can cause an error, never a large allocation.
struct SyncReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    mutating func u8() throws(SyncMessageError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(SyncMessageError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u64() throws(SyncMessageError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    mutating func varint() throws(SyncMessageError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let byte = try u8()
            guard shift < 64, !(shift == 63 && byte > 1) else { throw .malformed("varint over 64 bits") }
            result |= UInt64(byte & 0x7f) << shift
            if byte & 0x80 == 0 { return result }
            shift += 7
        }
    }

    /// A count of items of `itemSize` bytes each, checked against what is left to read.
    mutating func count(itemSize: Int) throws(SyncMessageError) -> Int {
        let count = try varint()
        guard count <= UInt64(remaining / max(itemSize, 1)) else { throw .truncated }
        return Int(count)
    }

    mutating func raw(_ count: Int) throws(SyncMessageError) -> [UInt8] {
        guard count >= 0, remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func string8() throws(SyncMessageError) -> String {
        let length = Int(try u8())
        let raw = try raw(length)
        guard let s = String(validating: raw, as: UTF8.self) else { throw .malformed("text is not UTF-8") }
        return s
    }

    mutating func id() throws(SyncMessageError) -> EnvelopeID {
        EnvelopeID(bytes: try raw(EnvelopeID.byteCount))!
    }
}
