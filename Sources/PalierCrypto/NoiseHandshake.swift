import PalierCore

/// The `Noise_XXpsk3_25519_ChaChaPoly_SHA256` handshake (Noise revision 34, sections 5.3, 7.5, 9):
///
///     -> e
///     <- e, ee, s, es
///     -> s, se, psk
///
/// Between nodes the pre-shared key is the neighbourhood's network key: without it the third
/// message fails authentication and the responder learns nothing but two ephemeral keys.
/// Without a pre-shared key it is plain `Noise_XX_25519_ChaChaPoly_SHA256` (no `psk` token):
/// the residents' channel, whose members prove their signing keys after the handshake.
public struct NoiseHandshake: Sendable {
    /// The exact protocol names, hashed into the handshake.
    public static let protocolName = "Noise_XXpsk3_25519_ChaChaPoly_SHA256"
    public static let protocolNameWithoutPSK = "Noise_XX_25519_ChaChaPoly_SHA256"

    public enum Role: Sendable { case initiator, responder }

    private enum Token { case e, s, ee, es, se, psk }
    private static let patternWithPSK: [[Token]] = [[.e], [.e, .ee, .s, .es], [.s, .se, .psk]]
    private static let patternWithoutPSK: [[Token]] = [[.e], [.e, .ee, .s, .es], [.s, .se]]
    private var pattern: [[Token]] { presharedKey == nil ? Self.patternWithoutPSK : Self.patternWithPSK }

    public let role: Role
    private var symmetric: NoiseSymmetricState
    private let localStatic: NoiseKeyPair
    private var localEphemeral: NoiseKeyPair?
    private let presetEphemeral: NoiseKeyPair?
    private let presharedKey: [UInt8]?
    private var remoteEphemeral: [UInt8]?
    /// The peer's static key, known after the second message (initiator) or third (responder).
    public private(set) var remoteStaticKey: [UInt8]?
    private var messageIndex = 0

    /// - Parameters:
    ///   - prologue: bytes both sides must agree on (palier: the sync protocol's name).
    ///   - presharedKey: the 32-byte network key, or nil for plain `Noise_XX`.
    ///   - ephemeral: a fixed ephemeral key, for test vectors only; random otherwise.
    public init(role: Role, prologue: [UInt8], staticKey: NoiseKeyPair, presharedKey: [UInt8]?, ephemeral: NoiseKeyPair? = nil) {
        precondition(presharedKey.map { $0.count == 32 } ?? true, "a Noise pre-shared key is 32 bytes")
        self.role = role
        self.localStatic = staticKey
        self.presharedKey = presharedKey
        self.presetEphemeral = ephemeral
        symmetric = NoiseSymmetricState(protocolName: presharedKey == nil ? Self.protocolNameWithoutPSK : Self.protocolName)
        symmetric.mixHash(prologue)
    }

    /// True once all three messages have been written or read.
    public var isComplete: Bool { messageIndex == pattern.count }

    /// True when the next step is to write a message (false: to read one).
    public var isOurTurn: Bool {
        (messageIndex % 2 == 0) == (role == .initiator)
    }

    /// The handshake hash, which both sides share once complete (channel binding).
    public var handshakeHash: [UInt8] { symmetric.hash }

    /// Writes the next handshake message carrying `payload` (encrypted once a key exists).
    public mutating func writeMessage(payload: [UInt8] = []) throws(NoiseError) -> [UInt8] {
        guard !isComplete else { throw .handshakeAlreadyComplete }
        guard isOurTurn else { throw .wrongTurn }
        var message: [UInt8] = []
        for token in pattern[messageIndex] {
            switch token {
            case .e:
                let ephemeral = presetEphemeral ?? NoiseKeyPair.generate()
                localEphemeral = ephemeral
                message += ephemeral.publicKey
                symmetric.mixHash(ephemeral.publicKey)
                // psk modifier: "e" also mixes the key (Noise section 9.2).
                if presharedKey != nil { symmetric.mixKey(ephemeral.publicKey) }
            case .s:
                message += try symmetric.encryptAndHash(localStatic.publicKey)
            case .ee, .es, .se:
                try mixDH(token)
            case .psk:
                symmetric.mixKeyAndHash(presharedKey!)
            }
        }
        message += try symmetric.encryptAndHash(payload)
        guard message.count <= NoisePrimitives.maximumMessageLength else { throw .messageTooLarge(message.count) }
        messageIndex += 1
        return message
    }

