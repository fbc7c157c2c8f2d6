import CSodium
import PalierCore

/// Errors of the Noise layer. A struct around a private enum, one case per documented failure.
public struct NoiseError: Error, Hashable, Sendable, CustomStringConvertible {
    private enum Code: Hashable, Sendable {
        case decryptionFailed
        case badMessageLength(Int)
        case invalidPublicKey
        case handshakeNotComplete
        case handshakeAlreadyComplete
        case wrongTurn
        case nonceExhausted
        case messageTooLarge(Int)
    }
    private let code: Code

    /// Authentication failed: wrong network key, tampered, replayed or reordered message.
    public static let decryptionFailed = Self(code: .decryptionFailed)
    public static func badMessageLength(_ n: Int) -> Self { Self(code: .badMessageLength(n)) }
    /// A Diffie-Hellman result was all zeros (a low-order point).
    public static let invalidPublicKey = Self(code: .invalidPublicKey)
    public static let handshakeNotComplete = Self(code: .handshakeNotComplete)
    public static let handshakeAlreadyComplete = Self(code: .handshakeAlreadyComplete)
    /// Writing when it is the peer's turn to write, or reading when it is ours.
    public static let wrongTurn = Self(code: .wrongTurn)
    public static let nonceExhausted = Self(code: .nonceExhausted)
    public static func messageTooLarge(_ n: Int) -> Self { Self(code: .messageTooLarge(n)) }

    public var description: String {
        switch code {
        case .decryptionFailed: "a Noise message failed authentication (wrong network key, or a tampered, replayed or reordered message)"
        case .badMessageLength(let n): "a Noise handshake message of \(n) bytes has the wrong length"
        case .invalidPublicKey: "the peer sent an invalid Curve25519 public key"
        case .handshakeNotComplete: "the Noise handshake is not complete"
        case .handshakeAlreadyComplete: "the Noise handshake is already complete"
        case .wrongTurn: "a Noise handshake message was sent out of turn"
        case .nonceExhausted: "the Noise session has used all its nonces"
        case .messageTooLarge(let n): "a Noise message of \(n) bytes is larger than 65535 bytes"
        }
    }
}

/// The cryptographic functions of `Noise_XXpsk3_25519_ChaChaPoly_SHA256`, from libsodium.
enum NoisePrimitives {
    static let dhLength = 32
    static let hashLength = 32
    static let tagLength = 16
    /// Noise limits every message to 65535 bytes.
    static let maximumMessageLength = 65535

    static func sha256(_ data: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: 32)
        data.withUnsafeBufferPointer { d in
            _ = crypto_hash_sha256(&out, d.baseAddress, UInt64(d.count))
        }
        return out
    }

    static func hmacSHA256(key: [UInt8], _ parts: [UInt8]...) -> [UInt8] {
        var state = crypto_auth_hmacsha256_state()
        key.withUnsafeBufferPointer { k in
            _ = crypto_auth_hmacsha256_init(&state, k.baseAddress!, k.count)
        }
        for part in parts {
            part.withUnsafeBufferPointer { p in
                _ = crypto_auth_hmacsha256_update(&state, p.baseAddress, UInt64(p.count))
            }
        }
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_auth_hmacsha256_final(&state, &out)
        return out
    }

    /// Noise's HKDF with two or three outputs (section 4.3).
    static func hkdf(chainingKey: [UInt8], inputKeyMaterial: [UInt8], outputs: Int) -> [[UInt8]] {
        let tempKey = hmacSHA256(key: chainingKey, inputKeyMaterial)
        let first = hmacSHA256(key: tempKey, [1])
        let second = hmacSHA256(key: tempKey, first, [2])
        if outputs == 2 { return [first, second] }
        let third = hmacSHA256(key: tempKey, second, [3])
        return [first, second, third]
    }

    static func publicKey(privateKey: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        var out = [UInt8](repeating: 0, count: 32)
        _ = crypto_scalarmult_curve25519_base(&out, privateKey)
        return out
    }

    static func dh(privateKey: [UInt8], publicKey: [UInt8]) throws(NoiseError) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        // libsodium refuses (returns -1) when the result is all zeros: a low-order point.
        guard crypto_scalarmult_curve25519(&out, privateKey, publicKey) == 0 else { throw .invalidPublicKey }
        return out
    }

    static func nonce(_ n: UInt64) -> [UInt8] {
        var nonce = [UInt8](repeating: 0, count: 12)
        for i in 0..<8 { nonce[4 + i] = UInt8(truncatingIfNeeded: n >> (8 * UInt64(i))) }
        return nonce
    }

    static func encrypt(key: [UInt8], nonce n: UInt64, ad: [UInt8], plaintext: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: plaintext.count + tagLength)
        var outLength: UInt64 = 0
        let nonce = nonce(n)
        plaintext.withUnsafeBufferPointer { p in
            ad.withUnsafeBufferPointer { a in
                _ = crypto_aead_chacha20poly1305_ietf_encrypt(
                    &out, &outLength, p.baseAddress, UInt64(p.count), a.baseAddress, UInt64(a.count), nil, nonce, key)
            }
        }
        return out
    }

    static func decrypt(key: [UInt8], nonce n: UInt64, ad: [UInt8], ciphertext: ArraySlice<UInt8>) throws(NoiseError) -> [UInt8] {
        guard ciphertext.count >= tagLength else { throw .decryptionFailed }
        var out = [UInt8](repeating: 0, count: ciphertext.count - tagLength)
        var outLength: UInt64 = 0
        let nonce = nonce(n)
        let result = ciphertext.withUnsafeBufferPointer { c in
            ad.withUnsafeBufferPointer { a in
                crypto_aead_chacha20poly1305_ietf_decrypt(
                    &out, &outLength, nil, c.baseAddress!, UInt64(c.count), a.baseAddress, UInt64(a.count), nonce, key)
            }
        }
        guard result == 0 else { throw .decryptionFailed }
        return out
    }
}

