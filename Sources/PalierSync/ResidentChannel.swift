import Logging
import NIOConcurrencyHelpers
import NIOCore
import PalierCore
import PalierCrypto
import ServiceLifecycle

/// What the residents' channel asks of the building (PalierNode answers): who is a member,
/// redeeming enrolment codes, and taking in residents' envelopes.
public protocol ResidentDesk: Sendable {
    /// The live role of `key` in the building, nil when it has none (never granted, revoked);
    /// throws when the store cannot tell.
    func role(of key: PublicKey) async throws -> Role?
    /// Redeems enrolment code `code` for `key` if `proof` is the code secret's HMAC of
    /// ``ResidentProtocol/joinMessage(handshakeHash:resident:)``.
    func join(code: [UInt8], proof: [UInt8], handshakeHash: [UInt8], key: PublicKey) async -> ResidentJoinOutcome
    /// Opens the open code whose short form is named `shortID` for one PAKE run (§15.8),
    /// spending one of its tries: every run is a guess.
    func openShortCode(_ shortID: UInt16) async -> ShortCodeOpening
    /// Redeems code `code` for `key`, whose secret the session proved by the short code's PAKE;
    /// `spentTry`: the run's try was spent by ``openShortCode(_:)``.
    func redeem(code: [UInt8], key: PublicKey, spentTry: Bool) async -> ResidentJoinOutcome
    /// Takes in one envelope submitted by member `key`, with the images sent before it in this
    /// connection (whole or not: the desk checks them against what the envelope names).
    func submit(_ envelope: [UInt8], from key: PublicKey, images: [BlobID: [UInt8]]) async -> ResidentMessage.Answer
}

public enum ResidentJoinOutcome: Sendable, Equatable {
    case joined(role: Role, displayName: String, grant: EnvelopeID)
    case refused(ResidentMessage.Refusal, String)
}

public enum ShortCodeOpening: Sendable, Equatable {
    /// The code's id, its short form's password (§15.8) and the tries left after this one.
    case open(code: [UInt8], password: [UInt8], triesLeft: Int)
    case refused(ResidentMessage.Refusal, String)
}

/// The node's side of the residents' channel (docs/protocol.md part 3): it listens on its own
/// transport (TCP, port 7482 by default), runs plain Noise XX with the building key as the
/// proven identity, then serves one resident per connection: `join` from a key that is not a
/// member yet, `submit` from a member; each submission answered before the next is read.
/// Submissions are rate-limited per key, across connections.
public struct ResidentService: Service {
    public struct Settings: Sendable {
        public var transport: any SyncTransport
        /// Submissions a key may make at once, then one per `refill`.
        public var burst: Int = 20
        public var refill: Duration = .seconds(3)
        /// A connection with nothing to say for this long is closed.
        public var idleTimeout: Duration = .seconds(60)
        /// Connections at once from one address, and in all: the channel is open to anyone on
        /// the network (no network key), so a handshake costs the node before it knows who talks.
        public var connectionsPerAddress = 8
        public var connections = 64

        public init(transport: any SyncTransport) { self.transport = transport }
    }

    let settings: Settings
    let signingKey: SigningKey
    let desk: any ResidentDesk
    let logger: Logger
    private let buckets = NIOLockedValueBox<[PublicKey: (tokens: Double, at: ContinuousClock.Instant)]>([:])
    private let port = NIOLockedValueBox<Int?>(nil)
    /// Open connections by remote address.
    private let open = NIOLockedValueBox<[String: Int]>([:])

    public init(settings: Settings, signingKey: SigningKey, desk: any ResidentDesk, logger: Logger) {
        self.settings = settings
        self.signingKey = signingKey
        self.desk = desk
        self.logger = logger
    }

    /// The port it listens on, once it does (tests listen on port 0).
    public var boundPort: Int? { port.withLockedValue { $0 } }

