import PalierCore
import PalierCrypto
import PalierStore
import PalierSync

/// A deterministic simulation of a neighbourhood: N nodes, each a real ``EnvelopeStore`` (in
/// memory) driven by a real ``SyncEngine``, linked by a simulated network with a virtual clock.
/// A seeded generator decides latency, loss, duplication, reordering, partitions, node restarts
/// and clock skew, so a failing seed replays exactly.
public final class SimulatedNeighbourhood {
    public struct Faults: Sendable {
        public var loss = 0.02
        public var duplication = 0.02
        /// Latency is drawn uniformly from this range (milliseconds). A session keeps its order
        /// (it runs over TCP, and Noise refuses reordered frames), so messages overtake each
        /// other across links: an announce through one neighbour can beat the body through another.
        public var latency: ClosedRange<UInt64> = 2...400
        /// Chance per link and per minute that it goes down for 1–8 minutes.
        public var partitionPerMinute = 0.01
        /// Chance per node and per minute that it restarts after 20 s – 3 min down.
        public var restartPerMinute = 0.005
        /// Each node's clock is off by up to this much, either way (milliseconds).
        public var maximumSkew: UInt64 = 300_000

        public init() {}
        public static let none: Faults = {
            var f = Faults()
            f.loss = 0; f.duplication = 0; f.latency = 1...1; f.partitionPerMinute = 0; f.restartPerMinute = 0; f.maximumSkew = 0
            return f
        }()
    }

    public final class Node {
        public let key: SigningKey
        public let store: EnvelopeStore
        public fileprivate(set) var engine: SyncEngine
        public let skew: Int64
        public fileprivate(set) var up = true
        fileprivate var upAgainAt: UInt64 = 0

        init(key: SigningKey, skew: Int64, configuration: SyncEngine.Configuration) throws {
            self.key = key
            self.skew = skew
            store = try EnvelopeStore(path: nil, building: key.publicKey, validator: .sodium)
            engine = try SyncEngine(store: store, crypto: SodiumCrypto(), configuration: configuration)
        }

        func wall(_ now: UInt64) -> UInt64 { UInt64(Int64(now) + skew) }
    }

    struct Link {
        let a: Int
        let b: Int
        var up = true
        var upAgainAt: UInt64 = 0
        /// Open session: the peer id at each end.
        var session: (atA: PeerID, atB: PeerID)?
        var reconnectAt: UInt64 = 0
    }

    enum Event {
        case deliver(node: Int, peer: PeerID, bytes: [UInt8])
        case inject(node: Int, envelope: [UInt8])
    }

    public let seed: UInt64
    public var linkCount: Int { links.count }
    public private(set) var nodes: [Node] = []
    var links: [Link] = []
    public var faults: Faults
    public private(set) var now: UInt64
    private var random: SeededRandom
    private var queue: [(time: UInt64, sequence: Int, event: Event)] = []
    private var sequence = 0
    private var nextPeerID = 1
    /// Which link and end a peer id belongs to.
    private var peerIndex: [PeerID: (link: Int, atA: Bool)] = [:]
    /// The last scheduled delivery time on each session direction (keyed by receiving peer id).
    private var lastDelivery: [PeerID: UInt64] = [:]
    public private(set) var messagesSent = 0
    /// Every message delivered, by receiving node, when `recordDeliveries` is on.
    public var recordDeliveries = false
    private var deliveries: [Int: [SyncMessage]] = [:]

    /// The messages node `node` received (decoded), in order.
    public func delivered(to node: Int) -> [SyncMessage] { deliveries[node] ?? [] }
    public private(set) var bytesSent = 0
    /// Bytes sent, by message type.
    public private(set) var bytesByType: [SyncMessage.MessageType: Int] = [:]
    private let configuration: SyncEngine.Configuration

    /// - Parameters:
    ///   - degree: links per node on average (a ring plus random chords).
    public init(seed: UInt64, nodes count: Int, degree: Int = 3, start: UInt64 = Fixtures.epoch, faults: Faults = Faults(), configuration: SyncEngine.Configuration? = nil) throws {
        self.seed = seed
        self.faults = faults
        self.now = start
        random = SeededRandom(seed: seed)
        var config = configuration ?? SyncEngine.Configuration(name: "simulated")
        if configuration == nil {
            config.reconcileInterval = 60_000
            config.pingInterval = 20_000
            config.idleTimeout = 70_000
        }
        self.configuration = config
        for i in 0..<count {
            let skew = faults.maximumSkew == 0 ? 0 : Int64.random(in: -Int64(faults.maximumSkew)...Int64(faults.maximumSkew), using: &random)
            var nodeConfig = config
            nodeConfig.name = "building \(i)"
            nodes.append(try Node(key: Fixtures.key(1_000 + seed &* 100 + UInt64(i)), skew: skew, configuration: nodeConfig))
        }
        var pairs = Set<[Int]>()
        if count > 1 {
            for i in 0..<count { pairs.insert([i, (i + 1) % count].sorted()) }
            let chords = max(0, count * degree / 2 - count)
            var attempts = 0
            while pairs.count < count + chords && attempts < chords * 20 {
                attempts += 1
                let a = Int.random(in: 0..<count, using: &random), b = Int.random(in: 0..<count, using: &random)
                if a != b { pairs.insert([a, b].sorted()) }
            }
        }
        links = pairs.sorted { $0.lexicographicallyPrecedes($1) }.filter { $0[0] != $0[1] }.map { Link(a: $0[0], b: $0[1]) }
    }