/// A Curve25519 key pair for Noise.
public struct NoiseKeyPair: Sendable {
    public let privateKey: [UInt8]
    public let publicKey: [UInt8]

    /// The key pair of a given 32-byte private key (deterministic: test vectors).
    public init?(privateKey: [UInt8]) {
        guard privateKey.count == 32 else { return nil }
        self.privateKey = privateKey
        self.publicKey = NoisePrimitives.publicKey(privateKey: privateKey)
    }

    /// A fresh random key pair.
    public static func generate() -> NoiseKeyPair {
        NoiseKeyPair(privateKey: Sodium.randomBytes(32))!
    }
}

/// One direction of a Noise session: a key and a nonce counter (Noise section 5.1).
public struct NoiseCipherState: Sendable {
    private var key: [UInt8]?
    private var nonce: UInt64 = 0

    init(key: [UInt8]? = nil) { self.key = key }

    var hasKey: Bool { key != nil }

    mutating func initialise(key: [UInt8]) {
        self.key = key
        nonce = 0
    }

    /// Encrypts with the next nonce. Without a key (early handshake), returns the plaintext.
    public mutating func encrypt(ad: [UInt8] = [], _ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard let key else { return plaintext }
        // Nonce 2^64-1 is reserved by Noise.
        guard nonce < UInt64.max else { throw .nonceExhausted }
        defer { nonce += 1 }
        return NoisePrimitives.encrypt(key: key, nonce: nonce, ad: ad, plaintext: plaintext)
    }

    /// Decrypts with the next nonce; the nonce advances only on success, so a replayed or
    /// reordered message fails authentication.
    public mutating func decrypt(ad: [UInt8] = [], _ ciphertext: ArraySlice<UInt8>) throws(NoiseError) -> [UInt8] {
        guard let key else { return Array(ciphertext) }
        guard nonce < UInt64.max else { throw .nonceExhausted }
        let plaintext = try NoisePrimitives.decrypt(key: key, nonce: nonce, ad: ad, ciphertext: ciphertext)
        nonce += 1
        return plaintext
    }
}

/// Noise's SymmetricState (section 5.2).
struct NoiseSymmetricState: Sendable {
    var cipher = NoiseCipherState()
    var chainingKey: [UInt8]
    var hash: [UInt8]

    init(protocolName: String) {
        let name = Array(protocolName.utf8)
        if name.count <= NoisePrimitives.hashLength {
            hash = name + [UInt8](repeating: 0, count: NoisePrimitives.hashLength - name.count)
        } else {
            hash = NoisePrimitives.sha256(name)
        }
        chainingKey = hash
    }

    mutating func mixKey(_ inputKeyMaterial: [UInt8]) {
        let out = NoisePrimitives.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 2)
        chainingKey = out[0]
        cipher.initialise(key: out[1])
    }

    mutating func mixHash(_ data: [UInt8]) {
        hash = NoisePrimitives.sha256(hash + data)
    }

    mutating func mixKeyAndHash(_ inputKeyMaterial: [UInt8]) {
        let out = NoisePrimitives.hkdf(chainingKey: chainingKey, inputKeyMaterial: inputKeyMaterial, outputs: 3)
        chainingKey = out[0]
        mixHash(out[1])
        cipher.initialise(key: out[2])
    }

    mutating func encryptAndHash(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        let ciphertext = try cipher.encrypt(ad: hash, plaintext)
        mixHash(ciphertext)
        return ciphertext
    }

    mutating func decryptAndHash(_ ciphertext: ArraySlice<UInt8>) throws(NoiseError) -> [UInt8] {
        let plaintext = try cipher.decrypt(ad: hash, ciphertext)
        mixHash(Array(ciphertext))
        return plaintext
    }

    func split() -> (NoiseCipherState, NoiseCipherState) {
        let out = NoisePrimitives.hkdf(chainingKey: chainingKey, inputKeyMaterial: [], outputs: 2)
        return (NoiseCipherState(key: out[0]), NoiseCipherState(key: out[1]))
    }
}

/// HMAC-SHA-256 (libsodium), for proofs outside the handshake: a resident's enrolment proof.
public enum NoiseHMAC {
    public static func sha256(key: [UInt8], _ message: [UInt8]) -> [UInt8] {
        Sodium.ensureInitialised()
        return NoisePrimitives.hmacSHA256(key: key, message)
    }

    /// Compares two MACs in constant time.
    public static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }
}
