import Foundation
import Logging
import NIOCore
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierStore
import PalierSync
import PalierTestSupport
import Synchronization
import Testing

/// The onion transport against a stand-in for tor (`scripts/fake-tor.py`: control ports, a SOCKS
/// port and a registry of onion services), so that it runs without root; the real tor is the
/// onion lab's (OnionLabTests).
@Suite(.serialized)
struct OnionTransportTests {
    /// The stand-in, running until ``stop()``.
    final class FakeTor: Sendable {
        let directory: String
        let process: Process

        init(directory: String, services: [String: OnionAddress], options: [String] = []) async throws {
            self.directory = directory
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["python3", packageRoot.appendingPathComponent("scripts/fake-tor.py").path, directory]
                + services.map { "\($0.key)=\($0.value.serviceID)" } + options
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            self.process = process
            let ready = try await eventually(within: .seconds(10)) { FileManager.default.fileExists(atPath: "\(directory)/socks.port") }
            guard ready != nil else { throw TorControlError("the stand-in for tor did not start") }
        }

        func control(_ name: String) -> String { "\(directory)/\(name)/control" }

        var commands: String { (try? String(contentsOfFile: "\(directory)/commands.log", encoding: .utf8)) ?? "" }

        /// SIGTERM: every control connection closes, as when tor stops.
        func stop() {
            process.terminate()
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { usleep(10_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    final class StatusLog: Sendable {
        let list = Mutex<[OnionStatus]>([])
    }

    /// One node: a store, a sync service whose only transport is the onion one, its statuses.
    final class Node: Sendable {
        let key: SigningKey
        let onion: OnionServiceKey
        let store: EnvelopeStore
        let service: SyncService
        let transport: OnionTransport
        let statuses = StatusLog()
        let task: Task<Void, any Error>

        init(seed: UInt64, network: NetworkKey, control: String, onion: OnionServiceKey, peers: [String] = [], options: [String: Any] = [:]) throws {
            key = Fixtures.key(seed)
            self.onion = onion
            store = try EnvelopeStore(path: nil, building: key.publicKey, validator: .sodium)
            var logger = Logger(label: "test-onion-\(seed)")
            logger.logLevel = .critical
            var settings = OnionTransport.Settings(control: control, virtualPort: 7481, key: onion, clientAuthorisation: network.onionClientAuthorisation)
            settings.retry = (.milliseconds(100), .milliseconds(400))
            settings.connectTimeout = .seconds(5)
            let statuses = self.statuses
            transport = OnionTransport(settings: settings, logger: logger) { status in statuses.list.withLock { $0.append(status) } }
            var sync = SyncSettings(listenHost: "127.0.0.1", port: 0, staticPeers: peers, engine: .init(name: "building \(seed)"))
            sync.minimumBackoff = .milliseconds(50)
            sync.maximumBackoff = .milliseconds(400)
            sync.engine.onion = key.announce(onion.address, port: 7481, now: Fixtures.epoch)
            service = try SyncService(settings: sync, signingKey: key, networkKey: network, store: store, clock: ManualClock(Fixtures.epoch + 60_000),
                                      logger: logger, transports: [transport])
            let service = self.service
            task = Task { try await service.run() }
        }

        var published: Bool { if case .published = transport.currentStatus { true } else { false } }

        func stop() async {
            task.cancel()
            _ = await task.result
        }
    }

    @Test("two nodes publish through tor's control port and sync through its SOCKS port, members only; tor stops, starts again, and the session comes back")
    func publishDialAndRestart() async throws {
        let directory = makeTemporaryDirectory("fake-tor").path
        let network = NetworkKey.generate()
        let onionA = OnionServiceKey.generate(), onionB = OnionServiceKey.generate()
        var tor = try await FakeTor(directory: directory, services: ["a": onionA.address, "b": onionB.address], options: ["--bootstrap", "2"])
        let a = try Node(seed: 821, network: network, control: tor.control("a"), onion: onionA)
        let b = try Node(seed: 822, network: network, control: tor.control("b"), onion: onionB, peers: ["\(onionA.address.host):7481"])
        defer { tor.stop() }

        #expect(try await eventually(within: .seconds(10)) { await b.service.sessions().count == 1 } != nil, "\(tor.commands)")
        // A waited for tor's bootstrap, then published with its own key, members only.
        let statusesA = a.statuses.list.withLock { $0 }
        #expect(statusesA.first == .starting && statusesA.contains(.bootstrapping(percent: 50)), "\(statusesA)")
        #expect(statusesA.last == .published(address: onionA.address, port: 7481))
        let commands = tor.commands
        #expect(commands.contains("a ADD_ONION \(onionA.torKeyBlob) Flags=V3Auth Port=7481,127.0.0.1:"), "\(commands)")
        let authorised = Base32.encode(network.onionClientAuthorisation.publicKey).uppercased()
        #expect(commands.contains("ClientAuthV3=\(authorised)"))
        #expect(commands.contains("b ONION_CLIENT_AUTH_ADD \(onionA.address.serviceID) x25519:"))
        #expect(commands.contains("socks CONNECT \(onionA.address.host):7481 ok"))
        // Each learned the other's signed address at hello.
        #expect(try await eventually(within: .seconds(5)) { try a.store.onionAnnouncements().map(\.address) == [onionB.address] } != nil)
        #expect(try b.store.onionAnnouncements().map(\.address) == [onionA.address])

        // tor stops: both say why, the session goes.
        tor.stop()
        #expect(try await eventually(within: .seconds(5)) { await b.service.sessions().isEmpty } != nil)
        #expect(try await eventually(within: .seconds(5)) {
            if case .unavailable(let reason) = a.transport.currentStatus { reason.contains("tor") } else { false }
        } != nil, "\(a.transport.currentStatus)")
        // tor starts again: the same address is published again and the session comes back.
        tor = try await FakeTor(directory: directory, services: ["a": onionA.address, "b": onionB.address])
        #expect(try await eventually(within: .seconds(10)) { a.published && b.published } != nil, "\(a.transport.currentStatus)")
        #expect(try await eventually(within: .seconds(10)) { await b.service.sessions().count == 1 } != nil, "\(tor.commands)")
        await a.stop()
        await b.stop()
    }

    @Test("a node of another network cannot even open a stream to a members-only onion service")
    func strangerRefused() async throws {
        let directory = makeTemporaryDirectory("fake-tor").path
        let onionA = OnionServiceKey.generate(), onionC = OnionServiceKey.generate()
        let tor = try await FakeTor(directory: directory, services: ["a": onionA.address, "c": onionC.address])
        defer { tor.stop() }
        let a = try Node(seed: 823, network: NetworkKey.generate(), control: tor.control("a"), onion: onionA)
        let c = try Node(seed: 824, network: NetworkKey.generate(), control: tor.control("c"), onion: onionC, peers: ["\(onionA.address.host):7481"])
        #expect(try await eventually(within: .seconds(10)) { tor.commands.contains("socks CONNECT \(onionA.address.host):7481 refused") } != nil,
                "\(tor.commands)")
        let sessionsC = await c.service.sessions(), sessionsA = await a.service.sessions()
        #expect(sessionsC.isEmpty && sessionsA.isEmpty)
        await a.stop()
        await c.stop()
    }

