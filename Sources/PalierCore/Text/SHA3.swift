/// SHA3-256 (FIPS 202): what v3 onion addresses use for their checksum. Pure Swift, as
/// libsodium has no SHA-3; checked against FIPS 202's vectors and Python's hashlib in the tests.
public enum SHA3 {
    public static func sha256(_ message: [UInt8]) -> [UInt8] {
        let rate = 136
        var state = [UInt64](repeating: 0, count: 25)
        // Domain bits 01, then pad10*1.
        var padded = message
        padded.append(0x06)
        while padded.count % rate != 0 { padded.append(0) }
        padded[padded.count - 1] |= 0x80
        for block in stride(from: 0, to: padded.count, by: rate) {
            for lane in 0..<(rate / 8) {
                var word: UInt64 = 0
                for byte in 0..<8 { word |= UInt64(padded[block + lane * 8 + byte]) << (8 * byte) }
                state[lane] ^= word
            }
            permute(&state)
        }
        var digest = [UInt8]()
        digest.reserveCapacity(32)
        for lane in 0..<4 {
            for byte in 0..<8 { digest.append(UInt8(truncatingIfNeeded: state[lane] >> (8 * byte))) }
        }
        return digest
    }

    private static let roundConstants: [UInt64] = [
        0x0000_0000_0000_0001, 0x0000_0000_0000_8082, 0x8000_0000_0000_808A, 0x8000_0000_8000_8000,
        0x0000_0000_0000_808B, 0x0000_0000_8000_0001, 0x8000_0000_8000_8081, 0x8000_0000_0000_8009,
        0x0000_0000_0000_008A, 0x0000_0000_0000_0088, 0x0000_0000_8000_8009, 0x0000_0000_8000_000A,
        0x0000_0000_8000_808B, 0x8000_0000_0000_008B, 0x8000_0000_0000_8089, 0x8000_0000_0000_8003,
        0x8000_0000_0000_8002, 0x8000_0000_0000_0080, 0x0000_0000_0000_800A, 0x8000_0000_8000_000A,
        0x8000_0000_8000_8081, 0x8000_0000_0000_8080, 0x0000_0000_8000_0001, 0x8000_0000_8000_8008,
    ]

    /// ρ's rotation of lane x + 5y: the triangular numbers along the walk (x, y) → (y, 2x + 3y).
    private static let rotations: [UInt64] = {
        var offsets = [UInt64](repeating: 0, count: 25)
        var (x, y) = (1, 0)
        for t in 0..<24 {
            offsets[x + 5 * y] = UInt64((t + 1) * (t + 2) / 2 % 64)
            (x, y) = (y, (2 * x + 3 * y) % 5)
        }
        return offsets
    }()

    /// Keccak-f[1600].
    private static func permute(_ a: inout [UInt64]) {
        @inline(__always) func rotl(_ v: UInt64, _ n: UInt64) -> UInt64 { n == 0 ? v : v << n | v >> (64 - n) }
        var b = [UInt64](repeating: 0, count: 25)
        var c = [UInt64](repeating: 0, count: 5)
        for round in 0..<24 {
            // θ
            for x in 0..<5 { c[x] = a[x] ^ a[x + 5] ^ a[x + 10] ^ a[x + 15] ^ a[x + 20] }
            for x in 0..<5 {
                let d = c[(x + 4) % 5] ^ rotl(c[(x + 1) % 5], 1)
                for y in stride(from: 0, to: 25, by: 5) { a[x + y] ^= d }
            }
            // ρ and π
            for x in 0..<5 {
                for y in 0..<5 { b[y + 5 * ((2 * x + 3 * y) % 5)] = rotl(a[x + 5 * y], rotations[x + 5 * y]) }
            }
            // χ
            for y in stride(from: 0, to: 25, by: 5) {
                for x in 0..<5 { a[x + y] = b[x + y] ^ (~b[(x + 1) % 5 + y] & b[(x + 2) % 5 + y]) }
            }
            // ι
            a[0] ^= roundConstants[round]
        }
    }
}
