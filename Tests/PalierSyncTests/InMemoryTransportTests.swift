import Foundation
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// The transport seam: the same service, pipeline and engine over an in-memory network.
@Suite(.serialized)
struct InMemoryTransportTests {
    let clock = ManualClock(Fixtures.epoch + 60_000)

    @Test("two nodes on an in-memory network sync a post; cut, they reconnect and sync the next one")
    func syncCutReconnect() async throws {
        let memory = InMemoryNetwork()
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 801, network: network, clock: clock, memory: memory)
        let b = try await LiveNode(seed: 802, network: network, peers: [a.address], clock: clock, memory: memory)
        defer { Task { await a.stop(); await b.stop() } }
        #expect(a.address == "node801.memory:1")
        #expect(a.service.listeningPort == nil, "no TCP port is opened")
        #expect(try await eventually(within: .seconds(5)) { await a.service.sessions().count == 1 } != nil)

        let first = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch, title: "Coupure d'eau jeudi")
        _ = try a.store.ingest([first.bytes], now: clock.nowMillis())
        #expect(try await eventually(within: .seconds(5)) { try b.store.envelope(first.id) != nil } != nil)

        memory.cut("node802")
        #expect(try await eventually(within: .seconds(5)) { await a.service.sessions().isEmpty } != nil, "the cut closes the session")
        let second = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch + 1, title: "Ascenseur en maintenance")
        _ = try a.store.ingest([second.bytes], now: clock.nowMillis())
        #expect(try await eventually(within: .seconds(5)) { try b.store.envelope(second.id) != nil } != nil, "b dialled again and got the next post")
    }

    @Test("an unreachable node is not reached until it is reachable again; a peer at an address no transport reaches is skipped")
    func unreachable() async throws {
        let memory = InMemoryNetwork()
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 803, network: network, clock: clock, memory: memory)
        memory.setReachable("node803", false)
        let b = try await LiveNode(seed: 804, network: network, peers: ["abcdefghijklmnop.onion:7447", a.address], clock: clock, memory: memory)
        defer { Task { await a.stop(); await b.stop() } }
        try await Task.sleep(for: .milliseconds(500))
        #expect(await b.service.sessions().isEmpty)
        memory.setReachable("node803", true)
        #expect(try await eventually(within: .seconds(5)) { await b.service.sessions().count == 1 } != nil)
    }

    @Test("a node with another network key is refused over the in-memory transport too")
    func otherNetwork() async throws {
        let memory = InMemoryNetwork()
        let a = try await LiveNode(seed: 805, network: NetworkKey.generate(), clock: clock, memory: memory)
        let b = try await LiveNode(seed: 806, network: NetworkKey.generate(), peers: [a.address], clock: clock, memory: memory)
        defer { Task { await a.stop(); await b.stop() } }
        let post = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch, title: "Réservé au réseau")
        _ = try a.store.ingest([post.bytes], now: clock.nowMillis())
        try await Task.sleep(for: .milliseconds(700))
        #expect(await a.service.sessions().isEmpty)
        #expect(try b.store.envelope(post.id) == nil)
    }
}

extension InMemoryTransportTests {
    @Test("a node that stops closes its sessions: the peer sees them end at once")
    func stoppingClosesSessions() async throws {
        let memory = InMemoryNetwork()
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 807, network: network, clock: clock, memory: memory)
        let b = try await LiveNode(seed: 808, network: network, peers: [a.address], clock: clock, memory: memory)
        defer { Task { await a.stop() } }
        #expect(try await eventually(within: .seconds(5)) { await a.service.sessions().count == 1 } != nil)
        await b.stop()
        #expect(try await eventually(within: .seconds(2)) { await a.service.sessions().isEmpty } != nil)
    }
}
