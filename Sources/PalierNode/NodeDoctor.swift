import Foundation
#if canImport(Glibc)
import Glibc
#endif
import CTimex
import PalierCore
import PalierStore

/// `palier doctor`: what stands between this box and a working node, each finding with the fix
/// in one sentence. Read-only: it changes nothing.
public struct DoctorFinding: Sendable, Equatable {
    public enum Level: Sendable, Equatable { case ok, warning, problem }
    public let level: Level
    /// What was looked at: "store", "clock", "disk", "avahi", "tor", "ports", "files".
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
    /// Where tor's programs are looked for (is tor installed?).
    public var torPrograms = BuildingNode.torPrograms

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
                findings.append(.init(.problem, "store", L("SQLite finds the store damaged: \(problems).", "SQLite trouve la base de données abîmée : \(problems)."),
                                      fix: L("Stop the node and restore the last backup (palier restore) into a new directory.", "Arrêtez le nœud et restaurez la dernière sauvegarde (palier restore) dans un nouveau répertoire.")))
            } else {
                let stats = try store.statistics()
                findings.append(.init(.ok, "store", L("The store is sound (\(stats.envelopes) envelope\(stats.envelopes == 1 ? "" : "s")).", "La base de données est saine (\(stats.envelopes) enveloppe\(stats.envelopes == 1 ? "" : "s")).")))
            }
        } catch {
            findings.append(.init(.problem, "store", L("The store could not be checked: \(error)", "La base de données n'a pas pu être vérifiée : \(error)"),
                                  fix: L("Stop the node and restore the last backup (palier restore) into a new directory.", "Arrêtez le nœud et restaurez la dernière sauvegarde (palier restore) dans un nouveau répertoire.")))
        }

        // The clock: posts carry its time, and neighbours set aside posts from the future.
        switch probes.clockSynchronised() {
        case true?: findings.append(.init(.ok, "clock", L("The system clock is synchronised.", "L'horloge du système est synchronisée.")))
        case false?:
            findings.append(.init(.warning, "clock", L("The system clock is not synchronised: posts are dated by it, and neighbours set aside those that seem to come from the future.", "L'horloge du système n'est pas synchronisée : elle date les publications, et les voisins mettent de côté celles qui semblent venir du futur."),
                                  fix: L("Install a time service (sudo apt install systemd-timesyncd), or point it at a time server on the local network.", "Installez un service d'heure (sudo apt install systemd-timesyncd), ou réglez-le sur un serveur de temps du réseau local.")))
        case nil: findings.append(.init(.warning, "clock", L("The clock's synchronisation could not be read.", "L'état de synchronisation de l'horloge n'a pas pu être lu."), fix: L("Check it with timedatectl.", "Vérifiez-le avec timedatectl.")))
        }

        // Room for the store to grow.
        if let (free, total) = probes.space(directory.root.path) {
            let text = L("\(Self.megabytes(free)) free of \(Self.megabytes(total)) on the disk of \(directory.root.path)", "\(Self.megabytes(free)) libres sur \(Self.megabytes(total)) sur le disque de \(directory.root.path)")
            if free < Self.doctorMinimumFreeBytes {
                findings.append(.init(.problem, "disk", L("Only \(text).", "Seulement \(text)."), fix: L("Free some space on that disk (old logs: sudo journalctl --vacuum-size=100M); the node needs at least \(Self.megabytes(Self.doctorMinimumFreeBytes)).", "Libérez de la place sur ce disque (vieux journaux : sudo journalctl --vacuum-size=100M) ; le nœud a besoin d'au moins \(Self.megabytes(Self.doctorMinimumFreeBytes)).")))
            } else {
                findings.append(.init(.ok, "disk", "\(text.prefix(1).uppercased())\(text.dropFirst())."))
            }
        } else {
            findings.append(.init(.warning, "disk", L("The free space of \(directory.root.path) could not be read.", "L'espace libre de \(directory.root.path) n'a pas pu être lu."), fix: L("Check it with df -h.", "Vérifiez-le avec df -h.")))
        }

        // Finding neighbours: D-Bus and avahi-daemon.
        if configuration.sync.port == 0 || !configuration.sync.discovery {
            findings.append(.init(.ok, "avahi", L("Local discovery is off in the settings; avahi-daemon is not needed.", "La découverte locale est désactivée dans les réglages ; avahi-daemon n'est pas nécessaire.")))
        } else if !FileManager.default.fileExists(atPath: probes.busSocket) {
            findings.append(.init(.warning, "avahi", L("There is no D-Bus system bus (\(probes.busSocket)), so neighbours on this network cannot be found.", "Il n'y a pas de bus système D-Bus (\(probes.busSocket)) : les voisins de ce réseau ne peuvent pas être trouvés."),
                                  fix: L("sudo apt install dbus avahi-daemon, then restart the node.", "sudo apt install dbus avahi-daemon, puis redémarrez le nœud.")))
        } else if !Self.processAlive(pidFile: probes.avahiPidFile) {
            findings.append(.init(.warning, "avahi", L("avahi-daemon is not running, so neighbours on this network cannot be found.", "avahi-daemon ne tourne pas : les voisins de ce réseau ne peuvent pas être trouvés."),
                                  fix: "sudo apt install avahi-daemon && sudo systemctl enable --now avahi-daemon"))
        } else {
            findings.append(.init(.ok, "avahi", L("avahi-daemon runs, on the D-Bus system bus.", "avahi-daemon tourne, sur le bus système D-Bus.")))
        }

        findings.append(torFinding(probes))

        // Ports: free for a node that is not running, answering for one that is.
        let ports = [("sync.port", configuration.sync.port), ("residents.port", configuration.residents.port), ("feed.kioskPort", configuration.feed.kioskPort)]
            .filter { $0.1 > 0 }
        if running == nil {
            let taken = ports.filter { probes.portInUse($0.1) }
            if taken.isEmpty {
                findings.append(.init(.ok, "ports", L("Ports \(ports.map { "\($0.1)" }.joined(separator: ", ")) are free for the node.", "Les ports \(ports.map { "\($0.1)" }.joined(separator: ", ")) sont libres pour le nœud.")))
            } else {
                let list = taken.map { "\($0.1) (\($0.0))" }.joined(separator: ", ")
                findings.append(.init(.problem, "ports", L("Another program listens on \(list).", "Un autre programme écoute sur \(list)."),
                                      fix: L("Stop that program (sudo ss -ltnp shows which), or choose another port in the settings.", "Arrêtez ce programme (sudo ss -ltnp montre lequel), ou choisissez un autre port dans les réglages.")))
            }
        } else if configuration.feed.kioskPort > 0 && !probes.portInUse(configuration.feed.kioskPort) {
            findings.append(.init(.warning, "ports", L("The node runs but its kiosk page does not answer on port \(configuration.feed.kioskPort).", "Le nœud tourne mais sa page kiosque ne répond pas sur le port \(configuration.feed.kioskPort)."),
                                  fix: L("Look at the node's log (journalctl -u palier) for why.", "Cherchez pourquoi dans le journal du nœud (journalctl -u palier).")))
        } else {
            findings.append(.init(.ok, "ports", L("The node runs and answers.", "Le nœud tourne et répond.")))
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
            if info.st_uid != uid { wrong.append(L("\(what) \(url.path) belongs to uid \(info.st_uid), not to the node's user", "\(what) \(url.path) appartient à l'uid \(info.st_uid), pas à l'utilisateur du nœud")) }
            if actual & ~mode != 0 { wrong.append(L("\(what) \(url.path) has mode \(String(actual, radix: 8)), more open than \(String(mode, radix: 8))", "\(what) \(url.path) a le mode \(String(actual, radix: 8)), plus ouvert que \(String(mode, radix: 8))")) }
        }
        check(directory.resolve(configuration.buildingKeyFile), mode: 0o600, what: L("the building key", "la clé de l'immeuble"))
        check(networkKeyFile, mode: 0o600, what: L("the network key", "la clé du réseau"))
        check(directory.resolve(configuration.storeFile), mode: 0o600, what: L("the store", "la base de données"))
        check(directory.configurationFile, mode: 0o644, what: L("the settings", "le fichier de réglages"))
        check(directory.identitiesDirectory, mode: 0o700, what: L("the identities directory", "le répertoire des identités"))
        var identities: [String] = []
        if FileManager.default.fileExists(atPath: directory.identitiesDirectory.path) {
            do { identities = try FileManager.default.contentsOfDirectory(atPath: directory.identitiesDirectory.path) } catch {
                wrong.append(L("the identities directory \(directory.identitiesDirectory.path) could not be read (\(error.localizedDescription))",
                               "le répertoire des identités \(directory.identitiesDirectory.path) n'a pas pu être lu (\(error.localizedDescription))"))
            }
        }
        for name in identities.sorted() { check(directory.identitiesDirectory.appendingPathComponent(name), mode: 0o600, what: L("the identity", "l'identité")) }
        check(directory.root, mode: 0o711, what: L("the data directory", "le répertoire de données"))
        if let group = configuration.feed.group, getgrnam(group) == nil {
            wrong.append(L("the screens' group \(group) (feed.group) does not exist", "le groupe des écrans \(group) (feed.group) n'existe pas"))
        }
        guard !wrong.isEmpty else { return [.init(.ok, "files", L("Keys, store and settings are the node's user's, and private.", "Clés, base de données et réglages appartiennent à l'utilisateur du nœud, et sont privés."))] }
        return wrong.map {
            .init(.problem, "files", "\($0.prefix(1).uppercased())\($0.dropFirst()).",
                  fix: $0.contains("group") ? L("Create the group (sudo groupadd --system \(configuration.feed.group ?? "")) or change feed.group.", "Créez le groupe (sudo groupadd --system \(configuration.feed.group ?? "")) ou changez feed.group.")
                      : L("chmod it back (keys and store 0600) and give it to the node's user (sudo chown palier:palier for the package).", "Remettez son mode (clés et base 0600) et rendez-le à l'utilisateur du nœud (sudo chown palier:palier pour le paquet)."))
        }
    }

    /// Buildings on other networks: tor installed, running, and usable by palier's user.
    func torFinding(_ probes: DoctorProbes) -> DoctorFinding {
        let reason: String?
        do { reason = try onionOffReason(torPrograms: probes.torPrograms) } catch {
            return .init(.warning, "tor", L("Whether onion federation is on could not be read: \(error)", "Impossible de savoir si la fédération via Tor est active : \(error)"),
                         fix: L("Run palier status for the cause.", "Lancez palier status pour en connaître la cause."))
        }
        if let reason {
            return .init(.ok, "tor", L("Onion federation is off: \(reason).", "La fédération via Tor est désactivée : \(reason)."))
        }
        let control = configuration.sync.onionControl
        guard control.hasPrefix("/") else {
            return .init(.ok, "tor", L("Onion federation uses tor's control port \(control).", "La fédération via Tor utilise le port de contrôle de tor \(control)."))
        }
        let permission = L("sudo adduser palier debian-tor, then sudo systemctl restart palier.", "sudo adduser palier debian-tor, puis sudo systemctl restart palier.")
        guard FileManager.default.fileExists(atPath: control) else {
            return .init(.warning, "tor", L("tor is not running (no control socket \(control)), so buildings on other networks cannot reach this one.", "tor ne tourne pas (pas de socket de contrôle \(control)) : les immeubles des autres réseaux ne peuvent pas joindre celui-ci."),
                         fix: "sudo apt install tor && sudo systemctl enable --now tor")
        }
        guard access(control, R_OK | W_OK) == 0 else {
            return .init(.warning, "tor", L("palier may not use tor's control socket \(control).", "palier n'a pas le droit d'utiliser la socket de contrôle de tor \(control)."), fix: permission)
        }
        let cookie = URL(fileURLWithPath: control).deletingLastPathComponent().appendingPathComponent("control.authcookie").path
        if FileManager.default.fileExists(atPath: cookie), access(cookie, R_OK) != 0 {
            return .init(.warning, "tor", L("palier may not read tor's cookie \(cookie).", "palier n'a pas le droit de lire le cookie de tor \(cookie)."), fix: permission)
        }
        return .init(.ok, "tor", L("tor runs and palier may use its control socket \(control).", "tor tourne et palier peut utiliser sa socket de contrôle \(control)."))
    }

    static func megabytes(_ bytes: UInt64) -> String {
        bytes >= 10 << 30 ? L("\(bytes >> 30) GiB", "\(bytes >> 30) Gio") : L("\(bytes >> 20) MiB", "\(bytes >> 20) Mio")
    }

    static func processAlive(pidFile: String) -> Bool {
        guard let text = try? String(contentsOfFile: pidFile, encoding: .utf8),
              let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)), pid > 0 else { return false }
        return kill(pid, 0) == 0 || errno == EPERM
    }
}
