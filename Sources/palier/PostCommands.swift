import ArgumentParser
import Foundation
import PalierCore
import PalierNode
import PalierStore

/// The fields of a post; all optional so that `edit` can change only some.
struct ContentOptions: ParsableArguments {
    @Option(help: H("The title (at most 120 characters).", "Le titre (120 caractères au plus).")) var title: String?
    @Option(help: H("The text (at most 2,000 bytes).", "Le texte (2 000 octets au plus).")) var body: String?
    @Option(help: H("Language tag, e.g. fr.", "Étiquette de langue, par exemple fr.")) var lang: String?
    @Option(help: H("Event start: a date and time, e.g. 2026-12-24T18:30, or a duration from now.", "Début de l'événement : une date et une heure, par exemple 2026-12-24T18:30, ou une durée à partir de maintenant.")) var start: String?
    @Option(help: H("Event end (default: two hours after the start).", "Fin de l'événement (par défaut : deux heures après le début).")) var end: String?
    @Option(help: H("Event place.", "Lieu de l'événement.")) var place: String?
    @Option(help: H("Start showing it on the screens at this date and time (or after this duration), e.g. 2026-12-01T08:00 or 3d. Default: at once.", "L'afficher sur les écrans à partir de cette date et heure (ou après cette durée), par exemple 2026-12-01T08:00 ou 3d. Par défaut : tout de suite."))
    var from: String?
    @Option(name: .customLong("image"), help: ArgumentHelp(H("An image to show with it (JPEG, PNG, WebP or HEIF); up to 4, each followed by its --alt. It is shrunk to the screen's size and re-encoded without its metadata (no camera, no GPS position).", "Une image à montrer avec elle (JPEG, PNG, WebP ou HEIF) ; 4 au plus, chacune suivie de son --alt. Elle est réduite à la taille de l'écran et réencodée sans ses métadonnées (ni appareil, ni position GPS).").abstract, valueName: "file"))
    var images: [String] = []
    @Option(name: .customLong("alt"), help: ArgumentHelp(H("What the image shows, in a sentence, for those who cannot see it (required with each --image).", "Ce que montre l'image, en une phrase, pour qui ne peut pas la voir (obligatoire avec chaque --image).").abstract, valueName: "text"))
    var alts: [String] = []
    @Option(help: H("A web address (https://…) the screen shows as a QR code to scan.", "Une adresse web (https://…) que l'écran montre sous forme de QR code à scanner."))
    var link: String?

    func validate() throws {
        guard images.count == alts.count else {
            throw ValidationError(L("Each --image needs its --alt: \(images.count) images, \(alts.count) alt texts.", "Chaque --image demande son --alt : \(images.count) images, \(alts.count) textes alternatifs."))
        }
        guard images.count <= Limits.maximumImages else {
            throw ValidationError(L("A post carries at most \(Limits.maximumImages) images.", "Une publication porte au plus \(Limits.maximumImages) images."))
        }
        if let link, let problem = LinkRules.problem(link) {
            throw ValidationError(L("The link is refused: \(problem).", "Le lien est refusé : \(problem)."))
        }
    }

    /// Prepares and keeps the images given, in place of the post's (an edit that gives none keeps them).
    func attachImages(_ node: BuildingNode, to content: inout PostContent) throws(NodeError) {
        guard !images.isEmpty else { return }
        var references: [ImageReference] = []
        for (file, alt) in zip(images, alts) { references.append(try node.attachImage(file: file, alt: alt)) }
        content.images = references
    }

    func apply(to content: inout PostContent, kind: Kind, now: UInt64) throws(NodeError) {
        if let link { content.link = link }
        if let title { content.title = title }
        if let body { content.body = body }
        if let lang { content.language = lang }
        if let from { content.showsFrom = try TimeSpec.parse(from, now: now) }
        guard kind == .event else { return }
        var event = content.event ?? EventDetails(startsAt: now, endsAt: now, place: "")
        if let start {
            let startsAt = try TimeSpec.parse(start, now: now)
            // An edit keeps the event's length; the rules guarantee endsAt ≥ startsAt.
            let duration = content.event == nil ? 2 * 3_600_000 : event.endsAt - event.startsAt
            let (endsAt, overflow) = startsAt.addingReportingOverflow(duration)
            guard !overflow else { throw NodeError.invalidTime(start) }
            event.startsAt = startsAt
            event.endsAt = endsAt
        }
        if let end { event.endsAt = try TimeSpec.parse(end, now: now) }
        if let place { event.place = place }
        content.event = event
    }
}