    /// Reads the peer's next handshake message and returns its decrypted payload.
    public mutating func readMessage(_ message: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard !isComplete else { throw .handshakeAlreadyComplete }
        guard !isOurTurn else { throw .wrongTurn }
        var offset = 0
        for token in pattern[messageIndex] {
            switch token {
            case .e:
                guard message.count - offset >= NoisePrimitives.dhLength else { throw .badMessageLength(message.count) }
                let key = Array(message[offset..<offset + NoisePrimitives.dhLength])
                offset += NoisePrimitives.dhLength
                remoteEphemeral = key
                symmetric.mixHash(key)
                if presharedKey != nil { symmetric.mixKey(key) }
            case .s:
                let length = NoisePrimitives.dhLength + (symmetric.cipher.hasKey ? NoisePrimitives.tagLength : 0)
                guard message.count - offset >= length else { throw .badMessageLength(message.count) }
                remoteStaticKey = try symmetric.decryptAndHash(message[offset..<offset + length])
                offset += length
            case .ee, .es, .se:
                try mixDH(token)
            case .psk:
                symmetric.mixKeyAndHash(presharedKey!)
            }
        }
        let payload = try symmetric.decryptAndHash(message[offset...])
        messageIndex += 1
        return payload
    }

    /// The two transport ciphers, once the handshake is complete.
    public func split() throws(NoiseError) -> NoiseTransport {
        guard isComplete else { throw .handshakeNotComplete }
        let (initiatorToResponder, responderToInitiator) = symmetric.split()
        switch role {
        case .initiator: return NoiseTransport(send: initiatorToResponder, receive: responderToInitiator)
        case .responder: return NoiseTransport(send: responderToInitiator, receive: initiatorToResponder)
        }
    }

    private mutating func mixDH(_ token: Token) throws(NoiseError) {
        // "es": initiator's ephemeral with responder's static; "se": the reverse.
        let local: NoiseKeyPair?
        let remote: [UInt8]?
        switch (token, role) {
        case (.ee, _): (local, remote) = (localEphemeral, remoteEphemeral)
        case (.es, .initiator): (local, remote) = (localEphemeral, remoteStaticKey)
        case (.es, .responder): (local, remote) = (localStatic, remoteEphemeral)
        case (.se, .initiator): (local, remote) = (localStatic, remoteEphemeral)
        case (.se, .responder): (local, remote) = (localEphemeral, remoteStaticKey)
        default: preconditionFailure("not a DH token")
        }
        guard let local, let remote else { preconditionFailure("Noise pattern order guarantees both keys") }
        symmetric.mixKey(try NoisePrimitives.dh(privateKey: local.privateKey, publicKey: remote))
    }
}

/// The transport phase of a Noise session: one cipher per direction, empty associated data.
public struct NoiseTransport: Sendable {
    public var send: NoiseCipherState
    public var receive: NoiseCipherState

    public mutating func encrypt(_ plaintext: [UInt8]) throws(NoiseError) -> [UInt8] {
        guard plaintext.count + NoisePrimitives.tagLength <= NoisePrimitives.maximumMessageLength else {
            throw .messageTooLarge(plaintext.count + NoisePrimitives.tagLength)
        }
        return try send.encrypt(plaintext)
    }

    public mutating func decrypt(_ ciphertext: ArraySlice<UInt8>) throws(NoiseError) -> [UInt8] {
        try receive.decrypt(ciphertext)
    }

    /// The largest plaintext one transport message can carry.
    public static let maximumPlaintextLength = NoisePrimitives.maximumMessageLength - NoisePrimitives.tagLength
}
