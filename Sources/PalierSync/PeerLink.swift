import Logging
import NIOCore
import PalierCore
import PalierCrypto

/// One session's stream as the service sees it: the channel, and the queue that paces what is
/// sent on it. A peer is handed at most `inFlightLimit` bytes at a time; the rest waits here,
/// so that a slow peer is paced and nobody else waits for it. Used only from the service actor.
final class PeerLink {
    let channel: any Channel
    /// Who the remote side is, for logs and the peer table ("192.0.2.7:7447").
    let address: String
    private let queue = OutboundQueue()
    private let inFlightLimit: Int

    init(channel: any Channel, address: String, inFlightLimit: Int) {
        self.channel = channel
        self.address = address
        self.inFlightLimit = inFlightLimit
    }

    var waitingBytes: Int { queue.waitingBytes }

    /// Bytes wait in the queue or in flight (the stall check then needs a clock).
    var isBusy: Bool { queue.waitingBytes + queue.inFlight > 0 }

    func enqueue(_ bytes: [UInt8], now: ContinuousClock.Instant) { queue.append(bytes, now: now) }

    /// Hands queued messages to the channel while less than the limit is in flight; `written`
    /// is called (on the channel's event loop) with each message's size when it is written or
    /// fails, and must come back through ``completed(_:now:)``.
    func drain(written: @escaping @Sendable (Int, Bool) -> Void) {
        while queue.inFlight < inFlightLimit, let bytes = queue.next() {
            channel.writeAndFlush(bytes).whenComplete { result in
                if case .success = result { written(bytes.count, true) } else { written(bytes.count, false) }
            }
        }
    }

    func completed(_ count: Int, now: ContinuousClock.Instant) { queue.completed(count, now: now) }

    /// Data waits and nothing was written for `timeout`: the peer stopped reading.
    func isStalled(now: ContinuousClock.Instant, after timeout: Duration) -> Bool { queue.isStalled(now: now, after: timeout) }

    /// Sends `bye` (ahead of what waits in the queue) and closes once it is written.
    func sayGoodbye(_ reason: SyncMessage.ByeReason, _ text: String) { Self.sayGoodbye(on: channel, reason, text) }

    /// The same on a session's channel that has no link (refused, or ending).
    static func sayGoodbye(on channel: any Channel, _ reason: SyncMessage.ByeReason, _ text: String) {
        channel.writeAndFlush(SyncMessage.bye(reason, text).encoded()).whenComplete { _ in channel.close(promise: nil) }
    }

    func close() { channel.close(promise: nil) }
}

extension SyncSettings {
    /// Puts the sync pipeline on a transport's channel (on its event loop): frames, the Noise
    /// session with the identity proof, then the bridge that hands events, in order, to
    /// `continuation`.
    func configure(_ channel: any Channel, initiator: Bool, signingKey: SigningKey, networkKey: NetworkKey, logger: Logger,
                   continuation: AsyncStream<SyncInbound>.Continuation, transport: any SyncTransport) throws {
        let handshakeTimeout = transport.handshakeTimeout.map { max($0, self.handshakeTimeout) } ?? self.handshakeTimeout
        let timeout = TimeAmount.nanoseconds(handshakeTimeout.components.seconds * 1_000_000_000
            + handshakeTimeout.components.attoseconds / 1_000_000_000)
        try channel.pipeline.syncOperations.addHandlers([
            ByteToMessageHandler(SyncFrameDecoder()),
            MessageToByteHandler(SyncFrameEncoder()),
            NoiseSessionHandler(initiator: initiator, signingKey: signingKey, networkKey: networkKey, handshakeTimeout: timeout),
            SyncEventBridge(continuation: continuation, logger: logger),
        ])
    }
}

/// One peer's outgoing messages: those waiting, and the bytes handed to the socket and not yet
/// written. Used only from the service actor.
final class OutboundQueue {
    private var waiting: [[UInt8]] = []
    private var head = 0
    private(set) var waitingBytes = 0
    private(set) var inFlight = 0
    private var lastProgress: ContinuousClock.Instant?

    func append(_ bytes: [UInt8], now: ContinuousClock.Instant) {
        if waitingBytes == 0 && inFlight == 0 { lastProgress = now }
        waiting.append(bytes)
        waitingBytes += bytes.count
    }

    func next() -> [UInt8]? {
        guard head < waiting.count else { return nil }
        let bytes = waiting[head]
        head += 1
        if head > 1024 && head * 2 > waiting.count {
            waiting.removeFirst(head)
            head = 0
        }
        waitingBytes -= bytes.count
        inFlight += bytes.count
        return bytes
    }

    func completed(_ count: Int, now: ContinuousClock.Instant) {
        inFlight -= count
        lastProgress = now
    }

    /// Data waits and nothing was written for `timeout`.
    func isStalled(now: ContinuousClock.Instant, after timeout: Duration) -> Bool {
        guard waitingBytes + inFlight > 0, let lastProgress else { return false }
        return now - lastProgress > timeout
    }
}

/// The end of a sync pipeline: hands events to the service's stream, in order.
final class SyncEventBridge: ChannelInboundHandler {
    typealias InboundIn = SyncInbound
    let continuation: AsyncStream<SyncInbound>.Continuation
    let logger: Logger

    init(continuation: AsyncStream<SyncInbound>.Continuation, logger: Logger) {
        self.continuation = continuation
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        continuation.yield(unwrapInboundIn(data))
    }

    func channelInactive(context: ChannelHandlerContext) {
        continuation.finish()
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.notice("sync connection failed", metadata: ["error": "\(error)", "address": "\(context.remoteAddress?.description ?? "?")"])
        continuation.finish()
        context.close(promise: nil)
    }
}
