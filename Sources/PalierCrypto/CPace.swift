import CSodium

/// CPace over ristretto255 (after draft-irtf-cfrg-cpace), the balanced PAKE behind the short
/// enrolment codes (docs/protocol.md §15.8): both sides know a short password; each sends one
/// group element; both get the same key only if their passwords match. Someone who tries a
/// password learns whether that one password was right and nothing else: a 36-bit secret that
/// the node lets be tried 5 times is then as safe as a long one.
///
/// The generator is derived from the password and the session (the Noise handshake hash), so a
/// run is bound to its channel; the key then covers both elements.
public struct CPace: Sendable {
    public static let elementLength = 32
    public static let scalarSeedLength = 64
    public static let keyLength = 32
    public static let confirmationLength = 32
    static let generatorDomain = Array("palier-cpace-generator-v1\0".utf8)
    static let keyDomain = Array("palier-cpace-key-v1\0".utf8)
    static let confirmationDomain = Array("palier-cpace-confirm-v1\0".utf8)

    /// This side's element, sent to the other.
    public let element: [UInt8]
    private let scalar: [UInt8]
    private let sessionID: [UInt8]

    /// Starts a run with a fresh random scalar; `scalarSeed` (64 bytes, reduced modulo the
    /// group order) fixes it, for test vectors only.
    public init(password: [UInt8], sessionID: [UInt8], scalarSeed: [UInt8]? = nil) throws(CPaceError) {
        guard password.count <= 255, sessionID.count <= 255 else { throw .invalidInput }
        Sodium.ensureInitialised()
        var scalar = [UInt8](repeating: 0, count: Int(crypto_core_ristretto255_SCALARBYTES))
        if let seed = scalarSeed {
            guard seed.count == Self.scalarSeedLength else { throw .invalidInput }
            crypto_core_ristretto255_scalar_reduce(&scalar, seed)
        } else {
            crypto_core_ristretto255_scalar_random(&scalar)
        }
        let generator = Self.generator(password: password, sessionID: sessionID)
        var element = [UInt8](repeating: 0, count: Self.elementLength)
        // Fails only for the zero scalar or the identity: both have a negligible chance.
        guard crypto_scalarmult_ristretto255(&element, scalar, generator) == 0 else { throw .invalidInput }
        self.element = element
        self.scalar = scalar
        self.sessionID = sessionID
    }

    /// The password's generator for this session: ristretto255's hash-to-group of
    /// SHA-512(domain ‖ len ‖ password ‖ len ‖ session id), lengths as one byte.
    public static func generator(password: [UInt8], sessionID: [UInt8]) -> [UInt8] {
        let input = generatorDomain + [UInt8(password.count)] + password + [UInt8(sessionID.count)] + sessionID
        var generator = [UInt8](repeating: 0, count: elementLength)
        crypto_core_ristretto255_from_hash(&generator, sha512(input))
        return generator
    }

    /// The shared key from the other side's element. `initiator`: whether this side sent the
    /// first element (the resident): the key covers the initiator's element, then the
    /// responder's. Throws for an element that is not a valid point or gives the identity.
    public func key(peerElement: [UInt8], initiator: Bool) throws(CPaceError) -> CPaceKey {
        guard peerElement.count == Self.elementLength, crypto_core_ristretto255_is_valid_point(peerElement) == 1 else {
            throw .invalidElement
        }
        var shared = [UInt8](repeating: 0, count: Self.elementLength)
        guard crypto_scalarmult_ristretto255(&shared, scalar, peerElement) == 0 else { throw .invalidElement }
        let (first, second) = initiator ? (element, peerElement) : (peerElement, element)
        let digest = Self.sha512(Self.keyDomain + sessionID + shared + first + second)
        return CPaceKey(bytes: Array(digest.prefix(Self.keyLength)))
    }

    static func sha512(_ data: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(crypto_hash_sha512_BYTES))
        data.withUnsafeBufferPointer { d in
            _ = crypto_hash_sha512(&out, d.baseAddress, UInt64(d.count))
        }
        return out
    }
}

/// The key a CPace run agreed on. Each side proves it holds it with its confirmation.
public struct CPaceKey: Sendable {
    public let bytes: [UInt8]

    /// HMAC-SHA-256(key, domain ‖ role), role 0 for the initiator and 1 for the responder.
    public func confirmation(initiator: Bool) -> [UInt8] {
        NoiseHMAC.sha256(key: bytes, CPace.confirmationDomain + [initiator ? 0 : 1])
    }
}

public enum CPaceError: Error, Hashable, Sendable {
    /// A password or session id over 255 bytes, or a seed of the wrong length.
    case invalidInput
    /// The other side's element is not a valid ristretto255 point, or is the identity.
    case invalidElement
}
