/// The two primitives the model needs from a cryptography library. PalierCrypto provides them
/// with libsodium; PalierCore stays free of C and I/O.
public protocol CryptoProvider: Sendable {
    /// Unkeyed BLAKE2b with a 32-byte output.
    func blake2b256(_ message: [UInt8]) -> [UInt8]
    /// Ed25519 detached-signature verification.
    func verifyEd25519(signature: [UInt8], message: [UInt8], publicKey: [UInt8]) -> Bool
}

/// A decoded envelope whose id is known but whose signature has not been checked yet: ingest
/// looks the id up first so that duplicates cost neither a verification nor a write.
public struct UnverifiedEnvelope: Sendable {
    public let id: EnvelopeID
    public let content: EnvelopeContent
    public let signature: Signature
    public let bytes: [UInt8]
    let message: [UInt8]
}

/// Turns bytes into envelopes: decode, id, signature, and the clock-dependent admission rules.
public struct EnvelopeValidator: Sendable {
    public let crypto: any CryptoProvider

    public init(crypto: any CryptoProvider) {
        self.crypto = crypto
    }

    /// Decodes and computes the id; does not verify the signature.
    public func decode(_ bytes: [UInt8]) throws(EnvelopeError) -> UnverifiedEnvelope {
        let decoded = try EnvelopeCodec.decode(bytes)
        let message = EnvelopeCodec.signedMessage(contentBytes: bytes[0..<decoded.contentLength])
        let id = EnvelopeID(bytes: crypto.blake2b256(message))!
        return UnverifiedEnvelope(id: id, content: decoded.content, signature: decoded.signature, bytes: bytes, message: message)
    }

    /// Checks the signature against the author's key.
    public func verify(_ unverified: UnverifiedEnvelope) throws(EnvelopeError) -> Envelope {
        guard crypto.verifyEd25519(
            signature: unverified.signature.bytes, message: unverified.message, publicKey: unverified.content.author.bytes
        ) else {
            throw .badSignature
        }
        return Envelope(id: unverified.id, content: unverified.content, signature: unverified.signature, bytes: unverified.bytes)
    }

    /// Decode and verify in one step.
    public func open(_ bytes: [UInt8]) throws(EnvelopeError) -> Envelope {
        try verify(decode(bytes))
    }

    /// The rules that depend on the clock and on who receives the envelope.
    /// - Parameters:
    ///   - now: the receiving node's wall clock, Unix milliseconds.
    ///   - localBuilding: the receiving node's building key.
    public static func admit(_ content: EnvelopeContent, now: UInt64, localBuilding: PublicKey) throws(EnvelopeError) {
        guard content.expiresAt > now else { throw .expired }
        let created = content.createdAt
        if created > now + Limits.maximumClockSkewMillis {
            throw .fromTheFuture(secondsAhead: (created - now) / 1000)
        }
        if content.scope == .building && content.building != localBuilding { throw .foreignBuildingScope }
    }
}
