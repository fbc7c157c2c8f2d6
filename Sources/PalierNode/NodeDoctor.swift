import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CTimex
import PalierStore

/// `palier doctor`: what stands between this box and a working node, each finding with the fix
/// in one sentence. Read-only: it changes nothing.
public struct DoctorFinding: Sendable, Equatable {
    public enum Level: Sendable, Equatable { case ok, warning, problem }
    public let level: Level
    /// What was looked at: "store", "clock", "disk", "avahi", "ports", "files".
    public let topic: String
    public let sentence: String
    /// What to do, for a warning or a problem.
    public let fix: String?

    public init(_ level: Level, _ topic: String, _ sentence: String, fix: String? = nil) {
        self.level = level
        self.topic = topic
        self.sentence = sentence
        self.fix = fix
    }
}

/// What the doctor reads of the machine, apart so that tests can stand in for it.
public struct DoctorProbes: Sendable {
    /// Whether the kernel says its clock is synchronised (adjtimex); nil when it cannot tell.
    public var clockSynchronised: @Sendable () -> Bool?
    /// Free and total bytes of the file system holding a path.
    public var space: @Sendable (String) -> (free: UInt64, total: UInt64)?
    /// Whether something accepts TCP connections on 127.0.0.1 at a port.
    public var portInUse: @Sendable (Int) -> Bool
    /// The D-Bus system bus's socket and avahi-daemon's pid file.
    public var busSocket = "/run/dbus/system_bus_socket"
    public var avahiPidFile = "/run/avahi-daemon/pid"

    public static let system = DoctorProbes(
        clockSynchronised: {
            var time = timex()
            let state = adjtimex(&time)
            guard state >= 0 else { return nil }
            return state != TIME_ERROR && time.status & Int32(STA_UNSYNC) == 0
        },
        space: { path in
            var info = statvfs()
            guard statvfs(path, &info) == 0 else { return nil }
            let (free, freeOverflow) = UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize))
            let (total, totalOverflow) = UInt64(info.f_blocks).multipliedReportingOverflow(by: UInt64(info.f_frsize))
            return (freeOverflow ? .max : free, totalOverflow ? .max : total)
        },
        portInUse: { NodeRuntime.acceptsTCP(port: $0) }
    )
}

extension BuildingNode {
    /// Below this much free space the store may fail to grow (the WAL alone may take 64 MiB).
    public static let doctorMinimumFreeBytes: UInt64 = 256 << 20

