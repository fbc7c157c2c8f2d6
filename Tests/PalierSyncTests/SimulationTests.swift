import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

struct SimulationTests {
    /// Injects a random history (posts, edits, retracts, hides, grants, building-scope posts)
    /// at random nodes over the first hour, runs with faults, heals, and checks convergence.
    static func converge(seed: UInt64, nodes count: Int, sketch: Bool = false) throws -> (SimulatedNeighbourhood, RandomNeighbourhood) {
        var configuration = SyncEngine.Configuration(name: "simulated")
        configuration.reconcileInterval = 60_000
        configuration.pingInterval = 20_000
        configuration.idleTimeout = 70_000
        // Ranges only, or coded symbols for every round (the sets here stay small).
        configuration.sketchReconciliation = sketch
        configuration.sketchThreshold = 0
        let sim = try SimulatedNeighbourhood(seed: seed, nodes: count, configuration: configuration)
        let history = RandomNeighbourhood(seed: seed, size: 60)
        var random = SeededRandom(seed: seed ^ 0xA5A5)
        for envelope in history.envelopes {
            // A building-scope envelope can only be stored at its own building's node.
            let node: Int
            if envelope.content.scope == .building {
                node = envelope.building == history.home.publicKey ? 0 : 1
            } else {
                node = Int.random(in: 0..<count, using: &random)
            }
            sim.inject(envelope, at: node, time: envelope.timestamp.millis + UInt64.random(in: 0...60_000, using: &random))
        }
        sim.run(until: Fixtures.epoch + 75 * 60_000)
        sim.healAndSettle(for: 10 * 60_000)
        return (sim, history)
    }

    static func check(_ sim: SimulatedNeighbourhood, _ history: RandomNeighbourhood) throws -> [String] {
        var problems: [String] = []
        let viewer = history.home.publicKey
        let reference = try sim.replicatedSet(of: 0)
        let referenceDigest = try sim.viewDigest(of: 0, viewer: viewer)
        for i in sim.nodes.indices.dropFirst() {
            if try sim.replicatedSet(of: i) != reference { problems.append("node \(i) holds a different set") }
            if try sim.viewDigest(of: i, viewer: viewer) != referenceDigest { problems.append("node \(i) shows a different view") }
        }
        // Building-scope envelopes never leave their node.
        for envelope in history.envelopes where envelope.content.scope == .building {
            let home = envelope.building == history.home.publicKey ? 0 : 1
            for i in sim.nodes.indices where i != home {
                if try sim.nodes[i].store.envelope(envelope.id) != nil { problems.append("building-scope \(envelope.id.shortHex) reached node \(i)") }
            }
        }
        // A retraction that erased a body somewhere erased it everywhere.
        for retract in history.envelopes where retract.kind == .retract {
            let target = retract.target!
            let erasedSomewhere = try sim.nodes.contains { try $0.store.isErased(target) }
            if erasedSomewhere {
                for i in sim.nodes.indices where try sim.nodes[i].store.envelope(target) != nil {
                    problems.append("node \(i) still holds the body of erased \(target.shortHex)")
                }
            }
        }
        return problems
    }

    /// Each seed is its own test case (they run in parallel); a failing case names its seed,
    /// and `converge(seed:nodes:)` with that seed replays it exactly.
    @Test("20 nodes with loss, duplication, reordering, partitions, restarts and skew converge (ranges)", arguments: UInt64(1)...100)
    func converges(seed: UInt64) async throws {
        let problems = try await onSimulationThread {
            let (sim, history) = try Self.converge(seed: seed, nodes: 20)
            return try Self.check(sim, history)
        }
        #expect(problems.isEmpty, "seed \(seed) (replay with SimulationTests.converge(seed: \(seed), nodes: 20)): \(problems.prefix(5))")
    }

    @Test("the same, reconciling with coded symbols", arguments: UInt64(1)...100)
    func convergesWithSketches(seed: UInt64) async throws {
        let (problems, decoded) = try await onSimulationThread {
            let (sim, history) = try Self.converge(seed: seed, nodes: 20, sketch: true)
            return (try Self.check(sim, history), sim.nodes.reduce(0) { $0 + $1.engine.statistics.sketchSymbolsDecoded })
        }
        #expect(problems.isEmpty, "seed \(seed) (replay with SimulationTests.converge(seed: \(seed), nodes: 20, sketch: true)): \(problems.prefix(5))")
        #expect(decoded > 0, "seed \(seed): no sketch round finished")
    }

    @Test("the same seed replays exactly")
    func replay() async throws {
        let runs = try await onSimulationThread {
            try (0..<2).map { _ in
                let (sim, _) = try Self.converge(seed: 7, nodes: 8)
                return (sim.messagesSent, sim.bytesSent, try sim.replicatedSet(of: 3))
            }
        }
        #expect(runs[0].0 == runs[1].0)
        #expect(runs[0].1 == runs[1].1)
        #expect(runs[0].2 == runs[1].2)
    }
}
