import Foundation
import PalierCore
import PalierTestSupport
import Testing

/// Real `palier run` processes federating through Tor onion services of a private Tor network
/// (scripts/tor-lab.sh): three buildings, each behind a NAT of its own, none able to reach
/// another directly and none with a static peer; the only way between them is tor.
@Suite(.serialized, .enabled(if: TorLab.isAvailable, "needs root, ip netns, tor and iptables: see `scripts/tor-lab.sh check`"))
struct OnionLabTests {
    typealias Lab = DiscoveryLabTests

    /// A node federating through the lab's tor of `building` only: no mDNS, no static peer.
    static func node(_ name: String, building: String, lab: TorLab, joining invite: String? = nil) throws -> LiveProcessTests {
        let node = LiveProcessTests()
        try node.palier("init", "--name", name)
        if let invite { try node.palier("network", "join", invite, "--replace") }
        try node.configure("feed", ["kioskPort": 0])
        try node.configure("residents", ["port": 0])
        try node.configure("sync", ["discovery": false, "onion": true, "onionControl": lab.controlSocket(building)])
        return node
    }

    static func run(_ node: LiveProcessTests, in building: String, lab: TorLab) throws -> (Process, String) {
        let log = node.dataDir + ".log"
        let process = try lab.start(in: building, [LiveProcessTests.binary.path, "run", "--data-dir", node.dataDir], log: log)
        return (process, log)
    }