    public func run() async throws {
        let listener: SyncListener
        do {
            listener = try await settings.transport.listen { [self] channel, remote in
                guard admit(channel) else {
                    logger.warning("too many residents' connections; one refused", metadata: ["address": "\(remote)"])
                    // A failed initializer makes NIO close the connection.
                    return channel.eventLoop.makeFailedFuture(ChannelError.inappropriateOperationForState)
                }
                let (events, continuation) = AsyncStream<SyncInbound>.makeStream()
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SyncFrameDecoder()),
                        MessageToByteHandler(SyncFrameEncoder()),
                        NoiseSessionHandler(initiator: false, signingKey: signingKey, profile: .residents),
                        SyncEventBridge(continuation: continuation, logger: logger),
                    ])
                    Task { await self.serve(channel: channel, events: events, remote: remote) }
                }
            }
        } catch {
            // The screen and sync run on: residents cannot post from their machines until restart.
            logger.error("the residents' channel cannot listen; residents cannot post from their own machines until the node is restarted",
                         metadata: ["error": "\(error)"])
            try await gracefulShutdown()
            return
        }
        port.withLockedValue { $0 = listener.port }
        logger.info("residents' channel listening", metadata: ["address": "\(listener.description)"])
        defer { listener.close() }
        try await gracefulShutdown()
    }

    private func serve(channel: any Channel, events: AsyncStream<SyncInbound>, remote: String) async {
        var resident: (key: PublicKey, handshakeHash: [UInt8])?
        /// A short code's PAKE run waiting for the resident's confirmation.
        var claim: (code: [UInt8], key: CPaceKey, triesLeft: Int)?
        /// Images sent for the next `submit` (at most four, each at most 1 MiB).
        var images: [BlobID: [UInt8]] = [:]
        let lastActivity = NIOLockedValueBox(ContinuousClock.now)
        let idle = Task { [timeout = settings.idleTimeout] in
            // Closed after `idleTimeout` without a message.
            while !Task.isCancelled {
                let since = ContinuousClock.now - lastActivity.withLockedValue { $0 }
                if since >= timeout {
                    channel.close(promise: nil)
                    return
                }
                try await Task.sleep(for: timeout - since)
            }
        }
        defer { idle.cancel() }
        for await event in events {
            lastActivity.withLockedValue { $0 = ContinuousClock.now }
            switch event {
            case .established(let key, let hash):
                resident = (key, hash)
            case .message(let bytes):
                guard let session = resident else { return }
                let message: ResidentMessage
                do {
                    message = try ResidentMessage.decode(bytes)
                } catch {
                    bye(channel, .protocolViolation, "that message could not be read: \(error)")
                    return
                }
                switch message {
                case .join(let code, let proof):
                    switch await desk.join(code: code, proof: proof, handshakeHash: session.handshakeHash, key: session.key) {
                    case .joined(let role, let name, let grant):
                        send(channel, .joined(role: role, displayName: name, grant: grant))
                        logger.notice("a resident joined", metadata: ["key": "\(session.key.shortText)", "role": "\(role)"])
                    case .refused(let reason, let text):
                        logger.notice("a join was refused", metadata: ["key": "\(session.key.shortText)", "reason": "\(text)"])
                        bye(channel, reason, text)
                        return
                    }
                case .submit(let envelope):
                    // Asked at each submission: a key revoked during the session is refused.
                    guard await isMember(session.key, channel) else { return }
                    guard take(session.key) else {
                        logger.warning("a resident's key is over its submission limit", metadata: ["key": "\(session.key.shortText)"])
                        bye(channel, .rateLimited, "too many posts at once; try again in a minute")
                        return
                    }
                    let answer = await desk.submit(envelope, from: session.key, images: images)
                    images = [:]
                    if answer.reason == .retryLater {
                        logger.error("a resident's post could not be taken in; it stays in their outbox", metadata: ["detail": "\(answer.detail)"])
                    }
                    send(channel, .answer(answer))
                case .claim(let shortID, let element):
                    guard claim == nil else {
                        bye(channel, .protocolViolation, "one claim per connection")
                        return
                    }
                    switch await desk.openShortCode(shortID) {
                    case .refused(let reason, let text):
                        logger.notice("a short code was refused", metadata: ["key": "\(session.key.shortText)", "reason": "\(text)"])
                        bye(channel, reason, text)
                        return
                    case .open(let code, let password, let left):
                        let run: CPace
                        let key: CPaceKey
                        do {
                            run = try CPace(password: password, sessionID: session.handshakeHash)
                            key = try run.key(peerElement: element, initiator: false)
                        } catch {
                            bye(channel, .protocolViolation, "that claim's element is not valid")
                            return
                        }
                        claim = (code, key, left)
                        send(channel, .challenge(element: run.element, confirmation: key.confirmation(initiator: false)))
                    }
                case .confirm(let confirmation):
                    guard let pending = claim else {
                        bye(channel, .protocolViolation, "a confirmation without a claim")
                        return
                    }
                    guard NoiseHMAC.equal(confirmation, pending.key.confirmation(initiator: true)) else {
                        logger.notice("a short code was mistaken", metadata: ["key": "\(session.key.shortText)", "triesLeft": "\(pending.triesLeft)"])
                        bye(channel, .wrongSecret, "\(pending.triesLeft)")
                        return
                    }
                    switch await desk.redeem(code: pending.code, key: session.key, spentTry: true) {
                    case .joined(let role, let name, let grant):
                        send(channel, .joined(role: role, displayName: name, grant: grant))
                        logger.notice("a resident joined with a short code", metadata: ["key": "\(session.key.shortText)", "role": "\(role)"])
                        claim = nil
                    case .refused(let reason, let text):
                        logger.notice("a join was refused", metadata: ["key": "\(session.key.shortText)", "reason": "\(text)"])
                        bye(channel, reason, text)
                        return
                    }
                case .blob(let id, let offset, let bytes):
                    // Only a member sends images, in order, at most four of 1 MiB before a submit.
                    if images[id] == nil {
                        guard await isMember(session.key, channel) else { return }
                        guard images.count < Limits.maximumImages else {
                            bye(channel, .protocolViolation, "more than \(Limits.maximumImages) images before a submit")
                            return
                        }
                    }
                    guard Int(offset) == images[id]?.count ?? 0 else {
                        bye(channel, .protocolViolation, "an image chunk out of order")
                        return
                    }
                    images[id, default: []] += bytes
                case .identity, .joined, .answer, .bye, .challenge:
                    bye(channel, .protocolViolation, "a resident does not send that message")
                    return
                }
            }
        }
    }

    /// Whether `key` holds a live role; if not, or if the store cannot tell, the resident hears
    /// why and the connection ends.
    private func isMember(_ key: PublicKey, _ channel: any Channel) async -> Bool {
        let role: Role?
        do { role = try await desk.role(of: key) } catch {
            logger.error("the store could not tell a resident's role", metadata: ["error": "\(error)"])
            bye(channel, .retryLater, "the node cannot read its members just now")
            return false
        }
        guard role != nil else {
            bye(channel, .notAMember, "this key holds no role in this building")
            return false
        }
        return true
    }

    /// Counts `channel` against its address's and the total limit; false (and nothing counted)
    /// when either is reached. The count goes when the channel closes.
    private func admit(_ channel: any Channel) -> Bool {
        let address = channel.remoteAddress?.ipAddress ?? "?"
        let admitted = open.withLockedValue { open in
            guard open[address, default: 0] < settings.connectionsPerAddress, open.values.reduce(0, +) < settings.connections else { return false }
            open[address, default: 0] += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [open] _ in
                open.withLockedValue { open in
                    open[address, default: 1] -= 1
                    if open[address] == 0 { open[address] = nil }
                }
            }
        }
        return admitted
    }

    /// Takes one submission token from `key`'s bucket.
    private func take(_ key: PublicKey) -> Bool {
        let now = ContinuousClock.now
        return buckets.withLockedValue { buckets in
            var (tokens, at) = buckets[key] ?? (Double(settings.burst), now)
            let refill = Double((now - at) / settings.refill)
            tokens = min(Double(settings.burst), tokens + refill)
            guard tokens >= 1 else {
                buckets[key] = (tokens, now)
                return false
            }
            buckets[key] = (tokens - 1, now)
            return true
        }
    }

    private func send(_ channel: any Channel, _ message: ResidentMessage) {
        channel.writeAndFlush(message.encoded(), promise: nil)
    }

    private func bye(_ channel: any Channel, _ reason: ResidentMessage.Refusal, _ text: String) {
        channel.writeAndFlush(ResidentMessage.bye(reason, text).encoded()).whenComplete { _ in
            channel.close(promise: nil)
        }
    }
}
