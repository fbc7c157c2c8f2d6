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

extension ByteWriter {
    /// Unsigned LEB128: 7 bits per byte, least significant group first, high bit = more.
    mutating func varint(_ v: UInt64) {
        var v = v
        while v >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: v) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }
}

/// Reads the sync protocol's fields, on top of the envelope codec's ``ByteReader`` (which checks
/// every length against what is left before reading, so that a hostile count or length can cause
/// an error, never a large allocation).
struct SyncReader {
    private var reader: ByteReader

    init(_ bytes: [UInt8]) { reader = ByteReader(bytes) }

    var remaining: Int { reader.remaining }
    var isAtEnd: Bool { reader.remaining == 0 }

    mutating func u8() throws(SyncMessageError) -> UInt8 {
        do { return try reader.u8() } catch { throw .truncated }
    }

    mutating func u16() throws(SyncMessageError) -> UInt16 {
        do { return try reader.u16() } catch { throw .truncated }
    }

    mutating func u64() throws(SyncMessageError) -> UInt64 {
        do { return try reader.u64() } catch { throw .truncated }
    }

    mutating func raw(_ count: Int) throws(SyncMessageError) -> [UInt8] {
        guard count >= 0 else { throw .truncated }
        do { return try reader.raw(count) } catch { throw .truncated }
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