    @Test("what stands in the way is said: no tor, a password, another address than the key's")
    func reasons() async throws {
        let directory = makeTemporaryDirectory("fake-tor").path
        let onion = OnionServiceKey.generate()
        func reason(_ control: String) async throws -> String? {
            let node = try Node(seed: 825, network: NetworkKey.generate(), control: control, onion: onion)
            defer { Task { await node.stop() } }
            var found: String?
            _ = try await eventually(within: .seconds(10)) {
                if case .unavailable(let reason) = node.transport.currentStatus { found = reason }
                return found != nil
            }
            return found
        }
        #expect(try await reason("\(directory)/missing/control")?.hasPrefix("tor is not running here: nothing answers at \(directory)/missing/control") == true)
        #expect(try await reason("neither") == "sync.onionControl is “neither”, neither a socket path nor host:port")
        let password = try await FakeTor(directory: directory + "/p", services: ["a": onion.address], options: ["--auth", "password"])
        #expect(try await reason(password.control("a"))?.hasPrefix("tor asks for a password") == true)
        password.stop()
        let wrong = try await FakeTor(directory: directory + "/w", services: ["a": onion.address], options: ["--wrong-id"])
        #expect(try await reason(wrong.control("a")) == "tor published \(String(repeating: "x", count: 56)).onion instead of \(onion.address.host)")
        wrong.stop()
    }
}
