import CSodium
import PalierCore

/// libsodium, initialised once before first use.
enum Sodium {
    private static let initialised: Bool = sodium_init() >= 0

    static func ensureInitialised() {
        precondition(initialised, "libsodium could not be initialised")
    }

    /// Cryptographically secure random bytes.
    static func randomBytes(_ count: Int) -> [UInt8] {
        ensureInitialised()
        var bytes = [UInt8](repeating: 0, count: count)
        randombytes_buf(&bytes, count)
        return bytes
    }

    /// Standard base64 with padding (RFC 4648 §4).
    static func base64(_ bytes: [UInt8]) -> String {
        ensureInitialised()
        let variant = Int32(sodium_base64_VARIANT_ORIGINAL)
        var text = [CChar](repeating: 0, count: sodium_base64_encoded_len(bytes.count, variant))
        _ = sodium_bin2base64(&text, text.count, bytes, bytes.count, variant)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// Base64 for the tor control protocol's key blobs.
public enum Base64 {
    public static func encode(_ bytes: [UInt8]) -> String { Sodium.base64(bytes) }
}

/// BLAKE2b (libsodium `crypto_generichash`).
public enum BLAKE2b {
    /// Unkeyed BLAKE2b with a 32-byte output.
    public static func hash256(_ message: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: 32)
        message.withUnsafeBufferPointer { m in
            _ = crypto_generichash(&out, 32, m.baseAddress, UInt64(m.count), nil, 0)
        }
        return out
    }
}

/// Ed25519 signatures (libsodium `crypto_sign`).
public enum Ed25519 {
    public static func verify(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        guard signature.count == 64, publicKey.count == 32 else { return false }
        Sodium.ensureInitialised()
        return message.withUnsafeBufferPointer { m in
            crypto_sign_verify_detached(signature, m.baseAddress, UInt64(m.count), publicKey) == 0
        }
    }
}

/// The libsodium implementation of the model's crypto needs.
public struct SodiumCrypto: CryptoProvider {
    public init() { Sodium.ensureInitialised() }

    public func blake2b256(_ message: [UInt8]) -> [UInt8] { BLAKE2b.hash256(message) }

    /// Cryptographically secure random bytes (secrets: enrolment codes).
    public static func randomBytes(_ count: Int) -> [UInt8] { Sodium.randomBytes(count) }

    public func verifyEd25519(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool {
        Ed25519.verify(signature: signature, message: message, publicKey: publicKey)
    }
}

extension EnvelopeValidator {
    /// A validator backed by libsodium.
    public static let sodium = EnvelopeValidator(crypto: SodiumCrypto())
}
