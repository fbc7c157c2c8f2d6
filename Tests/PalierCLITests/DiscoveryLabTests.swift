import Foundation
import PalierCore
import PalierTestSupport
import Testing

/// Real `palier run` processes in network namespaces, each building with its own D-Bus and
/// avahi-daemon (scripts/avahi-lab.sh): discovery over real mDNS, with nothing sent outside.
/// One lab at a time: their timings (a service gone within 10 s, back within 5 s) are the
/// daemons', which two labs at once slow down.
@Suite(.serialized, .enabled(if: AvahiLab.isAvailable, "needs root, ip netns, avahi-daemon and dbus-daemon: see `scripts/avahi-lab.sh check`"))
struct DiscoveryLabTests {
    /// A node with the kiosk page off and sync on the default port (each namespace has its own).
    static func node(_ name: String, joining invite: String? = nil, staticPeers: [String] = []) throws -> LiveProcessTests {
        let node = LiveProcessTests()
        try node.palier("init", "--name", name)
        if let invite { try node.palier("network", "join", invite, "--replace") }
        try node.configure("feed", ["kioskPort": 0])
        try node.configure("sync", ["staticPeers": staticPeers])
        return node
    }

    /// The CLI, off Swift's cooperative pool (a blocked pool would stall the measurements).
    @discardableResult
    static func cli(_ node: LiveProcessTests, _ arguments: String...) async throws -> LiveProcessTests.Output {
        try await onOwnThread { try node.palier(arguments: arguments) }
    }

    static func invite(of node: LiveProcessTests) throws -> String {
        let shown = try node.palier("network").stdout
        return try #require(shown.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("palier-invite-") }.map(String.init))
    }

    static func key(of node: LiveProcessTests) throws -> String {
        let status = try node.palier("status").stdout
        return try #require(status.split(separator: "\n").first { $0.hasPrefix("Building key: ") }.map { String($0.dropFirst(14)) })
    }

    static func run(_ node: LiveProcessTests, in building: String, lab: AvahiLab) throws -> (Process, String) {
        let log = node.dataDir + ".log"
        let process = try lab.start(in: building, [LiveProcessTests.binary.path, "run", "--data-dir", node.dataDir], log: log)
        return (process, log)
    }

    static func lines(_ log: String) -> [Substring] {
        ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n")
    }

