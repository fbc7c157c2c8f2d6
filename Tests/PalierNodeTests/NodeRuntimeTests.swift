import Foundation
import Logging
import PalierCore
import PalierCrypto
import PalierFeed
@testable import PalierNode
import PalierScreen
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// Two nodes composed by the same builder as `palier run`, joined by an in-memory network.
final class RuntimePair: Sendable {
    let a: BuildingNode
    let b: BuildingNode
    let runtimeA: NodeRuntime
    let runtimeB: NodeRuntime
    let tasks: [Task<Void, any Error>]
    let resident: SigningKey

    init(tune: @escaping @Sendable (inout SyncSettings) -> Void = { _ in }) throws {
        let memory = InMemoryNetwork()
        func make(_ name: String, peers: [String]) throws -> BuildingNode {
            var configuration = NodeConfiguration(buildingName: name)
            configuration.sync.staticPeers = peers
            configuration.sync.discovery = false
            configuration.residents.port = 0
            let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
            return try BuildingNode.initialise(directory, configuration: configuration)
        }
        a = try make("Résidence A", peers: [])
        b = try make("Résidence B", peers: [InMemoryNetwork.endpoint("a").description])
        try b.joinNetwork(invite: a.networkKey()!.invite, replace: true)
        try b.setStance(.follow, for: a.building)
        resident = try a.createIdentity(named: "camille")
        try a.grant(.resident, to: resident.publicKey, displayName: "Camille")
        var logger = Logger(label: "test-runtime")
        logger.logLevel = .critical
        func options(_ name: String) -> NodeRuntime.Options { .inMemory(memory, name, tune: tune) }
        runtimeA = try NodeRuntime(node: a, logger: logger, options: options("a"))
        runtimeB = try NodeRuntime(node: b, logger: logger, options: options("b"))
        tasks = [runtimeA, runtimeB].map { runtime in Task { try await runtime.run(signals: false) } }
    }

    func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { _ = await task.result }
    }
}

extension NodeRuntime.Options {
    /// A runtime of the tests: sync over `memory` as `name`, no mDNS, no kiosk page, quick
    /// redials; `tune` adjusts sync further.
    static func inMemory(_ memory: InMemoryNetwork, _ name: String, tune: @escaping @Sendable (inout SyncSettings) -> Void = { _ in }) -> Self {
        var options = NodeRuntime.Options()
        options.transports = [memory.transport(name)]
        options.discoveries = []
        options.kiosk = false
        options.tuneSync = { settings in
            settings.minimumBackoff = .milliseconds(50)
            settings.maximumBackoff = .milliseconds(200)
            tune(&settings)
        }
        return options
    }
}

@Suite(.serialized)
struct NodeRuntimeTests {
    @Test("two nodes built as palier run builds them sync a post over an in-memory network, and the follower's screen shows it")
    func postReachesTheNeighboursScreen() async throws {
        let pair = try RuntimePair()
        let post = try pair.a.post(.tip, PostContent(title: "Vide-grenier samedi"), as: pair.resident)
        #expect(try await eventually(within: .seconds(10)) { try pair.b.store.envelope(post.id) != nil } != nil)
        #expect(try await eventually(within: .seconds(5)) { await screenTitles(pair.runtimeB.hub).contains("Vide-grenier samedi") } != nil)
        #expect(pair.b.directory.runningNodePID() != nil, "the runtime holds the node's lock")
        await pair.stop()
    }

    @Test("a full disk on the receiving node: status names the envelopes not stored; once room is back they all arrive")
    func fullDiskThenRoom() async throws {
        let pair = try RuntimePair { settings in settings.engine.writePause = 300 }
        try await Task.sleep(for: .milliseconds(300))
        try pair.b.store.simulateFullDiskForTests(true)
        let posts = try (0..<40).map { try pair.a.post(.tip, PostContent(title: "Annonce \($0)", body: String(repeating: "détail ", count: 60)), as: pair.resident) }
        #expect(try await eventually(within: .seconds(10)) { pair.b.syncStoreFailures()?.contains("could not be stored") == true } != nil)
        let sentence = pair.b.syncStoreFailures() ?? ""
        #expect(sentence.contains("full"), "the cause is named: \(sentence)")
        #expect(try !posts.allSatisfy { try pair.b.store.envelope($0.id) != nil })

        try pair.b.store.simulateFullDiskForTests(false)
        #expect(try await eventually(within: .seconds(15)) { try posts.allSatisfy { try pair.b.store.envelope($0.id) != nil } } != nil)
        #expect(try await eventually(within: .seconds(5)) { pair.b.syncStoreFailures()?.contains("accepts writes again") == true } != nil)
        await pair.stop()
    }
}

@Suite(.serialized)
struct IdleNodeTests {
    @Test("an idle node sleeps: its sync and feed loops wake at most about once a second (generous bound), and a post still reaches the neighbour at once")
    func idleWakeups() async throws {
        let pair = try RuntimePair()
        #expect(try await eventually(within: .seconds(10)) { await pair.runtimeA.sync?.sessions().count == 1 } != nil)
        let syncBefore = pair.runtimeA.sync?.wakeups ?? 0
        let feedBefore = await pair.runtimeA.hub.wakeups
        try await Task.sleep(for: .seconds(4))
        let syncWakeups = (pair.runtimeA.sync?.wakeups ?? 0) - syncBefore
        let feedWakeups = await pair.runtimeA.hub.wakeups - feedBefore
        #expect(syncWakeups <= 6, "sync woke \(syncWakeups) times in 4 s")
        #expect(feedWakeups <= 6, "the feed woke \(feedWakeups) times in 4 s")
        // Sleeping is not deafness: a post is announced at once, not at the next poll.
        let post = try pair.a.post(.tip, PostContent(title: "Réveil"), as: pair.resident)
        #expect(try await eventually(within: .seconds(2)) { try pair.b.store.envelope(post.id) != nil } != nil)
        await pair.stop()
    }
}

/// The titles of the playlist a screen connecting now would get.
func screenTitles(_ hub: FeedHub) async -> [String] {
    for await event in await hub.subscribe() {
        if case .snapshot(let items, _) = event { return items.map(\.title) }
    }
    return []
}
