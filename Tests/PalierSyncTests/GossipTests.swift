import PalierCore
import PalierCrypto
import PalierSync
import PalierTestSupport
import Testing

struct GossipTests {
    @Test("a post reaches a node two hops away (A–B–C, no A–C link), each body crossing each link once")
    func relay() throws {
        let sim = try SimulatedNeighbourhood(seed: 1, nodes: 3, links: [(0, 1), (1, 2)])
        sim.run(until: sim.now + 10_000)
        let author = sim.nodes[0].key
        let post = Fixtures.post(by: author, in: author.publicKey, at: sim.now, title: "Ascenseur en panne")
        sim.inject(post, at: 0, time: sim.now)
        sim.run(until: sim.now + 5_000)
        #expect(try sim.nodes[2].store.envelope(post.id) != nil)
        #expect(sim.nodes.map(\.engine.statistics.bodiesReceived) == [0, 1, 1])
    }

    @Test("in a ring every node receives each body exactly once, however many neighbours announce it")
    func onceEach() throws {
        let sim = try SimulatedNeighbourhood(seed: 2, nodes: 6, links: [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 0), (0, 3), (1, 4)])
        sim.run(until: sim.now + 10_000)
        var posts: [Envelope] = []
        for i in 0..<12 {
            let author = sim.nodes[i % 6].key
            let post = Fixtures.post(by: author, in: author.publicKey, at: sim.now, title: "post \(i)")
            posts.append(post)
            sim.inject(post, at: i % 6, time: sim.now + UInt64(i) * 100)
        }
        sim.run(until: sim.now + 10_000)
        for node in sim.nodes {
            #expect(try posts.allSatisfy { try node.store.envelope($0.id) != nil })
            // 12 posts, 2 of them its own: 10 bodies, none twice.
            #expect(node.engine.statistics.bodiesReceived == 10)
        }
    }

    @Test("building-scope envelopes never reach a peer, as the messages it receives show")
    func buildingScopeStaysHome() throws {
        let sim = try SimulatedNeighbourhood(seed: 3, nodes: 2, links: [(0, 1)])
        sim.recordDeliveries = true
        sim.run(until: sim.now + 10_000)
        let home = sim.nodes[0].key
        let secret = Fixtures.post(by: home, in: home.publicKey, at: sim.now, scope: .building, title: "Code 4512")
        let shared = Fixtures.post(by: home, in: home.publicKey, at: sim.now, title: "Vide-grenier")
        sim.inject(secret, at: 0, time: sim.now)
        sim.inject(shared, at: 0, time: sim.now)
        sim.run(until: sim.now + 5_000)
        // A full reconciliation round too, then look at everything node 1 was sent.
        sim.run(until: sim.now + 70_000)
        let received = sim.delivered(to: 1)
        #expect(!received.isEmpty)
        for message in received {
            switch message {
            case .envelopes(let list): #expect(!list.contains(secret.bytes))
            case .announce(let ids), .want(let ids): #expect(!ids.contains(secret.id))
            case .reconcile(let bytes): #expect(!bytes.windows(ofCount: 32).contains { Array($0) == secret.id.bytes })
            default: break
            }
        }
        #expect(try sim.nodes[1].store.envelope(shared.id) != nil)
        #expect(try sim.nodes[1].store.envelope(secret.id) == nil)
    }
}

extension Array where Element == UInt8 {
    func windows(ofCount n: Int) -> [ArraySlice<UInt8>] {
        count < n ? [] : (0...(count - n)).map { self[$0..<$0 + n] }
    }
}
