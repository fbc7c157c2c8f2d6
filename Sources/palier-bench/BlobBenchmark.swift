import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport

/// Blob transfer between two nodes on loopback (two sync services, stores on disk), as a ratio
/// of what a bare Noise session over the same loopback carries in the same run.
///
/// - raw: one Noise session (XXpsk3, the sync pipeline's frames and cipher) sending 60 KiB
///   messages back to back; bytes of payload per second at the receiver.
/// - blobs: node A holds `blobs` posts of one 1 MiB image each; node B starts, dials A, syncs
///   the posts and fetches every image. Timed from B's start to the last image kept (what an
///   admin waits for), with the default pacing (8 MiB/s per peer) and with pacing lifted.
/// The image check is stubbed (the bytes are random): `ImageProcessor.check` is measured apart.
struct BlobBenchmark {
    var blobs = 32
    var rawMiB = 256

    func run() async throws {
        let rawRate = try await rawNoise(bytes: rawMiB << 20)
        print("raw_noise_mib_per_s \(String(format: "%.1f", rawRate / 1_048_576))")
        for (label, rate) in [("paced", 8_388_608.0), ("unpaced", 1e12)] {
            let (seconds, bytes) = try await transfer(rate: rate)
            let throughput = Double(bytes) / seconds
            print("blobs_\(label)_seconds \(String(format: "%.2f", seconds))")
            print("blobs_\(label)_mib_per_s \(String(format: "%.1f", throughput / 1_048_576))")
            print("blobs_\(label)_ratio_to_raw \(String(format: "%.3f", throughput / rawRate))")
        }
    }

    /// Payload bytes per second through one Noise session on loopback.
    func rawNoise(bytes total: Int) async throws -> Double {
        let network = NetworkKey.generate()
        let message = [UInt8](repeating: 0xA5, count: SyncProtocol.maximumChunkBytes + 43)
        let count = total / message.count
        let done = NIOLockedValueBox<(received: Int, finished: ContinuousClock.Instant?)>((0, nil))
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SyncFrameDecoder()), MessageToByteHandler(SyncFrameEncoder()),
                        NoiseSessionHandler(initiator: false, signingKey: Fixtures.key(901), networkKey: network),
                        Counter(expected: count * message.count, done: done),
                    ])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { server.close(promise: nil) }
        let established = NIOLockedValueBox(false)
        let client = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(SyncFrameDecoder()), MessageToByteHandler(SyncFrameEncoder()),
                        NoiseSessionHandler(initiator: true, signingKey: Fixtures.key(902), networkKey: network),
                        Established(flag: established),
                    ])
                }
            }
            .connect(host: "127.0.0.1", port: server.localAddress!.port!).get()
        defer { client.close(promise: nil) }
        while !established.withLockedValue({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
        let start = ContinuousClock.now
        // Written in batches as the socket takes them, as the sync service's links do.
        for batch in stride(from: 0, to: count, by: 64) {
            for _ in batch..<min(batch + 64, count) { client.write(message, promise: nil) }
            try await client.writeAndFlush(message).get()
        }
        while done.withLockedValue({ $0.finished }) == nil { try await Task.sleep(for: .milliseconds(2)) }
        let finished = done.withLockedValue { $0.finished! }
        let seconds = Double((finished - start).components.attoseconds) / 1e18 + Double((finished - start).components.seconds)
        return Double(done.withLockedValue { $0.received }) / seconds
    }

    /// Seconds from B's start until it holds every image, and the image bytes moved.
    func transfer(rate: Double) async throws -> (Double, Int) {
        let network = NetworkKey.generate()
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("palier-bench-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let keyA = Fixtures.key(911), keyB = Fixtures.key(912)
        func store(_ key: SigningKey, _ name: String) throws -> EnvelopeStore {
            let directory = root.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return try EnvelopeStore(path: directory.appendingPathComponent("palier.sqlite").path, building: key.publicKey, validator: .sodium)
        }
        let storeA = try store(keyA, "a"), storeB = try store(keyB, "b")
        let clock = SystemClock()
        var posts: [[UInt8]] = []
        for n in 0..<blobs {
            let blob = Fixtures.blob(UInt64(n), size: Limits.maximumBlobBytes)
            try storeA.keepBlob(BlobRecord(blob.reference), bytes: blob.bytes, budget: .max, now: clock.nowMillis())
            posts.append(Fixtures.imagePost(by: keyA, in: keyA.publicKey, images: [blob.reference], at: clock.nowMillis() - 60_000,
                                            title: "Vélo \(n)").bytes)
        }
        _ = try storeA.ingest(posts, now: clock.nowMillis())
        var logger = Logger(label: "bench-blobs")
        logger.logLevel = .error
        func settings(_ name: String, peers: [String]) -> SyncSettings {
            var engine = SyncEngine.Configuration(name: name)
            engine.blobBytesPerSecond = rate
            var settings = SyncSettings(listenHost: "127.0.0.1", port: 0, staticPeers: peers, engine: engine)
            settings.blobCheck = { _, _ in nil }
            return settings
        }
        let a = try SyncService(settings: settings("A", peers: []), signingKey: keyA, networkKey: network, store: storeA, clock: clock, logger: logger)
        let taskA = Task { try await a.run() }
        defer { taskA.cancel() }
        while a.listeningPort == nil { try await Task.sleep(for: .milliseconds(5)) }
        let start = ContinuousClock.now
        let b = try SyncService(settings: settings("B", peers: ["127.0.0.1:\(a.listeningPort!)"]), signingKey: keyB, networkKey: network,
                                store: storeB, clock: clock, logger: logger)
        let taskB = Task { try await b.run() }
        defer { taskB.cancel() }
        while try storeB.blobUsage().count < blobs {
            guard ContinuousClock.now - start < .seconds(300) else { throw BenchError.timedOut }
            try await Task.sleep(for: .milliseconds(5))
        }
        let elapsed = ContinuousClock.now - start
        return (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18, try storeB.blobUsage().bytes.asInt)
    }

    enum BenchError: Error { case timedOut }
}

private extension Int64 { var asInt: Int { Int(self) } }

/// Counts the payload a Noise session delivers; notes when `expected` bytes have come.
private final class Counter: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SyncInbound
    let expected: Int
    let done: NIOLockedValueBox<(received: Int, finished: ContinuousClock.Instant?)>
    init(expected: Int, done: NIOLockedValueBox<(received: Int, finished: ContinuousClock.Instant?)>) {
        self.expected = expected
        self.done = done
    }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .message(let bytes) = unwrapInboundIn(data) else { return }
        done.withLockedValue { state in
            state.received += bytes.count
            if state.received >= expected, state.finished == nil { state.finished = .now }
        }
    }
}

/// Notes that the handshake is done.
private final class Established: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = SyncInbound
    let flag: NIOLockedValueBox<Bool>
    init(flag: NIOLockedValueBox<Bool>) { self.flag = flag }
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .established = unwrapInboundIn(data) { flag.withLockedValue { $0 = true } }
    }
}
