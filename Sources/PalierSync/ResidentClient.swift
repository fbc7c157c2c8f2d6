import NIOCore
import NIOPosix
#if canImport(Glibc)
import Glibc
#endif
import PalierCore
import PalierCrypto
import PalierDiscovery

/// Why a resident's client could not do what it was asked.
public enum ResidentClientError: Error, Sendable, Equatable {
    /// No address answered (`tried`: what was tried, with the last error).
    case unreachable(tried: [String], lastError: String)
    /// A node answered, but with another building's key: not the resident's building.
    case wrongBuilding(PublicKey)
    /// The node closed the session with a reason.
    case refused(ResidentMessage.Refusal, String)
    /// A node accepted a short code without proving that it knows it: not the building's.
    case codeNotProven
    /// The connection ended or the node did not answer in time.
    case connectionLost
    /// The node answered something that does not belong here.
    case unexpectedAnswer
}

/// A resident's session with their building's node (docs/protocol.md part 3): dials, checks
/// that the node proves the expected building key, then asks one thing at a time.
public final class ResidentConnection: @unchecked Sendable {
    private let channel: any Channel
    private var events: AsyncStream<SyncInbound>.AsyncIterator
    /// The handshake hash, which the join proof binds to.
    public let handshakeHash: [UInt8]
    /// The key the node proved: its building's.
    public let node: PublicKey
    public let timeout: Duration

