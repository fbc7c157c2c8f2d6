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
        case .invalid, .refused, .notAPost, .retracted: 65  // EX_DATAERR
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
            "No palier node is initialised in \(dir); run `palier init --name \"<building name>\"` first."
        case .alreadyInitialised(let dir):
            "A palier node is already initialised in \(dir); nothing was changed."
        case .unknownKind(let name):
            "Unknown kind '\(name)'; the kinds you can post are \(Kind.contentKinds.map(\.name).joined(separator: ", "))."
        case .unknownRole(let name):
            "Unknown role '\(name)'; the roles are \(Role.allCases.map(\.name).joined(separator: ", "))."
        case .invalid(let e):
            "Nothing was posted: \(e)."
        case .refused(let e):
            "The node refused the envelope: \(e)."
        case .notGranted(let key):
            "Key \(key.shortText)… has no valid grant from this building; an admin must run `palier grant \(key.text) --role <role> --name <name>` first."
        case .roleMayNotPost(let role, .hide):
            "A \(role) may not hide posts; only the building key and admins may."
        case .roleMayNotPost(let role, let kind):
            "A \(role) may not post \(kind == .alert ? "an" : "a") \(kind); a \(role) may post: \(Kind.allCases.filter { role.allowedKinds.contains($0) }.map(\.name).joined(separator: ", "))."
        case .keyFile(let e):
            e.description
        case .store(let e):
            e.description
        case .unknownIdentity(let name):
            "There is no identity named '\(name)'; create it with `palier identity new \(name)`."
        case .identityExists(let name):
            "An identity named '\(name)' already exists; palier never overwrites a key."
        case .invalidIdentityName(let name):
            "'\(name)' is not a usable identity name; use letters, digits, '-' and '_' (at most 64)."
        case .unknownEnvelope(let prefix):
            "No envelope with id \(prefix) is held by this node."
        case .ambiguousEnvelope(let prefix, let count):
            "The id \(prefix) matches \(count) envelopes; give more digits."
        case .retracted(let id):
            "Envelope \(id.shortHex) was retracted by its author; only its id is kept."
        case .notAuthor(let id):
            "Only the author of \(id.shortHex) can edit or retract it."
        case .notAPost(let id, let kind):
            "Envelope \(id.shortHex) is a \(kind), not a post."
        case .invalidTime(let text):
            "'\(text)' is not a time; use a duration such as 90m, 36h, 7d or a date such as 2026-12-24 or 2026-12-24T18:30."
        case .expiryInThePast(let text):
            "The expiry \(text) is not in the future."
        case .invalidKey(let text, let e):
            "'\(text)' is neither an identity name nor a public key: \(e)."
        case .configuration(let message):
            message
        case .feedUnavailable(let path):
            "No running node answers on \(path); start it with `palier run` (and check that you may use the feed socket)."
        case .io(let message):
            message
        case .noNetwork(let path):
            "This node belongs to no neighbourhood network yet (no \(path)); create one with `palier network create` or join one with `palier network join <invite>`."
        case .networkExists(let id):
            "This node already belongs to network \(id); add --replace to leave it for another (its peers will no longer accept this node)."
        case .invalidInvite(let e):
            "That invite string is not valid: \(e); ask for it again (it starts with palier-invite-)."
        case .ownBuilding:
            "That is this building's own key: its posts always show here and cannot be blocked."
        case .residentKeyExists(let path):
            "You already have a key (\(path)); palier never overwrites a key. Show it with `palier identity show`."
        case .notJoined:
            "This computer has not joined a building yet: ask your building's admin for a code, then run `palier join <code>`."
        case .invalidCode(.notACode):
            "That is not an enrolment code: a code is 12 characters such as K7QM-2XPA-9RTD, or a long one starting with palier-join-; ask your building's admin for one."
        case .invalidCode(.mistyped):
            "That code has a typing mistake (its check does not match): check each character against the one you were given, or scan its QR code."
        case .invalidCode(.damaged):
            "That code is damaged or incomplete; ask your building's admin for a new one."
        case .invalidCode(.newerVersion):
            "That code was made by a newer palier; update palier on this computer."
        case .joinRefused(.codeNotValid, _):
            "The building's node refused the code: it is expired, already used, burnt or unknown; ask your building's admin for a new one."
        case .joinRefused(.wrongSecret, let left):
            left == "0"
                ? "The code is wrong, and was refused too many times: it no longer works; ask your building's admin for a new one."
                : "The code is wrong (a mistyped character?); \(left) tries left before it stops working."
        case .joinRefused(.retryLater, _):
            "The building's node could not record your membership just now; try again in a few minutes."
        case .joinRefused(_, let text):
            "The building's node refused to enrol this computer: \(text)."
        case .nodeUnreachable(let tried, let error):
            "Your building's node could not be reached (tried \(tried.joined(separator: ", ")): \(error)); check that this computer is on the building's network."
        case .wrongBuilding(let key):
            "The node that answered is another building's (\(key.shortText)…), not yours: nothing was sent."
        case .cannotLookNearby(let reason):
            "This computer cannot look for your building's node on the network: \(reason). Give the node's address: palier join <code> --address host:port (your building's admin has it)."
        case .backup(let why):
            "Backup: \(why)"
        case .unknownBuilding(let text):
            "No building this node knows is named '\(text)' or has a key starting so; `palier peers` lists those it knows (names, and keys to copy)."
        case .ambiguousBuilding(let text, let matches):
            "'\(text)' could be any of: \(matches.joined(separator: "; ")); give more of the key."
        case .backupUnreadable(.wrongPassphrase):
            "That passphrase does not open this backup; nothing was restored."
        case .backupUnreadable(.notABackup):
            "That file is not a palier backup; nothing was restored."
        case .backupUnreadable(.truncated):
            "That backup is cut short (an incomplete copy?); nothing was restored."
        case .backupUnreadable(.damaged):
            "That backup is damaged (it was changed after it was made); nothing was restored."
        case .backupUnreadable(.outOfMemory):
            "This machine could not give the memory the passphrase's protection needs (256 MiB); close other programs and try again."
        case .cannotOutlive(let id, let expiry):
            "Post \(id.shortHex) is gone from every node at \(expiry), its expiry when it was posted: an edit can take it off the screens earlier, not keep it longer. Post it again to show it after that."
        case .codeNotProven(let key):
            "The node that answered (\(key.shortText)…) does not know this code, so it is not your building's: nothing was sent. Give your building's node with --address host:port."
        case .submissionRefused(let reason, let detail):
            Self.refusalSentence(reason, detail)
        case .notHidden(let id):
            "Post \(id.shortHex) is not hidden by this building."
        case .hiddenByOther(let id, let key):
            "Post \(id.shortHex) was hidden by \(key.shortText)…; only that key can take it back (palier unhide \(id.shortHex) --as <its identity>)."
        case .invalidPaperKey(let error):
            "Those words are not this building's key: \(error); nothing was written."
        case .notTheOwner(let dir, let owner):
            "The node in \(dir) belongs to the user \(owner): run the command with sudo (palier then acts as \(owner))."
        }
    }
}

extension NodeError {
    /// What a resident reads when the building's node refuses their post.
    static func refusalSentence(_ reason: ResidentMessage.Refusal, _ detail: String) -> String {
        switch reason {
        case .notAMember: "Your building's node no longer knows this computer's key (revoked?); ask your building's admin."
        case .notAllowed: "Your role may not post this: \(detail)."
        case .invalidEnvelope: "The building's node refused the post as invalid: \(detail)."
        case .notYourKey: "That post is signed by another key than this computer's."
        case .otherBuilding: "That post is for another building."
        case .rateLimited: "You posted a lot at once: the rest waits in the outbox; send it later with `palier outbox send`."
        case .retryLater: "The building's node could not store the post now; it waits in the outbox (`palier outbox send`)."
        default: "The building's node refused the post: \(detail)."
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
    public static func cannotOutlive(_ id: EnvelopeID, _ expiry: String) -> Self { Self(.cannotOutlive(id, expiry)) }
}