extension Scope: ExpressibleByArgument {
    public init?(argument: String) { self.init(name: argument) }
    public static var allValueStrings: [String] { ["building", "neighbourhood"] }
}

struct Post: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Post a signed message.", "Publier un message signé."),
        discussion: L("""
            Kinds: \(Kind.contentKinds.map(\.name).joined(separator: ", ")). An event needs --start.
            Example: palier post event --title "Fête des voisins" --start 2026-12-05T18:00 --place "Cour"
            """, """
            Genres : \(Kind.contentKinds.map(\.name).joined(separator: ", ")). Un événement demande --start.
            Exemple : palier post event --title "Fête des voisins" --start 2026-12-05T18:00 --place "Cour"
            """)
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var signer: SignerOptions
    @Argument(help: H("The kind of post.", "Le genre de publication.")) var kind: String
    @OptionGroup var content: ContentOptions
    @Option(help: H("When the post disappears: a duration (7d, 36h) or a date; at most 90 days (default 7 days after it starts showing, or the event's end).", "Quand la publication disparaît : une durée (7d, 36h) ou une date ; 90 jours au plus (par défaut 7 jours après le début de son affichage, ou la fin de l'événement)."))
    var expires: String?
    @Option(help: H("building: this node only; neighbourhood: every node of the network. Default: building for notices, flashes and alerts, neighbourhood for the rest.", "building : ce nœud seulement ; neighbourhood : tous les nœuds du réseau. Par défaut : building pour les avis, flashs et alertes, neighbourhood pour le reste."))
    var scope: Scope?

    func validate() throws {
        try content.validate()
        // Said with this command's usage, not the top-level one.
        guard content.title != nil else { throw ValidationError(L("A post needs --title.", "Une publication demande --title.")) }
        if kind == Kind.event.name && content.start == nil { throw ValidationError(L("An event needs --start (e.g. --start 2026-12-05T18:00).", "Un événement demande --start (par exemple --start 2026-12-05T18:00).")) }
    }

    func run() async throws {
        guard let kind = Kind(name: kind), kind.isContent else { throw NodeError.unknownKind(kind) }
        if ResidentMode.isActive(options) && signer.identity == nil && signer.keyFile == nil {
            try await postAsResident(kind)
            return
        }
        let node = try options.openNode()
        let author = try signer.signingKey(node)
        let now = node.now()
        var post = PostContent(title: "")
        try content.apply(to: &post, kind: kind, now: now)
        let expiry = try expires.map { text throws(NodeError) in try TimeSpec.parse(text, now: now) }
        try content.attachImages(node, to: &post)
        let envelope = try node.post(kind, post, expiresAt: expiry, scope: scope ?? kind.defaultScope, as: author)
        if let from = post.showsFrom, from > now {
            print(L("Posted \(kind) \(envelope.id.shortHex): on the screens from \(TimeSpec.format(from)) until \(TimeSpec.format(envelope.expiresAt)).", "Publié (\(kind)) \(envelope.id.shortHex) : sur les écrans du \(TimeSpec.format(from)) au \(TimeSpec.format(envelope.expiresAt))."))
        } else {
            print(L("Posted \(kind) \(envelope.id.shortHex) until \(TimeSpec.format(envelope.expiresAt)).", "Publié (\(kind)) \(envelope.id.shortHex) jusqu'au \(TimeSpec.format(envelope.expiresAt))."))
        }
    }

    /// On a resident's machine: signed here with the resident's key, sent to the building's node.
    private func postAsResident(_ kind: Kind) async throws {
        let home = ResidentMode.home
        let (_, membership, _) = try home.member()
        if let role = Role(name: membership.role), !role.mayPost(kind) { throw NodeError.roleMayNotPost(role, kind) }
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        var post = PostContent(title: "")
        try content.apply(to: &post, kind: kind, now: now)
        let expiry = try expires.map { text throws(NodeError) in try TimeSpec.parse(text, now: now) }
            ?? BuildingNode.defaultExpiry(of: post, now: now)
        post.images = try zip(content.images, content.alts).map { file, alt throws(NodeError) in try home.attachImage(file: file, alt: alt) }
        let envelope = try home.sign(wallMillis: now) { timestamp, building, author in
            EnvelopeContent(kind: kind, scope: scope ?? kind.defaultScope, building: building, author: author, timestamp: timestamp, expiresAt: expiry, payload: .post(post))
        }
        try await ResidentMode.deliver(focus: envelope, describe: ResidentMode.describe)
    }
}

struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("List the posts this node shows, newest first: its building's and its neighbours' (not blocked ones).", "Lister les publications que ce nœud affiche, les plus récentes d'abord : celles de l'immeuble et des voisins (pas des bloqués)."),
        discussion: L("The elevator screen shows this building's posts and those of followed buildings (see `palier feed`).\nExample: palier list --kind event --limit 5",
                      "L'écran de l'ascenseur montre les publications de cet immeuble et celles des immeubles suivis (voir `palier feed`).\nExemple : palier list --kind event --limit 5")
    )

    @OptionGroup var options: NodeOptions
    @Option(help: H("Only this kind.", "Ce genre seulement.")) var kind: String?
    @Option(help: H("Show at most this many posts, the newest.", "Afficher au plus ce nombre de publications, les plus récentes.")) var limit = 20
    @Flag(help: H("Show every post (a district may hold tens of thousands).", "Afficher toutes les publications (un quartier peut en compter des dizaines de milliers).")) var all = false
    @Flag(help: H("Print JSON.", "Afficher du JSON.")) var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError(L("--limit must be at least 1.", "--limit doit valoir au moins 1.")) }
    }

    func run() async throws {
        let filter = try kind.map { name throws(NodeError) -> Kind in
            guard let kind = Kind(name: name), kind.isContent else { throw NodeError.unknownKind(name) }
            return kind
        }
        let node = try options.openNode()
        let (items, more) = try node.listed(kind: filter, limit: all ? nil : limit)
        if json {
            print(try jsonText(items.map(ItemJSON.init)))
            return
        }
        if items.isEmpty {
            print(L("Nothing to show.", "Rien à afficher."))
            return
        }
        defer {
            if more { print(L("… older posts are not shown: palier list --all, or --limit N.", "… les publications plus anciennes ne sont pas affichées : palier list --all, ou --limit N.")) }
        }
        for item in items {
            let role = item.role?.name ?? "building"
            let edited = item.editedAt == nil ? "" : " · edited"
            print("\(item.id.shortHex)  \(item.kind.name.padding(toLength: 10, withPad: " ", startingAt: 0))  \(item.content.title)")
            var details = "\(item.authorName) (\(role))"
            if let name = item.buildingName, item.building != node.building { details += " · \(name)" }
            if let event = item.content.event {
                details += " · \(TimeSpec.format(event.startsAt)) → \(TimeSpec.format(event.endsAt))"
                if !event.place.isEmpty { details += " · \(event.place)" }
            }
            let scheduled = item.content.showsFrom.map { $0 > node.now() ? " · on the screens from \(TimeSpec.format($0))" : "" } ?? ""
            print("              \(details)\(scheduled) · until \(TimeSpec.format(item.expiresAt))\(edited)")
            if !item.content.body.isEmpty {
                print("              \(item.content.body.replacingOccurrences(of: "\n", with: "\n              "))")
            }
        }
    }
}

struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Show one envelope by id (or a unique id prefix).", "Afficher une enveloppe par son identifiant (ou un début d'identifiant unique)."), discussion: L("Example: palier show 3f9a2c", "Exemple : palier show 3f9a2c"))

    @OptionGroup var options: NodeOptions
    @Argument(help: H("The id or a unique prefix of it.", "L'identifiant, ou un début unique de celui-ci.")) var id: String
    @Flag(help: H("Print the signed envelope bytes in hex, for checking with libsodium alone.", "Afficher en hexadécimal les octets signés de l'enveloppe, pour les vérifier avec libsodium seul.")) var hex = false

    func run() async throws {
        let node = try options.openNode()
        var status: String?
        var found = try? node.envelope(id)
        // Not in the set: perhaps a resident's post waiting for moderation.
        if found == nil, let held = try node.pending().first(where: { $0.envelope.id.hex.hasPrefix(id.lowercased()) })?.envelope {
            found = held
            status = L("waiting for moderation; not shown or relayed until approved (palier approve \(held.id.shortHex), or palier reject)", "en attente de modération ; ni affichée ni relayée avant approbation (palier approve \(held.id.shortHex), ou palier reject)")
        }
        // Neither: the node's own sentence (unknown or ambiguous id).
        let envelope = try found ?? node.envelope(id)
        if status == nil, envelope.kind.isContent {
            let now = node.now()
            let hides = try node.store.hides(of: envelope.id, now: now)
            if try node.store.viewItem(envelope.id, now: now) != nil {
                status = L("shown", "affichée")
            } else if let hide = hides.first, case .hide(let reason) = hide.content.payload {
                let by = hide.author == hide.building ? L("the building \(hide.building.shortText)", "l'immeuble \(hide.building.shortText)") : "\(hide.author.shortText)"
                status = L("hidden by \(by)\(reason.isEmpty ? "" : ": \(reason)")", "masquée par \(by)\(reason.isEmpty ? "" : " : \(reason)")")
            } else {
                status = L("not shown here (its author has no role for it, it is for another building only, or it expired)", "pas affichée ici (son auteur n'a pas de rôle pour cela, elle est réservée à un autre immeuble, ou elle a expiré)")
            }
        }
        if hex {
            print(hexString(envelope.bytes))
            return
        }
        let c = envelope.content
        /// One field, its name in the reader's language, the values lined up.
        func field(_ english: String, _ french: String, _ value: String) {
            let name = L(english, french) + (Language.current == .fr ? " :" : ":")
            let width = Language.current == .fr ? 14 : 11
            print(name.padding(toLength: max(name.count + 1, width), withPad: " ", startingAt: 0) + value)
        }
        field("id", "identifiant", envelope.id.hex)
        field("kind", "genre", "\(c.kind)")
        field("scope", "portée", "\(c.scope)")
        field("building", "immeuble", c.building.text)
        field("author", "auteur", c.author.text)
        field("created", "créée le", "\(TimeSpec.format(c.createdAt)) (hlc \(c.timestamp))")
        field("expires", "échéance", TimeSpec.format(c.expiresAt))
        if let status { field("status", "état", status) }
        if let target = c.target { field("target", "cible", target.hex) }
        switch c.payload {
        case .post(let post), .edit(_, let post):
            field("title", "titre", post.title)
            if !post.language.isEmpty { field("language", "langue", post.language) }
            if let event = post.event {
                let place = event.place.isEmpty ? "" : L(" at \(event.place)", " à \(event.place)")
                field("event", "événement", "\(TimeSpec.format(event.startsAt)) → \(TimeSpec.format(event.endsAt))\(place)")
            }
            if let from = post.showsFrom { field("shows from", "affichée dès", TimeSpec.format(from)) }
            if let until = post.showsUntil { field("shows until", "affichée jusqu'au", TimeSpec.format(until)) }
            for (index, image) in post.images.enumerated() {
                let held = try node.store.heldBlob(image.blob)
                let path = held.flatMap { _ in node.store.blobFiles.path(of: image.blob, type: image.type) }
                let state = held != nil ? L("here: \(path ?? "in memory")", "présente : \(path ?? "en mémoire")")
                    : L("not here yet (fetched from a neighbour when one has it)", "pas encore ici (récupérée auprès d'un voisin qui l'a)")
                field("image \(index + 1)", "image \(index + 1)",
                      "\(image.width) × \(image.height) \(image.type.mediaType), \(StoreError.mebibytes(Int64(image.byteCount))), \(L("“\(image.alt)”; ", "« \(image.alt) » ; "))\(state)")
            }
            if let link = post.link { field("link", "lien", L("\(link) (shown as a QR code)", "\(link) (affiché en QR code)")) }
            for ext in post.otherExtensions {
                field("extension", "extension", L("\(ext.tag) (\(ext.value.count) bytes, from a newer palier)", "\(ext.tag) (\(ext.value.count) octets, d'une version plus récente de palier)"))
            }
            if !post.body.isEmpty { print(L("body:", "texte :") + "\n\(post.body)") }
        case .retract:
            break
        case .hide(let reason):
            if !reason.isEmpty { field("reason", "motif", reason) }
        case .grant(let grant):
            field("subject", "sujet", grant.subject.text)
            field("role", "rôle", grant.role?.name ?? L("revoked", "révoqué"))
            if !grant.displayName.isEmpty { field("name", "nom", grant.displayName) }
        case .profile(let profile):
            field("name", "nom", profile.name)
            if !profile.address.isEmpty { field("address", "adresse", profile.address) }
            if let co = profile.coordinates { field("location", "position", "\(co.latitude), \(co.longitude)") }
        }
        field("signature", "signature", hexString(envelope.signature.bytes))
    }
}

