import Foundation
import Logging
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// A node and the system's tor, without a Tor network: what it does when tor is missing, and
/// how it keeps its onion key.
@Suite(.serialized)
struct OnionNodeTests {
    static func node(onion: Bool?, control: String) throws -> BuildingNode {
        var configuration = NodeConfiguration(buildingName: "Résidence A")
        configuration.sync.discovery = false
        configuration.sync.listen = "127.0.0.1"
        configuration.sync.port = KioskLayoutTests.Screen.freePort()
        configuration.sync.onion = onion
        configuration.sync.onionControl = control
        configuration.residents.port = 0
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        return try BuildingNode.initialise(directory, configuration: configuration)
    }

    static func options() -> NodeRuntime.Options {
        var options = NodeRuntime.Options()
        options.discoveries = []
        options.kiosk = false
        options.metrics = false
        return options
    }

    @Test("a node whose tor is missing runs, syncs over TCP, and says why in palier status; its onion key is made 0600 once")
    func withoutTor() async throws {
        let missing = makeTemporaryDirectory().appendingPathComponent("control").path
        let node = try Self.node(onion: true, control: missing)
        var logger = Logger(label: "test-onion")
        logger.logLevel = .critical
        let before = try await Self.runOnce(node, logger: logger, missing: missing)
        // Started again: the same key, byte for byte.
        #expect(try await Self.runOnce(node, logger: logger, missing: missing) == before)
    }

    /// Runs the node until it says why onion federation waits; returns its onion key file.
    static func runOnce(_ node: BuildingNode, logger: Logger, missing: String) async throws -> Data {
        let runtime = try NodeRuntime(node: node, logger: logger, options: Self.options())
        let task = Task { try await runtime.run(signals: false) }
        defer { task.cancel() }
        _ = try await eventually(within: .seconds(10)) { try node.onionState().contains("waiting because tor is not running here") }
        let why: String? = try node.onionState()
        #expect(why?.contains(missing) == true, "\(String(describing: why))")
        #expect(why?.contains("static peers still work") == true)
        // Sync listens over TCP all the same.
        _ = try await eventually(within: .seconds(10)) { runtime.sync?.listeningPort != nil }
        #expect(runtime.sync?.listeningPort == node.configuration.sync.port)
        // The onion key: made at the start, 0600, the invite carries its address.
        let mode = try #require(FileManager.default.attributesOfItem(atPath: node.onionKeyFile.path)[.posixPermissions] as? Int)
        #expect(mode == 0o600)
        let before = try Data(contentsOf: node.onionKeyFile)
        let invite = try #require(try node.invite())
        #expect(invite.onion?.address == (try OnionServiceKey.load(node.onionKeyFile.path)).address)
        #expect(invite.onion?.port == UInt16(node.configuration.sync.port))
        task.cancel()
        _ = await task.result
        return before
    }

    @Test("a damaged onion key is never replaced: the node runs without onions and says why")
    func damagedKey() async throws {
        let node = try Self.node(onion: true, control: "/nonexistent/control")
        try Data("palier-onion-ed25519-seed 12\n".utf8).write(to: node.onionKeyFile)
        chmod(node.onionKeyFile.path, 0o600)
        var logger = Logger(label: "test-onion")
        logger.logLevel = .critical
        let runtime = try NodeRuntime(node: node, logger: logger, options: Self.options())
        let task = Task { try await runtime.run(signals: false) }
        defer { task.cancel() }
        _ = try await eventually(within: .seconds(10)) { try node.onionState().contains("off until palier is restarted") }
        let why: String? = try node.onionState()
        #expect(why?.contains("not a palier key file") == true, "\(String(describing: why))")
        #expect(try Data(contentsOf: node.onionKeyFile) == Data("palier-onion-ed25519-seed 12\n".utf8))
        _ = try await eventually(within: .seconds(10)) { runtime.sync?.listeningPort != nil }
        #expect(runtime.sync?.listeningPort == node.configuration.sync.port)
    }

    @Test("onion federation is off when sync.onion is false, and when tor is not installed; the reason is said")
    func offReasons() throws {
        let off = try Self.node(onion: false, control: "/run/tor/control")
        #expect(try off.onionState() == "Onion federation is off because sync.onion is false in config.json.")
        #expect(try off.invite()?.onion == nil)
        #expect(!FileManager.default.fileExists(atPath: off.onionKeyFile.path), "no key is made while onion federation is off")
        let auto = try Self.node(onion: nil, control: "/nonexistent/control")
        let reason = try auto.onionOffReason(torPrograms: ["/nonexistent/tor"])
        #expect(reason?.contains("tor is not installed here (apt install tor") == true, "\(String(describing: reason))")
        #expect(try auto.onionOffReason(torPrograms: ["/bin/sh"]) == nil, "tor installed: on by default")
    }
}
