import PalierCore
import PalierCrypto
import PalierStore
import PalierSync

/// Why the node refused or failed. Every description is one sentence a building admin can act
/// on; ``exitCode`` follows sysexits(3) so scripts can tell refusals apart.
public struct NodeError: Error, Sendable, CustomStringConvertible {
    package enum Code: Sendable {
        case notInitialised(String)
        case alreadyInitialised(String)
        case unknownKind(String)
        case unknownRole(String)
        case invalid(EnvelopeError)
        case refused(EnvelopeError)
        case notGranted(PublicKey)
        case roleMayNotPost(Role, Kind)
        case keyFile(KeyFileError)
        case store(StoreError)
        case unknownIdentity(String)
        case identityExists(String)
        case invalidIdentityName(String)
        case unknownEnvelope(String)
        case ambiguousEnvelope(String, Int)
        case retracted(EnvelopeID)
        case notAuthor(EnvelopeID)
        case cannotOutlive(EnvelopeID, String)
        case backup(String)
        case unknownBuilding(String)
        case ambiguousBuilding(String, [String])
        case backupUnreadable(BackupCipherError)
        case notAPost(EnvelopeID, Kind)
        case invalidTime(String)
        case expiryInThePast(String)
        case invalidKey(String, KeyTextError)
        case configuration(String)
        case feedUnavailable(String)
        case io(String)
        case noNetwork(String)
        case networkExists(String)
        case invalidInvite(KeyTextError)
        case ownBuilding
        case residentKeyExists(String)
        case notJoined
        case invalidCode(EnrolmentCodeError)
        case joinRefused(ResidentMessage.Refusal, String)
        case nodeUnreachable([String], String)
        case wrongBuilding(PublicKey)
        case codeNotProven(PublicKey)
        case cannotLookNearby(String)
        case submissionRefused(ResidentMessage.Refusal, String)
        case notHidden(EnvelopeID)
        case hiddenByOther(EnvelopeID, PublicKey)
        case notTheOwner(String, String)
        case invalidPaperKey(PaperKeyError)
        case imageRefused(String, String)
    }
    package let code: Code

    package init(_ code: Code) { self.code = code }

    public static func notInitialised(_ dir: String) -> Self { Self(.notInitialised(dir)) }
    public static func unknownKind(_ name: String) -> Self { Self(.unknownKind(name)) }
    public static func unknownRole(_ name: String) -> Self { Self(.unknownRole(name)) }
    public static func invalidTime(_ text: String) -> Self { Self(.invalidTime(text)) }
    public static func feedUnavailable(_ path: String) -> Self { Self(.feedUnavailable(path)) }
    /// A setting in config.json cannot be applied; the message says which and why.
    public static func configuration(_ message: String) -> Self { Self(.configuration(message)) }

    /// Process exit status for this error (sysexits.h).
    public var exitCode: Int32 {
        switch code {
        case .unknownKind, .unknownRole, .invalidTime, .expiryInThePast, .invalidKey, .invalidIdentityName, .invalidInvite, .ownBuilding, .cannotOutlive: 64  // EX_USAGE
        case .invalid, .refused, .notAPost, .retracted, .imageRefused: 65  // EX_DATAERR
        case .notInitialised, .unknownIdentity, .unknownEnvelope, .ambiguousEnvelope, .noNetwork: 66  // EX_NOINPUT
        case .feedUnavailable: 69  // EX_UNAVAILABLE
        case .alreadyInitialised, .identityExists, .networkExists: 73  // EX_CANTCREAT
        case .notGranted, .roleMayNotPost, .notAuthor: 77  // EX_NOPERM
        case .keyFile(let e): e.isUnsafePermissions ? 77 : 66
        case .configuration: 78  // EX_CONFIG
        case .store, .io: 74  // EX_IOERR
        case .residentKeyExists: 73
        case .notJoined: 66
        case .invalidCode: 64
        case .joinRefused(.retryLater, _), .submissionRefused(.retryLater, _), .submissionRefused(.rateLimited, _): 75  // EX_TEMPFAIL
        case .joinRefused: 77
        case .nodeUnreachable, .wrongBuilding, .codeNotProven, .cannotLookNearby: 69
        case .submissionRefused(.invalidEnvelope, _), .submissionRefused(.otherBuilding, _): 65
        case .submissionRefused: 77
        case .backup: 73  // EX_CANTCREAT
        case .unknownBuilding: 66
        case .ambiguousBuilding: 64
        case .backupUnreadable(.wrongPassphrase): 77
        case .backupUnreadable: 65
        case .notHidden: 66
        case .hiddenByOther: 77
        case .notTheOwner: 77
        case .invalidPaperKey: 65
        }
    }