    /// A name as `avahi-browse -p` prints it, with its `\DDD` (decimal byte) and `\c` escapes undone.
    static func unescaped(_ text: String) -> String {
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            guard byte == UInt8(ascii: "\\"), !input.isEmpty else { bytes.append(byte); continue }
            let digits = input.prefix(3)
            if digits.count == 3, digits.allSatisfy({ (0x30...0x39).contains($0) }), let value = UInt8(String(decoding: digits, as: UTF8.self)) {
                bytes.append(value)
                input = input.dropFirst(3)
            } else {
                bytes.append(input.removeFirst())
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Waits (bounded) until `condition` holds; returns how long it took, or nil.
    static func waitUntil(_ timeout: Duration, _ condition: () async throws -> Bool) async rethrows -> Duration? {
        let start = ContinuousClock.now
        while ContinuousClock.now - start < timeout {
            if try await condition() { return ContinuousClock.now - start }
            try? await Task.sleep(for: .milliseconds(50))
        }
        return nil
    }

    @Test("two buildings find each other with no static peers and sync; avahi-browse shows the record; both names published; a restarted daemon is caught up")
    func twoBuildingsFindEachOther() async throws {
        let lab = try await AvahiLab.up(["b1", "b2"])
        defer { lab.down() }
        // The same building name at both: the second to publish takes Avahi's alternative.
        let a = try Self.node("Les Tilleuls")
        let network = try a.palier("network").stdout.split(separator: "\n")[0].split(separator: " ").last.map(String.init) ?? ""
        let b = try Self.node("Les Tilleuls", joining: try Self.invite(of: a))
        let (processA, logA) = try Self.run(a, in: "b1", lab: lab)
        let (processB, logB) = try Self.run(b, in: "b2", lab: lab)
        defer { for process in [processA, processB] where process.isRunning { process.terminate() } }

        let connected = try await Self.waitUntil(.seconds(15)) { try await Self.cli(b, "peers", "--json").stdout.contains("\"state\":\"connected\"") }
        #expect(connected != nil, "B never connected to A; its log:\n\(Self.lines(logB).joined(separator: "\n"))")
        let found = await Self.waitUntil(.seconds(10)) { Self.lines(logB).contains { $0.contains("neighbour found") && $0.contains("10.77.0.1:7481") } }
        #expect(found != nil, "B's log:\n\(Self.lines(logB).joined(separator: "\n"))")

        #expect(try await Self.cli(a, "post", "notice", "--title", "Coupure d'eau mardi", "--scope", "neighbourhood").status == 0)
        let arrived = try await Self.waitUntil(.seconds(3)) { try await Self.cli(b, "list").stdout.contains("Coupure d'eau mardi") }
        #expect(arrived != nil, "the post never reached B")

        // The real avahi-browse in B's namespace lists A with the documented TXT record.
        let keyA = try Self.key(of: a)
        let expected = "10.77.0.1;7481;\"v=1\" \"pk=\(keyA)\" \"net=\(network)\" \"name=Les Tilleuls\""
        var browsed = ""
        _ = try await Self.waitUntil(.seconds(15)) {
            browsed = try await lab.run(in: "b2", ["avahi-browse", "-rpt", "_palier._tcp"]).output
            return browsed.contains(expected) && browsed.split(separator: "\n").filter { $0.hasPrefix("=") }.count == 2
        }
        #expect(browsed.contains(expected), "avahi-browse printed:\n\(browsed)\nA's log:\n\(Self.lines(logA).joined(separator: "\n"))")
        // Two distinct names: "Les Tilleuls" and "Les Tilleuls (<start of key>)" (or, should two
        // nodes started together both lose, two such alternatives), each the name its node reports.
        let names = Set(browsed.split(separator: "\n").filter { $0.hasPrefix("=") }.map {
            Self.unescaped(String($0.split(separator: ";")[3]))
        })
        let keyB = try Self.key(of: b)
        let allowed = ["Les Tilleuls", "Les Tilleuls (\(keyA.prefix(9)))", "Les Tilleuls (\(keyB.prefix(9)))"]
        #expect(names.count == 2 && names.allSatisfy { allowed.contains($0) }, "published names: \(names); A's log:\n\(Self.lines(logA).joined(separator: "\n"))\nB's log:\n\(Self.lines(logB).joined(separator: "\n"))")
        for node in [a, b] {
            let status = try await Self.cli(node, "status").stdout
            #expect(names.contains { status.contains("published as “\($0)”") }, "\(status)")
        }

        // A's daemon stops (saying goodbye): B sees A go; it starts again: A publishes again
        // without a restart of palier, and B finds it.
        let foundBefore = Self.lines(logB).filter { $0.contains("neighbour found") }.count
        try await lab.stopAvahi("b1")
        let gone = await Self.waitUntil(.seconds(10)) { Self.lines(logB).contains { $0.contains("neighbour gone") } }
        #expect(gone != nil, "B never saw A's service go")
        #expect(try await Self.cli(a, "status").stdout.contains("Local discovery is off because avahi-daemon is not running"))
        let restarted = ContinuousClock.now
        try await lab.startAvahi("b1")
        let seenAgain = await Self.waitUntil(.seconds(20)) { Self.lines(logB).filter { $0.contains("neighbour found") }.count > foundBefore }
        let seconds = seenAgain.map { _ in ContinuousClock.now - restarted }
        print("avahi-daemon restarted: A re-published and B saw it again after \(seconds.map { "\($0)" } ?? "never")")
        let took = try #require(seconds, "B never saw A again")
        #expect(took <= .seconds(5), "A's log:\n\(Self.lines(logA).joined(separator: "\n"))\nB's log:\n\(Self.lines(logB).joined(separator: "\n"))")
        // (B may hold the plain name by now, and A take the alternative.)
        let republished = try await Self.waitUntil(.seconds(5)) { try await Self.cli(a, "status").stdout.contains("Local discovery is on: this node is published as “Les Tilleuls") }
        #expect(republished != nil)
        #expect(processA.isRunning && processB.isRunning)
    }

    @Test("nodes without avahi-daemon or without D-Bus sync through a static peer and say why discovery is off; other networks and malformed records are ignored")
    func noDaemonAndBadRecords() async throws {
        let lab = try await AvahiLab.up(["b1", "b2:nodaemon", "b3", "b4:bare"])
        defer { lab.down() }
        let a = try Self.node("Les Tilleuls")
        let network = try a.palier("network").stdout.split(separator: "\n")[0].split(separator: " ").last.map(String.init) ?? ""
        let c = try Self.node("Le Square", joining: try Self.invite(of: a), staticPeers: ["\(AvahiLab.address(1)):7481"])
        let (processA, logA) = try Self.run(a, in: "b1", lab: lab)
        let (processC, _) = try Self.run(c, in: "b2", lab: lab)
        // D has not even a D-Bus.
        let d = try Self.node("Le Parc", joining: try Self.invite(of: a), staticPeers: ["\(AvahiLab.address(1)):7481"])
        let (processD, _) = try Self.run(d, in: "b4", lab: lab)
        defer { for process in [processA, processC, processD] where process.isRunning { process.terminate() } }

        // Services that are not peers: another network, a missing key, bad key text, an
        // oversized name.
        let other = Fixtures.key(9).publicKey.text
        let bogus: [(String, [String])] = [
            ("Autre reseau", ["v=1", "pk=\(other)", "net=fedcba9876543210", "name=Autre"]),
            ("Sans cle", ["v=1", "net=\(network)", "name=Sans"]),
            ("Mauvaise cle", ["v=1", "pk=notakey", "net=\(network)", "name=Mauvaise"]),
            ("Nom trop long", ["v=1", "pk=\(other)", "net=\(network)", "name=" + String(repeating: "x", count: 150)]),
        ]
        var publishers: [Process] = []
        defer { for process in publishers where process.isRunning { process.terminate() } }
        for (index, (name, txt)) in bogus.enumerated() {
            publishers.append(try lab.start(in: "b3", ["avahi-publish", "-s", name, "_palier._tcp", "7481"] + txt, log: a.dataDir + ".publish\(index)"))
        }
        let reasons = ["another network (fedcba9876543210)", "has no pk key", "TXT key pk is invalid", "TXT key name is invalid"]
        let ignored = await Self.waitUntil(.seconds(15)) {
            let lines = Self.lines(logA).filter { $0.contains("ignoring a service on the local network") }
            return reasons.allSatisfy { reason in lines.contains { $0.contains(reason) } }
        }
        #expect(ignored != nil, "A's log:\n\(Self.lines(logA).joined(separator: "\n"))")
        #expect(!Self.lines(logA).contains { $0.contains("neighbour found") })
        #expect(processA.isRunning)

        // C has D-Bus but no avahi-daemon: it runs, says so, and syncs with A through its static peer.
        let connected = try await Self.waitUntil(.seconds(15)) { try await Self.cli(c, "peers", "--json").stdout.contains("\"state\":\"connected\"") }
        #expect(connected != nil, "C never connected to its static peer")
        #expect(try await Self.cli(c, "status").stdout.contains("Discovery: Local discovery is off because avahi-daemon is not running; static peers still work"))
        #expect(try await Self.cli(a, "post", "notice", "--title", "Ascenseur en maintenance jeudi", "--scope", "neighbourhood").status == 0)
        let arrived = try await Self.waitUntil(.seconds(3)) { try await Self.cli(c, "list").stdout.contains("Ascenseur en maintenance jeudi") }
        #expect(arrived != nil, "the post never reached C")
        #expect(processC.isRunning)
        let reachedD = try await Self.waitUntil(.seconds(10)) { try await Self.cli(d, "list").stdout.contains("Ascenseur en maintenance jeudi") }
        #expect(reachedD != nil, "the post never reached D")
        #expect(try await Self.cli(d, "status").stdout.contains("Discovery: Local discovery is off because there is no D-Bus system bus (no \(lab.directory)/b4/bus)"))
    }

    @Test("a resident's join finds the building's node over real mDNS when the code's address does not answer, and with a typed short code; it keeps the address found")
    func residentJoinsOverMDNS() async throws {
        let lab = try await AvahiLab.up(["b1", "r1"])
        defer { lab.down() }
        let a = try Self.node("Résidence des Lilas")
        let (process, log) = try Self.run(a, in: "b1", lab: lab)
        defer { if process.isRunning { process.terminate(); process.waitUntilExit() } }
        let enrol = try await Self.cli(a, "enrol", "--name", "Camille, 3e étage", "--address", "10.77.0.99:7482", "--no-qr")
        let code = try #require(enrol.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("palier-join-") }.map(String.init))
        // The resident's machine: another namespace with its own avahi-daemon, a HOME of its own.
        let home = makeTemporaryDirectory("palier-lab-resident").path
        var joined: ScriptResult?
        _ = await Self.waitUntil(.seconds(60)) {
            joined = try? await lab.run(in: "r1", ["/usr/bin/env", "HOME=\(home)", LiveProcessTests.binary.path, "join", code])
            return joined?.status == 0
        }
        #expect(joined?.status == 0, "join failed: \(joined?.output ?? "") — node log: \(Self.lines(log).suffix(5).joined(separator: " | "))")
        #expect(joined?.output.contains("Welcome, Camille, 3e étage") == true)
        let membership = try String(contentsOfFile: home + "/.config/palier/building.json", encoding: .utf8)
        #expect(membership.contains("\(AvahiLab.address(1)):7482"))

        // The short code, typed: no address, no building key; the node is found over mDNS
        // and proves it knows the code.
        let second = try await Self.cli(a, "enrol", "--name", "Dominique, 5e étage", "--no-qr")
        let short = try #require(second.stdout.split(separator: "\n").first { $0.hasPrefix("  palier join ") }.map { String($0.dropFirst(14)) })
        let otherHome = makeTemporaryDirectory("palier-lab-resident").path
        let typed = try await lab.run(in: "r1", ["/usr/bin/env", "HOME=\(otherHome)", LiveProcessTests.binary.path, "join", short])
        #expect(typed.status == 0, "join \(short) failed: \(typed.output)")
        #expect(typed.output.contains("Welcome, Dominique, 5e étage"))
        let found = try String(contentsOfFile: otherHome + "/.config/palier/building.json", encoding: .utf8)
        let building = try Self.key(of: a)
        #expect(found.contains("\(AvahiLab.address(1)):7482") && found.contains(building))
    }
}
