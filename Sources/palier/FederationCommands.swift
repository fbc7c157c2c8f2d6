import ArgumentParser
import Foundation
import PalierCore
import PalierCrypto
import PalierNode
import PalierStore

struct Network: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show, create or join the neighbourhood network (its key is membership).", "Afficher, créer ou rejoindre le réseau de quartier (sa clé vaut appartenance)."), discussion: L("Example: palier network", "Exemple : palier network"),
        subcommands: [ShowNetwork.self, Create.self, Join.self],
        defaultSubcommand: ShowNetwork.self
    )

    /// The invite for neighbours, with this node's onion address when it federates through
    /// tor; when that address cannot be had (its key file cannot be read), the invite without
    /// it, and why.
    static func invite(_ node: BuildingNode, _ key: NetworkKey) -> Invite {
        do {
            return try node.invite() ?? Invite(networkKey: key, onion: nil)
        } catch {
            print(L("The invite carries no onion address: \(error)", "L'invitation ne porte pas d'adresse onion : \(error)"))
            return Invite(networkKey: key, onion: nil)
        }
    }

    struct ShowNetwork: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: L("Show the network id and the invite for neighbours.", "Afficher l'identifiant du réseau et l'invitation pour les voisins."), discussion: L("Example: palier network show", "Exemple : palier network show"))
        @OptionGroup var options: NodeOptions

        func run() async throws {
            let node = try options.openNode()
            guard let key = try node.networkKey() else { throw NodeError(.noNetwork(node.networkKeyFile.path)) }
            let invite = Network.invite(node, key)
            print(L("Network id: \(key.id)", "Identifiant du réseau : \(key.id)"))
            print(L("Invite (give it only to neighbouring buildings' admins, in person): \(invite.text)", "Invitation (à ne donner qu'aux administrateurs des immeubles voisins, en personne) : \(invite.text)"))
            print(L("A neighbour joins with: palier network join \(invite.text)", "Un voisin rejoint le réseau avec : palier network join \(invite.text)"))
            if let onion = invite.onion {
                print(L("The invite carries this node's onion address (\(onion.text)): a building on another network reaches it through tor.", "L'invitation porte l'adresse onion de ce nœud (\(onion.text)) : un immeuble sur un autre réseau le joint par tor."))
            }
        }
    }

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Start a new neighbourhood network.", "Créer un nouveau réseau de quartier."), discussion: L("Example: palier network create", "Exemple : palier network create"))
        @OptionGroup var options: NodeOptions
        @Flag(help: H("Leave the current network for the new one.", "Quitter le réseau actuel pour le nouveau.")) var replace = false

        func run() async throws {
            let node = try options.openNode()
            let key = try node.createNetwork(replace: replace)
            print(L("This node now belongs to network \(key.id).", "Ce nœud appartient désormais au réseau \(key.id)."))
            let invite = Network.invite(node, key).text
            print(L("Invite: \(invite)", "Invitation : \(invite)"))
            print(L("Restart `palier run` for the change to take effect.", "Redémarrez `palier run` pour que le changement prenne effet."))
        }
    }

    struct Join: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Join a neighbourhood network from an invite string.", "Rejoindre un réseau de quartier avec une invitation."), discussion: L("Example: palier network join palier-invite-…", "Exemple : palier network join palier-invite-…"))
        @OptionGroup var options: NodeOptions
        @Argument(help: H("The invite (palier-invite-…) from a building of the network.", "L'invitation (palier-invite-…) d'un immeuble du réseau.")) var invite: String
        @Flag(help: H("Leave the current network for this one.", "Quitter le réseau actuel pour celui-ci.")) var replace = false

        func run() async throws {
            let node = try options.openNode()
            let joined = try node.joinNetwork(invite: invite, replace: replace)
            print(L("This node now belongs to network \(joined.networkKey.id).", "Ce nœud appartient désormais au réseau \(joined.networkKey.id)."))
            if let onion = joined.onion {
                print(L("The inviting building's onion address is kept (\(onion.text)): this node reaches it through tor.", "L'adresse onion de l'immeuble invitant est retenue (\(onion.text)) : ce nœud le joint par tor."))
            }
            print(L("Restart `palier run` for the change to take effect.", "Redémarrez `palier run` pour que le changement prenne effet."))
        }
    }
}