    /// Builds a network with exactly these links (for the A–B–C relay test).
    public init(seed: UInt64, nodes count: Int, links explicit: [(Int, Int)], start: UInt64 = Fixtures.epoch, faults: Faults = .none, configuration: SyncEngine.Configuration? = nil) throws {
        self.seed = seed
        self.faults = faults
        self.now = start
        random = SeededRandom(seed: seed)
        var config = configuration ?? SyncEngine.Configuration(name: "simulated")
        if configuration == nil { config.reconcileInterval = 60_000 }
        self.configuration = config
        for i in 0..<count {
            var nodeConfig = config
            nodeConfig.name = "building \(i)"
            nodes.append(try Node(key: Fixtures.key(1_000 + seed &* 100 + UInt64(i)), skew: 0, configuration: nodeConfig))
        }
        links = explicit.map { Link(a: $0.0, b: $0.1) }
    }

    // MARK: - Driving

    /// Stores `envelope` at `node` at virtual time `at` (the CLI of that building).
    public func inject(_ envelope: Envelope, at node: Int, time: UInt64) {
        schedule(max(time, now), .inject(node: node, envelope: envelope.bytes))
    }

    /// Runs the simulation until virtual time `end`, ticking every node every `tickEvery` ms.
    public func run(until end: UInt64, tickEvery: UInt64 = 5_000, faultsActive: Bool = true) {
        var nextTick = now
        while now < end {
            let nextEvent = queue.first?.time ?? .max
            if nextEvent <= nextTick, nextEvent <= end {
                let event = queue.removeFirst()
                now = max(now, event.time)
                handle(event.event)
            } else if nextTick <= end {
                now = nextTick
                step(faultsActive: faultsActive, minutes: Double(tickEvery) / 60_000)
                nextTick += tickEvery
            } else {
                now = end
            }
        }
    }

    /// Heals every partition and restarts every node that is down, then runs for `settle` ms
    /// with no new faults.
    public func healAndSettle(for settle: UInt64) {
        for i in links.indices { links[i].up = true; links[i].reconnectAt = now }
        for i in nodes.indices where !nodes[i].up { restart(i) }
        run(until: now + settle, faultsActive: false)
    }

    /// The set every node should end with: live neighbourhood ids, sorted.
    public func replicatedSet(of node: Int) throws -> [EnvelopeID] {
        try nodes[node].store.syncItems(now: nodes[node].wall(now), policy: FederationPolicy()).map(\.id).sorted()
    }

    /// The view digest of a node's neighbourhood envelopes, seen by one common viewer: equal on
    /// two nodes exactly when their screens would agree.
    public func viewDigest(of node: Int, viewer: PublicKey) throws -> [UInt8] {
        let envelopes = try nodes[node].store.liveEnvelopes(now: now).filter { $0.content.scope == .neighbourhood }
        return SodiumCrypto().blake2b256(ViewRules.view(of: envelopes, now: now, viewer: viewer).canonicalBytes())
    }

    // MARK: - Internals

    private func schedule(_ time: UInt64, _ event: Event) {
        sequence += 1
        let entry = (time, sequence, event)
        // Binary insertion keeps the queue ordered by (time, sequence).
        var low = 0, high = queue.count
        while low < high {
            let mid = (low + high) / 2
            if queue[mid].time < time || (queue[mid].time == time && queue[mid].sequence < sequence) { low = mid + 1 } else { high = mid }
        }
        queue.insert(entry, at: low)
    }

