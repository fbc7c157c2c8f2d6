import Foundation
import PalierCore
import PalierTestSupport
import Testing


/// Real `palier run` processes on loopback, each with its own data directory.
@Suite struct FederationProcessTests {
    static func start(_ node: LiveProcessTests) throws -> Process {
        let process = Process()
        process.environment = palierEnvironment
        process.executableURL = LiveProcessTests.binary
        process.arguments = ["run", "--data-dir", node.dataDir, "--log-level", "warning"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        return process
    }

    @Test("a post made with the CLI at one building shows in `palier list` at the other within 1 s; another network gets nothing")
    func twoBuildingsAndAStranger() async throws {
        let a = LiveProcessTests(), b = LiveProcessTests(), stranger = LiveProcessTests()
        try a.palier("init", "--name", "Les Tilleuls")
        try b.palier("init", "--name", "Le Clos")
        try stranger.palier("init", "--name", "Ailleurs")

        let shown = try a.palier("network")
        let invite = try #require(shown.stdout.split(separator: " ").first { $0.hasPrefix("palier-invite-") }.map { String($0.split(separator: "\n")[0]) })
        #expect(try b.palier("network", "join", invite).status == 73, "joining over an existing network needs --replace")
        #expect(try b.palier("network", "join", invite, "--replace").status == 0)
        // The same network (its id); each invite carries its own node's onion address.
        #expect(try b.palier("network").stdout.split(separator: "\n").first == shown.stdout.split(separator: "\n").first)

        let portA = KioskBrowserTests.freePort(), portB = KioskBrowserTests.freePort(), portStranger = KioskBrowserTests.freePort()
        for (node, port) in [(a, portA), (b, portB), (stranger, portStranger)] {
            try node.configure("feed", ["kioskPort": 0])
            // Loopback only, static peers only: nothing is published on this machine's network.
            try node.configure("sync", ["listen": "127.0.0.1", "port": port, "discovery": false, "staticPeers": port == portA ? [] : ["127.0.0.1:\(portA)"]])
        }
        let processes = try [a, b, stranger].map(Self.start)
        defer { for process in processes where process.isRunning { process.terminate() } }

        // Wait (bounded) until B is connected to A.
        var connected = false
        for _ in 0..<100 where !connected {
            try await Task.sleep(for: .milliseconds(100))
            connected = try b.palier("peers", "--json").stdout.contains("\"state\":\"connected\"")
        }
        #expect(connected, "B never connected to A")

        let start = ContinuousClock.now
        #expect(try a.palier("post", "notice", "--title", "Fête des voisins samedi", "--scope", "neighbourhood").status == 0)
        var arrived: Duration?
        while arrived == nil && ContinuousClock.now - start < .seconds(3) {
            if try b.palier("list").stdout.contains("Fête des voisins samedi") { arrived = ContinuousClock.now - start }
        }
        let elapsed = try #require(arrived, "the post never reached B")
        #expect(elapsed < .seconds(1), "took \(elapsed)")

        // The stranger (another network key) was refused at the handshake and got nothing.
        try await Task.sleep(for: .milliseconds(500))
        #expect(try !stranger.palier("list").stdout.contains("Fête des voisins"))
        #expect(try stranger.palier("peers").stdout.contains("No neighbouring building met yet."))
        let peersOfA = try a.palier("peers", "--json").stdout
        #expect(peersOfA.contains("Le Clos") && !peersOfA.contains("Ailleurs"))
        #expect(try a.palier("status").stdout.contains("Neighbours: 1 connected"))
    }
}
