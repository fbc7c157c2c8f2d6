import Foundation
import Logging
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierStore
import PalierSync
import PalierTestSupport
import Synchronization
import Testing

/// A sync service on loopback (or on an in-memory network) with an in-memory store, running
/// until the test ends.
final class LiveNode: Sendable {
    let key: SigningKey
    let store: EnvelopeStore
    let service: SyncService
    let task: Task<Void, any Error>

    /// With `lan`, the node publishes itself there and dials whom it finds; what it ignores
    /// goes to `ignored`.
    let memoryName: String?

    init(seed: UInt64, network: NetworkKey, peers: [String] = [], clock: ManualClock, lan: InMemoryLAN? = nil, memory: InMemoryNetwork? = nil,
         configure: (inout SyncSettings) -> Void = { _ in },
         ignored: @escaping @Sendable (ServiceInstance, PeerDirectory.Ignored) -> Void = { _, _ in }) async throws {
        key = Fixtures.key(seed)
        store = try EnvelopeStore(path: nil, building: key.publicKey, validator: .sodium)
        var settings = SyncSettings(listenHost: "127.0.0.1", port: 0, staticPeers: peers, engine: .init(name: "building \(seed)"))
        settings.minimumBackoff = .milliseconds(50)
        settings.maximumBackoff = .milliseconds(400)
        configure(&settings)
        var logger = Logger(label: "test-sync-\(seed)")
        logger.logLevel = .warning
        let record = DiscoveryRecord(building: key.publicKey, networkID: network.id, name: "building \(seed)")
        let discoveries: [any Discovery] = lan.map { [InMemoryDiscovery(lan: $0, record: record, onIgnored: ignored)] } ?? []
        memoryName = memory.map { _ in "node\(seed)" }
        service = try SyncService(settings: settings, signingKey: key, networkKey: network, store: store, clock: clock, logger: logger,
                                  discoveries: discoveries, transports: memory.map { [$0.transport("node\(seed)")] })
        let service = self.service
        task = Task { try await service.run() }
        let deadline = ContinuousClock.now + .seconds(5)
        while memory == nil, service.listeningPort == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
    }

    var address: String { memoryName.map { InMemoryNetwork.endpoint($0).description } ?? "127.0.0.1:\(service.listeningPort ?? 0)" }

    func stop() async {
        task.cancel()
        _ = await task.result
    }
}

@Suite(.serialized)
struct LiveSyncTests {
    let clock = ManualClock(Fixtures.epoch + 60_000)

    @Test("two nodes with the same network key sync a post within a second; building scope stays home")
    func twoNodes() async throws {
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 501, network: network, clock: clock)
        let b = try await LiveNode(seed: 502, network: network, peers: [a.address], clock: clock)
        defer { Task { await a.stop(); await b.stop() } }
        #expect(try await eventually(within: .seconds(5)) { await a.service.sessions().count == 1 } != nil)