    /// Dials the first of `addresses` that answers and proves `building` (nil: any building,
    /// for a short code, which the node then has to prove it knows).
    public static func open(addresses: [String], building: PublicKey?, key: SigningKey, timeout: Duration = .seconds(10)) async throws(ResidentClientError) -> ResidentConnection {
        var tried: [String] = []
        var lastError = "no address to try"
        for address in addresses {
            tried.append(address)
            guard let endpoint = Endpoint(address) else {
                lastError = "\(address) is not host:port"
                continue
            }
            let (stream, continuation) = AsyncStream<SyncInbound>.makeStream()
            let transport = TCPTransport(host: "0.0.0.0", port: 0)
            let channel: any Channel
            do {
                channel = try await transport.connect(to: endpoint) { channel in
                    channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandlers([
                            ByteToMessageHandler(SyncFrameDecoder()),
                            MessageToByteHandler(SyncFrameEncoder()),
                            NoiseSessionHandler(initiator: true, signingKey: key, profile: .residents),
                            ResidentClientBridge(continuation: continuation),
                        ])
                    }
                }
            } catch {
                lastError = Self.reason(error)
                continue
            }
            var events = stream.makeAsyncIterator()
            let first = await Self.next(&events, channel: channel, timeout: timeout)
            guard case .established(let proven, let hash) = first else {
                channel.close(promise: nil)
                lastError = "the handshake did not complete"
                continue
            }
            if let building, proven != building {
                channel.close(promise: nil)
                throw .wrongBuilding(proven)
            }
            return ResidentConnection(channel: channel, events: events, handshakeHash: hash, node: proven, timeout: timeout)
        }
        throw .unreachable(tried: tried, lastError: lastError)
    }

    private init(channel: any Channel, events: AsyncStream<SyncInbound>.AsyncIterator, handshakeHash: [UInt8], node: PublicKey, timeout: Duration) {
        self.channel = channel
        self.events = events
        self.handshakeHash = handshakeHash
        self.node = node
        self.timeout = timeout
    }

    /// A connection failure in a few words ("connection refused", "no answer").
    static func reason(_ error: any Error) -> String {
        if let connection = error as? NIOConnectionError, let first = connection.connectionErrors.first {
            return reason(first.error)
        }
        if let io = error as? IOError {
            switch io.errnoCode {
            case ECONNREFUSED: return "connection refused: is the node running?"
            case EHOSTUNREACH, ENETUNREACH: return "no route to that address"
            case ETIMEDOUT: return "no answer"
            default: return io.description
            }
        }
        if error is ChannelError { return "no answer" }
        return "\(error)"
    }

    /// Redeems `code` for this session's key.
    public func join(_ code: EnrolmentCode, key: PublicKey) async throws(ResidentClientError) -> (role: Role, displayName: String, grant: EnvelopeID) {
        let proof = NoiseHMAC.sha256(key: code.secret, ResidentProtocol.joinMessage(handshakeHash: handshakeHash, resident: key))
        switch try await ask(.join(code: code.id, proof: proof)) {
        case .joined(let role, let name, let grant): return (role, name, grant)
        default: throw .unexpectedAnswer
        }
    }

    /// Redeems a short code for this session's key (§15.8): a CPace run bound to the session,
    /// in which the node proves it knows the code before the resident confirms. A node that
    /// does not know it learns only that its one guess was wrong.
    public func join(_ code: ShortEnrolmentCode) async throws(ResidentClientError) -> (role: Role, displayName: String, grant: EnvelopeID) {
        let run: CPace
        do { run = try CPace(password: code.password, sessionID: handshakeHash) } catch { throw .unexpectedAnswer }
        guard case .challenge(let element, let confirmation) = try await ask(.claim(shortID: code.shortID, element: run.element)) else {
            throw .unexpectedAnswer
        }
        let key: CPaceKey
        do { key = try run.key(peerElement: element, initiator: true) } catch { throw .unexpectedAnswer }
        // Confirmed even when the node's confirmation is wrong: the node then says how many
        // tries are left, and a wrong confirmation tells it nothing.
        let nodeKnowsTheCode = NoiseHMAC.equal(confirmation, key.confirmation(initiator: false))
        let answer = try await ask(.confirm(key.confirmation(initiator: true)))
        guard nodeKnowsTheCode else { throw .codeNotProven }
        guard case .joined(let role, let name, let grant) = answer else { throw .unexpectedAnswer }
        return (role, name, grant)
    }

    /// Submits one signed envelope, after the bytes of the images it names (`images`, in
    /// chunks the node appends; no answer until the submit's), and returns the node's answer.
    public func submit(_ envelope: [UInt8], images: [(BlobID, [UInt8])] = []) async throws(ResidentClientError) -> ResidentMessage.Answer {
        for (id, bytes) in images {
            for offset in stride(from: 0, to: bytes.count, by: SyncProtocol.maximumChunkBytes) {
                let chunk = Array(bytes[offset..<min(offset + SyncProtocol.maximumChunkBytes, bytes.count)])
                channel.write(ResidentMessage.blob(id, offset: UInt32(offset), bytes: chunk).encoded(), promise: nil)
            }
        }
        switch try await ask(.submit(envelope)) {
        case .answer(let answer): return answer
        default: throw .unexpectedAnswer
        }
    }

    public func close() {
        channel.close(promise: nil)
    }

    /// Sends one message and waits for the answer (a `bye` is thrown as a refusal).
    package func ask(_ message: ResidentMessage) async throws(ResidentClientError) -> ResidentMessage {
        channel.writeAndFlush(message.encoded(), promise: nil)
        guard case .message(let bytes) = await Self.next(&events, channel: channel, timeout: timeout) else { throw .connectionLost }
        guard let answer = try? ResidentMessage.decode(bytes) else { throw .unexpectedAnswer }
        if case .bye(let reason, let text) = answer {
            channel.close(promise: nil)
            throw .refused(reason, text)
        }
        return answer
    }

    /// The next event, or nil when the connection ends; a node silent for `timeout` has its
    /// connection closed (and so ends it).
    private static func next(_ events: inout AsyncStream<SyncInbound>.AsyncIterator, channel: any Channel, timeout: Duration) async -> SyncInbound? {
        let (seconds, attoseconds) = timeout.components
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)) {
            channel.close(promise: nil)
        }
        defer { timer.cancel() }
        return await events.next()
    }
}

/// Passes the Noise layer's events to the client; the stream ends with the connection.
final class ResidentClientBridge: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SyncInbound
    let continuation: AsyncStream<SyncInbound>.Continuation

    init(continuation: AsyncStream<SyncInbound>.Continuation) { self.continuation = continuation }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) { continuation.yield(unwrapInboundIn(data)) }
    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        continuation.finish()
        context.close(promise: nil)
    }
}
