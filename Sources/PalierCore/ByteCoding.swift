/// Appends big-endian integers and length-prefixed strings to a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    init(capacity: Int = 256) { bytes.reserveCapacity(capacity) }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func u16(_ v: UInt16) { bytes.append(UInt8(v >> 8)); bytes.append(UInt8(v & 0xff)) }
    mutating func u64(_ v: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }
    mutating func u32(_ v: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }
    mutating func i32(_ v: Int32) {
        let u = UInt32(bitPattern: v)
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: u >> UInt32(shift))) }
    }
    mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }
    /// A string behind a 16-bit length; callers have checked the length fits.
    mutating func string16(_ s: String) {
        let utf8 = Array(s.utf8)
        u16(UInt16(clamping: utf8.count))
        bytes.append(contentsOf: utf8.prefix(Int(UInt16.max)))
    }
    mutating func string8(_ s: String) {
        let utf8 = Array(s.utf8)
        u8(UInt8(clamping: utf8.count))
        bytes.append(contentsOf: utf8.prefix(Int(UInt8.max)))
    }
}

/// Reads what ``ByteWriter`` writes, never past the end: every read checks the remaining length
/// first, so a hostile length prefix can only cause a `truncated` error, never an allocation.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int = 0) {
        self.bytes = bytes
        self.offset = offset
    }

    var remaining: Int { bytes.count - offset }

    mutating func u8() throws(EnvelopeError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func u16() throws(EnvelopeError) -> UInt16 {
        guard remaining >= 2 else { throw .truncated }
        defer { offset += 2 }
        return UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    mutating func u32() throws(EnvelopeError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        defer { offset += 4 }
        return bytes[offset..<offset + 4].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
    }

    mutating func u64() throws(EnvelopeError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[offset + i]) }
        offset += 8
        return v
    }

    mutating func i32() throws(EnvelopeError) -> Int32 {
        guard remaining >= 4 else { throw .truncated }
        var v: UInt32 = 0
        for i in 0..<4 { v = v << 8 | UInt32(bytes[offset + i]) }
        offset += 4
        return Int32(bitPattern: v)
    }

    mutating func raw(_ count: Int) throws(EnvelopeError) -> [UInt8] {
        guard remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    mutating func string16(_ field: String) throws(EnvelopeError) -> String {
        let length = Int(try u16())
        return try utf8(length, field)
    }

    mutating func string8(_ field: String) throws(EnvelopeError) -> String {
        let length = Int(try u8())
        return try utf8(length, field)
    }

    private mutating func utf8(_ length: Int, _ field: String) throws(EnvelopeError) -> String {
        guard remaining >= length else { throw .truncated }
        defer { offset += length }
        guard let s = String(validating: bytes[offset..<offset + length], as: UTF8.self) else {
            throw .invalidUTF8(field)
        }
        return s
    }
}
