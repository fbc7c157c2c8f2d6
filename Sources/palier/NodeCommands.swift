import ArgumentParser
import Foundation
import Logging
import PalierCore
import PalierFeed
import PalierNode
import PalierStore
import ServiceLifecycle

struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Initialise a building node: data directory, building key, store and profile.", "Initialiser le nœud d'un immeuble : répertoire de données, clé de l'immeuble, base et profil.")
    )

    @OptionGroup var options: NodeOptions

    @Option(help: "The building's name, as neighbours and screens show it.")
    var name: String

    @Option(help: "The building's street address.")
    var address: String = ""

    @Option(help: "Latitude in degrees (with --longitude).")
    var latitude: Double?

    @Option(help: "Longitude in degrees (with --latitude).")
    var longitude: Double?

    @Flag(help: "Do nothing, successfully, when a node is already initialised here.")
    var ifNeeded = false

    func validate() throws {
        if (latitude == nil) != (longitude == nil) { throw ValidationError("Give both --latitude and --longitude, or neither.") }
    }

    func run() async throws {
        let directory = try options.ownedDirectory()
        if ifNeeded && directory.isInitialised {
            print("A palier node is already initialised in \(directory.root.path).")
            return
        }
        var configuration = NodeConfiguration(buildingName: name, address: address, latitude: latitude, longitude: longitude)
        // The package's screens read the feed as members of its screen group.
        if directory.isSystem { configuration.feed.group = NodeDirectory.SystemLayout.screenGroup }
        let node = try BuildingNode.initialise(directory, configuration: configuration)
        print("Initialised \(name) in \(directory.root.path).")
        print("Building key: \(node.building.text)")
        if directory.isSystem { print("Start it: sudo systemctl enable --now palier") }
        print("Next: `palier enrol` for each resident, or `palier identity new <name>` then `palier grant`.")
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Run the building node until SIGTERM or SIGINT.", "Faire tourner le nœud de l'immeuble jusqu'à SIGTERM ou SIGINT."),
        discussion: """
            Where the package is installed, systemd runs it: sudo systemctl enable --now palier
            Example: palier run --data-dir ~/lilas --log-level debug
            """
    )

    @OptionGroup var options: NodeOptions

    @Option(help: "How much the node logs.")
    var logLevel: Logger.Level = .info

    func run() async throws {
        let node = try options.openNode()
        let level = logLevel
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        // Under systemd (Type=notify), the service counts as started once the node serves.
        try await NodeRuntime(node: node, logger: Logger(label: "palier")).run(onReady: { SystemdNotify.send("READY=1") })
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Show what this node holds and shows.", "Montrer ce que ce nœud contient et affiche."))

    @OptionGroup var options: NodeOptions

    func run() async throws {
        let node = try options.openNode()
        let status = try node.status()
        let stats = status.statistics
        print("Building: \(status.buildingName)")
        print("Building key: \(status.building.text)")
        print("Data directory: \(status.dataDirectory)")
        if let pid = status.running {
            if let info = node.runtimeInfo() {
                let version = info.version == PalierVersion.current ? "" : ", palier \(info.version): restart it to run \(PalierVersion.current)"
                print("Node: running (pid \(pid), for \(TimeSpec.duration(millis: node.now() &- info.started)), since \(TimeSpec.format(info.started))\(version))")
            } else {
                print("Node: running\(pid > 0 ? " (pid \(pid))" : "")")
            }
        } else {
            print(node.directory.isSystem ? "Node: not running (sudo systemctl start palier)" : "Node: not running (start it with `palier run`)")
        }
        print("Version: palier \(PalierVersion.current)")
        let kinds = Kind.contentKinds.compactMap { kind in status.shownByKind[kind].map { "\($0) \(kind)" } }
        print("Shown on the screen: \(status.shown) post\(status.shown == 1 ? "" : "s")\(kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))")")
        print("Members granted a role: \(status.members)")
        print("Stored: \(stats.envelopes) envelope\(stats.envelopes == 1 ? "" : "s"), \(stats.erased) retracted id\(stats.erased == 1 ? "" : "s")")
        print("Refused: \(stats.refused); deferred as future-dated: \(stats.deferredFutureDated)")
        print("Identities here: \(status.identities.isEmpty ? "none" : status.identities.joined(separator: ", "))")
        print("Screen feed: \(node.feedSocketPath)\(status.running == nil ? " (when running)" : "")")
        let port = node.configuration.feed.kioskPort
        print("Kiosk page: \(port > 0 ? "http://127.0.0.1:\(port)/" : "off")")
        let metricsPort = node.configuration.metrics.port
        print("Metrics: \(metricsPort > 0 ? "http://127.0.0.1:\(metricsPort)/metrics (Prometheus)" : "off")")
        if let reason = try node.syncOffReason() {
            print("Sync: off, because \(reason).")
        } else {
            let sync = node.configuration.sync
            print("Sync: network \(try node.networkKey()?.id ?? ""), port \(sync.listen):\(sync.port), \(sync.staticPeers.count) static peer\(sync.staticPeers.count == 1 ? "" : "s")")
        }
        print("Discovery: \(try node.discoveryState())")
        let residents = node.configuration.residents
        print("Residents' channel: \(residents.port > 0 ? "\(residents.listen):\(residents.port), moderation \(residents.moderation.rawValue)" : "off")")
        let waiting = try node.pending().count
        if waiting > 0 { print("Waiting for moderation: \(waiting) post\(waiting == 1 ? "" : "s") (palier pending)") }
        if let failures = node.syncStoreFailures() { print("Sync store errors: \(failures)") }
        if let warning = node.sameKeyWarning() { print("WARNING: \(warning)") }
        let peers = try node.peers()
        let policy = try node.federationPolicy()
        let connected = status.running == nil ? 0 : peers.filter(\.connected).count
        print("Neighbours: \(connected) connected, \(peers.count) known, \(policy.followed.count) followed, \(policy.blocked.count) blocked (palier peers)")
        let now = node.now()
        for peer in peers where !policy.blocked.contains(peer.building) {
            let name = peer.name.isEmpty ? peer.building.shortText : peer.name
            let state = status.running != nil && peer.connected ? "connected" : "last seen \(TimeSpec.ago(millis: peer.lastContact, now: now))"
            let sync = peer.lastSync.map { "last sync \(TimeSpec.ago(millis: $0, now: now))" } ?? "no sync yet"
            print("  \(name): \(state), \(sync)")
        }
        let quarantined = try node.quarantined()
        if !quarantined.isEmpty {
            print("Set aside: \(quarantined.count) envelope\(quarantined.count == 1 ? "" : "s") the node stopped while handling; not shown or relayed (palier quarantine)")
        }
        for suspension in try node.suspensions() {
            print("Suspended: building \(suspension.building.shortText) until \(TimeSpec.format(suspension.until)), because \(suspension.reason)")
        }
    }
}

struct Identity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Create and show personal keys: yours on your own computer, or keys an admin keeps in the node's data directory.", "Créer et afficher des clés personnelles : la vôtre sur votre ordinateur, ou celles qu'un administrateur garde dans le répertoire du nœud."),
        subcommands: [New.self, Show.self, List.self]
    )

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: L("Create a personal key (file mode 0600).", "Créer une clé personnelle (fichier en mode 0600)."),
            discussion: """
                On your own computer (no node here): your key, kept in ~/.config/palier; then join your \
                building with `palier join <code>`. On a node (with a name): a key the admin keeps for \
                someone who posts through the node.
                """
        )
        @OptionGroup var options: NodeOptions
        @Argument(help: "On a node: a short name for the key, e.g. camille.") var name: String?

        func run() async throws {
            if ResidentMode.isActive(options) {
                let key = try ResidentMode.home.createKey()
                print("Your key: \(key.publicKey.text)")
                print("It stays on this computer (\(ResidentMode.home.keyFile.path)). Ask your building's admin for a code, then run: palier join <code>")
                return
            }
            guard let name else { throw ValidationError("On a node, give the new key a name, e.g. palier identity new camille.") }
            let node = try options.openNode()
            let key = try node.createIdentity(named: name)
            print("Created identity \(name): \(key.publicKey.text)")
            print("An admin grants it a role with: palier grant \(name) --role resident --name \"<display name>\"")
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Print a public key (the building's when no name is given).", "Afficher une clé publique (celle de l'immeuble si aucun nom n'est donné)."))
        @OptionGroup var options: NodeOptions
        @Argument(help: "Identity name.") var name: String?

        func run() async throws {
            if ResidentMode.isActive(options) && name == nil {
                guard let key = try ResidentMode.home.key() else { throw NodeError.notJoined }
                print(key.publicKey.text)
                return
            }
            let node = try options.openNode()
            let key = try name.map { name throws(NodeError) in try node.identity(named: name).publicKey } ?? node.building
            print(key.text)
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("List the identities in the data directory.", "Lister les identités du répertoire de données."))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let node = try options.openNode()
            let view = try node.view()
            for name in node.identityNames() {
                let key = try node.identity(named: name).publicKey
                let role = view.membership(of: key, in: node.building).map { $0.role?.name ?? "revoked" } ?? "no grant"
                print("\(name)  \(key.text)  \(role)")
            }
        }
    }
}

