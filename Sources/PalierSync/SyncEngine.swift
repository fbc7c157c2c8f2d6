import PalierCore
import PalierStore

/// A connection to another node, as the engine numbers them.
public typealias PeerID = Int

/// What the engine asks its driver (the NIO service, or the simulator) to do.
public enum SyncOutput: Sendable, Equatable {
    case send(PeerID, SyncMessage)
    /// Send `bye` and close; `backOff` when the peer misbehaved and should not be dialled soon.
    case close(PeerID, SyncMessage.ByeReason, String, backOff: Bool)
    /// A building's onion address, new to this node and kept (the service dials it).
    case learnedOnion(OnionAnnouncement)
}

/// The sync protocol of one node: sessions, reconciliation, gossip, ingest, rate limits.
///
/// It performs no I/O besides the store and is driven by events — a session opened, a message
/// received, a tick, local changes — so the NIO service and the deterministic simulator run
/// exactly the same code. Not thread-safe: its owner serialises calls (an actor, or the
/// simulator's single loop).
public final class SyncEngine {
    public struct Configuration: Sendable {
        /// The name in `hello`.
        public var name: String
        /// How often the dialling side starts a reconciliation round, in milliseconds.
        public var reconcileInterval: UInt64 = 30_000
        public var pingInterval: UInt64 = 15_000
        /// A session with nothing received for this long is closed.
        public var idleTimeout: UInt64 = 45_000
        /// A `want` not answered within this time may be asked of another peer.
        public var wantTimeout: UInt64 = 10_000
        /// New envelopes accepted per author: a burst, then a steady rate per minute. Those over
        /// the limit are dropped unstored and offered again by a later reconciliation.
        public var authorBurst: Double = 500
        public var authorPerMinute: Double = 120
        /// Envelopes asked of one peer and not yet received: more wait their turn, so that a
        /// node that lacks 100,000 never makes its peer overrun its own message limit. It is also
        /// how many envelopes a round pushes at once; the rest it announces.
        public var wantsInFlight = 2_000
        /// Sync messages accepted per peer: a burst, then a steady rate per second.
        public var peerMessageBurst: Double = 2_000
        public var peerMessagesPerSecond: Double = 200
        /// Reconcile with coded symbols (rateless IBLT, §9.2) with peers that can; ranges otherwise.
        public var sketchReconciliation = true
        /// Below this many items a round uses ranges, which settle it in one or two round trips.
        public var sketchThreshold = 256
        /// After the store refused to write what a peer sent, nothing is asked of any peer for
        /// this long (doubling at each new refusal, up to `maximumWritePause`); then the next
        /// rounds fetch it again.
        public var writePause: UInt64 = 15_000
        public var maximumWritePause: UInt64 = 300_000
        /// The most bytes of images this node keeps (0: it fetches none).
        public var blobBudget: Int64 = 512 << 20
        /// Blob bytes sent to one peer: a burst, then a steady rate per second.
        public var blobBurstBytes: Double = 1_048_576
        public var blobBytesPerSecond: Double = 8_388_608
        /// A blob transfer with nothing received for this long ends; its bytes are kept.
        public var blobStallTimeout: UInt64 = 30_000
        /// How often missing blobs are looked for when nothing else prompts it.
        public var blobScanInterval: UInt64 = 30_000
        /// This building's onion address, signed, given to every peer that takes onion
        /// addresses (nil: this node has no onion service).
        public var onion: OnionAnnouncement?

        public init(name: String) { self.name = name }
    }

    public let store: EnvelopeStore
    public let building: PublicKey
    public var configuration: Configuration
    public private(set) var policy: FederationPolicy
    let crypto: any CryptoProvider

