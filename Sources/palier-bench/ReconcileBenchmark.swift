import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport

/// `reconcile`: two stores of `items` envelopes, one lacking some of them, reconciled by two
/// real sync engines over a perfect in-memory link, once with ranges (§9.1) and once with coded
/// symbols (§9.2). The node that lacks envelopes dials (it is the one coming back). Missing
/// envelopes are either the most recent ones (a node that was offline) or scattered at random.
/// One line per mode and case: `<mode> <case> round_trips N overhead_bytes N cpu_ms N`, where
/// the overhead is every byte on the wire (frames and Noise tags included) beyond the missing
/// envelopes themselves, and the CPU time is both engines' (one process: loading the item sets
/// and ingesting included), the first 1024 coded symbols of each side's own items already made
/// (a running node keeps them up to date; the time to make them from scratch is printed once as
/// `sketch_build_ms`). For sketches, the time of the encoding and decoding itself follows.
struct ReconcileBenchmark {
    var items = 100_000
    var cases: [(name: String, differences: Int, recent: Bool)] = [
        ("d1", 1, true), ("d100_recent", 100, true), ("d100_scattered", 100, false),
        ("d10000_scattered", 10_000, false), ("d50000_scattered", 50_000, false),
    ]

    func run() throws {
        let building = Fixtures.key(0)
        let authors = (1...200).map { Fixtures.key(UInt64($0)) }
        let now = Fixtures.epoch + 3_600_000 * 24
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
        var random = SeededRandom(seed: 42)
        var printedBuild = false
        for test in cases where test.differences <= items / 2 {
            let missing: Set<Int> = test.recent
                ? Set((items - test.differences)..<items)
                : Set((0..<items).shuffled(using: &random).prefix(test.differences))
            let lackingEnvelopes = envelopes.enumerated().filter { !missing.contains($0.offset) }.map(\.element)
            let missingBytes = missing.reduce(0) { $0 + envelopes[$1].count }
            for mode in ["ranges", "sketch"] {
                let full = try Self.store(building: Fixtures.key(900).publicKey, envelopes, now: now)
                let lacking = try Self.store(building: Fixtures.key(901).publicKey, lackingEnvelopes, now: now)
                var configuration = SyncEngine.Configuration(name: "bench")
                configuration.authorBurst = 1e9
                configuration.peerMessageBurst = 1e9
                configuration.sketchReconciliation = mode == "sketch"
                let initiator = try SyncEngine(store: lacking, crypto: SodiumCrypto(), configuration: configuration)
                let responder = try SyncEngine(store: full, crypto: SodiumCrypto(), configuration: configuration)
                if mode == "sketch" {
                    let before = Self.cpuMilliseconds()
                    try initiator.prepareSketch(now: now, symbols: Self.warmSymbols)
                    try responder.prepareSketch(now: now, symbols: Self.warmSymbols)
                    if !printedBuild {
                        print("sketch_build_ms \(String(format: "%.1f", (Self.cpuMilliseconds() - before) / 2)) (per node of about \(items) items, \(Self.warmSymbols) symbols)")
                        printedBuild = true
                    }
                }
                let pair = EnginePair(initiator: initiator, responder: responder)
                let before = Self.cpuMilliseconds()
                pair.run(now: now)
                let cpu = Self.cpuMilliseconds() - before
                let held = try lacking.statistics().envelopes
                guard held == items else { throw BenchmarkError("\(mode) \(test.name): \(items - held) envelopes still missing") }
                let overhead = pair.bytesFromInitiator + pair.bytesFromResponder - missingBytes
                print("\(mode) \(test.name) round_trips \(pair.roundTrips) overhead_bytes \(overhead) cpu_ms \(String(format: "%.1f", cpu))")
                if mode == "sketch" {
                    func ms(_ d: Duration) -> String { String(format: "%.1f", Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15) }
                    print("  sketch encode and decode: lacking node \(ms(initiator.statistics.sketchWork)) ms, full node \(ms(responder.statistics.sketchWork)) ms")
                }
                if ProcessInfo.processInfo.environment["PALIER_BENCH_DETAIL"] == "1" {
                    let parts = pair.bytesByType.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }
                    print("  bytes by message: \(parts.joined(separator: " "))")
                }
            }
        }
    }

    /// CPU time of this process (user + system), in milliseconds.
    static func cpuMilliseconds() -> Double {
        var usage = rusage()
        getrusage(Int32(RUSAGE_SELF.rawValue), &usage)
        func ms(_ t: timeval) -> Double { Double(t.tv_sec) * 1000 + Double(t.tv_usec) / 1000 }
        return ms(usage.ru_utime) + ms(usage.ru_stime)
    }

    /// Symbols a running node has already made when a round starts (those of earlier rounds).
    static let warmSymbols = 1024

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