    private func handle(_ event: Event) {
        switch event {
        case .inject(let node, let bytes):
            // A node that is down stores it when it comes back (the admin retries).
            guard nodes[node].up else { schedule(max(nodes[node].upAgainAt, now) + 1_000, event); return }
            _ = try? nodes[node].store.ingest([bytes], now: nodes[node].wall(now))
            perform(nodes[node].engine.localChanges(now: nodes[node].wall(now)), at: node)
        case .deliver(let node, let peer, let bytes):
            guard nodes[node].up, let index = peerIndex[peer], links[index.link].up, links[index.link].session != nil else { return }
            if recordDeliveries, case .known(let message)? = try? SyncMessage.decode(bytes) { deliveries[node, default: []].append(message) }
            perform(nodes[node].engine.receive(bytes, from: peer, now: nodes[node].wall(now)), at: node)
        }
    }

    private func step(faultsActive: Bool, minutes: Double) {
        if faultsActive {
            for i in links.indices where links[i].up && Double.random(in: 0..<1, using: &random) < faults.partitionPerMinute * minutes {
                links[i].up = false
                links[i].upAgainAt = now + UInt64.random(in: 60_000...480_000, using: &random)
            }
            for i in nodes.indices where nodes[i].up && Double.random(in: 0..<1, using: &random) < faults.restartPerMinute * minutes {
                nodes[i].up = false
                nodes[i].upAgainAt = now + UInt64.random(in: 20_000...180_000, using: &random)
                for l in links.indices where links[l].a == i || links[l].b == i { closeSession(l) }
            }
        }
        for i in links.indices where !links[i].up && now >= links[i].upAgainAt { links[i].up = true }
        for i in nodes.indices where !nodes[i].up && now >= nodes[i].upAgainAt { restart(i) }
        for l in links.indices where links[l].session == nil && links[l].up && nodes[links[l].a].up && nodes[links[l].b].up && now >= links[l].reconnectAt {
            openSession(l)
        }
        for i in nodes.indices where nodes[i].up {
            perform(nodes[i].engine.tick(now: nodes[i].wall(now)), at: i)
        }
    }

    private func restart(_ i: Int) {
        for l in links.indices where links[l].a == i || links[l].b == i { closeSession(l) }
        var config = configuration
        config.name = "building \(i)"
        // A restart keeps the store and loses everything in memory.
        nodes[i].engine = try! SyncEngine(store: nodes[i].store, crypto: SodiumCrypto(), configuration: config)
        nodes[i].up = true
    }

    private func openSession(_ l: Int) {
        let atA = nextPeerID, atB = nextPeerID + 1
        nextPeerID += 2
        links[l].session = (atA, atB)
        peerIndex[atA] = (l, true)
        peerIndex[atB] = (l, false)
        let (a, b) = (links[l].a, links[l].b)
        perform(nodes[a].engine.sessionOpened(atA, remote: nodes[b].key.publicKey, initiator: true, now: nodes[a].wall(now)), at: a)
        perform(nodes[b].engine.sessionOpened(atB, remote: nodes[a].key.publicKey, initiator: false, now: nodes[b].wall(now)), at: b)
    }

    /// Sessions closed so far (by either side, or by a fault).
    public private(set) var sessionsClosed = 0

    private func closeSession(_ l: Int, backOff: Bool = false) {
        guard let session = links[l].session else { return }
        sessionsClosed += 1
        links[l].session = nil
        nodes[links[l].a].engine.sessionClosed(session.atA)
        nodes[links[l].b].engine.sessionClosed(session.atB)
        peerIndex[session.atA] = nil
        peerIndex[session.atB] = nil
        lastDelivery[session.atA] = nil
        lastDelivery[session.atB] = nil
        links[l].reconnectAt = now + (backOff ? 60_000 : 2_000)
    }

    private func perform(_ outputs: [SyncOutput], at node: Int) {
        for output in outputs {
            switch output {
            case .send(let peer, let message):
                guard let index = peerIndex[peer], let session = links[index.link].session, links[index.link].up else { continue }
                let bytes = message.encoded()
                messagesSent += 1
                bytesSent += bytes.count
                bytesByType[message.type, default: 0] += bytes.count
                let (target, targetPeer) = index.atA ? (links[index.link].b, session.atB) : (links[index.link].a, session.atA)
                if Double.random(in: 0..<1, using: &random) < faults.loss { continue }
                let copies = Double.random(in: 0..<1, using: &random) < faults.duplication ? 2 : 1
                let time = max(now + UInt64.random(in: faults.latency, using: &random), lastDelivery[targetPeer] ?? 0)
                lastDelivery[targetPeer] = time
                for _ in 0..<copies {
                    schedule(time, .deliver(node: target, peer: targetPeer, bytes: bytes))
                }
            case .close(let peer, _, _, let backOff):
                if let index = peerIndex[peer] { closeSession(index.link, backOff: backOff) }
            case .learnedOnion:
                // The simulated links are fixed: an address learned changes none.
                break
            }
        }
    }
}