struct Edit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Change one of your posts; fields not given stay as they are.", "Modifier une de vos publications ; les champs non donnés restent tels quels."),
        discussion: L("Example: palier edit 3f2a9c1e --expires 2026-12-03T18:00 (off the screens then; not later than its first expiry)", "Exemple : palier edit 3f2a9c1e --expires 2026-12-03T18:00 (retirée des écrans à ce moment ; pas après sa première échéance)"))

    @OptionGroup var options: NodeOptions
    @OptionGroup var signer: SignerOptions
    @Argument(help: H("The post's id or a unique prefix of it.", "L'identifiant de la publication, ou un début unique de celui-ci.")) var id: String
    @OptionGroup var content: ContentOptions
    @Option(help: H("Take it off the screens at this date and time (or after this duration); at the latest its expiry when posted.", "La retirer des écrans à cette date et heure (ou après cette durée) ; au plus tard à son échéance de publication."))
    var expires: String?

    /// The content fields, and --expires as the post's shows-until.
    func change(_ post: inout PostContent, kind: Kind, now: UInt64) throws(NodeError) {
        try content.apply(to: &post, kind: kind, now: now)
        if let expires { post.showsUntil = try TimeSpec.parse(expires, now: now) }
    }

    func validate() throws { try content.validate() }

    func run() async throws {
        if ResidentMode.isActive(options) && signer.identity == nil && signer.keyFile == nil {
            let home = ResidentMode.home
            let target = try home.sentEnvelope(id)
            guard target.kind.isContent, var post = home.latestContent(of: target) else { throw NodeError.notAPost(target.id, target.kind) }
            let now = UInt64(Date().timeIntervalSince1970 * 1000)
            try change(&post, kind: target.kind, now: now)
            if !content.images.isEmpty {
                post.images = try zip(content.images, content.alts).map { file, alt throws(NodeError) in try home.attachImage(file: file, alt: alt) }
            }
            if let until = post.showsUntil, until > target.expiresAt { throw NodeError.cannotOutlive(target.id, TimeSpec.format(target.expiresAt)) }
            let envelope = try home.sign(wallMillis: now) { timestamp, building, author in
                EnvelopeContent(kind: .edit, scope: target.content.scope, building: building, author: author, timestamp: timestamp,
                                expiresAt: target.expiresAt, target: target.id, payload: .edit(kind: target.kind, content: post))
            }
            try await ResidentMode.deliver(focus: envelope, describe: ResidentMode.describe)
            return
        }
        let node = try options.openNode()
        let author = try signer.signingKey(node)
        let now = node.now()
        let envelope = try node.edit(id, as: author) { (post, kind) throws(NodeError) in
            try change(&post, kind: kind, now: now)
            try content.attachImages(node, to: &post)
        }
        print(L("Edited \(id); edit \(envelope.id.shortHex).", "\(id) modifiée ; modification \(envelope.id.shortHex)."))
    }
}

