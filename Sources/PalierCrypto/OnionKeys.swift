import CSodium
import PalierCore

/// The key of this node's onion service (docs/protocol.md §13.4): an Ed25519 key of its own,
/// not the building key (tor holds it while the node runs, and an onion key says nothing about
/// who signs the building's posts). Kept as its 32-byte seed in a 0600 file that is created once
/// and never overwritten, so that the node's onion address stays the same across restarts.
public struct OnionServiceKey: Sendable {
    static let filePrefix = "palier-onion-ed25519-seed "
    let seed: [UInt8]
    public let address: OnionAddress

    init?(seed: [UInt8]) {
        guard let signing = SigningKey(seed: seed) else { return nil }
        self.seed = seed
        self.address = OnionAddress(key: signing.publicKey.bytes)!
    }

    public static func generate() -> OnionServiceKey { OnionServiceKey(seed: Sodium.randomBytes(32))! }

    /// The key as tor's `ADD_ONION` takes it: `ED25519-V3:` and the base64 of the 64-byte
    /// expanded secret key (the clamped scalar, then the nonce prefix: SHA-512 of the seed).
    public var torKeyBlob: String {
        Sodium.ensureInitialised()
        var expanded = [UInt8](repeating: 0, count: 64)
        _ = crypto_hash_sha512(&expanded, seed, UInt64(seed.count))
        expanded[0] &= 248
        expanded[31] &= 127
        expanded[31] |= 64
        return "ED25519-V3:" + Sodium.base64(expanded)
    }

    /// Reads the key file, or creates it (mode 0600) when there is none; an existing file is
    /// never replaced, even one that cannot be read (the error says why).
    public static func loadOrCreate(_ path: String) throws(KeyFileError) -> (key: OnionServiceKey, created: Bool) {
        do {
            return (try load(path), false)
        } catch where error == .notFound(path) {
            let key = generate()
            do {
                try SecretFile.create(path, prefix: filePrefix, secret: key.seed)
            } catch where error == .alreadyExists(path) {
                // Made meanwhile by another process: that one is the key.
                return (try load(path), false)
            }
            return (key, true)
        }
    }

    public static func load(_ path: String) throws(KeyFileError) -> OnionServiceKey {
        guard let key = OnionServiceKey(seed: try SecretFile.load(path, prefix: filePrefix)) else { throw .malformed(path) }
        return key
    }
}

extension NetworkKey {
    /// The X25519 key pair every member of the network derives from the network key for onion
    /// client authorisation (tor's `ClientAuthV3`): a node that publishes its onion service with
    /// the public half is reachable only by tor clients given the private half, so that who
    /// does not hold the network key cannot even fetch the service's descriptor.
    /// Private key: BLAKE2b-256("palier-onion-client-auth-v1\0" ‖ network key).
    public var onionClientAuthorisation: (privateKey: [UInt8], publicKey: [UInt8]) {
        Sodium.ensureInitialised()
        let secret = BLAKE2b.hash256(Array("palier-onion-client-auth-v1\0".utf8) + bytes)
        var pub = [UInt8](repeating: 0, count: Int(crypto_scalarmult_BYTES))
        _ = crypto_scalarmult_base(&pub, secret)
        return (secret, pub)
    }
}

extension SigningKey {
    /// This building's signed onion address, issued `now` (Unix milliseconds).
    public func announce(_ address: OnionAddress, port: UInt16, now: UInt64) -> OnionAnnouncement {
        let signature = sign(OnionAnnouncement.signedBytes(building: publicKey, issued: now, address: address, port: port))
        return OnionAnnouncement(building: publicKey, issued: now, address: address, port: port, signature: signature)
    }
}