    static func peers(_ node: LiveProcessTests) async throws -> [[String: Any]] {
        try await Lab.cli(node, "peers", "--json").stdout.split(separator: "\n").compactMap {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    /// The peer entry of building `key` when its session is open.
    static func connected(_ node: LiveProcessTests, to key: String) async throws -> [String: Any]? {
        try await peers(node).first { $0["building"] as? String == key && $0["state"] as? String == "connected" }
    }

    static func logs(_ pairs: (String, String)...) -> String {
        pairs.map { "\($0.0)'s log:\n" + Lab.lines($0.1).suffix(60).joined(separator: "\n") }.joined(separator: "\n")
    }

    @Test("buildings behind separate NATs federate through onions: invite, a third learns an address through the first, tor restarts; timed against loopback TCP")
    func federationThroughOnions() async throws {
        let lab = try await TorLab.up(buildings: 3)
        let namespaces = lab.namespaces
        var processes: [Process] = []
        defer {
            for process in processes where process.isRunning { process.terminate() }
            lab.down()
        }

        // A first: its invite carries its onion address.
        let a = try Self.node("Résidence A", building: "b1", lab: lab)
        let invite = try Lab.invite(of: a)
        #expect(invite.contains("@") && invite.contains(".onion:7481"), "\(invite)")
        let keyA = try Lab.key(of: a)
        let (processA, logA) = try Self.run(a, in: "b1", lab: lab)
        processes.append(processA)
        let published = try await Lab.waitUntil(.seconds(60)) { try await Lab.cli(a, "status").stdout.contains("Onion federation is on") }
        #expect(published != nil, "\(Self.logs(("A", logA)))")
        #expect(try await Lab.cli(a, "post", "notice", "--title", "Coupure d'eau jeudi", "--scope", "neighbourhood").status == 0)

        // B joins with the invite and has no other way to A than the onion.
        let b = try Self.node("Résidence B", building: "b2", lab: lab, joining: invite)
        let keyB = try Lab.key(of: b)
        let startB = ContinuousClock.now
        let (processB, logB) = try Self.run(b, in: "b2", lab: lab)
        processes.append(processB)
        let onionFirstPost = try await Lab.waitUntil(.seconds(120)) { try await Lab.cli(b, "list").stdout.contains("Coupure d'eau jeudi") }
        #expect(onionFirstPost != nil, "A's post never reached B\n\(Self.logs(("A", logA), ("B", logB)))")
        let fromStart = ContinuousClock.now - startB
        let sessionAB = try await Self.connected(b, to: keyA)
        #expect(sessionAB?["path"] as? String == "onion", "\(String(describing: sessionAB))")
        #expect((sessionAB?["address"] as? String)?.hasSuffix(".onion:7481") == true)
        _ = try await Lab.waitUntil(.seconds(20)) { try await Self.connected(b, to: keyA)?["roundTripMs"] != nil }
        let onionRoundTrip = try await Self.connected(b, to: keyA)?["roundTripMs"] as? Int
        let peersText = try await Lab.cli(b, "peers").stdout
        #expect(peersText.contains("via tor"), "\(peersText)")

        // C joins with A's invite too, learns B's onion address from A (signed by B), and syncs
        // with B directly: A is stopped before B posts.
        let c = try Self.node("Résidence C", building: "b3", lab: lab, joining: invite)
        let (processC, logC) = try Self.run(c, in: "b3", lab: lab)
        processes.append(processC)
        let learned = await Lab.waitUntil(.seconds(120)) {
            Lab.lines(logC).contains { $0.contains("learned a neighbour's onion address") && $0.contains("building=\(keyB.prefix(9))") }
        }
        #expect(learned != nil, "C never learned B's address\n\(Self.logs(("A", logA), ("C", logC)))")
        let direct = try await Lab.waitUntil(.seconds(120)) { try await Self.connected(c, to: keyB) != nil }
        #expect(direct != nil, "C never opened a session with B\n\(Self.logs(("B", logB), ("C", logC)))")
        processA.terminate()
        processA.waitUntilExit()
        #expect(try await Lab.cli(b, "post", "tip", "--title", "Vélo trouvé dans la cour", "--scope", "neighbourhood").status == 0)
        let fromB = try await Lab.waitUntil(.seconds(60)) { try await Lab.cli(c, "list").stdout.contains("Vélo trouvé dans la cour") }
        #expect(fromB != nil, "B's post never reached C with A stopped\n\(Self.logs(("B", logB), ("C", logC)))")

        // B's tor stops and starts again: the session between B and C comes back by itself.
        try await lab.stopTor("b2")
        let dropped = try await Lab.waitUntil(.seconds(90)) { try await Self.connected(c, to: keyB) == nil }
        #expect(dropped != nil, "C's session with B outlived B's tor\n\(Self.logs(("C", logC)))")
        let waiting = try await Lab.cli(b, "status").stdout
        #expect(waiting.contains("Onion federation is waiting because tor"), "\(waiting)")
        let restarted = ContinuousClock.now
        try await lab.startTor("b2")
        let back = try await Lab.waitUntil(.seconds(180)) { try await Self.connected(c, to: keyB) != nil }
        #expect(back != nil, "the session between B and C never came back\n\(Self.logs(("B", logB), ("C", logC)))")
        let backAfter = ContinuousClock.now - restarted
        #expect(try await Lab.cli(b, "post", "tip", "--title", "Ascenseur réparé", "--scope", "neighbourhood").status == 0)
        let afterRestart = try await Lab.waitUntil(.seconds(60)) { try await Lab.cli(c, "list").stdout.contains("Ascenseur réparé") }
        #expect(afterRestart != nil, "a post after tor's restart never reached C\n\(Self.logs(("B", logB), ("C", logC)))")
        // The onion address did not change across the restart.
        #expect(try await Lab.cli(b, "status").stdout.contains("Onion federation is on"))

        // The same measures over plain loopback TCP, in the same run.
        let (tcpFirstPost, tcpRoundTrip) = try await Self.loopbackReference()
        let report = """
            onion lab (private Tor network, 3 authorities, 3 relays, NATed buildings; this machine):
              start → first synced post: onion \(Self.ms(fromStart)) ms, loopback TCP \(Self.ms(tcpFirstPost)) ms
              sync round trip (ping/pong): onion \(onionRoundTrip.map(String.init) ?? "?") ms, loopback TCP \(tcpRoundTrip.map(String.init) ?? "?") ms
              session back after tor's restart at one building: \(Self.ms(backAfter)) ms after tor bootstrapped
            """
        FileHandle.standardError.write(Data((report + "\n").utf8))
        try? FileManager.default.createDirectory(atPath: packageRoot.appendingPathComponent(".build").path, withIntermediateDirectories: true)
        try? report.write(to: packageRoot.appendingPathComponent(".build/onion-lab-report.txt"), atomically: true, encoding: .utf8)

        for process in processes where process.isRunning {
            process.terminate()
            process.waitUntilExit()
        }
        // Nothing left behind: no namespace, no process, no directory of the lab.
        lab.down()
        let remaining = Set(try Self.namespacesNow())
        #expect(!namespaces.isEmpty && namespaces.allSatisfy { !remaining.contains($0) }, "left behind: \(namespaces.filter(remaining.contains))")
        #expect(!FileManager.default.fileExists(atPath: lab.directory))
        let torLeft = try Self.output("/usr/bin/pgrep", ["-f", lab.directory])
        #expect(torLeft.isEmpty, "processes left: \(torLeft)")
    }

    static func namespacesNow() throws -> [String] {
        try output("/usr/sbin/ip", ["netns", "list"]).split(separator: "\n").compactMap { $0.split(separator: " ").first.map(String.init) }
    }

    static func output(_ program: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let text = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return text
    }

    static func ms(_ duration: Duration) -> Int64 {
        duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000
    }

    /// Two nodes on this machine's loopback, the second dialling the first as a static peer:
    /// from the second's start to the first's post listed there, and the sessions' round trip.
    static func loopbackReference() async throws -> (Duration, Int?) {
        let portA = KioskBrowserTests.freePort()
        let a = LiveProcessTests()
        try a.palier("init", "--name", "Boucle A")
        try a.configure("feed", ["kioskPort": 0])
        try a.configure("residents", ["port": 0])
        try a.configure("sync", ["listen": "127.0.0.1", "port": portA, "discovery": false, "onion": false])
        let b = LiveProcessTests()
        try b.palier("init", "--name", "Boucle B")
        try b.palier("network", "join", try Lab.invite(of: a), "--replace")
        try b.configure("feed", ["kioskPort": 0])
        try b.configure("residents", ["port": 0])
        try b.configure("sync", ["listen": "127.0.0.1", "port": KioskBrowserTests.freePort(), "discovery": false, "onion": false, "staticPeers": ["127.0.0.1:\(portA)"]])
        let processA = try FederationProcessTests.start(a)
        defer { processA.terminate() }
        _ = try await Lab.waitUntil(.seconds(20)) { try await Lab.cli(a, "status").stdout.contains("Node: running") }
        #expect(try await Lab.cli(a, "post", "notice", "--title", "Coupure d'eau jeudi", "--scope", "neighbourhood").status == 0)
        let start = ContinuousClock.now
        let processB = try FederationProcessTests.start(b)
        defer { processB.terminate() }
        let arrived = try await Lab.waitUntil(.seconds(30)) { try await Lab.cli(b, "list").stdout.contains("Coupure d'eau jeudi") }
        #expect(arrived != nil, "the loopback reference never synced")
        let elapsed = ContinuousClock.now - start
        let keyA = try Lab.key(of: a)
        _ = try await Lab.waitUntil(.seconds(20)) { try await connected(b, to: keyA)?["roundTripMs"] != nil }
        return (elapsed, try await connected(b, to: keyA)?["roundTripMs"] as? Int)
    }
}
