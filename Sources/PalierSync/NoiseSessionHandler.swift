import NIOCore
import PalierCore
import PalierCrypto

/// What the Noise layer passes up: first the proven identity of the peer, then its messages.
public enum SyncInbound: Sendable {
    /// The peer proved `key`; `handshakeHash` binds later proofs to this session.
    case established(PublicKey, handshakeHash: [UInt8])
    case message([UInt8])
}

/// Which Noise channel a connection speaks: between nodes (XXpsk3 with the network key), or
/// the residents' channel (plain XX; docs/protocol.md part 3). Both then prove Ed25519 keys
/// with an `identity` message (type 0x00, key, signature) over their own domain string.
public struct NoiseProfile: Sendable {
    public let prologue: [UInt8]
    public let presharedKey: [UInt8]?
    public let identityMessage: @Sendable (_ initiator: Bool, _ handshakeHash: [UInt8]) -> [UInt8]

    public static func sync(_ networkKey: NetworkKey) -> NoiseProfile {
        NoiseProfile(prologue: SyncProtocol.prologue, presharedKey: networkKey.bytes,
                     identityMessage: { SyncProtocol.identityMessage(initiator: $0, handshakeHash: $1) })
    }

    public static let residents = NoiseProfile(
        prologue: ResidentProtocol.prologue, presharedKey: nil,
        identityMessage: { ResidentProtocol.identityMessage(initiator: $0, handshakeHash: $1) })
}

/// Runs the Noise handshake over frames, then the identity exchange, then encrypts and
/// decrypts every sync message. Nothing reaches the layers above until the peer has proven
/// both the network key (the handshake's pre-shared key) and its building key (a signature
/// over the handshake hash); a peer without the network key gets only ephemeral keys.
public final class NoiseSessionHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = SyncInbound
    public typealias OutboundIn = [UInt8]
    public typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking(NoiseHandshake)
        case awaitingIdentity(NoiseTransport)
        case established(NoiseTransport)
        case failed
    }

    private var state: State
    private let signingKey: SigningKey
    private let profile: NoiseProfile
    private let handshakeTimeout: TimeAmount
    private var timeout: Scheduled<Void>?

    public convenience init(initiator: Bool, signingKey: SigningKey, networkKey: NetworkKey, handshakeTimeout: TimeAmount = .seconds(10)) {
        self.init(initiator: initiator, signingKey: signingKey, profile: .sync(networkKey), handshakeTimeout: handshakeTimeout)
    }

    public init(initiator: Bool, signingKey: SigningKey, profile: NoiseProfile, handshakeTimeout: TimeAmount = .seconds(10)) {
        self.signingKey = signingKey
        self.profile = profile
        self.handshakeTimeout = handshakeTimeout
        state = .handshaking(NoiseHandshake(
            role: initiator ? .initiator : .responder, prologue: profile.prologue,
            staticKey: .generate(), presharedKey: profile.presharedKey))
    }

    /// The session's handshake hash, once the handshake is complete (channel binding).
    public private(set) var handshakeHash: [UInt8] = []

    public func channelActive(context: ChannelHandlerContext) {
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timeout = context.eventLoop.scheduleTask(in: handshakeTimeout) {
            if case .established = bound.value.handler.state { return }
            bound.value.context.fireErrorCaught(SyncTransportError.handshakeTimeout)
            bound.value.context.close(promise: nil)
        }
        if case .handshaking(var handshake) = state, handshake.role == .initiator {
            do {
                let first = try handshake.writeMessage()
                state = .handshaking(handshake)
                writeFrame(first, context: context)
            } catch {
                fail(context: context, error)
            }
        }
        context.fireChannelActive()
    }

    public func channelInactive(context: ChannelHandlerContext) {
        timeout?.cancel()
        context.fireChannelInactive()
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var frame = unwrapInboundIn(data)
        let bytes = frame.readBytes(length: frame.readableBytes) ?? []
        do {
            switch state {
            case .handshaking(var handshake):
                _ = try handshake.readMessage(bytes)
                if !handshake.isComplete {
                    writeFrame(try handshake.writeMessage(), context: context)
                }
                if handshake.isComplete {
                    var transport = try handshake.split()
                    let proof = signingKey.sign(profile.identityMessage(handshake.role == .initiator, handshake.handshakeHash))
                    let identity = SyncMessage.identity(building: signingKey.publicKey, signature: proof).encoded()
                    writeFrame(try transport.encrypt(identity), context: context)
                    state = .awaitingIdentity(transport)
                    peerIsInitiator = handshake.role == .responder
                    handshakeHash = handshake.handshakeHash
                } else {
                    state = .handshaking(handshake)
                }
            case .awaitingIdentity(var transport):
                let plaintext = try transport.decrypt(bytes[...])
                guard case .known(.identity(let building, let signature)) = try SyncMessage.decode(plaintext) else {
                    throw SyncTransportError.badIdentity("the first message was not an identity proof")
                }
                let signed = profile.identityMessage(peerIsInitiator, handshakeHash)
                guard Ed25519.verify(signature: signature.bytes, message: signed, publicKey: building.bytes) else {
                    throw SyncTransportError.badIdentity("the signature does not match the building key")
                }
                state = .established(transport)
                timeout?.cancel()
                context.fireChannelRead(wrapInboundOut(.established(building, handshakeHash: handshakeHash)))
            case .established(var transport):
                let plaintext = try transport.decrypt(bytes[...])
                state = .established(transport)
                context.fireChannelRead(wrapInboundOut(.message(plaintext)))
            case .failed:
                return
            }
        } catch {
            fail(context: context, error)
        }
    }

    private var peerIsInitiator = false

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .established(var transport) = state else {
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        do {
            let ciphertext = try transport.encrypt(unwrapOutboundIn(data))
            state = .established(transport)
            context.write(wrapOutboundOut(context.channel.allocator.buffer(bytes: ciphertext)), promise: promise)
        } catch {
            promise?.fail(error)
            fail(context: context, error)
        }
    }

    private func writeFrame(_ bytes: [UInt8], context: ChannelHandlerContext) {
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(bytes: bytes)), promise: nil)
    }

    private func fail(context: ChannelHandlerContext, _ error: any Error) {
        state = .failed
        timeout?.cancel()
        if let noise = error as? NoiseError {
            context.fireErrorCaught(SyncTransportError.noise(noise))
        } else {
            context.fireErrorCaught(error)
        }
        context.close(promise: nil)
    }
}