    var sessions: [PeerID: PeerSession] = [:]
    /// Ids asked of some peer and not yet received, with the time the request lapses.
    var pendingWants: [EnvelopeID: (peer: PeerID, deadline: UInt64)] = [:]
    var authorLimits: [PublicKey: TokenBucket] = [:]
    /// Until when nothing is asked of peers because the store refuses writes, and the pause
    /// the next refusal brings.
    var writesPausedUntil: UInt64 = 0
    var nextWritePause: UInt64 = 0
    private var lastRow: Int64 = 0
    private var itemCache: (changeCount: Int64, policy: FederationPolicy, set: SyncItemSet)?
    /// The coded symbols of the item set, made at the first sketch reconciliation and then
    /// kept up to date with the set's changes.
    var sketchCache: (set: SyncItemSet, encoder: SketchEncoder)?
    /// Counters for tests and benchmarks.
    public internal(set) var statistics = SyncStatistics()
    /// Checks that a blob's bytes (already matching its hash) are the image its post describes:
    /// nil when they are, else why not. Without it the node fetches no blob.
    public var blobCheck: (@Sendable ([UInt8], BlobRecord) -> String?)?
    var blobDownloads: [PeerID: BlobDownload] = [:]
    var blobUploads: [PeerID: [BlobUpload]] = [:]
    var blobSendLimits: [PeerID: TokenBucket] = [:]
    /// Peers that lacked a blob, and until when they are not asked for it again.
    var blobUnavailable: [BlobID: [PeerID: UInt64]] = [:]
    var nextBlobScan: UInt64 = 0

    public init(store: EnvelopeStore, crypto: any CryptoProvider, configuration: Configuration) throws(StoreError) {
        self.store = store
        self.building = store.building
        self.crypto = crypto
        self.configuration = configuration
        self.policy = try store.federationPolicy()
        self.lastRow = try store.lastRowID()
    }

    // MARK: - Events

    /// A session with `remote` is established (Noise handshake and identity proof done).
    public func sessionOpened(_ peer: PeerID, remote: PublicKey, initiator: Bool, now: UInt64) -> [SyncOutput] {
        if policy.blocked.contains(remote) {
            return [.close(peer, .blocked, "this building is blocked here", backOff: true)]
        }
        var session = PeerSession(remote: remote, initiator: initiator, now: now, configuration: configuration)
        session.lastSent = now
        sessions[peer] = session
        var features: SyncFeatures = configuration.sketchReconciliation ? [.sketch] : []
        features.formUnion([.blobs, .onionAddresses])
        return [.send(peer, .hello(SyncMessage.Hello(name: configuration.name, features: features)))]
    }

    public func sessionClosed(_ peer: PeerID) {
        sessions[peer] = nil
        pendingWants = pendingWants.filter { $0.value.peer != peer }
        blobSessionClosed(peer)
    }

    /// The remote building of a session, once open.
    public func remote(of peer: PeerID) -> PublicKey? { sessions[peer]?.remote }
    public func name(of peer: PeerID) -> String? { sessions[peer]?.name }
    public var openSessions: [PeerID] { sessions.keys.sorted() }

    /// Re-reads follow/block decisions; sessions with newly blocked buildings are closed.
    /// A store that cannot be read keeps the policy it had (counted, like every store failure).
    public func reloadPolicy() -> [SyncOutput] {
        guard let reloaded = storeRead({ () throws(StoreError) in try store.federationPolicy() }) else { return [] }
        policy = reloaded
        return sessions.keys.sorted().filter { policy.blocked.contains(sessions[$0]!.remote) }.map { peer in
            .close(peer, .blocked, "this building is now blocked here", backOff: true)
        }
    }

    /// One sync message from `peer`.
    public func receive(_ bytes: [UInt8], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard var session = sessions[peer] else { return [] }
        statistics.bytesReceived += bytes.count
        session.lastReceived = now
        guard session.messageLimit.take(now: now) else {
            sessions[peer] = session
            return [.close(peer, .rateLimited, "too many messages", backOff: true)]
        }
        sessions[peer] = session

        let decoded: DecodedSyncMessage
        do throws(SyncMessageError) {
            decoded = try SyncMessage.decode(bytes)
        } catch {
            return [.close(peer, .protocolViolation, error.description, backOff: true)]
        }
        guard case .known(let message) = decoded else {
            if case .unknown(let type) = decoded { return [.send(peer, .unsupported(type: type))] }
            return []
        }
        if case .hello = message {} else if case .bye = message {} else if !session.helloReceived {
            return [.close(peer, .protocolViolation, "\(message.type) before hello", backOff: true)]
        }
        return handle(message, from: peer, now: now)
    }

