/// The CRDT's read side: the view is a pure function of (set of envelopes, now, viewer), so any
/// two nodes holding the same set show the same thing whatever order the envelopes came in.
///
/// The rules (docs/protocol.md, "View rules"):
/// 1. Only live envelopes count: `expiresAt > now`.
/// 2. A key's standing in a building is the building's latest live grant for it (by timestamp,
///    then id). The building key itself may post everything.
/// 3. A post is shown while its author's standing permits its kind, and its scope is
///    `neighbourhood` or its building is the viewer.
/// 4. Edits by the post's author with the post's kind: the latest of post and edits (timestamp,
///    then id) gives the content.
/// 5. A retract by the target's author erases the target (a post, an edit or a hide), and a
///    retracted post's edits, provided the retract expires no earlier than what it erases.
/// 6. A hide by building B (its key, or a key B granted `admin`) removes the target if the target
///    belongs to B (everywhere), or if B is the viewer (on B's own screen).
public enum ViewRules {
    public static func view(of envelopes: some Sequence<Envelope>, now: UInt64, viewer: PublicKey) -> BuildingView {
        var posts: [Envelope] = []
        var edits: [EnvelopeID: [Envelope]] = [:]
        var retracts: [EnvelopeID: [Envelope]] = [:]
        var hides: [EnvelopeID: [Envelope]] = [:]
        var grants: [GrantKey: Envelope] = [:]
        var profiles: [PublicKey: Envelope] = [:]

        for envelope in envelopes where envelope.expiresAt > now {
            switch envelope.content.payload {
            case .post:
                posts.append(envelope)
            case .edit:
                edits[envelope.target!, default: []].append(envelope)
            case .retract:
                retracts[envelope.target!, default: []].append(envelope)
            case .hide:
                hides[envelope.target!, default: []].append(envelope)
            case .grant(let grant):
                let key = GrantKey(building: envelope.building, subject: grant.subject)
                if let current = grants[key], !Envelope.precedes(current, envelope) { continue }
                grants[key] = envelope
            case .profile:
                if let current = profiles[envelope.building], !Envelope.precedes(current, envelope) { continue }
                profiles[envelope.building] = envelope
            }
        }

        let standing = Standing(grants: grants)
        var items: [ViewItem] = []
        items.reserveCapacity(posts.count)
        for post in posts {
            guard post.content.scope == .neighbourhood || post.building == viewer else { continue }
            guard let authority = standing.authority(of: post.author, in: post.building, for: post.kind) else { continue }
            if isErased(post, by: retracts[post.id]) { continue }
            let liveHides = hides[post.id]?.filter { !isErased($0, by: retracts[$0.id]) }
            if isHidden(post, by: liveHides, viewer: viewer, standing: standing) { continue }

            var shown = post
            for edit in edits[post.id] ?? [] {
                guard edit.author == post.author, case .edit(let kind, _) = edit.content.payload, kind == post.kind else { continue }
                if isErased(edit, by: retracts[edit.id]) || isErased(edit, by: retracts[post.id]) { continue }
                if Envelope.precedes(shown, edit) { shown = edit }
            }
            // An edit may take the post off the screens early (shows-until): it is gone then.
            let content = shown.content.postContent!
            let until = min(post.expiresAt, content.showsUntil ?? .max)
            guard until > now else { continue }
            let buildingName = profiles[post.building].flatMap { envelope -> String? in
                if case .profile(let p) = envelope.content.payload { return p.name }
                return nil
            }
            items.append(ViewItem(
                id: post.id,
                kind: post.kind,
                scope: post.content.scope,
                building: post.building,
                author: post.author,
                role: authority.role,
                authorName: authority.displayName ?? buildingName ?? "",
                buildingName: buildingName,
                content: content,
                postedAt: post.timestamp,
                revision: shown.id,
                editedAt: shown.id == post.id ? nil : shown.timestamp,
                expiresAt: until,
                grant: authority.grant
            ))
        }
        items.sort { a, b in a.postedAt != b.postedAt ? a.postedAt > b.postedAt : a.id < b.id }

        let memberships = grants.values.compactMap { envelope -> Membership? in
            guard case .grant(let grant) = envelope.content.payload else { return nil }
            return Membership(
                building: envelope.building, subject: grant.subject, role: grant.role, displayName: grant.displayName,
                grantedAt: envelope.timestamp, expiresAt: envelope.expiresAt, grant: envelope.id
            )
        }.sorted { a, b in a.building != b.building ? a.building < b.building : a.subject < b.subject }

        let profileEntries = profiles.values.compactMap { envelope -> ProfileEntry? in
            guard case .profile(let profile) = envelope.content.payload else { return nil }
            return ProfileEntry(building: envelope.building, profile: profile, envelope: envelope.id, updatedAt: envelope.timestamp)
        }.sorted { $0.building < $1.building }

        return BuildingView(items: items, memberships: memberships, profiles: profileEntries)
    }

