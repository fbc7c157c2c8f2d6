import Foundation
import Logging
import NIOCore
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierStore
import PalierSync
import PalierTestSupport
import Synchronization
import Testing

/// Which way a node takes to a neighbour it knows both on the local network and by an onion
/// address: the local network first, the onion when that way fails. The onion is stood in for
/// by an in-memory transport that counts its dials.
@Suite(.serialized)
struct OnionPathTests {
    /// Dials `.onion` endpoints by handing them to an in-memory node; listens as `<name>-onion`.
    final class StandInOnion: SyncTransport {
        let memory: InMemoryNetwork
        let name_: String
        let target: String
        let dials = Atomic<Int>(0)
        init(memory: InMemoryNetwork, name: String, target: String) {
            self.memory = memory
            self.name_ = name
            self.target = target
        }
        var name: String { "onion" }
        func canDial(_ endpoint: Endpoint) -> Bool { endpoint.host.hasSuffix(OnionAddress.suffix) }
        func listen(accept: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Void>) async throws -> SyncListener {
            try await memory.transport(name_ + "-onion").listen(accept: accept)
        }
        func connect(to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel {
            dials.add(1, ordering: .relaxed)
            return try await memory.transport(name_).connect(to: InMemoryNetwork.endpoint(target + "-onion"), initialize: initialize)
        }
    }

    /// Reports fixed peers, as mDNS would on a local network.
    struct FixedDiscovery: Discovery {
        let peers: [DiscoveredPeer]
        func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async {
            for peer in peers { events.yield(.appeared(peer)) }
        }
    }

    @Test("a neighbour on the local network is not dialled through its onion; when the local way fails, the onion is used")
    func localNetworkFirst() async throws {
        let memory = InMemoryNetwork()
        let network = NetworkKey.generate()
        let clock = ManualClock(Fixtures.epoch + 60_000)
        var logger = Logger(label: "test-onion-path")
        logger.logLevel = .critical
        func settings(_ name: String) -> SyncSettings {
            var settings = SyncSettings(listenHost: "127.0.0.1", port: 0, staticPeers: [], engine: .init(name: name))
            settings.minimumBackoff = .milliseconds(50)
            settings.maximumBackoff = .milliseconds(200)
            settings.onionDelay = .milliseconds(200)
            return settings
        }
        let keyA = Fixtures.key(811), keyB = Fixtures.key(812)
        let storeA = try EnvelopeStore(path: nil, building: keyA.publicKey, validator: .sodium)
        let storeB = try EnvelopeStore(path: nil, building: keyB.publicKey, validator: .sodium)
        // B holds A's signed onion address (learned earlier from a neighbour).
        let onionA = keyA.announce(OnionServiceKey.generate().address, port: 7481, now: Fixtures.epoch)
        #expect(try storeB.recordOnionAnnouncement(onionA, learnedFrom: nil, now: Fixtures.epoch))
        let standInA = StandInOnion(memory: memory, name: "a", target: "a")
        let standInB = StandInOnion(memory: memory, name: "b", target: "a")
        let a = try SyncService(settings: settings("A"), signingKey: keyA, networkKey: network, store: storeA, clock: clock, logger: logger,
                                transports: [memory.transport("a"), standInA])
        let lan = FixedDiscovery(peers: [DiscoveredPeer(id: PeerDirectory.peerID(keyA.publicKey), building: keyA.publicKey, name: "A",
                                                        endpoints: [InMemoryNetwork.endpoint("a")])])
        let b = try SyncService(settings: settings("B"), signingKey: keyB, networkKey: network, store: storeB, clock: clock, logger: logger,
                                discoveries: [lan], transports: [memory.transport("b"), standInB])
        let tasks = [Task { try await a.run() }, Task { try await b.run() }]
        defer { for task in tasks { task.cancel() } }

        #expect(try await eventually(within: .seconds(5)) { await b.sessions().count == 1 } != nil)
        try await Task.sleep(for: .seconds(1))
        #expect(standInB.dials.load(ordering: .relaxed) == 0, "the onion was dialled while the local network worked")
        #expect(try storeB.peers().first?.address == InMemoryNetwork.endpoint("a").description)

        // Sessions that drop while the local way works come back that way, never by the onion
        // (whose dialler wakes while the local one waits out its back-off).
        for _ in 0..<10 {
            memory.cut("a")
            #expect(try await eventually(within: .seconds(5)) { await b.sessions().isEmpty } != nil)
            #expect(try await eventually(within: .seconds(5)) { await b.sessions().count == 1 } != nil)
            try await Task.sleep(for: .milliseconds(Int.random(in: 300...1_300)))
        }
        #expect(standInB.dials.load(ordering: .relaxed) == 0, "the onion was dialled while the local network worked")

        // The local way breaks: B takes A's onion.
        memory.setReachable("a", false)
        memory.cut("a")
        #expect(try await eventually(within: .seconds(10)) {
            await b.sessions().count == 1 && standInB.dials.load(ordering: .relaxed) > 0
        } != nil)
        let onionPeer = try await eventually(within: .seconds(5)) { try storeB.peers().first?.address == onionA.endpointText }
        #expect(onionPeer != nil, "the session is recorded at A's onion address")
    }
}