    /// Envelopes stored outside a session (the CLI, or a peer's batch already announced):
    /// announces the new neighbourhood ids to every peer not known to hold them.
    public func localChanges(now: UInt64) -> [SyncOutput] {
        guard let (ids, last) = storeRead({ () throws(StoreError) in try store.neighbourhoodIDs(afterRow: lastRow) }) else { return [] }
        lastRow = last
        return announce(ids, except: nil)
    }

    /// Periodic work: reconciliation rounds, pings, idle sessions, lapsed wants.
    public func tick(now: UInt64) -> [SyncOutput] {
        var out: [SyncOutput] = []
        pendingWants = pendingWants.filter { $0.value.deadline > now }
        for peer in sessions.keys.sorted() where !sessions[peer]!.asked.isEmpty || sessions[peer]!.hasQueuedWants {
            // Lapsed wants free their places; the next queued ones go out.
            sessions[peer]!.asked = sessions[peer]!.asked.filter { pendingWants[$0]?.peer == peer }
            out += askMore(of: peer, now: now)
        }
        // The pause after a refused write is over: every round this side leads starts now, to
        // fetch what could not be stored.
        let pauseEnded = writesPausedUntil != 0 && now >= writesPausedUntil
        if pauseEnded { writesPausedUntil = 0 }
        for peer in sessions.keys.sorted() {
            let session = sessions[peer]!
            if now >= session.lastReceived + configuration.idleTimeout {
                out.append(.close(peer, .idle, "nothing received for \(configuration.idleTimeout / 1000) s", backOff: false))
                continue
            }
            // A round whose messages were lost is started again after twice the interval.
            let due = session.lastReconcile + configuration.reconcileInterval * (session.reconciling ? 2 : 1)
            if session.helloReceived, session.initiator, now >= due || pauseEnded {
                out += startReconciliation(peer, now: now)
            }
            if now >= session.lastSent + configuration.pingInterval {
                out.append(ping(peer, now: now))
            }
        }
        return out + blobTick(now: now)
    }

    /// When ``tick(now:)`` next has something to do — a ping, a reconciliation round, an idle
    /// session, a lapsed want, the end of a write pause — or nil when nothing is scheduled (no
    /// session): the driver sleeps until then, or until a message or a change comes.
    public func nextTick() -> UInt64? {
        var next = pendingWants.values.lazy.map(\.deadline).min()
        func consider(_ t: UInt64, _ delay: UInt64) {
            let due = t.addingReportingOverflow(delay).overflow ? .max : t + delay
            next = min(next ?? due, due)
        }
        if writesPausedUntil != 0 { consider(writesPausedUntil, 0) }
        if let blobs = nextBlobTick() { consider(blobs, 0) }
        for session in sessions.values {
            // Queued wants go out as the message limit allows.
            if session.hasQueuedWants { consider(max(session.lastReceived, session.lastSent), 200) }
            consider(session.lastReceived, configuration.idleTimeout)
            consider(session.lastSent, configuration.pingInterval)
            if session.helloReceived, session.initiator {
                consider(session.lastReconcile, configuration.reconcileInterval * (session.reconciling ? 2 : 1))
            }
        }
        return next
    }

    /// Starts a reconciliation round with `peer` now (on connect, and by the tick): with coded
    /// symbols when both sides can, else with ranges.
    /// When the last reconciliation round with `peer` finished, if one did in this session.
    public func lastReconciled(_ peer: PeerID) -> UInt64? { sessions[peer]?.lastReconciled }

    public func startReconciliation(_ peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let session = sessions[peer], let set = currentItems(now: now) else { return [] }
        sessions[peer]?.reconciling = true
        sessions[peer]?.lastReconcile = now
        statistics.reconciliationRounds += 1
        if configuration.sketchReconciliation, session.features.contains(.sketch), set.count >= configuration.sketchThreshold {
            return startSketch(peer, set: set, now: now)
        }
        return startRanges(peer, set: set, now: now)
    }

    /// Opens a range-based round (§9.1).
    func startRanges(_ peer: PeerID, set: SyncItemSet, now: UInt64) -> [SyncOutput] {
        sessions[peer]?.sketch = nil
        let machine = ReconciliationStateMachine(set: set, crypto: crypto)
        return [.send(peer, .reconcile(machine.initiate()))]
    }

    // MARK: - Messages

