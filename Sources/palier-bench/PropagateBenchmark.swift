import Foundation
import PalierCore
import PalierSync
import PalierTestSupport

/// `propagate`: `nodes` simulated nodes, each linked to about `degree` others, no faults and a
/// fixed latency. Posts are made one at a time at random nodes; for each, the time until every
/// node holds it is measured in rounds (one round = announce, want and body across one link:
/// three latencies). Also: bodies each node received per post (1.0 = every body crossed into
/// every node exactly once) and announce bytes sent per node per post.
struct PropagateBenchmark {
    var nodes = 1_000
    var degree = 6
    var posts = 10

    func run() throws {
        var faults = SimulatedNeighbourhood.Faults.none
        let latency: UInt64 = 10
        faults.latency = latency...latency
        let sim = try SimulatedNeighbourhood(seed: 1, nodes: nodes, degree: degree, faults: faults)
        sim.run(until: sim.now + 5_000, tickEvery: 1_000)
        let baseline = sim.bytesByType[.announce] ?? 0
        var random = SeededRandom(seed: 7)
        var rounds: [Int] = []
        for i in 0..<posts {
            let origin = Int.random(in: 0..<nodes, using: &random)
            let author = sim.nodes[origin].key
            let post = Fixtures.post(by: author, in: author.publicKey, at: sim.now, title: "post \(i)")
            let start = sim.now
            sim.inject(post, at: origin, time: start)
            var round = 0
            while true {
                round += 1
                sim.run(until: start + UInt64(round) * 3 * latency + latency / 2, tickEvery: 60_000)
                if try sim.nodes.allSatisfy({ try $0.store.envelope(post.id) != nil }) { break }
                guard round < 100 else { throw BenchmarkError("post \(i) did not reach every node") }
            }
            rounds.append(round)
            sim.run(until: sim.now + 1_000, tickEvery: 60_000)
        }
        let bodies = sim.nodes.reduce(0) { $0 + $1.engine.statistics.bodiesReceived }
        let announceBytes = (sim.bytesByType[.announce] ?? 0) - baseline
        print("nodes \(nodes)")
        print("links \(sim.linkCount)")
        print("posts \(posts)")
        print("rounds_max \(rounds.max() ?? 0)")
        print("rounds_mean \(String(format: "%.2f", Double(rounds.reduce(0, +)) / Double(rounds.count)))")
        print("bodies_per_node_per_post \(String(format: "%.3f", Double(bodies) / Double((nodes - 1) * posts)))")
        print("announce_bytes_per_node_per_post \(String(format: "%.1f", Double(announceBytes) / Double(nodes * posts)))")
    }
}
