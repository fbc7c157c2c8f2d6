import CSodium

/// A backup's encryption (docs/operations.md): a key stretched from a passphrase with
/// Argon2id (`crypto_pwhash`), then `crypto_secretstream_xchacha20poly1305` over chunks, the
/// last one tagged final, so that a cut, reordered or altered file is refused, never half read.
///
/// Layout: `palier-backup-v1\n` (17 bytes) ‖ salt (16) ‖ opslimit (u64) ‖ memlimit (u64) ‖
/// stream header (24) ‖ passphrase check (16: BLAKE2b keyed with the stretched key, of
/// `palier-backup-check`, so that a wrong passphrase is told from damage) ‖ chunks, each
/// `length: u32` ‖ ciphertext (`length` bytes, a chunk of at most 1 MiB of plaintext plus 17).
public enum BackupCipher {
    public static let magic = Array("palier-backup-v1\n".utf8)
    static let saltLength = Int(crypto_pwhash_SALTBYTES)
    static let headerLength = Int(crypto_secretstream_xchacha20poly1305_HEADERBYTES)
    static let tagLength = Int(crypto_secretstream_xchacha20poly1305_ABYTES)
    static let chunk = 1 << 20
    /// What a file may ask of the machine that opens it: a hostile file cannot make it stretch
    /// the passphrase with gigabytes of memory or for minutes.
    static let maximumOpslimit: UInt64 = 10
    static let maximumMemlimit: UInt64 = 1 << 30

    /// How hard the passphrase is stretched: `moderate` for real backups (256 MiB, about a
    /// second), `interactive` (64 MiB) for tests.
    public enum Strength: Sendable {
        case moderate, interactive

        var limits: (ops: UInt64, mem: UInt64) {
            switch self {
            case .moderate: (UInt64(crypto_pwhash_OPSLIMIT_MODERATE), UInt64(crypto_pwhash_MEMLIMIT_MODERATE))
            case .interactive: (UInt64(crypto_pwhash_OPSLIMIT_INTERACTIVE), UInt64(crypto_pwhash_MEMLIMIT_INTERACTIVE))
            }
        }
    }

    public static func seal(_ plaintext: [UInt8], passphrase: String, strength: Strength = .moderate) throws(BackupCipherError) -> [UInt8] {
        Sodium.ensureInitialised()
        let salt = Sodium.randomBytes(saltLength)
        let (ops, mem) = strength.limits
        var key = try stretch(passphrase, salt: salt, ops: ops, mem: mem)
        defer { sodium_memzero(&key, key.count) }
        var state = crypto_secretstream_xchacha20poly1305_state()
        var header = [UInt8](repeating: 0, count: headerLength)
        crypto_secretstream_xchacha20poly1305_init_push(&state, &header, key)
        var out = magic + salt + u64(ops) + u64(mem) + header + check(key)
        out.reserveCapacity(out.count + plaintext.count + (plaintext.count / chunk + 1) * (tagLength + 4))
        var offset = 0
        repeat {
            let end = min(offset + chunk, plaintext.count)
            let final = end == plaintext.count
            let piece = Array(plaintext[offset..<end])
            var cipher = [UInt8](repeating: 0, count: piece.count + tagLength)
            var length: UInt64 = 0
            crypto_secretstream_xchacha20poly1305_push(
                &state, &cipher, &length, piece, UInt64(piece.count), nil, 0,
                UInt8(final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE))
            out += u32(UInt32(length)) + cipher.prefix(Int(length))
            offset = end
        } while offset < plaintext.count
        return out
    }

    public static func open(_ sealed: [UInt8], passphrase: String) throws(BackupCipherError) -> [UInt8] {
        Sodium.ensureInitialised()
        var at = 0
        func take(_ n: Int) throws(BackupCipherError) -> ArraySlice<UInt8> {
            guard n >= 0, sealed.count - at >= n else { throw .truncated }
            defer { at += n }
            return sealed[at..<at + n]
        }
        guard sealed.count >= magic.count, Array(sealed.prefix(magic.count)) == magic else { throw .notABackup }
        at = magic.count
        let salt = Array(try take(saltLength))
        let ops = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        let mem = try take(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        guard ops >= UInt64(crypto_pwhash_OPSLIMIT_MIN), ops <= maximumOpslimit,
              mem >= UInt64(crypto_pwhash_MEMLIMIT_MIN), mem <= maximumMemlimit else { throw .damaged }
        let header = Array(try take(headerLength))
        let expected = Array(try take(checkLength))
        var key = try stretch(passphrase, salt: salt, ops: ops, mem: mem)
        defer { sodium_memzero(&key, key.count) }
        guard sodium_memcmp(check(key), expected, checkLength) == 0 else { throw .wrongPassphrase }
        var state = crypto_secretstream_xchacha20poly1305_state()
        guard crypto_secretstream_xchacha20poly1305_init_pull(&state, header, key) == 0 else { throw .damaged }
        var plain: [UInt8] = []
        while true {
            let length = Int(try take(4).reduce(UInt32(0)) { $0 << 8 | UInt32($1) })
            guard length >= tagLength, length <= chunk + tagLength else { throw .damaged }
            let cipher = Array(try take(length))
            var piece = [UInt8](repeating: 0, count: length - tagLength)
            var pieceLength: UInt64 = 0
            var tag: UInt8 = 0
            guard crypto_secretstream_xchacha20poly1305_pull(&state, &piece, &pieceLength, &tag, cipher, UInt64(length), nil, 0) == 0 else {
                // The passphrase was checked: a chunk that does not open was changed.
                throw .damaged
            }
            plain += piece.prefix(Int(pieceLength))
            if tag == UInt8(crypto_secretstream_xchacha20poly1305_TAG_FINAL) {
                guard at == sealed.count else { throw .damaged }
                return plain
            }
        }
    }

    static func stretch(_ passphrase: String, salt: [UInt8], ops: UInt64, mem: UInt64) throws(BackupCipherError) -> [UInt8] {
        var key = [UInt8](repeating: 0, count: Int(crypto_secretstream_xchacha20poly1305_KEYBYTES))
        // A C string of the passphrase's UTF-8 (its length is passed: a NUL inside counts).
        let bytes = Array(passphrase.utf8)
        let result = passphrase.withCString { chars in
            crypto_pwhash(&key, UInt64(key.count), chars, UInt64(bytes.count), salt, ops, Int(mem), crypto_pwhash_ALG_ARGON2ID13)
        }
        guard result == 0 else { throw .outOfMemory }
        return key
    }

    static let checkLength = 16

    /// What shows that a passphrase is the right one without telling anything about it.
    static func check(_ key: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: checkLength)
        let message = Array("palier-backup-check".utf8)
        crypto_generichash(&out, checkLength, message, UInt64(message.count), key, key.count)
        return out
    }

    static func u64(_ v: UInt64) -> [UInt8] { (0..<8).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt64($0))) } }
    static func u32(_ v: UInt32) -> [UInt8] { (0..<4).reversed().map { UInt8(truncatingIfNeeded: v >> (8 * UInt32($0))) } }
}

public enum BackupCipherError: Error, Hashable, Sendable {
    /// It does not start as a palier backup does.
    case notABackup
    /// It ends early: a copy was cut.
    case truncated
    /// The passphrase does not open it.
    case wrongPassphrase
    /// Altered or damaged after it was made.
    case damaged
    /// The machine could not give the memory the passphrase's stretching needs.
    case outOfMemory
}