    public var description: String {
        switch code {
        case .notInitialised(let dir):
            L("No palier node is initialised in \(dir); run `palier init --name \"<building name>\"` first.",
              "Aucun nœud palier n'est initialisé dans \(dir) ; lancez d'abord `palier init --name \"<nom de l'immeuble>\"`.")
        case .alreadyInitialised(let dir):
            L("A palier node is already initialised in \(dir); nothing was changed.",
              "Un nœud palier est déjà initialisé dans \(dir) ; rien n'a été changé.")
        case .unknownKind(let name):
            L("Unknown kind '\(name)'; the kinds you can post are \(Kind.contentKinds.map(\.name).joined(separator: ", ")).",
              "Genre inconnu « \(name) » ; les genres que l'on peut publier sont \(Kind.contentKinds.map(\.name).joined(separator: ", ")).")
        case .unknownRole(let name):
            L("Unknown role '\(name)'; the roles are \(Role.allCases.map(\.name).joined(separator: ", ")).",
              "Rôle inconnu « \(name) » ; les rôles sont \(Role.allCases.map(\.name).joined(separator: ", ")).")
        case .invalid(let e):
            L("Nothing was posted: \(e).",
              "Rien n'a été publié : \(e).")
        case .refused(let e):
            L("The node refused the envelope: \(e).",
              "Le nœud a refusé l'enveloppe : \(e).")
        case .notGranted(let key):
            L("Key \(key.shortText)… has no valid grant from this building; an admin must run `palier grant \(key.text) --role <role> --name <name>` first.",
              "La clé \(key.shortText)… n'a pas d'autorisation valide de cet immeuble ; un administrateur doit d'abord lancer `palier grant \(key.text) --role <rôle> --name <nom>`.")
        case .roleMayNotPost(let role, .hide):
            L("A \(role) may not hide posts; only the building key and admins may.",
              "Le rôle \(role) ne permet pas de masquer des publications ; seuls la clé de l'immeuble et les administrateurs le peuvent.")
        case .roleMayNotPost(let role, let kind):
            L("A \(role) may not post \(kind == .alert ? "an" : "a") \(kind); a \(role) may post: \(Kind.allCases.filter { role.allowedKinds.contains($0) }.map(\.name).joined(separator: ", ")).",
              "Le rôle \(role) ne permet pas de publier « \(kind) » ; il permet : \(Kind.allCases.filter { role.allowedKinds.contains($0) }.map(\.name).joined(separator: ", ")).")
        case .keyFile(let e):
            e.description
        case .store(let e):
            e.description
        case .unknownIdentity(let name):
            L("There is no identity named '\(name)'; create it with `palier identity new \(name)`.",
              "Il n'y a pas d'identité nommée « \(name) » ; créez-la avec `palier identity new \(name)`.")
        case .identityExists(let name):
            L("An identity named '\(name)' already exists; palier never overwrites a key.",
              "Une identité nommée « \(name) » existe déjà ; palier n'écrase jamais une clé.")
        case .invalidIdentityName(let name):
            L("'\(name)' is not a usable identity name; use letters, digits, '-' and '_' (at most 64).",
              "« \(name) » n'est pas un nom d'identité utilisable ; employez des lettres, des chiffres, « - » et « _ » (64 au plus).")
        case .unknownEnvelope(let prefix):
            L("No envelope with id \(prefix) is held by this node.",
              "Ce nœud ne détient aucune enveloppe d'identifiant \(prefix).")
        case .ambiguousEnvelope(let prefix, let count):
            L("The id \(prefix) matches \(count) envelopes; give more digits.",
              "L'identifiant \(prefix) correspond à \(count) enveloppes ; donnez plus de chiffres.")
        case .retracted(let id):
            L("Envelope \(id.shortHex) was retracted by its author; only its id is kept.",
              "L'enveloppe \(id.shortHex) a été retirée par son auteur ; seul son identifiant est conservé.")
        case .notAuthor(let id):
            L("Only the author of \(id.shortHex) can edit or retract it.",
              "Seul l'auteur de \(id.shortHex) peut la modifier ou la retirer.")
        case .notAPost(let id, let kind):
            L("Envelope \(id.shortHex) is a \(kind), not a post.",
              "L'enveloppe \(id.shortHex) est de genre « \(kind) », pas une publication.")
        case .invalidTime(let text):
            L("'\(text)' is not a time; use a duration such as 90m, 36h, 7d or a date such as 2026-12-24 or 2026-12-24T18:30.",
              "« \(text) » n'est pas un moment ; donnez une durée comme 90m, 36h, 7d ou une date comme 2026-12-24 ou 2026-12-24T18:30.")
        case .expiryInThePast(let text):
            L("The expiry \(text) is not in the future.",
              "L'échéance \(text) n'est pas dans le futur.")
        case .invalidKey(let text, let e):
            L("'\(text)' is neither an identity name nor a public key: \(e).",
              "« \(text) » n'est ni un nom d'identité ni une clé publique : \(e).")
        case .configuration(let message):
            message
        case .feedUnavailable(let path):
            L("No running node answers on \(path); start it with `palier run` (and check that you may use the feed socket).",
              "Aucun nœud en marche ne répond sur \(path) ; démarrez-le avec `palier run` (et vérifiez que vous avez accès à la prise du flux).")
        case .io(let message):
            message
        case .imageRefused(let file, let why):
            L("Nothing was posted: the image \(file) is refused: \(why).", "Rien n'a été publié : l'image \(file) est refusée : \(why).")
        case .noNetwork(let path):
            L("This node belongs to no neighbourhood network yet (no \(path)); create one with `palier network create` or join one with `palier network join <invite>`.",
              "Ce nœud n'appartient encore à aucun réseau de quartier (pas de \(path)) ; créez-en un avec `palier network create` ou rejoignez-en un avec `palier network join <invitation>`.")
        case .networkExists(let id):
            L("This node already belongs to network \(id); add --replace to leave it for another (its peers will no longer accept this node).",
              "Ce nœud appartient déjà au réseau \(id) ; ajoutez --replace pour le quitter au profit d'un autre (ses voisins n'accepteront plus ce nœud).")
        case .invalidInvite(let e):
            L("That invite string is not valid: \(e); ask for it again (it starts with palier-invite-).",
              "Cette invitation n'est pas valide : \(e) ; redemandez-la (elle commence par palier-invite-).")
        case .ownBuilding:
            L("That is this building's own key: its posts always show here and cannot be blocked.",
              "C'est la clé de cet immeuble même : ses publications s'affichent toujours ici et ne peuvent pas être bloquées.")
        case .residentKeyExists(let path):
            L("You already have a key (\(path)); palier never overwrites a key. Show it with `palier identity show`.",
              "Vous avez déjà une clé (\(path)) ; palier n'écrase jamais une clé. Affichez-la avec `palier identity show`.")
        case .notJoined:
            L("This computer has not joined a building yet: ask your building's admin for a code, then run `palier join <code>`.",
              "Cet ordinateur n'a pas encore rejoint d'immeuble : demandez un code à l'administrateur de votre immeuble, puis lancez `palier join <code>`.")
        case .invalidCode(.notACode):
            L("That is not an enrolment code: a code is 12 characters such as K7QM-2XPA-9RTD, or a long one starting with palier-join-; ask your building's admin for one.",
              "Ce n'est pas un code d'inscription : un code a 12 caractères, comme K7QM-2XPA-9RTD, ou c'est un long code commençant par palier-join- ; demandez-en un à l'administrateur de votre immeuble.")
        case .invalidCode(.mistyped):
            L("That code has a typing mistake (its check does not match): check each character against the one you were given, or scan its QR code.",
              "Ce code contient une faute de frappe (son contrôle ne correspond pas) : comparez chaque caractère avec celui qu'on vous a donné, ou scannez son code QR.")
        case .invalidCode(.damaged):
            L("That code is damaged or incomplete; ask your building's admin for a new one.",
              "Ce code est abîmé ou incomplet ; demandez-en un nouveau à l'administrateur de votre immeuble.")
        case .invalidCode(.newerVersion):
            L("That code was made by a newer palier; update palier on this computer.",
              "Ce code vient d'une version plus récente de palier ; mettez palier à jour sur cet ordinateur.")
        case .joinRefused(.codeNotValid, _):
            L("The building's node refused the code: it is expired, already used, burnt or unknown; ask your building's admin for a new one.",
              "Le nœud de l'immeuble a refusé le code : il est expiré, déjà utilisé, grillé ou inconnu ; demandez-en un nouveau à l'administrateur de votre immeuble.")
        case .joinRefused(.wrongSecret, let left):
            left == "0"
                ? L("The code is wrong, and was refused too many times: it no longer works; ask your building's admin for a new one.",
              "Le code est faux et a été refusé trop de fois : il ne fonctionne plus ; demandez-en un nouveau à l'administrateur de votre immeuble.")
                : L("The code is wrong (a mistyped character?); \(left) tries left before it stops working.",
              "Le code est faux (un caractère mal tapé ?) ; encore \(left) essais avant qu'il ne fonctionne plus.")
        case .joinRefused(.retryLater, _):
            L("The building's node could not record your membership just now; try again in a few minutes.",
              "Le nœud de l'immeuble n'a pas pu enregistrer votre inscription à l'instant ; réessayez dans quelques minutes.")
        case .joinRefused(_, let text):
            L("The building's node refused to enrol this computer: \(text).",
              "Le nœud de l'immeuble a refusé d'inscrire cet ordinateur : \(text).")
        case .nodeUnreachable(let tried, let error):
            L("Your building's node could not be reached (tried \(tried.joined(separator: ", ")): \(error)); check that this computer is on the building's network.",
              "Le nœud de votre immeuble est injoignable (essayé : \(tried.joined(separator: ", ")) : \(error)) ; vérifiez que cet ordinateur est sur le réseau de l'immeuble.")
        case .wrongBuilding(let key):
            L("The node that answered is another building's (\(key.shortText)…), not yours: nothing was sent.",
              "Le nœud qui a répondu est celui d'un autre immeuble (\(key.shortText)…), pas le vôtre : rien n'a été envoyé.")
        case .cannotLookNearby(let reason):
            L("This computer cannot look for your building's node on the network: \(reason). Give the node's address: palier join <code> --address host:port (your building's admin has it).",
              "Cet ordinateur ne peut pas chercher le nœud de votre immeuble sur le réseau : \(reason). Donnez l'adresse du nœud : palier join <code> --address hôte:port (l'administrateur de votre immeuble la connaît).")
        case .backup(let why):
            L("Backup: \(why)",
              "Sauvegarde : \(why)")
        case .unknownBuilding(let text):
            L("No building this node knows is named '\(text)' or has a key starting so; `palier peers` lists those it knows (names, and keys to copy).",
              "Aucun immeuble connu de ce nœud ne s'appelle « \(text) » ni n'a de clé commençant ainsi ; `palier peers` liste ceux qu'il connaît (noms, et clés à copier).")
        case .ambiguousBuilding(let text, let matches):
            L("'\(text)' could be any of: \(matches.joined(separator: "; ")); give more of the key.",
              "« \(text) » peut désigner : \(matches.joined(separator: " ; ")) ; donnez davantage de la clé.")
        case .backupUnreadable(.wrongPassphrase):
            L("That passphrase does not open this backup; nothing was restored.",
              "Cette phrase de passe n'ouvre pas cette sauvegarde ; rien n'a été restauré.")
        case .backupUnreadable(.notABackup):
            L("That file is not a palier backup; nothing was restored.",
              "Ce fichier n'est pas une sauvegarde palier ; rien n'a été restauré.")
        case .backupUnreadable(.truncated):
            L("That backup is cut short (an incomplete copy?); nothing was restored.",
              "Cette sauvegarde est tronquée (une copie incomplète ?) ; rien n'a été restauré.")
        case .backupUnreadable(.damaged):
            L("That backup is damaged (it was changed after it was made); nothing was restored.",
              "Cette sauvegarde est abîmée (elle a été modifiée après coup) ; rien n'a été restauré.")
        case .backupUnreadable(.outOfMemory):
            L("This machine could not give the memory the passphrase's protection needs (256 MiB); close other programs and try again.",
              "Cette machine n'a pas pu fournir la mémoire que demande la protection de la phrase de passe (256 Mio) ; fermez d'autres programmes et réessayez.")
        case .cannotOutlive(let id, let expiry):
            L("Post \(id.shortHex) is gone from every node at \(expiry), its expiry when it was posted: an edit can take it off the screens earlier, not keep it longer. Post it again to show it after that.",
              "La publication \(id.shortHex) disparaît de tous les nœuds le \(expiry), son échéance à la publication : une modification peut la retirer des écrans plus tôt, pas la garder plus longtemps. Publiez-la de nouveau pour l'afficher au-delà.")
        case .codeNotProven(let key):
            L("The node that answered (\(key.shortText)…) does not know this code, so it is not your building's: nothing was sent. Give your building's node with --address host:port.",
              "Le nœud qui a répondu (\(key.shortText)…) ne connaît pas ce code, ce n'est donc pas celui de votre immeuble : rien n'a été envoyé. Indiquez le nœud de votre immeuble avec --address hôte:port.")
        case .submissionRefused(let reason, let detail):
            Self.refusalSentence(reason, detail)
        case .notHidden(let id):
            L("Post \(id.shortHex) is not hidden by this building.",
              "La publication \(id.shortHex) n'est pas masquée par cet immeuble.")
        case .hiddenByOther(let id, let key):
            L("Post \(id.shortHex) was hidden by \(key.shortText)…; only that key can take it back (palier unhide \(id.shortHex) --as <its identity>).",
              "La publication \(id.shortHex) a été masquée par \(key.shortText)… ; seule cette clé peut la rétablir (palier unhide \(id.shortHex) --as <son identité>).")
        case .invalidPaperKey(let error):
            L("Those words are not this building's key: \(error); nothing was written.",
              "Ces mots ne sont pas la clé de cet immeuble : \(error) ; rien n'a été écrit.")
        case .notTheOwner(let dir, let owner):
            L("The node in \(dir) belongs to the user \(owner): run the command with sudo (palier then acts as \(owner)).",
              "Le nœud de \(dir) appartient à l'utilisateur \(owner) : lancez la commande avec sudo (palier agit alors en tant que \(owner)).")
        }
    }
}