/// follow / unfollow / block / unblock: one shape, four stances.
protocol StanceCommand: AsyncParsableCommand {
    var options: NodeOptions { get }
    var building: String { get }
    static var stance: BuildingStance? { get }
    static var verb: String { get }
}

extension StanceCommand {
    func run() async throws {
        let node = try options.openNode()
        let key = try node.building(named: building)
        try node.setStance(Self.stance, for: key)
        print("\(Self.verb) \(key.shortText)…")
    }
}

struct Follow: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show a neighbouring building's posts on this building's screen.", "Afficher les publications d'un immeuble voisin sur l'écran de cet immeuble."),
        discussion: L("""
            By default its events, tips, classifieds and promos show here; its notices, flashes and \
            alerts are about its own building and stay on its screen. Its alerts never take over this screen.
            Example: palier follow <key> --kinds event,tip,classified,promo,notice
            """, """
            Par défaut, ses événements, astuces, petites annonces et promotions s'affichent ici ; \
            ses avis, flashs et alertes concernent son propre immeuble et restent sur son écran. \
            Ses alertes ne prennent jamais la place de cet écran.
            Exemple : palier follow <clé> --kinds event,tip,classified,promo,notice
            """))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The building: its name, its key, or the start of its key as `palier peers` shows it.", "L'immeuble : son nom, sa clé, ou le début de sa clé tel que `palier peers` l'affiche.")) var building: String
    @Option(help: H("The kinds of its posts to show, separated by commas (default: event,tip,classified,promo).", "Les genres de ses publications à afficher, séparés par des virgules (par défaut : event,tip,classified,promo)."))
    var kinds: String?

    func run() async throws {
        var chosen: Set<Kind>?
        if let kinds {
            var set: Set<Kind> = []
            for name in kinds.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) where !name.isEmpty {
                guard let kind = Kind(name: name), kind.isContent else { throw NodeError.unknownKind(name) }
                set.insert(kind)
            }
            guard !set.isEmpty else { throw ValidationError(L("--kinds needs at least one kind: \(Kind.contentKinds.map(\.name).joined(separator: ", ")).", "--kinds demande au moins un genre : \(Kind.contentKinds.map(\.name).joined(separator: ", ")).")) }
            chosen = set
        }
        let node = try options.openNode()
        let key = try node.building(named: building)
        try node.setStance(.follow, for: key, kinds: chosen)
        let shown = chosen ?? FederationPolicy.defaultFollowedKinds
        print(L("Following \(key.shortText)…: its \(Kind.contentKinds.filter(shown.contains).map(\.name).joined(separator: ", ")) show on this screen.", "\(key.shortText)… est suivi : ses publications \(Kind.contentKinds.filter(shown.contains).map(\.name).joined(separator: ", ")) s'affichent sur cet écran."))
    }
}

struct Unfollow: StanceCommand {
    static let configuration = CommandConfiguration(abstract: L("Stop showing a building's posts (it stays synced).", "Ne plus afficher les publications d'un immeuble (il reste synchronisé)."))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The building: its name, its key, or the start of its key as `palier peers` shows it.", "L'immeuble : son nom, sa clé, ou le début de sa clé tel que `palier peers` l'affiche.")) var building: String
    static let stance: BuildingStance? = nil
    static var verb: String { L("No longer following or blocking", "Ni suivi ni bloqué désormais :") }
}

struct Block: StanceCommand {
    static let configuration = CommandConfiguration(abstract: L("Refuse a building's envelopes and sessions, and never relay them.", "Refuser les enveloppes et les sessions d'un immeuble, et ne jamais les relayer."))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The building: its name, its key, or the start of its key as `palier peers` shows it.", "L'immeuble : son nom, sa clé, ou le début de sa clé tel que `palier peers` l'affiche.")) var building: String
    static let stance: BuildingStance? = .block
    static var verb: String { L("Blocked", "Bloqué :") }
}

