import ArgumentParser
import Foundation
import PalierCore
import PalierDiscovery
import PalierNode
import PalierCrypto
import Logging
import Synchronization

/// A resident's machine has no node: commands that post sign with the resident's own key
/// (kept under ~/.config/palier) and send to the building's node. Resident mode applies when
/// no data directory is named (--data-dir, $PALIER_DIR) and ./.palier holds no node.
enum ResidentMode {
    static func isActive(_ options: NodeOptions, environment: [String: String] = ProcessInfo.processInfo.environment) -> Bool {
        options.dataDir == nil && environment["PALIER_DIR"] == nil && !options.directory.isInitialised
    }

    static var home: ResidentHome { ResidentHome.resolve() }

    /// Sends the outbox and says, one line each, what became of every envelope; the exit code
    /// is that of the first problem with `focus` (the envelope this command made), if any.
    static func deliver(focus: Envelope?, describe: (Envelope) -> String) async throws {
        let deliveries = try await home.flush()
        var failure: Int32?
        for delivery in deliveries {
            let what = describe(delivery.envelope)
            let isFocus = delivery.envelope.id == focus?.id
            switch delivery {
            case .accepted(let envelope):
                print(envelope.kind == .retract
                    ? L("\(what): done; the post is erased on every node.", "\(what) : fait ; la publication est effacée sur tous les nœuds.")
                    : L("\(what): posted; it shows on your building's screen and goes to the neighbours.", "\(what) : publié ; cela s'affiche sur l'écran de votre immeuble et part chez les voisins."))
            case .alreadyStored: print(L("\(what): the building's node already had it.", "\(what) : le nœud de l'immeuble l'avait déjà."))
            case .held: print(L("\(what): held for moderation; it shows once an admin approves it.", "\(what) : en attente de modération ; cela s'affichera quand un administrateur l'aura approuvé."))
            case .refused(_, let error):
                print(L("\(what): refused. \(error)", "\(what) : refusé. \(error)"))
                if isFocus { failure = error.exitCode }
            case .waiting(_, let error):
                print(L("\(what): kept in the outbox. \(error) It is sent at your next command, or with `palier outbox send`.", "\(what) : gardé dans la boîte d'envoi. \(error) Il part à votre prochaine commande, ou avec `palier outbox send`."))
                if isFocus { failure = 75 }  // EX_TEMPFAIL: nothing lost, try again later
            }
        }
        if let failure {
            // The sentence is printed above; the exit code tells scripts what happened.
            throw ExitCode(failure)
        }
    }

    static func describe(_ envelope: Envelope) -> String {
        switch envelope.content.payload {
        case .post(let post): "\(envelope.kind) \(envelope.id.shortHex) \"\(post.title)\""
        case .retract: L("retract \(envelope.id.shortHex) of \(envelope.target.map { $0.shortHex } ?? "?")", "retrait \(envelope.id.shortHex) de \(envelope.target.map { $0.shortHex } ?? "?")")
        case .edit(_, let post): L("edit \(envelope.id.shortHex) \"\(post.title)\"", "modification \(envelope.id.shortHex) \"\(post.title)\"")
        default: "\(envelope.kind) \(envelope.id.shortHex)"
        }
    }
}