    /// Whether a retract erases `victim`: same author, and the retract lives at least as long.
    /// Only posts, edits and hides can be erased (a retracted hide shows its post again).
    /// Shared with the store, which erases bodies physically.
    public static func retract(_ retract: EnvelopeContent, erases victim: EnvelopeContent) -> Bool {
        retract.kind == .retract
            && self.retract(by: retract.author, until: retract.expiresAt,
                            erases: victim.kind, by: victim.author, until: victim.expiresAt)
    }

    /// The same rule on the few columns a store keeps for each envelope.
    public static func retract(
        by retractAuthor: PublicKey, until retractExpiry: UInt64,
        erases victimKind: Kind, by victimAuthor: PublicKey, until victimExpiry: UInt64
    ) -> Bool {
        (victimKind.isContent || victimKind == .edit || victimKind == .hide) && retractAuthor == victimAuthor && retractExpiry >= victimExpiry
    }

    private static func isErased(_ victim: Envelope, by retracts: [Envelope]?) -> Bool {
        retracts?.contains { retract($0.content, erases: victim.content) } ?? false
    }

    private static func isHidden(_ post: Envelope, by hides: [Envelope]?, viewer: PublicKey, standing: Standing) -> Bool {
        guard let hides else { return false }
        return hides.contains { hide in
            guard hide.building == post.building || hide.building == viewer else { return false }
            return standing.authority(of: hide.author, in: hide.building, for: .hide) != nil
        }
    }
}

struct GrantKey: Hashable {
    let building: PublicKey
    let subject: PublicKey
}

/// Who may post what, from the current grants.
struct Standing {
    struct Authority {
        let role: Role?
        let displayName: String?
        let grant: EnvelopeID?
    }

    let grants: [GrantKey: Envelope]

    func authority(of author: PublicKey, in building: PublicKey, for kind: Kind) -> Authority? {
        if author == building { return Authority(role: nil, displayName: nil, grant: nil) }
        guard let envelope = grants[GrantKey(building: building, subject: author)],
              case .grant(let grant) = envelope.content.payload,
              let role = grant.role, role.mayPost(kind) else { return nil }
        return Authority(role: role, displayName: grant.displayName, grant: envelope.id)
    }
}

extension ViewRules {
    /// Whether `author` may post `kind` in `building` given the current grants (used by the CLI
    /// to refuse before signing). Returns the role (nil for the building key), or why not.
    public static func permission(
        of author: PublicKey, in building: PublicKey, for kind: Kind, view: BuildingView
    ) -> Result<Role?, PermissionDenied> {
        permission(of: author, in: building, for: kind, membership: view.membership(of: author, in: building))
    }

    /// The same, from the author's current membership in `building` (a store looks it up).
    public static func permission(
        of author: PublicKey, in building: PublicKey, for kind: Kind, membership: Membership?
    ) -> Result<Role?, PermissionDenied> {
        if author == building { return .success(nil) }
        guard let membership, let role = membership.role else {
            return .failure(.notGranted)
        }
        guard role.mayPost(kind) else { return .failure(.roleMayNotPost(role)) }
        return .success(role)
    }

    public enum PermissionDenied: Error, Hashable, Sendable {
        /// No live grant, or the latest grant revokes.
        case notGranted
        case roleMayNotPost(Role)
    }
}