struct GrantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grant",
        abstract: L("Grant a role to a key (signed by the building key).", "Accorder un rôle à une clé (signé par la clé de l'immeuble).")
    )

    @OptionGroup var options: NodeOptions
    @Argument(help: "An identity name or a public key's text form.") var key: String
    @Option(help: "One of: \(Role.allCases.map(\.name).joined(separator: ", ")).") var role: String
    @Option(help: "The name screens show for this key.") var name: String
    @Option(help: "When the grant ends: a duration (365d) or a date (default 365 days, at most 400).") var expires: String?

    func run() async throws {
        guard let role = Role(name: role) else { throw NodeError.unknownRole(role) }
        let node = try options.openNode()
        let subject = try node.publicKey(named: key)
        let expiry = try expires.map { text throws(NodeError) in try TimeSpec.parse(text, now: node.now()) }
        let envelope = try node.grant(role, to: subject, displayName: name, expiresAt: expiry)
        print("Granted \(role) to \(name) (\(subject.shortText)…) until \(TimeSpec.format(envelope.expiresAt)); grant \(envelope.id.shortHex).")
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Take back the role a key holds.", "Reprendre le rôle d'une clé."))

    @OptionGroup var options: NodeOptions
    @Argument(help: "An identity name or a public key's text form.") var key: String

    func run() async throws {
        let node = try options.openNode()
        let subject = try node.publicKey(named: key)
        let envelope = try node.revoke(subject)
        print("Revoked \(subject.shortText)…; revocation \(envelope.id.shortHex).")
    }
}
