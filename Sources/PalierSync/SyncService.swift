import Logging
import NIOCore
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierStore
import ServiceLifecycle
import Synchronization

/// Records which building's message the node is handling, in a place that outlives the
/// process: if the node dies (a trap, a signal) in the middle, its next start can refuse that
/// building for a while rather than crash again at the next session.
public protocol MessageJournal: Sendable {
    func handling(messageFrom building: PublicKey)
    func handled()
}

/// Where and how a node syncs.
public struct SyncSettings: Sendable {
    /// Address to listen on ("0.0.0.0": every interface; "127.0.0.1": this machine only).
    public var listenHost: String
    /// TCP port; 0 picks a free one (tests).
    public var port: Int
    /// Peers to dial, as "host:port", besides those the discoveries report.
    public var staticPeers: [String]
    public var engine: SyncEngine.Configuration
    /// Checks fetched blobs (``SyncEngine/blobCheck``); without it no blob is fetched.
    public var blobCheck: (@Sendable ([UInt8], BlobRecord) -> String?)?
    /// Bytes handed to a peer's socket and not yet taken by it: more waits in the peer's queue,
    /// so that a slow peer is paced instead of flooded.
    public var inFlightLimit = 256 << 10
    /// A peer with data waiting that takes nothing for this long has stopped reading: dropped.
    public var stallTimeout: Duration = .seconds(20)
    /// A peer whose queue grows past this many bytes is dropped.
    public var sendQueueLimit = 64 << 20
    public var handshakeTimeout: Duration = .seconds(10)
    /// Reconnection waits double from `minimumBackoff` up to `maximumBackoff`.
    public var minimumBackoff: Duration = .milliseconds(500)
    public var maximumBackoff: Duration = .seconds(60)
    /// How long a peer that misbehaved is refused.
    public var penalty: Duration = .seconds(300)
    /// The longest sleep of an idle node: changes are signalled in process (and the CLI's by
    /// the running node's control socket); one nobody signalled is seen within this time.
    public var changePoll: Duration = .seconds(30)
    /// Told around every message a peer sends, so that a node that dies handling one knows at
    /// its next start whom to suspend (PalierNode's `CrashJournal`).
    public var journal: (any MessageJournal)?
    /// Told the engine's figures when store failures during sync change: a new failure, or
    /// writes working again (for `palier status`).
    public var onStoreFailures: (@Sendable (SyncStatistics) -> Void)?
    /// Told the address of another node that proved this node's own building key: two nodes
    /// run under one key (a copied data directory, a restored backup beside the old box).
    public var onSameKeyElsewhere: (@Sendable (String) -> Void)?
    /// How long an onion peer's dialler waits before its first attempt when the node looks for
    /// neighbours on the local network (mDNS), so that a way there is found first.
    public var onionDelay: Duration = .seconds(3)
    /// How long the other end of a session with this node's own key has to show up in this
    /// process (a node that dialled itself) before the session counts as another node's.
    public var ownEndWait: Duration = .seconds(2)

    public init(listenHost: String, port: Int, staticPeers: [String], engine: SyncEngine.Configuration) {
        self.listenHost = listenHost
        self.port = port
        self.staticPeers = staticPeers
        self.engine = engine
    }
}