    private func handle(_ message: SyncMessage, from peer: PeerID, now: UInt64) -> [SyncOutput] {
        switch message {
        case .identity:
            return [.close(peer, .protocolViolation, "identity after the session opened", backOff: true)]
        case .hello(let hello):
            guard hello.minimumVersion <= SyncProtocol.version, hello.version >= SyncProtocol.minimumVersion else {
                return [.close(peer, .incompatibleVersion, "versions \(hello.minimumVersion)–\(hello.version) do not include \(SyncProtocol.version)", backOff: true)]
            }
            sessions[peer]?.helloReceived = true
            sessions[peer]?.name = hello.name
            sessions[peer]?.maximumBatch = Int(max(1, min(hello.maximumBatch, SyncProtocol.maximumBatch)))
            sessions[peer]?.features = hello.features
            let waiting = sessions[peer]?.announceAfterHello ?? []
            sessions[peer]?.announceAfterHello = []
            let announced = waiting.isEmpty ? [] : announce(waiting, to: peer)
            let blobs = hello.features.contains(.blobs) ? fetchBlobs(now: now) : []
            // A first ping measures the round trip (`palier peers`; wants wait longer on a slow path).
            return announced + (sessions[peer]!.initiator ? startReconciliation(peer, now: now) : []) + blobs
                + onionAddresses(for: peer) + [ping(peer, now: now)]
        case .reconcile(let bytes):
            return reconcile(bytes, from: peer, now: now)
        case .want(let ids):
            return sendBodies(ids, to: peer, now: now)
        case .envelopes(let list):
            return ingest(list, from: peer, now: now)
        case .announce(let ids):
            sessions[peer]?.markKnown(ids)
            return request(ids, from: peer, now: now)
        case .ping(let nonce):
            return [send(.pong(nonce), to: peer, now: now)]
        case .pong(let nonce):
            receivePong(nonce, from: peer, now: now)
            return []
        case .bye(let reason, let text):
            return [.close(peer, .shutdown, "the peer said goodbye (\(reason): \(text))", backOff: false)]
        case .unsupported(let type):
            // The peer does not know a message we sent. Only sketch requests are optional:
            // reconcile with ranges instead. Anything else only happens with a newer peer.
            guard type == SyncMessage.MessageType.sketchRequest.rawValue, sessions[peer]?.sketch != nil,
                  let set = currentItems(now: now) else { return [] }
            return startRanges(peer, set: set, now: now)
        case .sketchRequest(let start, let count, let setSize):
            return answerSketch(start: start, count: count, setSize: setSize, to: peer, now: now)
        case .sketchSymbols(let start, let end, let symbols):
            return receiveSketch(symbols, start: start, answerEnd: end, from: peer, now: now)
        case .blobWant(let id, let offset, let length):
            return answerBlobWant(id, offset: offset, length: length, from: peer, now: now)
        case .blobChunk(let id, let offset, let bytes):
            return receiveBlobChunk(id, offset: offset, bytes: bytes, from: peer, now: now)
        case .blobMissing(let id):
            return blobMissing(id, from: peer, now: now)
        case .onionAddresses(let announcements):
            return receiveOnionAddresses(announcements, from: peer, now: now)
        }
    }

    private func reconcile(_ bytes: [UInt8], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard let set = currentItems(now: now) else { return [] }
        let machine = ReconciliationStateMachine(set: set, crypto: crypto)
        let reply: ReconciliationStateMachine.Reply
        do throws(SyncMessageError) {
            reply = try machine.respond(to: bytes)
        } catch {
            return [.close(peer, .protocolViolation, error.description, backOff: true)]
        }
        var out: [SyncOutput] = []
        if reply.isDone || reply.message == [ReconciliationStateMachine.version] {
            sessions[peer]?.reconciling = false
            sessions[peer]?.lastReconciled = now
        }
        if let message = reply.message { out.append(send(.reconcile(message), to: peer, now: now)) }
        out += push(reply.have, to: peer, now: now)
        out += request(reply.need, from: peer, now: now)
        return out
    }

