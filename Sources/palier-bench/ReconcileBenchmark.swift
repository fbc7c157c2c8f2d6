import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport

/// `reconcile`: two stores of `items` envelopes, one lacking `d` of them, reconciled by two real
/// sync engines over a perfect in-memory link. The node that lacks envelopes dials (it is the one
/// coming back). Missing envelopes are either the most recent ones (a node that was offline) or
/// scattered at random through the history.
struct ReconcileBenchmark {
    var items = 100_000
    var differences = [1, 100, 10_000]

    func run() throws {
        let building = Fixtures.key(0)
        let authors = (1...200).map { Fixtures.key(UInt64($0)) }
        let now = Fixtures.epoch + 3_600_000 * 24
        let clock = ContinuousClock()
        var envelopes: [[UInt8]] = []
        envelopes.reserveCapacity(items)
        for i in 0..<items {
            envelopes.append(Fixtures.post(
                Kind.contentKinds[i % 3], by: authors[i % authors.count], in: building.publicKey,
                at: Fixtures.epoch + UInt64(i) * 500, counter: UInt16(i % 7),
                title: "Annonce n° \(i)", body: String(repeating: "Texte de l'annonce. ", count: 1 + i % 6)
            ).bytes)
        }
        print("items \(items)")
        let full = try Self.store(building: Fixtures.key(900).publicKey, envelopes, now: now)
        var random = SeededRandom(seed: 42)
        for d in differences where d <= items / 2 {
            for placement in ["recent", "scattered"] {
                let missing: Set<Int> = placement == "recent"
                    ? Set((items - d)..<items)
                    : Set((0..<items).shuffled(using: &random).prefix(d))
                let lacking = try Self.store(
                    building: Fixtures.key(901).publicKey,
                    envelopes.enumerated().filter { !missing.contains($0.offset) }.map(\.element), now: now)
                var configuration = SyncEngine.Configuration(name: "bench")
                configuration.authorBurst = 1e9
                configuration.peerMessageBurst = 1e9
                let start = clock.now
                let pair = EnginePair(
                    initiator: try SyncEngine(store: lacking, crypto: SodiumCrypto(), configuration: configuration),
                    responder: try SyncEngine(store: full, crypto: SodiumCrypto(), configuration: configuration))
                pair.run(now: now)
                let seconds = clock.now - start
                let held = try lacking.statistics().envelopes
                guard held == items else { throw BenchmarkError("reconciliation left \(items - held) envelopes missing") }
                let missingBytes = missing.reduce(0) { $0 + envelopes[$1].count }
                let total = pair.bytesFromInitiator + pair.bytesFromResponder
                let name = "d\(d)_\(placement)"
                print("\(name)_round_trips \(pair.roundTrips)")
                print("\(name)_bytes_from_lacking_node \(pair.bytesFromInitiator)")
                print("\(name)_bytes_from_full_node \(pair.bytesFromResponder)")
                print("\(name)_missing_envelope_bytes \(missingBytes)")
                print("\(name)_overhead_bytes \(total - missingBytes)")
                print("\(name)_seconds \(String(format: "%.3f", Double(seconds.components.attoseconds) / 1e18 + Double(seconds.components.seconds)))")
            }
        }
    }

    static func store(building: PublicKey, _ envelopes: [[UInt8]], now: UInt64) throws -> EnvelopeStore {
        let store = try EnvelopeStore(path: nil, building: building, validator: .sodium)
        for start in stride(from: 0, to: envelopes.count, by: 2_000) {
            _ = try store.ingest(Array(envelopes[start..<min(start + 2_000, envelopes.count)]), now: now)
        }
        return store
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