struct Enrol: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Make a one-time code that lets a resident's own key post (admin).", "Créer un code à usage unique qui permet à la clé d'un résident de publier (administrateur)."),
        discussion: L("""
            The resident runs `palier join <code>` on their own computer: their key gets the role, \
            signed by the building key. The code works once, for the given time (default 48h).
            It prints a short code to type (K7QM-2XPA-9RTD: the resident's computer finds the node on \
            the building's network) and the full code with a QR code (it names the building and the node's addresses).
            Example: palier enrol --role resident --name "Camille, 3e étage"
            """, """
            Le résident lance `palier join <code>` sur son ordinateur : sa clé reçoit le rôle, \
            signé par la clé de l'immeuble. Le code sert une fois, pendant la durée donnée (48h par défaut).
            Il affiche un code court à taper (K7QM-2XPA-9RTD : l'ordinateur du résident trouve le \
            nœud sur le réseau de l'immeuble) et le code complet avec un code QR (il nomme \
            l'immeuble et les adresses du nœud).
            Exemple : palier enrol --role resident --name "Camille, 3e étage"
            """)
    )

    @OptionGroup var options: NodeOptions
    @Option(help: H("The role the code gives: \(Role.allCases.map(\.name).joined(separator: ", ")).", "Le rôle que donne le code : \(Role.allCases.map(\.name).joined(separator: ", ")).")) var role: String = "resident"
    @Option(help: H("The name shown with their posts, e.g. \"Camille, 3e étage\".", "Le nom affiché avec ses publications, par exemple \"Camille, 3e étage\".")) var name: String
    @Option(help: H("How long the code works: a duration such as 48h or 7d.", "Combien de temps le code fonctionne : une durée comme 48h ou 7d.")) var valid: String = "48h"
    @Option(help: H("Where residents reach this node (host:port); repeat for several. Default: residents.publicAddresses, else this machine's addresses.", "Où les résidents joignent ce nœud (hôte:port) ; à répéter pour plusieurs. Par défaut : residents.publicAddresses, sinon les adresses de cette machine."))
    var address: [String] = []
    @Flag(inversion: .prefixedNo, help: H("Also print the code as a QR code.", "Afficher aussi le code en code QR.")) var qr = true

    func run() async throws {
        guard let role = Role(name: role) else { throw NodeError.unknownRole(role) }
        let node = try options.openNode()
        let now = node.now()
        let until = try TimeSpec.parse(valid, now: now)
        guard until > now else { throw NodeError.invalidTime(valid) }
        let settings = node.configuration.residents
        guard settings.port > 0 else {
            throw NodeError.configuration("The residents' channel is off (residents.port is 0 in config.json): a code would be of no use.")
        }
        let addresses = !address.isEmpty ? address
            : !settings.publicAddresses.isEmpty ? settings.publicAddresses
            : LocalAddresses.ipv4().map { "\($0):\(settings.port)" }
        let (code, enrolment) = try node.enrol(role, displayName: name, validFor: until - now, addresses: addresses)
        let short = enrolment.shortCode.text
        print(L("Code for \(enrolment.displayName) (\(role.name)), valid once until \(TimeSpec.format(enrolment.expiresAt)):", "Code pour \(enrolment.displayName) (\(role.name)), valable une fois jusqu'au \(TimeSpec.format(enrolment.expiresAt)) :"))
        print("")
        print("  palier join \(short)")
        print("")
        print(L("The resident types that line on their own computer, on the building's network (the node is found by itself); their key never leaves it.", "Le résident tape cette ligne sur son ordinateur, sur le réseau de l'immeuble (le nœud est trouvé tout seul) ; sa clé ne quitte jamais son ordinateur."))
        if let first = code.addresses.first {
            print(L("If their computer does not find the node: palier join \(short) --address \(first)", "Si son ordinateur ne trouve pas le nœud : palier join \(short) --address \(first)"))
        }
        print("")
        print(L("Or the full code, which names the building and where its node is (to copy):", "Ou le code complet, qui nomme l'immeuble et dit où est son nœud (à copier) :"))
        print("")
        print("  palier join \(code.text)")
        if qr, let symbol = QRCodeText.render(code.text, caseInsensitive: true, colours: isatty(STDOUT_FILENO) == 1) {
            print("")
            print(L("Or scan it (the full code):", "Ou scannez-le (le code complet) :"))
            print(symbol)
        }
        if code.addresses.isEmpty {
            print(L("No address of this machine was found: give one with --address host:\(settings.port).", "Aucune adresse de cette machine n'a été trouvée : donnez-en une avec --address hôte:\(settings.port)."))
        }
    }
}