    /// Asks `peer` for those `ids` not held and not already asked of someone: at most
    /// `wantsInFlight` at a time, the rest queued and asked as bodies arrive.
    func request(_ ids: [EnvelopeID], from peer: PeerID, now: UInt64) -> [SyncOutput] {
        // While the store refuses writes, bodies would only be refused again: the rounds after
        // the pause find these ids missing and ask for them.
        guard now >= writesPausedUntil else {
            statistics.wantsDeferred += ids.count
            return []
        }
        guard !ids.isEmpty, sessions[peer] != nil, let held = storeRead({ () throws(StoreError) in try store.held(ids) }) else { return [] }
        sessions[peer]!.queueWants(ids.filter { !held.contains($0) && pendingWants[$0] == nil })
        return askMore(of: peer, now: now)
    }

    /// Sends the next queued wants to `peer`, as far as its in-flight allowance goes and as
    /// far as this side's own message limit will take the answers (a tenth of it kept for the
    /// rest): the peer is never made to overrun it. The tick asks for the rest.
    func askMore(of peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard var session = sessions[peer], session.hasQueuedWants else { return [] }
        // The answers still to come for what is already asked take their tokens too.
        let coming = Double((session.asked.count + session.maximumBatch - 1) / session.maximumBatch)
        let spare = session.messageLimit.available(now: now) - configuration.peerMessageBurst / 10 - coming
        let answerable = spare >= 1 ? Int(spare) * session.maximumBatch : 0
        let allowance = min(configuration.wantsInFlight - session.asked.count, answerable)
        var wanted: [EnvelopeID] = []
        while wanted.count < allowance, let id = session.nextQueuedWant() {
            guard pendingWants[id] == nil else { continue }
            pendingWants[id] = (peer, wantDeadline(peer, now: now))
            session.asked.insert(id)
            wanted.append(id)
        }
        sessions[peer] = session
        return stride(from: 0, to: wanted.count, by: SyncProtocol.maximumIDs).map {
            send(.want(Array(wanted[$0..<min($0 + SyncProtocol.maximumIDs, wanted.count)])), to: peer, now: now)
        }
    }

    /// Offers a peer the envelopes it lacks (found by reconciliation): a first part at once —
    /// `wantsInFlight`, or fewer if that would take over a quarter of a message limit like this
    /// side's — and the rest announced, for the peer to ask for at its pace.
    func push(_ ids: [EnvelopeID], to peer: PeerID, now: UInt64) -> [SyncOutput] {
        let batch = sessions[peer]?.maximumBatch ?? 1
        let atOnce = min(configuration.wantsInFlight, Int(configuration.peerMessageBurst / 4) * batch)
        let first = Array(ids.prefix(atOnce))
        let rest = ids.dropFirst(atOnce)
        var out = sendBodies(first, to: peer, now: now)
        if !rest.isEmpty { out += announce(Array(rest), to: peer) }
        return out
    }

    /// Sends the bodies of `ids` that may leave this node, in batches the peer accepts.
    func sendBodies(_ ids: [EnvelopeID], to peer: PeerID, now: UInt64) -> [SyncOutput] {
        guard !ids.isEmpty, let session = sessions[peer],
              let bodies = storeRead({ () throws(StoreError) in try store.shareableEnvelopes(ids, now: now, policy: policy) }) else { return [] }
        sessions[peer]?.markKnown(bodies.map(\.id))
        statistics.bodiesSent += bodies.count
        return stride(from: 0, to: bodies.count, by: session.maximumBatch).map {
            send(.envelopes(bodies[$0..<min($0 + session.maximumBatch, bodies.count)].map(\.bytes)), to: peer, now: now)
        }
    }

    func send(_ message: SyncMessage, to peer: PeerID, now: UInt64) -> SyncOutput {
        sessions[peer]?.lastSent = now
        return .send(peer, message)
    }

    /// Runs a store access for the protocol; a failure is counted with its cause in
    /// ``statistics`` (the service logs it and `palier status` shows it) and the step is skipped:
    /// nothing is lost, a later round or announce does it again.
    func storeRead<T>(_ body: () throws(StoreError) -> T) -> T? {
        do { return try body() } catch {
            recordStoreFailure(error)
            return nil
        }
    }

    /// The items reconciliation compares, or nil (counted) when the store cannot be read.
    func currentItems(now: UInt64) -> SyncItemSet? {
        storeRead { () throws(StoreError) in try itemSet(now: now) }
    }

    /// Counts a failed store access with its cause (the service's own reads report here too).
    public func recordStoreFailure(_ error: StoreError) {
        statistics.storeFailures += 1
        statistics.lastStoreFailure = error.description
    }

