import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport

/// `ingest`: signed envelopes from many authors, ingested in batches into a file-backed store,
/// against the raw libsodium verify rate measured on the same envelopes in the same run.
struct IngestBenchmark {
    var posts = 20_000
    var batch = 1_000
    var authors = 200
    var rounds = 3

    func run() throws {
        let building = Fixtures.key(0)
        let keys = (1...authors).map { Fixtures.key(UInt64($0)) }
        let now = Fixtures.epoch + 3_600_000
        var envelopes = keys.map { Fixtures.grant(.resident, to: $0.publicKey, by: building) }.map(\.bytes)
        for i in 0..<posts {
            let author = keys[i % keys.count]
            envelopes.append(Fixtures.post(
                Kind.contentKinds[i % 3], by: author, in: building.publicKey, at: Fixtures.epoch + UInt64(i), counter: UInt16(i % 100),
                title: "Annonce n° \(i)", body: String(repeating: "Texte de l'annonce du voisinage. ", count: 1 + i % 8)
            ).bytes)
        }
        let averageSize = envelopes.reduce(0) { $0 + $1.count } / envelopes.count

        // The raw limit: libsodium verifying the same signed messages, nothing else.
        let messages = envelopes.map { bytes -> (message: [UInt8], signature: [UInt8], key: [UInt8]) in
            let content = bytes[0..<(bytes.count - Signature.byteCount)]
            return (EnvelopeCodec.signedMessage(contentBytes: content), Array(bytes.suffix(Signature.byteCount)), Array(bytes[35..<67]))
        }
        // The two measurements alternate batch by batch, so that both see the same machine
        // conditions (this machine's speed drifts by tens of percent from second to second).
        // Each round gives a ratio; the median round is reported.
        var rounds: [(verify: Measurement, ingest: Measurement)] = []
        for _ in 0..<self.rounds {
            let dir = makeTemporaryDirectory("palier-bench")
            defer { try? FileManager.default.removeItem(at: dir) }
            let store = try EnvelopeStore(path: dir.appendingPathComponent("palier.sqlite").path, building: building.publicKey, validator: .sodium)
            var verify = Measurement.zero, ingest = Measurement.zero
            var accepted = 0
            var index = 0
            while index < envelopes.count {
                let range = index..<min(index + batch, envelopes.count)
                verify += measure {
                    for m in messages[range] where !Ed25519.verify(signature: m.signature, message: m.message, publicKey: m.key) {
                        fatalError("fixture signature does not verify")
                    }
                }
                let slice = Array(envelopes[range])
                ingest += try measure {
                    accepted += try store.ingest(slice, now: now).accepted.count
                }
                index += batch
            }
            precondition(accepted == envelopes.count, "only \(accepted) of \(envelopes.count) accepted")
            let shown = try store.view(now: now).items.count
            precondition(shown == posts, "\(shown) of \(posts) posts shown")
            rounds.append((verify.rates(count: envelopes.count), ingest.rates(count: envelopes.count)))
        }
        let median = rounds.sorted { $0.ingest.wallRate / $0.verify.wallRate < $1.ingest.wallRate / $1.verify.wallRate }[rounds.count / 2]
        let cpuRatios = rounds.map { $0.ingest.cpuRate / $0.verify.cpuRate }.sorted()

        print("scenario ingest")
        print("envelopes \(envelopes.count)")
        print("average_bytes \(averageSize)")
        print("batch \(batch)")
        print("cores 1")
        print("rounds \(rounds.count)")
        print("verify_per_s \(Int(median.verify.wallRate))")
        print("ingest_per_s \(Int(median.ingest.wallRate))")
        print("ratio \(String(format: "%.3f", median.ingest.wallRate / median.verify.wallRate))")
        // The same on CPU time of the measuring thread: insensitive to a busy or stolen core.
        print("ratio_cpu \(String(format: "%.3f", cpuRatios[cpuRatios.count / 2]))")
    }
}

/// Time spent, on the wall clock and on this thread's CPU; or, after ``rates(count:)``, items per second.
struct Measurement {
    var wall: Double
    var cpu: Double

    static let zero = Measurement(wall: 0, cpu: 0)

    static func += (lhs: inout Measurement, rhs: Measurement) {
        lhs.wall += rhs.wall
        lhs.cpu += rhs.cpu
    }

    func rates(count: Int) -> Measurement { Measurement(wall: Double(count) / wall, cpu: Double(count) / cpu) }
    var wallRate: Double { wall }
    var cpuRate: Double { cpu }
}

func measure(_ body: () throws -> Void) rethrows -> Measurement {
    let cpuStart = threadCPUSeconds()
    let wallStart = ContinuousClock.now
    try body()
    let wall = ContinuousClock.now - wallStart
    let cpu = threadCPUSeconds() - cpuStart
    return Measurement(wall: Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18, cpu: cpu)
}

func threadCPUSeconds() -> Double {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}