/// The sync side of a running node, as a connection manager: it listens on its transports,
/// runs the discoveries (static peers, mDNS) and dials each peer they report (with backoff),
/// refuses buildings under a penalty, keeps one session per building, and hands every
/// session's messages to one ``SyncEngine``. Protocol decisions are the engine's; the bytes'
/// way is the transports' (``SyncTransport``) and the pipeline's (frames, Noise); the pacing
/// of each peer is its ``PeerLink``'s.
public actor SyncService: Service {
    private let settings: SyncSettings
    private let signingKey: SigningKey
    private let networkKey: NetworkKey
    private let store: EnvelopeStore
    private let clock: any WallClock
    private let logger: Logger
    private let engine: SyncEngine
    private let discoveries: [any Discovery]
    private let transports: [any SyncTransport]

    private struct Connection {
        let link: PeerLink
        let remote: PublicKey
        let initiator: Bool
        var lastRecorded: UInt64
        var recordedName: String? = nil
        var recordedSync: UInt64? = nil
        var recordedRoundTrip: UInt64? = nil
    }
    private var connections: [PeerID: Connection] = [:]
    private var nextPeer: PeerID = 1
    private var penalties: [PublicKey: UInt64] = [:]
    /// Sessions that proved this node's own key, by handshake hash, and whether this end
    /// initiated: a node that dialled its own address sees both ends of one handshake.
    private var ownKeyEnds: [[UInt8]: Bool] = [:]
    /// Peers to dial, by discovery id, and the ids with a dialer running.
    private var targets: [String: DiscoveredPeer] = [:]
    private var dialing: Set<String> = []
    /// The building a dialled peer turned out to be, by discovery id (static peers announce none).
    private var buildingAt: [String: PublicKey] = [:]
    /// Peers whose last dialling round reached none of their endpoints, by discovery id.
    private var unreachable: Set<String> = []
    /// Where the service's own findings go (onion addresses learned from peers).
    private var ownFindings: AsyncStream<DiscoveryEvent>.Continuation?
    private var lastChangeCount: Int64 = -1
    /// When the clock loop next wakes by itself (Unix ms).
    private var wakeAt: UInt64 = 0
    /// Store failures already reported, and the cause last logged (each cause is logged once).
    private var reportedStoreFailures = (0, false)
    private var loggedStoreFailure: String?
    private let boundPort = Mutex<Int?>(nil)
    private let listenersSettled = Mutex(false)
    private let wakeCount = Atomic<Int>(0)

    /// `discoveries` report the peers to dial besides `settings.staticPeers`; `transports`
    /// carry the sessions (by default TCP on `settings.listenHost:settings.port`).
    public init(settings: SyncSettings, signingKey: SigningKey, networkKey: NetworkKey, store: EnvelopeStore, clock: any WallClock,
                logger: Logger, discoveries: [any Discovery] = [], transports: [any SyncTransport]? = nil) throws(StoreError) {
        self.settings = settings
        self.signingKey = signingKey
        self.networkKey = networkKey
        self.store = store
        self.clock = clock
        self.logger = logger
        let staticPeers = StaticDiscovery(addresses: settings.staticPeers) { address in
            logger.error("static peer is not host:port; left out", metadata: ["peer": "\(address)"])
        }
        self.discoveries = [staticPeers] + discoveries
        self.transports = transports ?? [TCPTransport(host: settings.listenHost, port: settings.port)]
        engine = try SyncEngine(store: store, crypto: SodiumCrypto(), configuration: settings.engine)
        engine.blobCheck = settings.blobCheck
        try store.markPeersDisconnected()
        // Buildings suspended earlier (one whose message the node died handling) stay refused.
        for suspension in try store.suspensions(now: clock.nowMillis()) { penalties[suspension.building] = suspension.until }
    }

    /// How many times the service's clock loop has woken (tests of an idle node).
    public nonisolated var wakeups: Int { wakeCount.load(ordering: .relaxed) }

    /// The TCP port the listener got (useful with port 0), once listening.
    public nonisolated var listeningPort: Int? { boundPort.withLock { $0 } }
    /// Whether every transport has been asked to listen (each one listening, or logged as
    /// unable to): the service is as ready as it will be.
    public nonisolated var hasSettledListeners: Bool { listenersSettled.withLock { $0 } }

    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown {
                try await self.serve()
            }
        } catch is CancellationError {
            // Shutting down.
        }
        for (peer, connection) in connections {
            connection.link.sayGoodbye(.shutdown, "node stopping")
            engine.sessionClosed(peer)
        }
    }

    private func serve() async throws {
        var listeners: [SyncListener] = []
        for transport in transports {
            do {
                let listener = try await transport.listen { [self] channel, remote in
                    let (events, continuation) = AsyncStream<SyncInbound>.makeStream()
                    return channel.eventLoop.makeCompletedFuture {
                        try self.settings.configure(channel, initiator: false, signingKey: signingKey, networkKey: networkKey,
                                                    logger: logger, continuation: continuation, transport: transport)
                        Task { await self.serve(channel: channel, events: events, initiator: false, address: remote, dialID: nil) }
                    }
                }
                listeners.append(listener)
                logger.info("sync listening", metadata: ["address": "\(listener.description)", "transport": "\(transport.name)", "network": "\(networkKey.id)"])
            } catch {
                // The screen must keep working: run on, dialling out, without this listener.
                logger.error("sync cannot listen; neighbours cannot dial this node this way until it is restarted", metadata: [
                    "transport": "\(transport.name)", "error": "\(error)",
                ])
            }
        }
        let port = listeners.lazy.compactMap(\.port).first
        boundPort.withLock { $0 = port }
        listenersSettled.withLock { $0 = true }
        defer { for listener in listeners { listener.close() } }
        let (found, continuation) = AsyncStream<DiscoveryEvent>.makeStream()
        self.ownFindings = continuation
        reportKnownOnions()
        try await withThrowingDiscardingTaskGroup { tasks in
            for discovery in discoveries {
                tasks.addTask { await discovery.run(port: port, events: continuation) }
            }
            tasks.addTask { try await self.ticks() }
            for await event in found {
                if let id = discovered(event) {
                    tasks.addTask { await self.dial(id) }
                }
            }
        }
    }

    // MARK: - Onion addresses

    /// Whether a transport of this service reaches onion services.
    private var dialsOnions: Bool {
        transports.contains { $0.canDial(Endpoint(host: "x\(OnionAddress.suffix)", port: 1)) }
    }

    /// The onion addresses held (learned before this start) and those invites introduced: peers
    /// to dial when a transport reaches onions.
    private func reportKnownOnions() {
        guard dialsOnions else { return }
        do {
            for announcement in try store.onionAnnouncements() where announcement.building != signingKey.publicKey {
                ownFindings?.yield(.appeared(Self.onionPeer(announcement)))
            }
            for text in try store.introductions() {
                guard let endpoint = Endpoint(text) else { continue }
                ownFindings?.yield(.appeared(DiscoveredPeer(id: "introduced:\(text)", endpoints: [endpoint])))
            }
        } catch {
            engine.recordStoreFailure(error)
            logger.error("the onion addresses held could not be read; they are learned again from peers", metadata: ["error": "\(error)"])
        }
    }

    static func onionPeer(_ announcement: OnionAnnouncement) -> DiscoveredPeer {
        DiscoveredPeer(id: "onion:\(announcement.building.text)", building: announcement.building,
                       endpoints: [Endpoint(host: announcement.address.host, port: Int(announcement.port))])
    }

    private static func isOnion(_ peer: DiscoveredPeer) -> Bool {
        !peer.endpoints.isEmpty && peer.endpoints.allSatisfy { $0.host.hasSuffix(OnionAddress.suffix) }
    }

    /// Whether `building` has a way other than an onion that is not known to fail: the local
    /// network (mDNS) or a static address stays first, the onion is used when there is none.
    private func hasOtherPath(to building: PublicKey, than id: String) -> Bool {
        targets.values.contains { peer in
            peer.id != id && !Self.isOnion(peer) && (peer.building == building || buildingAt[peer.id] == building) && !unreachable.contains(peer.id)
        }
    }

    /// Takes in what a discovery reported; returns the id of a peer that needs a dialer.
    private func discovered(_ event: DiscoveryEvent) -> String? {
        switch event {
        case .appeared(let peer), .changed(let peer):
            if targets[peer.id] == nil {
                logger.info(Self.isOnion(peer) ? "a neighbour's onion address to dial" : "neighbour found", metadata: [
                    "peer": "\(peer.name ?? peer.id)", "endpoints": "\(peer.endpoints.map(\.description).joined(separator: " "))",
                ])
            }
            targets[peer.id] = peer
            guard !dialing.contains(peer.id) else { return nil }
            dialing.insert(peer.id)
            return peer.id
        case .disappeared(let id):
            if let peer = targets.removeValue(forKey: id) {
                logger.info("neighbour gone from the local network", metadata: ["peer": "\(peer.name ?? id)"])
            }
            return nil
        }
    }

    // MARK: - Connections

    private func serve(channel: any Channel, events: AsyncStream<SyncInbound>, initiator: Bool, address: String, dialID: String?) async {
        var peer: PeerID?
        for await event in events {
            switch event {
            case .established(let remote, let handshakeHash):
                if let dialID { buildingAt[dialID] = remote }
                if remote == signingKey.publicKey {
                    metOwnKey(handshakeHash: handshakeHash, initiator: initiator, address: address)
                    PeerLink.sayGoodbye(on: channel, .other, "this is the same building")
                    continue
                }
                switch opened(channel: channel, remote: remote, initiator: initiator, address: address) {
                case .success(let id):
                    peer = id
                case .failure(let refusal):
                    PeerLink.sayGoodbye(on: channel, refusal.reason, refusal.text)
                }
            case .message(let bytes):
                if let peer { received(bytes, from: peer) }
            }
        }
        if let peer { closed(peer) }
        // The stream ended: the peer went, or this node is stopping (then it says so). Either
        // way the channel goes, so that no peer is left sending into a connection nobody reads.
        if Task.isCancelled {
            PeerLink.sayGoodbye(on: channel, .shutdown, "node stopping")
        } else {
            channel.close(promise: nil)
        }
    }

    struct Refusal: Error {
        let reason: SyncMessage.ByeReason
        let text: String
    }

    /// A session proved this node's own key: refused, and either this node met itself (both
    /// ends of one handshake are here) or another node runs under the same key, which both
    /// admins must hear of (each node sees the session from its side).
    private func metOwnKey(handshakeHash: [UInt8], initiator: Bool, address: String) {
        if let other = ownKeyEnds[handshakeHash], other != initiator {
            ownKeyEnds[handshakeHash] = nil
            logger.notice("refused a session with this node itself", metadata: ["address": "\(address)"])
            return
        }
        ownKeyEnds[handshakeHash] = initiator
        let wait = settings.ownEndWait
        Task {
            try? await Task.sleep(for: wait)
            self.ownKeyEndAlone(handshakeHash, address: address)
        }
    }

    private func ownKeyEndAlone(_ handshakeHash: [UInt8], address: String) {
        guard ownKeyEnds.removeValue(forKey: handshakeHash) != nil else { return }
        logger.error("another node runs under this building's key; stop one of them", metadata: ["address": "\(address)"])
        settings.onSameKeyElsewhere?(address)
    }

    private func opened(channel: any Channel, remote: PublicKey, initiator: Bool, address: String) -> Result<PeerID, Refusal> {
        let now = clock.nowMillis()
        if let until = penalties[remote], until > now {
            logger.notice("refused a session with a building that misbehaved", metadata: ["building": "\(remote.shortText)"])
            return .failure(Refusal(reason: .rateLimited, text: "refused for \((until - now) / 1000) s after misbehaving"))
        }
        // Both sides may dial at once: keep the session the building with the smaller key
        // initiated (both sides decide the same), or the older one when they are alike.
        if let (existing, connection) = connections.first(where: { $0.value.remote == remote }) {
            let mineFirst = signingKey.publicKey < remote
            let newWins = initiator == mineFirst && connection.initiator != mineFirst
            if !newWins { return .failure(Refusal(reason: .duplicateSession, text: "a session is already open")) }
            close(existing, reason: .duplicateSession, "replaced by a newer session")
        }
        let peer = nextPeer
        nextPeer += 1
        let link = PeerLink(channel: channel, address: address, inFlightLimit: settings.inFlightLimit)
        connections[peer] = Connection(link: link, remote: remote, initiator: initiator, lastRecorded: now)
        logger.info("session open", metadata: ["building": "\(remote.shortText)", "address": "\(address)", "initiator": "\(initiator)"])
        perform(engine.sessionOpened(peer, remote: remote, initiator: initiator, now: now))
        recordPeer(peer, connected: true)
        return .success(peer)
    }

    private func received(_ bytes: [UInt8], from peer: PeerID) {
        let now = clock.nowMillis()
        if let journal = settings.journal, let remote = connections[peer]?.remote {
            journal.handling(messageFrom: remote)
            defer { journal.handled() }
            perform(engine.receive(bytes, from: peer, now: now))
        } else {
            perform(engine.receive(bytes, from: peer, now: now))
        }
        // A message may make work due before the clock loop's wake-up (blob chunks paced for
        // this peer): the loop is woken to sleep again until then.
        // (Looked at only while chunks wait: nextTick walks every pending want, and this runs
        // for every message of a catch-up.)
        if engine.hasPacedBlobChunks, let due = engine.nextTick(), due < wakeAt {
            wakeAt = due
            store.changes.signal()
        }
        // The peer table is for people: refreshed when the name arrives (hello), then every 30 s.
        if var connection = connections[peer], now >= connection.lastRecorded + 30_000 || connection.recordedName != engine.name(of: peer)
            || connection.recordedSync != engine.lastReconciled(peer) || connection.recordedRoundTrip != engine.roundTrip(peer) {
            connection.lastRecorded = now
            connection.recordedName = engine.name(of: peer)
            connection.recordedSync = engine.lastReconciled(peer)
            connection.recordedRoundTrip = engine.roundTrip(peer)
            connections[peer] = connection
            recordPeer(peer, connected: true)
        }
    }

    private func closed(_ peer: PeerID) {
        recordPeer(peer, connected: false)
        if let connection = connections[peer] {
            logger.info("session closed", metadata: ["building": "\(connection.remote.shortText)"])
        }
        connections[peer] = nil
        engine.sessionClosed(peer)
    }

    private func recordPeer(_ peer: PeerID, connected: Bool) {
        guard let connection = connections[peer] else { return }
        let record = PeerRecord(
            building: connection.remote, name: engine.name(of: peer) ?? "", address: connection.link.address,
            lastContact: clock.nowMillis(), connected: connected, lastSync: engine.lastReconciled(peer), roundTrip: engine.roundTrip(peer))
        do { try store.recordPeer(record) } catch { logger.warning("could not record peer", metadata: ["error": "\(error)"]) }
    }

    private func close(_ peer: PeerID, reason: SyncMessage.ByeReason, _ text: String) {
        connections[peer]?.link.sayGoodbye(reason, text)
    }

    private func perform(_ outputs: [SyncOutput]) {
        for output in outputs {
            switch output {
            case .send(let peer, let message):
                guard let connection = connections[peer] else { continue }
                connection.link.enqueue(message.encoded(), now: ContinuousClock.now)
                guard connection.link.waitingBytes <= settings.sendQueueLimit else {
                    drop(peer, "its send queue passed \(settings.sendQueueLimit >> 20) MiB")
                    continue
                }
                drain(peer)
            case .learnedOnion(let announcement):
                logger.info("learned a neighbour's onion address", metadata: [
                    "building": "\(announcement.building.shortText)", "address": "\(announcement.endpointText)",
                ])
                if dialsOnions { ownFindings?.yield(.changed(Self.onionPeer(announcement))) }
            case .close(let peer, let reason, let text, let backOff):
                guard let connection = connections[peer] else { continue }
                logger.notice("closing session", metadata: ["building": "\(connection.remote.shortText)", "reason": "\(text)"])
                if backOff {
                    penalties[connection.remote] = clock.nowMillis() + UInt64(settings.penalty.components.seconds * 1000)
                }
                close(peer, reason: reason, text)
            }
        }
    }

    /// Hands queued messages to the peer's channel, as far as its link allows.
    private func drain(_ peer: PeerID) {
        connections[peer]?.link.drain { [self] count, succeeded in
            Task { await self.written(peer, count, succeeded: succeeded) }
        }
    }

    private func written(_ peer: PeerID, _ count: Int, succeeded: Bool) {
        guard let connection = connections[peer] else { return }
        connection.link.completed(count, now: ContinuousClock.now)
        if succeeded { drain(peer) }
    }

    /// A peer that stopped reading is dropped; the others are not held up by it.
    private func dropStalledPeers() {
        let now = ContinuousClock.now
        for (peer, connection) in connections where connection.link.isStalled(now: now, after: settings.stallTimeout) {
            drop(peer, "it stopped reading")
        }
    }

    private func drop(_ peer: PeerID, _ why: String) {
        guard let connection = connections[peer] else { return }
        logger.warning("dropping peer: \(why)", metadata: ["building": "\(connection.remote.shortText)"])
        connection.link.close()
    }

    // MARK: - Dialling and the clock

    /// Dials the peer with discovery id `id` whenever there is no session with its building,
    /// trying its endpoints in order and waiting longer after each failure (exponential
    /// backoff), until the peer is no longer reported.
    private func dial(_ id: String) async {
        defer {
            dialing.remove(id)
            unreachable.remove(id)
        }
        var backoff = settings.minimumBackoff
        // Two nodes that find each other dial at once; the one with the larger key waits a
        // little, so that usually one session is made rather than two and a tie-break.
        if let building = targets[id]?.building, building < signingKey.publicKey {
            try? await Task.sleep(for: .milliseconds(1500))
        }
        // An onion waits for the local network to be looked at first (when something looks at it).
        if let target = targets[id], Self.isOnion(target), discoveries.count > 1 { try? await Task.sleep(for: settings.onionDelay) }
        while !Task.isCancelled, let target = targets[id] {
            // The key a session proved wins over the one a discovery announced.
            let building = buildingAt[id] ?? target.building
            if let building, connections.values.contains(where: { $0.remote == building }) {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if let building, Self.isOnion(target), hasOtherPath(to: building, than: id) {
                try? await Task.sleep(for: .seconds(1))
                continue
            }
            if let building, let until = penalties[building], until > clock.nowMillis() {
                try? await Task.sleep(for: .seconds(5))
                continue
            }
            let started = ContinuousClock.now
            var reached = false
            for endpoint in target.endpoints where !Task.isCancelled {
                guard let transport = transports.first(where: { $0.canDial(endpoint) }) else {
                    logger.debug("no transport reaches this address", metadata: ["peer": "\(endpoint)"])
                    continue
                }
                do {
                    let (events, continuation) = AsyncStream<SyncInbound>.makeStream()
                    let channel = try await transport.connect(to: endpoint) { [self] channel in
                        channel.eventLoop.makeCompletedFuture {
                            try self.settings.configure(channel, initiator: true, signingKey: signingKey, networkKey: networkKey,
                                                        logger: logger, continuation: continuation, transport: transport)
                        }
                    }
                    unreachable.remove(id)
                    reached = true
                    await serve(channel: channel, events: events, initiator: true, address: endpoint.description, dialID: id)
                    break
                } catch {
                    logger.debug("could not reach peer", metadata: ["peer": "\(endpoint)", "transport": "\(transport.name)", "error": "\(error)"])
                }
            }
            if !reached { unreachable.insert(id) }
            if ContinuousClock.now - started > .seconds(60) { backoff = settings.minimumBackoff }
            try? await Task.sleep(for: backoff)
            backoff = min(backoff * 2, settings.maximumBackoff)
        }
    }

    /// The engine's clock and the store's changes: wakes when the store changed (a signal),
    /// when the engine has something due (a ping, a round, an idle session), every second while
    /// a peer has data waiting (to notice one that stopped reading), and at least every
    /// `changePoll`; an idle node sleeps.
    private func ticks() async throws {
        let waiter = store.changes.waiter()
        while !Task.isCancelled {
            var changes = lastChangeCount
            do { changes = try store.changeCount() } catch { engine.recordStoreFailure(error) }
            if changes != lastChangeCount {
                lastChangeCount = changes
                perform(engine.reloadPolicy())
                perform(engine.localChanges(now: clock.nowMillis()))
            }
            dropStalledPeers()
            let now = clock.nowMillis()
            perform(engine.tick(now: now))
            reportStoreFailures()
            var sleep = settings.changePoll
            if let due = engine.nextTick() {
                // Something already due waits for a closing session to go: not a busy loop.
                sleep = min(sleep, .milliseconds(max(Int64(clamping: due &- min(due, now)), 50)))
            }
            if connections.values.contains(where: { $0.link.isBusy }) { sleep = min(sleep, .seconds(1)) }
            wakeAt = now &+ UInt64(clamping: sleep.components.seconds * 1000 + sleep.components.attoseconds / 1_000_000_000_000_000)
            await waiter.wait(upTo: sleep)
            wakeCount.add(1, ordering: .relaxed)
        }
    }

    /// Logs a new cause of store failures once, and reports the figures for `palier status`
    /// when they change (a new failure, or writes working again).
    private func reportStoreFailures() {
        let statistics = engine.statistics
        let state = (statistics.storeFailures, statistics.writesFailing)
        guard state != reportedStoreFailures, let cause = statistics.lastStoreFailure else { return }
        if statistics.storeFailures != reportedStoreFailures.0, cause != loggedStoreFailure {
            loggedStoreFailure = cause
            logger.error("the store failed during sync; what was missed is asked for again later", metadata: [
                "failures": "\(statistics.storeFailures)", "envelopes": "\(statistics.envelopesNotStored)", "error": "\(cause)",
            ])
        } else if reportedStoreFailures.1, !statistics.writesFailing {
            logger.notice("the store accepts writes again", metadata: ["envelopes": "\(statistics.envelopesNotStored)"])
        }
        reportedStoreFailures = state
        settings.onStoreFailures?(statistics)
    }

    /// Open sessions: building and name, for status and tests.
    public func sessions() -> [(building: PublicKey, name: String)] {
        connections.map { ($0.value.remote, engine.name(of: $0.key) ?? "") }
    }

    public func statistics() -> SyncStatistics { engine.statistics }
}