struct Join: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Join your building with the code its admin gave you (on your own computer).", "Rejoindre votre immeuble avec le code que son administrateur vous a donné (sur votre ordinateur)."),
        discussion: L("Makes your key if you have none (kept in ~/.config/palier), proves the code to the building's node and receives your role.\nExample: palier join K7QM-2XPA-9RTD",
                      "Crée votre clé si vous n'en avez pas (gardée dans ~/.config/palier), prouve le code au nœud de l'immeuble et reçoit votre rôle.\nExemple : palier join K7QM-2XPA-9RTD")
    )

    @Argument(help: H("The code: 12 characters such as K7QM-2XPA-9RTD, or the full code starting with palier-join-.", "Le code : 12 caractères comme K7QM-2XPA-9RTD, ou le code complet commençant par palier-join-.")) var code: String
    @Option(help: H("Where your building's node listens (host:port), if your admin gave it; repeat for several. Default: the code's addresses, else the buildings found on this network.", "Où écoute le nœud de votre immeuble (hôte:port), si votre administrateur l'a donné ; à répéter pour plusieurs. Par défaut : les adresses du code, sinon les immeubles trouvés sur ce réseau."))
    var address: [String] = []

    func run() async throws {
        // Found over mDNS (browsing only, nothing published) when no address is known or answers.
        var logger = Logger(label: "palier")
        logger.logLevel = .critical
        let unavailable = Mutex<String?>(nil)
        let nearby = AvahiDiscovery(record: DiscoveryRecord(building: SigningKey.generate().publicKey, networkID: "", name: ""), logger: logger) { status in
            if case .unavailable(let reason) = status { unavailable.withLock { $0 = reason } }
        }
        do {
            try await join(discovery: nearby)
        } catch let error as NodeError {
            // Not found nearby because this computer cannot look: say so, and what to do.
            guard case .nodeUnreachable(let tried, _) = error.code, tried.last == ResidentHome.nearby, let reason = unavailable.withLock({ $0 }) else { throw error }
            throw NodeError.cannotLookNearby(reason)
        }
    }

    private func join(discovery nearby: AvahiDiscovery) async throws {
        let joined: (key: SigningKey, membership: ResidentMembership)
        if code.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().hasPrefix(EnrolmentCode.prefix) {
            let parsed: EnrolmentCode
            do { parsed = try EnrolmentCode(text: code) } catch { throw NodeError.invalidCode(error) }
            joined = try await ResidentMode.home.join(parsed, addresses: address, discovery: nearby)
        } else {
            let parsed: ShortEnrolmentCode
            do { parsed = try ShortEnrolmentCode(text: code) } catch { throw NodeError.invalidCode(error) }
            joined = try await ResidentMode.home.join(parsed, addresses: address, discovery: nearby)
        }
        print(L("Welcome, \(joined.membership.displayName): you are now a \(joined.membership.role) of your building.", "Bienvenue, \(joined.membership.displayName) : vous avez maintenant le rôle \(joined.membership.role) dans votre immeuble."))
        print(L("Your key: \(joined.key.publicKey.text)", "Votre clé : \(joined.key.publicKey.text)"))
        print(L("Post with: palier post tip --title \"…\"", "Publiez avec : palier post tip --title \"…\""))
    }
}

struct Outbox: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Show or send the posts waiting for your building's node (resident).", "Afficher ou envoyer les publications en attente pour le nœud de votre immeuble (résident)."), discussion: L("Example: palier outbox", "Exemple : palier outbox"),
        subcommands: [ShowOutbox.self, Send.self], defaultSubcommand: ShowOutbox.self
    )

    struct ShowOutbox: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "show", abstract: L("List what waits to be sent.", "Lister ce qui attend d'être envoyé."), discussion: L("Example: palier outbox show", "Exemple : palier outbox show"))
        func run() async throws {
            let waiting = try ResidentMode.home.waitingEnvelopes()
            if waiting.isEmpty { print(L("Nothing waits to be sent.", "Rien n'attend d'être envoyé.")) }
            for envelope in waiting { print(ResidentMode.describe(envelope)) }
        }
    }

    struct Send: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: L("Send what waits, now.", "Envoyer maintenant ce qui attend."), discussion: L("Example: palier outbox send", "Exemple : palier outbox send"))
        func run() async throws {
            guard try !ResidentMode.home.waitingEnvelopes().isEmpty else {
                print(L("Nothing waits to be sent.", "Rien n'attend d'être envoyé."))
                return
            }
            try await ResidentMode.deliver(focus: nil, describe: ResidentMode.describe)
        }
    }
}

/// This machine's IPv4 addresses other than loopback, for enrolment codes.
enum LocalAddresses {
    static func ipv4() -> [String] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0, let first = list else { return [] }
        defer { freeifaddrs(list) }
        var addresses: [String] = []
        for entry in sequence(first: first, next: { $0.pointee.ifa_next }) {
            guard let address = entry.pointee.ifa_addr, address.pointee.sa_family == sa_family_t(AF_INET),
                  entry.pointee.ifa_flags & UInt32(IFF_LOOPBACK) == 0, entry.pointee.ifa_flags & UInt32(IFF_UP) != 0 else { continue }
            var host = [CChar](repeating: 0, count: Int(NI_MAXHOST))
            guard getnameinfo(address, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(host.count), nil, 0, NI_NUMERICHOST) == 0 else { continue }
            addresses.append(String(cString: host))
        }
        return Array(Set(addresses)).sorted()
    }
}

struct Pending: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("List residents' posts waiting for moderation (admin).", "Lister les publications de résidents en attente de modération (administrateur)."),
        discussion: L("residents.moderation in config.json: none, new-members (default: a member's first 3 posts) or all.\nExample: palier pending",
                      "residents.moderation dans config.json : none, new-members (par défaut : les 3 premières publications d'un membre) ou all.\nExemple : palier pending")
    )
    @OptionGroup var options: NodeOptions

    func run() async throws {
        let node = try options.openNode()
        let pending = try node.pending()
        if pending.isEmpty { print(L("No post waits for moderation.", "Aucune publication n'attend de modération.")) }
        for post in pending {
            let envelope = post.envelope
            let title: String = switch envelope.content.payload {
            case .post(let content): content.title
            case .edit(_, let content): "edit of \(envelope.target.map { $0.shortHex } ?? "?"): \(content.title)"
            default: envelope.kind.name
            }
            let author = (try? node.store.membership(of: envelope.author, in: node.building, now: node.now()))?.displayName ?? envelope.author.shortText
            print("\(envelope.id.shortHex)  \(envelope.kind.name.padding(toLength: 10, withPad: " ", startingAt: 0))  \(title)")
            print(L("              \(author) · received \(TimeSpec.format(post.receivedAt)) · until \(TimeSpec.format(envelope.expiresAt))", "              \(author) · reçue le \(TimeSpec.format(post.receivedAt)) · jusqu'au \(TimeSpec.format(envelope.expiresAt))"))
        }
    }
}

