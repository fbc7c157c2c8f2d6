import CSodium
import PalierCore

/// An Ed25519 secret key, kept as its 32-byte seed.
public struct SigningKey: Sendable {
    /// The 32-byte seed from which libsodium derives the key pair.
    public let seed: [UInt8]
    public let publicKey: PublicKey
    private let secretKey: [UInt8]

    /// Derives the key pair from a 32-byte seed (deterministic: used for test vectors).
    public init?(seed: [UInt8]) {
        guard seed.count == 32 else { return nil }
        Sodium.ensureInitialised()
        var pk = [UInt8](repeating: 0, count: Int(crypto_sign_PUBLICKEYBYTES))
        var sk = [UInt8](repeating: 0, count: Int(crypto_sign_SECRETKEYBYTES))
        guard crypto_sign_seed_keypair(&pk, &sk, seed) == 0 else { return nil }
        self.seed = seed
        self.secretKey = sk
        self.publicKey = PublicKey(bytes: pk)!
    }

    /// A new random key.
    public static func generate() -> SigningKey {
        SigningKey(seed: Sodium.randomBytes(32))!
    }

    /// A detached Ed25519 signature of `message`.
    public func sign(_ message: [UInt8]) -> Signature {
        var signature = [UInt8](repeating: 0, count: Signature.byteCount)
        message.withUnsafeBufferPointer { m in
            _ = crypto_sign_detached(&signature, nil, m.baseAddress, UInt64(m.count), secretKey)
        }
        return Signature(bytes: signature)!
    }

    /// Signs envelope content: encodes it canonically, signs the domain-separated message and
    /// computes the id. Throws if the content breaks a protocol rule.
    public func sign(_ content: EnvelopeContent) throws(EnvelopeError) -> Envelope {
        precondition(content.author == publicKey, "envelope author must be the signing key")
        let contentBytes = try EnvelopeCodec.encode(content)
        let message = EnvelopeCodec.signedMessage(contentBytes: contentBytes)
        let signature = sign(message)
        let id = EnvelopeID(bytes: BLAKE2b.hash256(message))!
        return Envelope(id: id, content: content, signature: signature, bytes: contentBytes + signature.bytes)
    }
}