struct Retract: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: L("Retract one of your posts: its text is erased on every node.", "Retirer une de vos publications : son texte est effacé sur tous les nœuds."), discussion: L("Example: palier retract 3f9a2c", "Exemple : palier retract 3f9a2c"))

    @OptionGroup var options: NodeOptions
    @OptionGroup var signer: SignerOptions
    @Argument(help: H("The post's id or a unique prefix of it.", "L'identifiant de la publication, ou un début unique de celui-ci.")) var id: String

    func run() async throws {
        if ResidentMode.isActive(options) && signer.identity == nil && signer.keyFile == nil {
            let home = ResidentMode.home
            let target = try home.sentEnvelope(id)
            guard target.kind.isContent else { throw NodeError.notAPost(target.id, target.kind) }
            let envelope = try home.sign(wallMillis: UInt64(Date().timeIntervalSince1970 * 1000)) { timestamp, building, author in
                EnvelopeContent(kind: .retract, scope: target.content.scope, building: building, author: author, timestamp: timestamp,
                                expiresAt: target.expiresAt, target: target.id, payload: .retract)
            }
            try await ResidentMode.deliver(focus: envelope, describe: ResidentMode.describe)
            return
        }
        let node = try options.openNode()
        let envelope = try node.retract(id, as: try signer.signingKey(node))
        print(L("Retracted \(id); retract \(envelope.id.shortHex).", "\(id) retirée ; retrait \(envelope.id.shortHex)."))
    }
}

struct Hide: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: L("Hide a post (admin): this building's posts everywhere, others' on this building's screen.", "Masquer une publication (administrateur) : celles de l'immeuble partout, celles des autres sur l'écran de l'immeuble."), discussion: L("Example: palier hide 3f9a2c --reason \"hors sujet\"", "Exemple : palier hide 3f9a2c --reason \"hors sujet\"")
    )

    @OptionGroup var options: NodeOptions
    @OptionGroup var signer: SignerOptions
    @Argument(help: H("The post's id or a unique prefix of it.", "L'identifiant de la publication, ou un début unique de celui-ci.")) var id: String
    @Option(help: H("Why, for the record.", "Pourquoi, pour mémoire.")) var reason: String = ""

    func run() async throws {
        let node = try options.openNode()
        let envelope = try node.hide(id, reason: reason, as: try signer.signingKey(node))
        print(L("Hidden \(id); hide \(envelope.id.shortHex).", "\(id) masquée ; masquage \(envelope.id.shortHex)."))
    }
}

func jsonText<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(value), as: UTF8.self)
}

/// One post in `palier list --json`.
struct ItemJSON: Encodable {
    struct Author: Encodable { let key: String; let name: String; let role: String }
    struct Building: Encodable { let key: String; let name: String? }
    struct Event: Encodable { let start: String; let end: String; let place: String }
    let id: String
    let kind: String
    let scope: String
    let title: String
    let body: String
    let language: String
    let event: Event?
    let author: Author
    let building: Building
    let postedAt: String
    let editedAt: String?
    let expiresAt: String
    /// When screens start showing it, if scheduled.
    let showsFrom: String?
    let revision: String

    init(_ item: ViewItem) {
        id = item.id.hex
        kind = item.kind.name
        scope = item.scope.name
        title = item.content.title
        body = item.content.body
        language = item.content.language
        event = item.content.event.map { Event(start: TimeSpec.iso8601($0.startsAt), end: TimeSpec.iso8601($0.endsAt), place: $0.place) }
        author = Author(key: item.author.text, name: item.authorName, role: item.role?.name ?? "building")
        building = Building(key: item.building.text, name: item.buildingName)
        postedAt = TimeSpec.iso8601(item.postedAt.millis)
        editedAt = item.editedAt.map { TimeSpec.iso8601($0.millis) }
        expiresAt = TimeSpec.iso8601(item.expiresAt)
        showsFrom = item.content.showsFrom.map(TimeSpec.iso8601)
        revision = item.revision.hex
    }
}
