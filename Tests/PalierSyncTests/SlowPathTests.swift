import PalierCore
import PalierCrypto
import PalierSync
import PalierTestSupport
import Testing

/// Sessions over a path whose round trip takes seconds, as an onion circuit's may.
struct SlowPathTests {
    @Test("with round trips of 11–12 s (over the want timeout of 10 s), a session stays open, a catch-up of 3,000 posts completes, each body crossing once, and the round trip is measured")
    func secondsOfRoundTrip() throws {
        var faults = SimulatedNeighbourhood.Faults.none
        faults.latency = 5_500...6_000
        let sim = try SimulatedNeighbourhood(seed: 16, nodes: 2, links: [(0, 1)], faults: faults)
        // 30 buildings' posts (each author's own burst allowance is 500).
        let authors = (0..<30).map { Fixtures.key(900 + $0) }
        var posts: [Envelope] = []
        for i in 0..<3_000 {
            let author = authors[i % authors.count]
            let post = Fixtures.post(by: author, in: author.publicKey, at: sim.now - UInt64(i) * 1_000, title: "post \(i)")
            posts.append(post)
            sim.inject(post, at: 0, time: sim.now)
        }
        sim.run(until: sim.now + 180_000)
        #expect(try posts.allSatisfy { try sim.nodes[1].store.envelope($0.id) != nil })
        #expect(sim.nodes[1].engine.statistics.bodiesReceived == 3_000)
        // No want lapsed and was asked again: each body was sent once.
        #expect(sim.nodes[0].engine.statistics.bodiesSent == 3_000)
        #expect(sim.sessionsClosed == 0)
        let roundTrip = try #require(sim.nodes[1].engine.openSessions.first.flatMap { sim.nodes[1].engine.roundTrip($0) })
        #expect((11_000...12_000).contains(roundTrip), "\(roundTrip)")
        // A post made now reaches the other side in about one crossing.
        let author = sim.nodes[0].key
        let late = Fixtures.post(by: author, in: author.publicKey, at: sim.now, title: "late")
        sim.inject(late, at: 0, time: sim.now)
        sim.run(until: sim.now + 20_000)
        #expect(try sim.nodes[1].store.envelope(late.id) != nil)
    }
}