struct Unblock: StanceCommand {
    static let configuration = CommandConfiguration(abstract: L("Lift a block (the building is neither followed nor blocked).", "Lever un blocage (l'immeuble n'est alors ni suivi ni bloqué)."))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The building: its name, its key, or the start of its key as `palier peers` shows it.", "L'immeuble : son nom, sa clé, ou le début de sa clé tel que `palier peers` l'affiche.")) var building: String
    static let stance: BuildingStance? = nil
    static var verb: String { L("No longer following or blocking", "Ni suivi ni bloqué désormais :") }
}

struct Peers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("List connected, known, followed and blocked buildings.", "Lister les immeubles connectés, connus, suivis et bloqués."), discussion: L("Example: palier peers", "Exemple : palier peers"))
    @OptionGroup var options: NodeOptions
    @Flag(help: H("One JSON object per building.", "Un objet JSON par immeuble.")) var json = false

    struct Entry: Codable {
        var building: PublicKey
        var name: String
        var address: String
        var state: String
        var followed: Bool
        var blocked: Bool
        var lastContact: String?
        /// How the session runs: "onion" (through tor), "network" (the local network or a
        /// static address); empty when never met.
        var path: String
        /// The last round trip measured, in milliseconds.
        var roundTripMs: UInt64?
    }

    /// "onion" for a session through tor, "network" for one over the local network or a
    /// static address.
    static func path(of address: String) -> String {
        address.isEmpty ? "" : address.contains(".onion") || address.hasPrefix("onion") ? "onion" : "network"
    }

    func run() async throws {
        let node = try options.openNode()
        let policy = try node.federationPolicy()
        let records = try node.peers()
        let running = node.directory.runningNodePID() != nil
        var entries: [Entry] = records.map { record in
            Entry(
                building: record.building, name: record.name, address: record.address,
                state: record.connected && running ? "connected" : "known",
                followed: policy.followed.contains(record.building), blocked: policy.blocked.contains(record.building),
                lastContact: ISO8601DateFormatter().string(from: Date(timeIntervalSince1970: Double(record.lastContact) / 1000)),
                path: Self.path(of: record.address), roundTripMs: record.roundTrip)
        }
        let seen = Set(records.map(\.building))
        for key in policy.followed.union(policy.blocked).subtracting(seen).sorted() {
            entries.append(Entry(building: key, name: "", address: "", state: "never met", followed: policy.followed.contains(key), blocked: policy.blocked.contains(key), lastContact: nil,
                                 path: "", roundTripMs: nil))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            for entry in entries { print(String(decoding: try encoder.encode(entry), as: UTF8.self)) }
            return
        }
        if entries.isEmpty {
            print(L("No neighbouring building met yet.", "Aucun immeuble voisin rencontré pour l'instant."))
            return
        }
        for entry in entries {
            let name = entry.name.isEmpty ? "" : "\(entry.name)  "
            // An incoming session through tor has no address to show: the way says it all.
            let incoming = entry.path == "onion" && !entry.address.contains(".onion")
            let address = incoming ? L("incoming through tor", "entrante par tor") : entry.address
            var way: [String] = []
            if entry.path == "onion" && !incoming { way.append(L("via tor", "par tor")) }
            if entry.path == "network" { way.append(L("via the network", "par le réseau")) }
            if let roundTrip = entry.roundTripMs { way.append(L("round trip \(roundTrip) ms", "aller-retour \(roundTrip) ms")) }
            let state = switch entry.state {
            case "connected": L("connected", "connecté")
            case "known": L("known", "connu")
            default: L("never met", "jamais rencontré")
            }
            let stanceText = entry.blocked ? L(", blocked", ", bloqué") : entry.followed ? L(", followed", ", suivi") : ""
            print("\(entry.building.shortText)  \(name)\(state)\(stanceText)  \(address)\(way.isEmpty ? "" : " (\(way.joined(separator: ", ")))")  "
                + L("last contact \(entry.lastContact ?? "never")", "dernier contact \(entry.lastContact ?? "jamais")"))
        }
    }
}