        let secret = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch, scope: .building, title: "Code de la porte")
        let post = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch, title: "Coupure d'eau jeudi")
        _ = try a.store.ingest([secret.bytes, post.bytes], now: clock.nowMillis())
        let elapsed = try await eventually(within: .seconds(1)) { try b.store.envelope(post.id) != nil }
        #expect(elapsed != nil, "the post did not reach the other node within 1 s")
        // Give a stray building-scope body every chance to arrive: it must not.
        try await Task.sleep(for: .milliseconds(300))
        #expect(try b.store.envelope(secret.id) == nil)
        #expect(try b.store.syncItems(now: clock.nowMillis(), policy: FederationPolicy()).map(\.id) == [post.id])
        let peers = try b.store.peers()
        #expect(peers.map(\.building) == [a.key.publicKey] && peers.first?.connected == true)
    }

    @Test("nodes on one local network find each other with no static peers; another network and a malformed record are not dialled")
    func discoveredPeers() async throws {
        let lan = InMemoryLAN()
        let network = NetworkKey.generate()
        let ignoredByA = Mutex<[PeerDirectory.Ignored]>([])
        lan.publish(name: "Malformed", txt: [Array("v=1".utf8)], endpoint: Endpoint(host: "127.0.0.1", port: 1))
        let stranger = try await LiveNode(seed: 543, network: NetworkKey.generate(), clock: clock, lan: lan)
        let a = try await LiveNode(seed: 541, network: network, clock: clock, lan: lan, ignored: { _, why in ignoredByA.withLock { $0.append(why) } })
        let b = try await LiveNode(seed: 542, network: network, clock: clock, lan: lan)
        defer { Task { await a.stop(); await b.stop(); await stranger.stop() } }

        #expect(try await eventually(within: .seconds(5)) {
            let (sessionsA, sessionsB) = (await a.service.sessions(), await b.service.sessions())
            return sessionsA.count == 1 && sessionsB.count == 1
        } != nil)
        #expect(await a.service.sessions().map(\.building) == [b.key.publicKey])
        let post = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch, title: "Vide-grenier dimanche")
        _ = try a.store.ingest([post.bytes], now: clock.nowMillis())
        #expect(try await eventually(within: .seconds(1)) { try b.store.envelope(post.id) != nil } != nil)

        // The stranger and the malformed record were seen, and left alone.
        #expect(await stranger.service.sessions().isEmpty)
        #expect(try !a.store.peers().contains { $0.building == stranger.key.publicKey })
        let ignored = ignoredByA.withLock { $0 }
        #expect(ignored.contains { if case .otherNetwork = $0 { true } else { false } })
        #expect(ignored.contains(.malformed(.missing("pk"))))
        #expect(ignored.contains(.ownService))

        // A node that stops is withdrawn from the network.
        #expect(lan.services.keys.sorted() == ["Malformed", "building 541", "building 542", "building 543"])
        await b.stop()
        #expect(lan.services["building 542"] == nil)
    }

    @Test("a node with another network key is refused at the handshake and gets nothing")
    func wrongNetworkKey() async throws {
        let a = try await LiveNode(seed: 511, network: NetworkKey.generate(), clock: clock)
        let post = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch)
        _ = try a.store.ingest([post.bytes], now: clock.nowMillis())
        let intruder = try await LiveNode(seed: 512, network: NetworkKey.generate(), peers: [a.address], clock: clock)
        defer { Task { await a.stop(); await intruder.stop() } }
        try await Task.sleep(for: .seconds(1))
        #expect(await a.service.sessions().isEmpty)
        #expect(await intruder.service.sessions().isEmpty)
        #expect(try intruder.store.statistics().envelopes == 0)
        #expect(try a.store.peers().isEmpty)
    }

    @Test("an independent Noise implementation (Python noiseprotocol) completes a session with a node")
    func pythonInterop() async throws {
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 521, network: network, clock: clock)
        defer { Task { await a.stop() } }
        let result = try await onOwnThread { try runProjectScript("scripts/noise-interop.sh", ["127.0.0.1", "\(a.service.listeningPort ?? 0)", hexString(network.bytes)]) }
        let text = result.output
        #expect(result.status == 0, "\(text)")
        #expect(text.contains("identity verified \(a.key.publicKey.hex)"))
        #expect(text.contains("pong 42") && text.contains("unsupported 127") && text.hasSuffix("ok\n"))
    }

    @Test("a peer that stops reading is dropped, and another peer still gets a post within a second")
    func peerThatStopsReading() async throws {
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 531, network: network, clock: clock) { $0.stallTimeout = .seconds(2) }
        // 15,000 envelopes of 2 KB: a round pushes 2,000 of them at once (4 MB, with the
        // announces of the rest more than the kernel's socket buffers hold for a stalled reader).
        let authors = (0..<200).map { Fixtures.key(20_000 + UInt64($0)) }
        let bulk = (0..<15_000).map { i in
            Fixtures.post(by: authors[i % 200], in: a.key.publicKey, at: Fixtures.epoch + UInt64(i), counter: UInt16(i % 50),
                          title: "annonce \(i)", body: String(repeating: "Texte de l'annonce. ", count: 95)).bytes
        }
        for start in stride(from: 0, to: bulk.count, by: 1_000) {
            _ = try a.store.ingest(Array(bulk[start..<start + 1_000]), now: clock.nowMillis())
        }
        let b = try await LiveNode(seed: 532, network: network, peers: [a.address], clock: clock) { $0.engine.authorBurst = 1e6 }
        defer { Task { await a.stop(); await b.stop() } }
        // B catches up (it reads: it is paced, not dropped).
        #expect(try await eventually(within: .seconds(60)) { try b.store.statistics().envelopes == bulk.count } != nil)

        let staller = Process()
        staller.executableURL = packageRoot.appendingPathComponent("scripts/noise-interop.sh")
        staller.arguments = ["127.0.0.1", "\(a.service.listeningPort ?? 0)", hexString(network.bytes), "--stall", "8"]
        staller.standardOutput = FileHandle.nullDevice
        try staller.run()
        defer { if staller.isRunning { staller.terminate() } }
        #expect(try await eventually(within: .seconds(5)) { await a.service.sessions().count == 2 } != nil)

        let post = Fixtures.post(by: a.key, in: a.key.publicKey, at: Fixtures.epoch + 30_000, title: "Ascenseur réparé")
        _ = try a.store.ingest([post.bytes], now: clock.nowMillis())
        #expect(try await eventually(within: .seconds(1)) { try b.store.envelope(post.id) != nil } != nil, "B was held up by the stalled peer")
        // The stalled peer is dropped once it has taken nothing for 2 s; B stays.
        #expect(try await eventually(within: .seconds(6)) { await a.service.sessions().map(\.building) == [b.key.publicKey] } != nil)
    }

    @Test("a peer that sends an invalid envelope is disconnected, refused when it comes back, and nothing is stored")
    func invalidEnvelopeBacksOff() async throws {
        let network = NetworkKey.generate()
        let a = try await LiveNode(seed: 541, network: network, clock: clock)
        defer { Task { await a.stop() } }
        let result = try await onOwnThread { try runProjectScript("scripts/noise-interop.sh", ["127.0.0.1", "\(a.service.listeningPort ?? 0)", hexString(network.bytes), "--invalid"]) }
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("bye 2\n") && result.output.contains("refused 3\n"), "\(result.output)")
        #expect(try a.store.statistics().envelopes == 0)
    }
}