extension NodeError {
    /// What a resident reads when the building's node refuses their post.
    static func refusalSentence(_ reason: ResidentMessage.Refusal, _ detail: String) -> String {
        switch reason {
        case .notAMember: L("Your building's node no longer knows this computer's key (revoked?); ask your building's admin.",
              "Le nœud de votre immeuble ne connaît plus la clé de cet ordinateur (révoquée ?) ; adressez-vous à l'administrateur de votre immeuble.")
        case .notAllowed: L("Your role may not post this: \(detail).",
              "Votre rôle ne permet pas de publier ceci : \(detail).")
        case .invalidEnvelope: L("The building's node refused the post as invalid: \(detail).",
              "Le nœud de l'immeuble a refusé la publication comme invalide : \(detail).")
        case .notYourKey: L("That post is signed by another key than this computer's.",
              "Cette publication est signée par une autre clé que celle de cet ordinateur.")
        case .otherBuilding: L("That post is for another building.",
              "Cette publication est destinée à un autre immeuble.")
        case .rateLimited: L("You posted a lot at once: the rest waits in the outbox; send it later with `palier outbox send`.",
              "Vous avez beaucoup publié d'un coup : le reste attend dans la boîte d'envoi ; envoyez-le plus tard avec `palier outbox send`.")
        case .retryLater: L("The building's node could not store the post now; it waits in the outbox (`palier outbox send`).",
              "Le nœud de l'immeuble n'a pas pu enregistrer la publication pour l'instant ; elle attend dans la boîte d'envoi (`palier outbox send`).")
        default: L("The building's node refused the post: \(detail).",
              "Le nœud de l'immeuble a refusé la publication : \(detail).")
        }
    }

    static func wrap(_ error: StoreError) -> NodeError { NodeError(.store(error)) }
    static func wrap(_ error: KeyFileError) -> NodeError { NodeError(.keyFile(error)) }
}

extension NodeError {
    public static func invalidCode(_ error: EnrolmentCodeError) -> Self { Self(.invalidCode(error)) }
    public static func roleMayNotPost(_ role: Role, _ kind: Kind) -> Self { Self(.roleMayNotPost(role, kind)) }
    public static func notAPost(_ id: EnvelopeID, _ kind: Kind) -> Self { Self(.notAPost(id, kind)) }
    public static let notJoined = Self(.notJoined)
    public static func cannotLookNearby(_ reason: String) -> Self { Self(.cannotLookNearby(reason)) }
    public static func imageRefused(_ file: String, _ why: String) -> Self { Self(.imageRefused(file, why)) }
    public static func cannotOutlive(_ id: EnvelopeID, _ expiry: String) -> Self { Self(.cannotOutlive(id, expiry)) }
}
