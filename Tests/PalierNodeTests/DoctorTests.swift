import Foundation
@testable import PalierNode
import PalierTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `palier doctor`'s findings, with the machine's answers stood in for.
@Suite struct DoctorTests {
    static func node() throws -> BuildingNode {
        try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                    configuration: NodeConfiguration(buildingName: "Les Lilas"))
    }

    /// A healthy machine: synchronised, roomy, D-Bus and avahi-daemon there, ports free.
    static func healthy() -> DoctorProbes {
        var probes = DoctorProbes(clockSynchronised: { true }, space: { _ in (10 << 30, 100 << 30) }, portInUse: { _ in false })
        let dir = makeTemporaryDirectory("palier-doctor")
        probes.busSocket = dir.appendingPathComponent("bus").path
        FileManager.default.createFile(atPath: probes.busSocket, contents: Data())
        probes.avahiPidFile = dir.appendingPathComponent("avahi.pid").path
        FileManager.default.createFile(atPath: probes.avahiPidFile, contents: Data("\(getpid())\n".utf8))
        probes.torPrograms = []
        return probes
    }

    static func finding(_ findings: [DoctorFinding], _ topic: String) -> DoctorFinding? { findings.first { $0.topic == topic } }

    @Test("a healthy box: every check passes")
    func healthy() throws {
        let findings = try Self.node().doctor(probes: Self.healthy())
        #expect(findings.map(\.topic) == ["store", "clock", "disk", "avahi", "tor", "ports", "files"])
        #expect(findings.allSatisfy { $0.level == .ok }, "\(findings)")
        #expect(Self.finding(findings, "store")?.sentence == "The store is sound (1 envelope).")
    }

    @Test("each problem of the machine is found, with its fix")
    func machineProblems() throws {
        let node = try Self.node()
        var probes = Self.healthy()
        probes.clockSynchronised = { false }
        probes.space = { _ in (100 << 20, 8 << 30) }
        probes.portInUse = { $0 == 7481 }
        probes.avahiPidFile = "/nonexistent/avahi.pid"
        let findings = node.doctor(probes: probes)
        #expect(Self.finding(findings, "clock")?.level == .warning)
        #expect(Self.finding(findings, "disk")?.level == .problem)
        #expect(Self.finding(findings, "disk")?.sentence == "Only 100 MiB free of 8192 MiB on the disk of \(node.directory.root.path).")
        #expect(Self.finding(findings, "avahi")?.sentence == "avahi-daemon is not running, so neighbours on this network cannot be found.")
        #expect(Self.finding(findings, "ports")?.sentence == "Another program listens on 7481 (sync.port).")
        #expect(findings.filter { $0.level != .ok }.allSatisfy { $0.fix != nil })
        probes.clockSynchronised = { nil }
        probes.busSocket = "/nonexistent/bus"
        let second = node.doctor(probes: probes)
        #expect(Self.finding(second, "clock")?.level == .warning)
        #expect(Self.finding(second, "avahi")?.sentence.hasPrefix("There is no D-Bus system bus") == true)
    }

    @Test("tor: off and not needed, not running, or not usable by palier's user, each with its fix")
    func tor() throws {
        let node = try Self.node()
        var probes = Self.healthy()
        #expect(Self.finding(node.doctor(probes: probes), "tor")?.sentence.hasPrefix("Onion federation is off: tor is not installed here") == true)
        probes.torPrograms = ["/bin/sh"]
        var configuration = node.configuration
        let dir = makeTemporaryDirectory("palier-doctor-tor")
        configuration.sync.onionControl = dir.appendingPathComponent("control").path
        let withTor = try BuildingNode.initialise(NodeDirectory(path: dir.appendingPathComponent(".palier").path), configuration: configuration)
        let missing = try #require(Self.finding(withTor.doctor(probes: probes), "tor"))
        #expect(missing.level == .warning && missing.sentence.hasPrefix("tor is not running") && missing.fix != nil, "\(missing)")
        FileManager.default.createFile(atPath: configuration.sync.onionControl, contents: Data(), attributes: [.posixPermissions: 0o600])
        #expect(Self.finding(withTor.doctor(probes: probes), "tor")?.level == .ok)
        if getuid() != 0 {
            chmod(configuration.sync.onionControl, 0o000)
            let denied = try #require(Self.finding(withTor.doctor(probes: probes), "tor"))
            #expect(denied.level == .warning && denied.fix?.contains("adduser palier debian-tor") == true, "\(denied)")
        }
    }

    @Test("open keys, a store given away and a missing screens' group are found")
    func files() throws {
        var configuration = NodeConfiguration(buildingName: "Les Lilas")
        configuration.feed.group = "palier-no-such-group"
        let node = try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                               configuration: configuration)
        chmod(node.directory.root.appendingPathComponent("building.key").path, 0o644)
        let findings = node.doctor(probes: Self.healthy()).filter { $0.topic == "files" }
        #expect(findings.map(\.sentence) == [
            "The building key \(node.directory.root.appendingPathComponent("building.key").path) has mode 644, more open than 600.",
            "The screens' group palier-no-such-group (feed.group) does not exist.",
        ])
        #expect(findings.allSatisfy { $0.level == .problem && $0.fix != nil })
    }

    @Test("discovery switched off needs no avahi-daemon")
    func discoveryOff() throws {
        var configuration = NodeConfiguration(buildingName: "Les Lilas")
        configuration.sync.discovery = false
        let node = try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                               configuration: configuration)
        var probes = Self.healthy()
        probes.busSocket = "/nonexistent/bus"
        #expect(Self.finding(node.doctor(probes: probes), "avahi")?.level == .ok)
    }
}
