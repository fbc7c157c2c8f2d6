import Foundation
import Logging
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierSync
import PalierTestSupport
import Testing

/// Two nodes under one building key (a copied data directory, a backup restored beside the old
/// box) are told apart from a node that dialled its own address, and both admins are warned.
@Suite(.serialized) struct SameKeyTests {
    static func node(_ name: String, key: SigningKey? = nil, peers: [String], invite: String? = nil) throws -> BuildingNode {
        var configuration = NodeConfiguration(buildingName: name)
        configuration.sync.staticPeers = peers
        configuration.sync.discovery = false
        configuration.residents.port = 0
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        let node = try BuildingNode.initialise(directory, configuration: configuration, recovering: key)
        if let invite { try node.joinNetwork(invite: invite, replace: true) }
        return node
    }

    static func start(_ node: BuildingNode, on memory: InMemoryNetwork, as name: String) throws -> (NodeRuntime, Task<Void, any Error>) {
        let options = NodeRuntime.Options.inMemory(memory, name) { $0.ownEndWait = .milliseconds(500) }
        var logger = Logger(label: "test-same-key")
        logger.logLevel = .critical
        let runtime = try NodeRuntime(node: node, logger: logger, options: options)
        return (runtime, Task { try await runtime.run(signals: false) })
    }

    @Test("two nodes under one key: each warns its admin")
    func twoNodesOneKey() async throws {
        let memory = InMemoryNetwork()
        let first = try Self.node("Les Lilas", peers: [InMemoryNetwork.endpoint("b").description])
        let copy = try Self.node("Les Lilas", key: first.buildingKey, peers: [InMemoryNetwork.endpoint("a").description],
                                 invite: first.networkKey()!.invite)
        #expect(copy.building == first.building)
        let (_, a) = try Self.start(first, on: memory, as: "a")
        let (_, b) = try Self.start(copy, on: memory, as: "b")
        defer { a.cancel(); b.cancel() }
        let warned = try await eventually(within: .seconds(10)) { first.sameKeyWarning() != nil && copy.sameKeyWarning() != nil }
        #expect(warned != nil)
        #expect(first.sameKeyWarning()?.hasPrefix("Another node runs under this building's key (met at ") == true)
        #expect(copy.sameKeyWarning()?.contains("stop one of them") == true)
    }

    @Test("a node that dials its own address is not taken for another")
    func dialsItself() async throws {
        let memory = InMemoryNetwork()
        let alone = try Self.node("Les Lilas", peers: [InMemoryNetwork.endpoint("a").description])
        let (runtime, task) = try Self.start(alone, on: memory, as: "a")
        defer { task.cancel() }
        // It dials itself again and again (backoff 50-200 ms): two seconds is many handshakes.
        try await Task.sleep(for: .seconds(2))
        #expect(alone.sameKeyWarning() == nil)
        #expect(await runtime.sync?.sessions().isEmpty == true)
    }
}