struct Approve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Approve a post waiting for moderation: it shows and goes to the neighbours (admin).", "Approuver une publication en attente : elle s'affiche et part chez les voisins (administrateur)."), discussion: L("Example: palier approve 3f9a2c", "Exemple : palier approve 3f9a2c"))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The post's id or a unique prefix of it (see `palier pending`).", "L'identifiant de la publication, ou un début unique de celui-ci (voir `palier pending`).")) var id: String

    func run() async throws {
        let node = try options.openNode()
        let envelope = try node.approve(id)
        print(L("Approved \(envelope.id.shortHex): it shows on the screen and goes to the neighbours.", "\(envelope.id.shortHex) approuvée : elle s'affiche à l'écran et part chez les voisins."))
    }
}

struct Reject: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Reject a post waiting for moderation: it is deleted, never shown (admin).", "Rejeter une publication en attente : elle est supprimée, jamais affichée (administrateur)."), discussion: L("Example: palier reject 3f9a2c", "Exemple : palier reject 3f9a2c"))
    @OptionGroup var options: NodeOptions
    @Argument(help: H("The post's id or a unique prefix of it (see `palier pending`).", "L'identifiant de la publication, ou un début unique de celui-ci (voir `palier pending`).")) var id: String
    @Option(help: H("Why, for the log.", "Pourquoi, pour le journal.")) var reason: String = ""

    func run() async throws {
        let node = try options.openNode()
        let envelope = try node.reject(id)
        print(L("Rejected \(envelope.id.shortHex)\(reason.isEmpty ? "" : " (\(reason))"): deleted, never shown.", "\(envelope.id.shortHex) rejetée\(reason.isEmpty ? "" : " (\(reason))") : supprimée, jamais affichée."))
    }
}

struct Hidden: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("List the posts this building hides, by whom and why.", "Lister les publications que cet immeuble masque, par qui et pourquoi."), discussion: L("Example: palier hidden", "Exemple : palier hidden"))
    @OptionGroup var options: NodeOptions

    func run() async throws {
        let node = try options.openNode()
        let hidden = try node.hidden()
        if hidden.isEmpty { print(L("This building hides no post.", "Cet immeuble ne masque aucune publication.")) }
        for (hide, post) in hidden {
            let title: String = if case .post(let content) = post?.content.payload { content.title } else { "(not held here)" }
            let reason: String = if case .hide(let reason) = hide.content.payload, !reason.isEmpty { reason } else { "no reason given" }
            let by = hide.author == node.building ? "the building"
                : (try? node.store.membership(of: hide.author, in: node.building, now: node.now()))?.displayName ?? hide.author.shortText
            print("\(hide.target!.shortHex)  \(title)")
            print(L("              hidden by \(by) on \(TimeSpec.format(hide.content.createdAt)): \(reason) (palier unhide \(hide.target!.shortHex))", "              masquée par \(by) le \(TimeSpec.format(hide.content.createdAt)) : \(reason) (palier unhide \(hide.target!.shortHex))"))
        }
    }
}

struct Unhide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Show a hidden post again (the hide's author takes it back).", "Réafficher une publication masquée (l'auteur du masquage le reprend)."), discussion: L("Example: palier unhide 3f9a2c", "Exemple : palier unhide 3f9a2c"))
    @OptionGroup var options: NodeOptions
    @OptionGroup var signer: SignerOptions
    @Argument(help: H("The post's id or a unique prefix of it (see `palier hidden`).", "L'identifiant de la publication, ou un début unique de celui-ci (voir `palier hidden`).")) var id: String

    func run() async throws {
        let node = try options.openNode()
        let retracts = try node.unhide(id, as: try signer.signingKey(node))
        print(L("\(id) shows again (\(retracts.count == 1 ? "retract" : "retracts") \(retracts.map(\.id.shortHex).joined(separator: ", ")) of the hide).", "\(id) s'affiche de nouveau (\(retracts.count == 1 ? "retrait" : "retraits") \(retracts.map(\.id.shortHex).joined(separator: ", ")) du masquage)."))
    }
}