    /// The version of the item set: the store's change count when it was last loaded.
    var itemSetVersion: Int64 { itemCache?.changeCount ?? -1 }

    /// The items reconciliation compares, reloaded only when the store or the policy changed.
    func itemSet(now: UInt64) throws(StoreError) -> SyncItemSet {
        let changes = try store.changeCount()
        if let cache = itemCache, cache.changeCount == changes, cache.policy == policy { return cache.set }
        let set = SyncItemSet(try store.syncItems(now: now, policy: policy))
        itemCache = (changes, policy, set)
        return set
    }

    /// Announces `ids` to every open session not known to hold them.
    func announce(_ ids: [EnvelopeID], except source: PeerID?) -> [SyncOutput] {
        guard !ids.isEmpty else { return [] }
        var out: [SyncOutput] = []
        for peer in sessions.keys.sorted() where peer != source {
            let session = sessions[peer]!
            guard session.helloReceived else {
                // Not yet: kept for its hello, so that a post made in between is not missed.
                let room = PeerSession.announceAfterHelloLimit - session.announceAfterHello.count
                if room > 0 { sessions[peer]!.announceAfterHello += ids.prefix(room) }
                continue
            }
            let fresh = ids.filter { !session.knows($0) }
            guard !fresh.isEmpty else { continue }
            sessions[peer]?.markKnown(fresh)
            statistics.announcedIDs += fresh.count
            for start in stride(from: 0, to: fresh.count, by: SyncProtocol.maximumIDs) {
                out.append(.send(peer, .announce(Array(fresh[start..<min(start + SyncProtocol.maximumIDs, fresh.count)]))))
            }
        }
        return out
    }

    /// Announces `ids` to one peer, those it is not known to hold.
    func announce(_ ids: [EnvelopeID], to peer: PeerID) -> [SyncOutput] {
        guard let session = sessions[peer] else { return [] }
        let fresh = ids.filter { !session.knows($0) }
        sessions[peer]?.markKnown(fresh)
        statistics.announcedIDs += fresh.count
        return stride(from: 0, to: fresh.count, by: SyncProtocol.maximumIDs).map {
            .send(peer, .announce(Array(fresh[$0..<min($0 + SyncProtocol.maximumIDs, fresh.count)])))
        }
    }
}

/// Counters of one engine.
public struct SyncStatistics: Sendable, Hashable {
    public var bytesReceived = 0
    public var bodiesReceived = 0
    public var bodiesSent = 0
    public var bodiesAccepted = 0
    public var announcedIDs = 0
    public var reconciliationRounds = 0
    public var refusedBlocked = 0
    public var refusedInvalid = 0
    public var droppedRateLimited = 0
    /// Coded symbols taken in by finished sketch reconciliations.
    public var sketchSymbolsDecoded = 0
    /// Time spent encoding and decoding coded symbols (the store's work left out).
    public var sketchWork: Duration = .zero
    /// Store accesses that failed during sync, and the last cause.
    public var storeFailures = 0
    public var lastStoreFailure: String?
    /// Envelopes received from peers that the store could not write (asked for again later).
    public var envelopesNotStored = 0
    /// Ids not asked for because the store was refusing writes (asked for at a later round).
    public var wantsDeferred = 0
    /// Whether the store refused the last write (no body is asked for until a pause ends).
    public var writesFailing = false
    /// Blobs fetched whole and kept, and bytes of blobs received and sent.
    public var blobsFetched = 0
    public var blobBytesReceived = 0
    public var blobBytesSent = 0
    /// Blobs whose bytes did not match their hash (the peer was blamed), and blobs whose bytes
    /// matched but were not the image their post describes (the author's fault), with the last reason.
    public var blobsRefusedFromPeers = 0
    public var blobsRefusedFromAuthors = 0
    /// Onion addresses new to this node and kept; those refused (not signed by their building,
    /// or issued too far ahead).
    public var onionAddressesLearned = 0
    public var onionAddressesRefused = 0
    public var lastBlobRefusal: String?
    /// Transfers that stopped with nothing received for a while (resumed later).
    public var blobTransfersStalled = 0
    /// Missing blobs not fetched because the budget has no room for them (at the last look).
    public var blobsWaitingForRoom = 0
}
