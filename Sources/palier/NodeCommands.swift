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
        abstract: L("Initialise a building node: data directory, building key, store and profile.", "Initialiser le nœud d'un immeuble : répertoire de données, clé de l'immeuble, base et profil."), discussion: L("Example: palier init --name \"Les Lilas\" --address \"12 rue des Lilas, Lyon\"", "Exemple : palier init --name \"Les Lilas\" --address \"12 rue des Lilas, Lyon\"")
    )

    @OptionGroup var options: NodeOptions

    @Option(help: H("The building's name, as neighbours and screens show it.", "Le nom de l'immeuble, tel que voisins et écrans l'affichent."))
    var name: String

    @Option(help: H("The building's street address.", "L'adresse de l'immeuble."))
    var address: String = ""

    @Option(help: H("Latitude in degrees (with --longitude).", "Latitude en degrés (avec --longitude)."))
    var latitude: Double?

    @Option(help: H("Longitude in degrees (with --latitude).", "Longitude en degrés (avec --latitude)."))
    var longitude: Double?

    @Flag(help: H("Do nothing, successfully, when a node is already initialised here.", "Ne rien faire, sans erreur, si un nœud est déjà initialisé ici."))
    var ifNeeded = false

    func validate() throws {
        if (latitude == nil) != (longitude == nil) { throw ValidationError("Give both --latitude and --longitude, or neither.") }
    }

    func run() async throws {
        let directory = try options.ownedDirectory()
        if ifNeeded && directory.isInitialised {
            print(L("A palier node is already initialised in \(directory.root.path).", "Un nœud palier est déjà initialisé dans \(directory.root.path)."))
            return
        }
        var configuration = NodeConfiguration(buildingName: name, address: address, latitude: latitude, longitude: longitude)
        // The package's screens read the feed as members of its screen group.
        if directory.isSystem { configuration.feed.group = NodeDirectory.SystemLayout.screenGroup }
        let node = try BuildingNode.initialise(directory, configuration: configuration)
        print(L("Initialised \(name) in \(directory.root.path).", "\(name) est initialisé dans \(directory.root.path)."))
        print(L("Building key: \(node.building.text)", "Clé de l'immeuble : \(node.building.text)"))
        if directory.isSystem { print(L("Start it: sudo systemctl enable --now palier", "Démarrez-le : sudo systemctl enable --now palier")) }
        print(L("Next: `palier enrol` for each resident, or `palier identity new <name>` then `palier grant`.", "Ensuite : `palier enrol` pour chaque résident, ou `palier identity new <nom>` puis `palier grant`."))
    }
}

struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Run the building node until SIGTERM or SIGINT.", "Faire tourner le nœud de l'immeuble jusqu'à SIGTERM ou SIGINT."),
        discussion: L("""
            Where the package is installed, systemd runs it: sudo systemctl enable --now palier
            Example: palier run --data-dir ~/lilas --log-level debug
            """, """
            Là où le paquet est installé, systemd le fait tourner : sudo systemctl enable --now palier
            Exemple : palier run --data-dir ~/lilas --log-level debug
            """)
    )

    @OptionGroup var options: NodeOptions

    @Option(help: H("How much the node logs.", "Ce que le nœud écrit dans son journal."))
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
    static let configuration = CommandConfiguration(abstract: L("Show what this node holds and shows.", "Montrer ce que ce nœud contient et affiche."), discussion: L("Example: sudo palier status", "Exemple : sudo palier status"))

    @OptionGroup var options: NodeOptions

    func run() async throws {
        let node = try options.openNode()
        let status = try node.status()
        let stats = status.statistics
        print(L("Building: \(status.buildingName)", "Immeuble : \(status.buildingName)"))
        print(L("Building key: \(status.building.text)", "Clé de l'immeuble : \(status.building.text)"))
        print(L("Data directory: \(status.dataDirectory)", "Répertoire de données : \(status.dataDirectory)"))
        if let pid = status.running {
            if let info = node.runtimeInfo() {
                let version = info.version == PalierVersion.current ? "" : L(", palier \(info.version): restart it to run \(PalierVersion.current)", ", palier \(info.version) : redémarrez-le pour passer à \(PalierVersion.current)")
                print(L("Node: running (pid \(pid), for \(TimeSpec.duration(millis: node.now() &- info.started)), since \(TimeSpec.format(info.started))\(version))", "Nœud : en marche (pid \(pid), depuis \(TimeSpec.duration(millis: node.now() &- info.started)), démarré le \(TimeSpec.format(info.started))\(version))"))
            } else {
                print(L("Node: running\(pid > 0 ? " (pid \(pid))" : "")", "Nœud : en marche\(pid > 0 ? " (pid \(pid))" : "")"))
            }
        } else {
            print(node.directory.isSystem ? L("Node: not running (sudo systemctl start palier)", "Nœud : arrêté (sudo systemctl start palier)") : L("Node: not running (start it with `palier run`)", "Nœud : arrêté (démarrez-le avec `palier run`)"))
        }
        print(L("Version: palier \(PalierVersion.current)", "Version : palier \(PalierVersion.current)"))
        let kinds = Kind.contentKinds.compactMap { kind in status.shownByKind[kind].map { "\($0) \(kind)" } }
        print(L("Shown on the screen: \(status.shown) post\(status.shown == 1 ? "" : "s")\(kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))")", "À l'écran : \(status.shown) publication\(status.shown == 1 ? "" : "s")\(kinds.isEmpty ? "" : " (\(kinds.joined(separator: ", ")))")"))
        print(L("Members granted a role: \(status.members)", "Membres ayant un rôle : \(status.members)"))
        print(L("Stored: \(stats.envelopes) envelope\(stats.envelopes == 1 ? "" : "s"), \(stats.erased) retracted id\(stats.erased == 1 ? "" : "s")", "Conservé : \(stats.envelopes) enveloppe\(stats.envelopes == 1 ? "" : "s"), \(stats.erased) identifiant\(stats.erased == 1 ? "" : "s") retiré\(stats.erased == 1 ? "" : "s")"))
        print(try imagesLine(node))
        print(L("Refused: \(stats.refused); deferred as future-dated: \(stats.deferredFutureDated)", "Refusé : \(stats.refused) ; différé car daté du futur : \(stats.deferredFutureDated)"))
        print(L("Identities here: \(status.identities.isEmpty ? "none" : status.identities.joined(separator: ", "))", "Identités ici : \(status.identities.isEmpty ? "aucune" : status.identities.joined(separator: ", "))"))
        print(L("Screen feed: \(node.feedSocketPath)\(status.running == nil ? " (when running)" : "")", "Flux de l'écran : \(node.feedSocketPath)\(status.running == nil ? " (quand il tourne)" : "")"))
        let port = node.configuration.feed.kioskPort
        print(L("Kiosk page: \(port > 0 ? "http://127.0.0.1:\(port)/" : "off")", "Page kiosque : \(port > 0 ? "http://127.0.0.1:\(port)/" : "désactivée")"))
        let metricsPort = node.configuration.metrics.port
        print(L("Metrics: \(metricsPort > 0 ? "http://127.0.0.1:\(metricsPort)/metrics (Prometheus)" : "off")", "Métriques : \(metricsPort > 0 ? "http://127.0.0.1:\(metricsPort)/metrics (Prometheus)" : "désactivées")"))
        if let reason = try node.syncOffReason() {
            print(L("Sync: off, because \(reason).", "Synchronisation : désactivée, car \(reason)."))
        } else {
            let sync = node.configuration.sync
            let networkID = try node.networkKey()?.id ?? ""
            print(L("Sync: network \(networkID), port \(sync.listen):\(sync.port), \(sync.staticPeers.count) static peer\(sync.staticPeers.count == 1 ? "" : "s")", "Synchronisation : réseau \(networkID), port \(sync.listen):\(sync.port), \(sync.staticPeers.count) voisin\(sync.staticPeers.count == 1 ? "" : "s") fixe\(sync.staticPeers.count == 1 ? "" : "s")"))
        }
        let discovery = try node.discoveryState()
        print(L("Discovery: \(discovery)", "Découverte : \(discovery)"))
        let onion = try node.onionState()
        print(L("Onion: \(onion)", "Tor : \(onion)"))
        let residents = node.configuration.residents
        print(L("Residents' channel: \(residents.port > 0 ? "\(residents.listen):\(residents.port), moderation \(residents.moderation.rawValue)" : "off")", "Canal des résidents : \(residents.port > 0 ? "\(residents.listen):\(residents.port), modération \(residents.moderation.rawValue)" : "désactivé")"))
        let waiting = try node.pending().count
        if waiting > 0 { print(L("Waiting for moderation: \(waiting) post\(waiting == 1 ? "" : "s") (palier pending)", "En attente de modération : \(waiting) publication\(waiting == 1 ? "" : "s") (palier pending)")) }
        if let failures = node.syncStoreFailures() { print(L("Sync store errors: \(failures)", "Erreurs de base pendant la synchronisation : \(failures)")) }
        if let warning = node.sameKeyWarning() { print(L("WARNING: \(warning)", "ATTENTION : \(warning)")) }
        let peers = try node.peers()
        let policy = try node.federationPolicy()
        let connected = status.running == nil ? 0 : peers.filter(\.connected).count
        print(L("Neighbours: \(connected) connected, \(peers.count) known, \(policy.followed.count) followed, \(policy.blocked.count) blocked (palier peers)", "Voisins : \(connected) connecté\(connected == 1 ? "" : "s"), \(peers.count) connu\(peers.count == 1 ? "" : "s"), \(policy.followed.count) suivi\(policy.followed.count == 1 ? "" : "s"), \(policy.blocked.count) bloqué\(policy.blocked.count == 1 ? "" : "s") (palier peers)"))
        let now = node.now()
        for peer in peers where !policy.blocked.contains(peer.building) {
            let name = peer.name.isEmpty ? peer.building.shortText : peer.name
            let state = status.running != nil && peer.connected ? L("connected", "connecté")
                : L("last seen \(TimeSpec.ago(millis: peer.lastContact, now: now))", "vu \(TimeSpec.ago(millis: peer.lastContact, now: now))")
            let sync = peer.lastSync.map { L("last sync \(TimeSpec.ago(millis: $0, now: now))", "dernière synchro \(TimeSpec.ago(millis: $0, now: now))") }
                ?? L("no sync yet", "pas encore de synchro")
            print("  \(name): \(state), \(sync)")
        }
        let quarantined = try node.quarantined()
        if !quarantined.isEmpty {
            print(L("Set aside: \(quarantined.count) envelope\(quarantined.count == 1 ? "" : "s") the node stopped while handling; not shown or relayed (palier quarantine)", "Mis de côté : \(quarantined.count) enveloppe\(quarantined.count == 1 ? "" : "s") que le nœud traitait quand il s'est arrêté ; ni affichée\(quarantined.count == 1 ? "" : "s") ni relayée\(quarantined.count == 1 ? "" : "s") (palier quarantine)"))
        }
        for suspension in try node.suspensions() {
            print(L("Suspended: building \(suspension.building.shortText) until \(TimeSpec.format(suspension.until)), because \(suspension.reason)", "Suspendu : immeuble \(suspension.building.shortText) jusqu'au \(TimeSpec.format(suspension.until)), car \(suspension.reason)"))
        }
    }
}

/// "Images: 3 here (1.2 MiB of 512 MiB), 1 on its way, 2 waiting for room: the budget is full…"
func imagesLine(_ node: BuildingNode) throws -> String {
    let usage = try node.store.blobUsage()
    let budget = node.configuration.blobs.budgetBytes
    let room = budget - usage.bytes
    let waitingForRoom = try node.store.missingBlobs(limit: 1000).filter { Int64($0.byteCount) > room }.count
    let onTheirWay = usage.missing - waitingForRoom
    var parts = [L("\(usage.count) here (\(StoreError.mebibytes(usage.bytes)) of \(StoreError.mebibytes(budget)))",
                   "\(usage.count) ici (\(StoreError.mebibytes(usage.bytes)) sur \(StoreError.mebibytes(budget)))")]
    if onTheirWay > 0 { parts.append(L("\(onTheirWay) on \(onTheirWay == 1 ? "its" : "their") way from neighbours", "\(onTheirWay) en route depuis les voisins")) }
    if waitingForRoom > 0 {
        parts.append(L("\(waitingForRoom) not fetched: the image budget is full (raise blobs.budgetMiB in config.json)",
                       "\(waitingForRoom) non récupérée\(waitingForRoom == 1 ? "" : "s") : le budget d'images est plein (augmentez blobs.budgetMiB dans config.json)"))
    }
    if usage.refused > 0 {
        parts.append(L("\(usage.refused) refused (not the image its post describes)", "\(usage.refused) refusée\(usage.refused == 1 ? "" : "s") (pas l'image que décrit sa publication)"))
    }
    return L("Images: ", "Images : ") + parts.joined(separator: L(", ", ", "))
}

struct Identity: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Create and show personal keys: yours on your own computer, or keys an admin keeps in the node's data directory.", "Créer et afficher des clés personnelles : la vôtre sur votre ordinateur, ou celles qu'un administrateur garde dans le répertoire du nœud."), discussion: L("Example: palier identity new camille", "Exemple : palier identity new camille"),
        subcommands: [New.self, Show.self, List.self]
    )

    struct New: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: L("Create a personal key (file mode 0600).", "Créer une clé personnelle (fichier en mode 0600)."),
            discussion: L("""
                On your own computer (no node here): your key, kept in ~/.config/palier; then join your \
                building with `palier join <code>`. On a node (with a name): a key the admin keeps for \
                someone who posts through the node.
                """, """
                Sur votre ordinateur (sans nœud) : votre clé, gardée dans ~/.config/palier ; puis \
                rejoignez votre immeuble avec `palier join <code>`. Sur un nœud (avec un nom) : une \
                clé que l'administrateur garde pour quelqu'un qui publie par le nœud.
                """)
        )
        @OptionGroup var options: NodeOptions
        @Argument(help: H("On a node: a short name for the key, e.g. camille.", "Sur un nœud : un nom court pour la clé, par exemple camille.")) var name: String?

        func run() async throws {
            if ResidentMode.isActive(options) {
                let key = try ResidentMode.home.createKey()
                print(L("Your key: \(key.publicKey.text)", "Votre clé : \(key.publicKey.text)"))
                print(L("It stays on this computer (\(ResidentMode.home.keyFile.path)). Ask your building's admin for a code, then run: palier join <code>", "Elle reste sur cet ordinateur (\(ResidentMode.home.keyFile.path)). Demandez un code à l'administrateur de votre immeuble, puis lancez : palier join <code>"))
                return
            }
            guard let name else { throw ValidationError("On a node, give the new key a name, e.g. palier identity new camille.") }
            let node = try options.openNode()
            let key = try node.createIdentity(named: name)
            print(L("Created identity \(name): \(key.publicKey.text)", "Identité \(name) créée : \(key.publicKey.text)"))
            print(L("An admin grants it a role with: palier grant \(name) --role resident --name \"<display name>\"", "Un administrateur lui donne un rôle avec : palier grant \(name) --role resident --name \"<nom affiché>\""))
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Print a public key (the building's when no name is given).", "Afficher une clé publique (celle de l'immeuble si aucun nom n'est donné)."), discussion: L("Example: palier identity show camille", "Exemple : palier identity show camille"))
        @OptionGroup var options: NodeOptions
        @Argument(help: H("Identity name.", "Nom de l'identité.")) var name: String?

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
        static let configuration = CommandConfiguration(abstract: L("List the identities in the data directory.", "Lister les identités du répertoire de données."), discussion: L("Example: palier identity list", "Exemple : palier identity list"))
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
        abstract: L("Grant a role to a key (signed by the building key).", "Accorder un rôle à une clé (signé par la clé de l'immeuble)."), discussion: L("Example: palier grant camille --role resident --name \"Camille, 3e étage\"", "Exemple : palier grant camille --role resident --name \"Camille, 3e étage\"")
    )

    @OptionGroup var options: NodeOptions
    @Argument(help: H("An identity name or a public key's text form.", "Un nom d'identité ou la forme texte d'une clé publique.")) var key: String
    @Option(help: H("One of: \(Role.allCases.map(\.name).joined(separator: ", ")).", "L'un de : \(Role.allCases.map(\.name).joined(separator: ", ")).")) var role: String
    @Option(help: H("The name screens show for this key.", "Le nom que les écrans affichent pour cette clé.")) var name: String
    @Option(help: H("When the grant ends: a duration (365d) or a date (default 365 days, at most 400).", "La fin de l'autorisation : une durée (365d) ou une date (365 jours par défaut, 400 au plus).")) var expires: String?

    func run() async throws {
        guard let role = Role(name: role) else { throw NodeError.unknownRole(role) }
        let node = try options.openNode()
        let subject = try node.publicKey(named: key)
        let expiry = try expires.map { text throws(NodeError) in try TimeSpec.parse(text, now: node.now()) }
        let envelope = try node.grant(role, to: subject, displayName: name, expiresAt: expiry)
        print(L("Granted \(role) to \(name) (\(subject.shortText)…) until \(TimeSpec.format(envelope.expiresAt)); grant \(envelope.id.shortHex).", "Rôle \(role) accordé à \(name) (\(subject.shortText)…) jusqu'au \(TimeSpec.format(envelope.expiresAt)) ; autorisation \(envelope.id.shortHex)."))
    }
}

struct Revoke: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Take back the role a key holds.", "Reprendre le rôle d'une clé."), discussion: L("Example: palier revoke camille", "Exemple : palier revoke camille"))

    @OptionGroup var options: NodeOptions
    @Argument(help: H("An identity name or a public key's text form.", "Un nom d'identité ou la forme texte d'une clé publique.")) var key: String

    func run() async throws {
        let node = try options.openNode()
        let subject = try node.publicKey(named: key)
        let envelope = try node.revoke(subject)
        print(L("Revoked \(subject.shortText)…; revocation \(envelope.id.shortHex).", "\(subject.shortText)… révoquée ; révocation \(envelope.id.shortHex)."))
    }
}