    public func doctor(probes: DoctorProbes = .system) -> [DoctorFinding] {
        var findings: [DoctorFinding] = []
        let running = directory.runningNodePID()

        // The store, as SQLite sees it.
        do {
            if let problems = try store.integrityProblems() {
                findings.append(.init(.problem, "store", "SQLite finds the store damaged: \(problems).",
                                      fix: "Stop the node and restore the last backup (palier restore) into a new directory."))
            } else {
                let stats = try store.statistics()
                findings.append(.init(.ok, "store", "The store is sound (\(stats.envelopes) envelope\(stats.envelopes == 1 ? "" : "s"))."))
            }
        } catch {
            findings.append(.init(.problem, "store", "The store could not be checked: \(error)",
                                  fix: "Stop the node and restore the last backup (palier restore) into a new directory."))
        }

        // The clock: posts carry its time, and neighbours set aside posts from the future.
        switch probes.clockSynchronised() {
        case true?: findings.append(.init(.ok, "clock", "The system clock is synchronised."))
        case false?:
            findings.append(.init(.warning, "clock", "The system clock is not synchronised: posts are dated by it, and neighbours set aside those that seem to come from the future.",
                                  fix: "Install a time service (sudo apt install systemd-timesyncd), or point it at a time server on the local network."))
        case nil: findings.append(.init(.warning, "clock", "The clock's synchronisation could not be read.", fix: "Check it with timedatectl."))
        }

        // Room for the store to grow.
        if let (free, total) = probes.space(directory.root.path) {
            let text = "\(Self.megabytes(free)) free of \(Self.megabytes(total)) on the disk of \(directory.root.path)"
            if free < Self.doctorMinimumFreeBytes {
                findings.append(.init(.problem, "disk", "Only \(text).", fix: "Free some space on that disk (old logs: sudo journalctl --vacuum-size=100M); the node needs at least \(Self.megabytes(Self.doctorMinimumFreeBytes))."))
            } else {
                findings.append(.init(.ok, "disk", "\(text.prefix(1).uppercased())\(text.dropFirst())."))
            }
        } else {
            findings.append(.init(.warning, "disk", "The free space of \(directory.root.path) could not be read.", fix: "Check it with df -h."))
        }

        // Finding neighbours: D-Bus and avahi-daemon.
        if configuration.sync.port == 0 || !configuration.sync.discovery {
            findings.append(.init(.ok, "avahi", "Local discovery is off in the settings; avahi-daemon is not needed."))
        } else if !FileManager.default.fileExists(atPath: probes.busSocket) {
            findings.append(.init(.warning, "avahi", "There is no D-Bus system bus (\(probes.busSocket)), so neighbours on this network cannot be found.",
                                  fix: "sudo apt install dbus avahi-daemon, then restart the node."))
        } else if !Self.processAlive(pidFile: probes.avahiPidFile) {
            findings.append(.init(.warning, "avahi", "avahi-daemon is not running, so neighbours on this network cannot be found.",
                                  fix: "sudo apt install avahi-daemon && sudo systemctl enable --now avahi-daemon"))
        } else {
            findings.append(.init(.ok, "avahi", "avahi-daemon runs, on the D-Bus system bus."))
        }

        // Ports: free for a node that is not running, answering for one that is.
        let ports = [("sync.port", configuration.sync.port), ("residents.port", configuration.residents.port), ("feed.kioskPort", configuration.feed.kioskPort)]
            .filter { $0.1 > 0 }
        if running == nil {
            let taken = ports.filter { probes.portInUse($0.1) }
            if taken.isEmpty {
                findings.append(.init(.ok, "ports", "Ports \(ports.map { "\($0.1)" }.joined(separator: ", ")) are free for the node."))
            } else {
                let list = taken.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")
                findings.append(.init(.problem, "ports", "Another program listens on \(list).",
                                      fix: "Stop that program (sudo ss -ltnp shows which), or choose another port in the settings."))
            }
        } else if configuration.feed.kioskPort > 0 && !probes.portInUse(configuration.feed.kioskPort) {
            findings.append(.init(.warning, "ports", "The node runs but its kiosk page does not answer on port \(configuration.feed.kioskPort).",
                                  fix: "Look at the node's log (journalctl -u palier) for why."))
        } else {
            findings.append(.init(.ok, "ports", "The node runs and answers."))
        }

        findings += fileFindings()
        return findings
    }

    /// Keys and the store private to the node's user, the data directory as `init` made it.
    func fileFindings() -> [DoctorFinding] {
        var wrong: [String] = []
        let uid = geteuid()
        func check(_ url: URL, mode: mode_t, what: String) {
            var info = stat()
            guard lstat(url.path, &info) == 0 else { return }
            let actual = info.st_mode & 0o7777
            if info.st_uid != uid { wrong.append("\(what) \(url.path) belongs to uid \(info.st_uid), not to the node's user") }
            if actual & ~mode != 0 { wrong.append("\(what) \(url.path) has mode \(String(actual, radix: 8)), more open than \(String(mode, radix: 8))") }
        }
        check(directory.resolve(configuration.buildingKeyFile), mode: 0o600, what: "the building key")
        check(networkKeyFile, mode: 0o600, what: "the network key")
        check(directory.resolve(configuration.storeFile), mode: 0o600, what: "the store")
        check(directory.configurationFile, mode: 0o644, what: "the settings")
        check(directory.identitiesDirectory, mode: 0o700, what: "the identities directory")
        let identities = (try? FileManager.default.contentsOfDirectory(atPath: directory.identitiesDirectory.path)) ?? []
        for name in identities.sorted() { check(directory.identitiesDirectory.appendingPathComponent(name), mode: 0o600, what: "the identity") }
        check(directory.root, mode: 0o711, what: "the data directory")
        if let group = configuration.feed.group, getgrnam(group) == nil {
            wrong.append("the screens' group \(group) (feed.group) does not exist")
        }
        guard !wrong.isEmpty else { return [.init(.ok, "files", "Keys, store and settings are the node's user's, and private.")] }
        return wrong.map {
            .init(.problem, "files", "\($0.prefix(1).uppercased())\($0.dropFirst()).",
                  fix: $0.contains("group") ? "Create the group (sudo groupadd --system \(configuration.feed.group ?? "")) or change feed.group."
                      : "chmod it back (keys and store 0600) and give it to the node's user (sudo chown palier:palier for the package).")
        }
    }

    static func megabytes(_ bytes: UInt64) -> String {
        bytes >= 10 << 30 ? "\(bytes >> 30) GiB" : "\(bytes >> 20) MiB"
    }

    static func processAlive(pidFile: String) -> Bool {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
