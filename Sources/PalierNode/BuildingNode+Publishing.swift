import Foundation
import PalierCore
import PalierImaging
import PalierCrypto
import PalierStore
import PalierFeed

extension BuildingNode {
    /// How long a post lives when no expiry is given.
    public static let defaultPostLifetime: UInt64 = 7 * Limits.millisPerDay

    /// A post's expiry when none is given: an event's end, else 7 days after it starts showing
    /// (now, or its shows-from).
    public static func defaultExpiry(of post: PostContent, now: UInt64) -> UInt64 {
        if let event = post.event, event.endsAt > now { return event.endsAt }
        let (expiry, overflow) = max(now, post.showsFrom ?? now).addingReportingOverflow(defaultPostLifetime)
        return overflow ? .max : expiry
    }
    /// How long a grant lives when no expiry is given.
    public static let defaultGrantLifetime: UInt64 = 365 * Limits.millisPerDay
    /// Profiles are signed for the longest allowed lifetime and renewed by `palier run`.
    static let profileLifetime = Limits.maximumLifetimeMillis

    /// Signs content stamped by the node's clock and ingests it through the store's one ingest
    /// path. Nothing is stored unless the envelope is accepted.
    @discardableResult
    public func publish(signedBy key: SigningKey, _ makeContent: (HybridTimestamp) throws(NodeError) -> EnvelopeContent) throws(NodeError) -> Envelope {
        let now = now()
        let timestamp: HybridTimestamp
        do { timestamp = try store.nextTimestamp(wallMillis: now) } catch { throw .wrap(error) }
        let envelope: Envelope
        do { envelope = try key.sign(try makeContent(timestamp)) } catch let error as EnvelopeError {
            throw NodeError(.invalid(error))
        } catch let error as NodeError {
            throw error
        } catch {
            preconditionFailure("unexpected error \(error)")
        }
        let report: IngestReport
        do { report = try store.ingest([envelope.bytes], now: now) } catch { throw .wrap(error) }
        if let problem = report.problem(at: 0) { throw NodeError(.refused(problem)) }
        RunningNodeSignal.storeChanged(controlSocket: controlSocketPath)
        return envelope
    }

    /// Posts content of a content kind, after checking the author's grant and role.
    @discardableResult
    public func post(
        _ kind: Kind, _ content: PostContent, expiresAt: UInt64? = nil, scope: Scope = .neighbourhood, as author: SigningKey
    ) throws(NodeError) -> Envelope {
        guard kind.isContent else { throw .unknownKind(kind.name) }
        try checkPermission(of: author.publicKey, for: kind)
        let now = now()
        let expiry = expiresAt ?? Self.defaultExpiry(of: content, now: now)
        guard expiry > now else { throw NodeError(.expiryInThePast(TimeSpec.format(expiry))) }
        return try publish(signedBy: author) { timestamp in
            EnvelopeContent(
                kind: kind, scope: scope, building: building, author: author.publicKey,
                timestamp: timestamp, expiresAt: expiry, payload: .post(content)
            )
        }
    }

    /// Makes an image file ready to post and keeps it on this node: decoded, shrunk to the
    /// screen's size, turned upright and re-encoded without metadata (ImageProcessor), within
    /// the node's image budget. The blob is spared for a minute, until the post naming it is
    /// written; a post that is never written leaves it to be collected.
    public func attachImage(file path: String, alt: String) throws(NodeError) -> ImageReference {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw .imageRefused(path, L("it cannot be read", "il est illisible"))
        }
        let prepared: PreparedImage
        do throws(ImageError) {
            prepared = try ImageProcessor.prepare(Array(data))
        } catch {
            throw .imageRefused(path, error.description)
        }
        let id = BlobID(bytes: SodiumCrypto().blake2b256(prepared.bytes))!
        let reference = ImageReference(blob: id, byteCount: UInt32(prepared.bytes.count), type: prepared.type,
                                       width: UInt16(prepared.width), height: UInt16(prepared.height), alt: alt)
        do throws(StoreError) {
            try store.keepBlob(BlobRecord(reference), bytes: prepared.bytes, budget: configuration.blobs.budgetBytes, now: now(), pinned: true)
        } catch {
            throw NodeError.wrap(error)
        }
        return reference
    }

    /// Grants `role` to `subject` (signed by the building key).
    @discardableResult
    public func grant(_ role: Role, to subject: PublicKey, displayName: String, expiresAt: UInt64? = nil) throws(NodeError) -> Envelope {
        let now = now()
        let expiry = expiresAt ?? now + Self.defaultGrantLifetime
        guard expiry > now else { throw NodeError(.expiryInThePast(TimeSpec.format(expiry))) }
        return try publish(signedBy: buildingKey) { timestamp in
            EnvelopeContent(
                kind: .grant, scope: .neighbourhood, building: building, author: building, timestamp: timestamp,
                expiresAt: expiry, payload: .grant(Grant(subject: subject, role: role, displayName: displayName))
            )
        }
    }

    /// Takes back whatever role `subject` holds: a later grant with no role, living as long as
    /// any grant may, so that no earlier grant outlives it.
    @discardableResult
    public func revoke(_ subject: PublicKey) throws(NodeError) -> Envelope {
        let expiry = now() + Limits.maximumGrantLifetimeMillis
        return try publish(signedBy: buildingKey) { timestamp in
            EnvelopeContent(
                kind: .grant, scope: .neighbourhood, building: building, author: building, timestamp: timestamp,
                expiresAt: min(expiry, timestamp.millis + Limits.maximumGrantLifetimeMillis),
                payload: .grant(Grant(subject: subject, role: nil, displayName: ""))
            )
        }
    }

    /// New content for one of the author's posts; unchanged fields keep their current value.
    @discardableResult
    public func edit(
        _ idPrefix: String, as author: SigningKey, change: (inout PostContent, Kind) throws(NodeError) -> Void
    ) throws(NodeError) -> Envelope {
        let target = try ownPost(idPrefix, of: author)
        let item: ViewItem?
        do { item = try store.viewItem(target.id, now: now()) } catch { throw .wrap(error) }
        let shown = item?.content ?? target.content.postContent!
        var content = shown
        try change(&content, target.kind)
        // An envelope goes everywhere at its expiry: an edit can end a post earlier, not later.
        if let until = content.showsUntil, until > target.expiresAt { throw NodeError(.cannotOutlive(target.id, TimeSpec.format(target.expiresAt))) }
        return try publish(signedBy: author) { timestamp in
            EnvelopeContent(
                kind: .edit, scope: target.content.scope, building: target.building, author: author.publicKey,
                timestamp: timestamp, expiresAt: target.expiresAt, target: target.id,
                payload: .edit(kind: target.kind, content: content)
            )
        }
    }

    /// Retracts one of the author's posts (or edits): the body is erased on every node that
    /// receives the retract, and only the id is kept.
    @discardableResult
    public func retract(_ idPrefix: String, as author: SigningKey) throws(NodeError) -> Envelope {
        let target = try envelope(idPrefix)
        guard target.kind.isContent || target.kind == .edit else { throw NodeError(.notAPost(target.id, target.kind)) }
        guard target.author == author.publicKey else { throw NodeError(.notAuthor(target.id)) }
        return try publish(signedBy: author) { timestamp in
            EnvelopeContent(
                kind: .retract, scope: target.content.scope, building: target.building, author: author.publicKey,
                timestamp: timestamp, expiresAt: target.expiresAt, target: target.id, payload: .retract
            )
        }
    }

    /// Hides a post: a post of this building everywhere, any other post on this building's screen.
    @discardableResult
    public func hide(_ idPrefix: String, reason: String, as moderator: SigningKey) throws(NodeError) -> Envelope {
        let target = try envelope(idPrefix)
        guard target.kind.isContent else { throw NodeError(.notAPost(target.id, target.kind)) }
        try checkPermission(of: moderator.publicKey, for: .hide)
        // A hide of another building's post only concerns this screen: it stays here.
        let scope: Scope = target.building == building ? .neighbourhood : .building
        return try publish(signedBy: moderator) { timestamp in
            EnvelopeContent(
                kind: .hide, scope: scope, building: building, author: moderator.publicKey, timestamp: timestamp,
                expiresAt: target.expiresAt, target: target.id, payload: .hide(reason: reason)
            )
        }
    }

    /// Takes back this building's hides of a post (retracts of them, §5.2): it shows again.
    /// Only a hide's author can take it back; `moderator` signs.
    @discardableResult
    public func unhide(_ idPrefix: String, as moderator: SigningKey) throws(NodeError) -> [Envelope] {
        let target = try envelope(idPrefix)
        let hides: [Envelope]
        do { hides = try store.hides(of: target.id, now: now()).filter { $0.building == building } } catch { throw .wrap(error) }
        guard !hides.isEmpty else { throw NodeError(.notHidden(target.id)) }
        let own = hides.filter { $0.author == moderator.publicKey }
        guard !own.isEmpty else { throw NodeError(.hiddenByOther(target.id, hides[0].author)) }
        var retracts: [Envelope] = []
        for hide in own {
            retracts.append(try publish(signedBy: moderator) { timestamp in
                EnvelopeContent(
                    kind: .retract, scope: hide.content.scope, building: building, author: moderator.publicKey, timestamp: timestamp,
                    expiresAt: hide.expiresAt, target: hide.id, payload: .retract
                )
            })
        }
        return retracts
    }

    /// This building's live hides, newest first, with the post each hides (nil: not held).
    public func hidden() throws(NodeError) -> [(hide: Envelope, post: Envelope?)] {
        do {
            var hidden: [(hide: Envelope, post: Envelope?)] = []
            for hide in try store.hides(in: building, now: now()) { hidden.append((hide, try store.envelope(hide.target!))) }
            return hidden
        } catch { throw .wrap(error) }
    }

    /// Signs the configured profile.
    @discardableResult
    func publishProfile() throws(NodeError) -> Envelope {
        try publish(signedBy: buildingKey) { timestamp in
            BuildingNode.profileContent(configuration.profile, key: building, at: timestamp)
        }
    }

    /// Re-signs the profile when it has less than `margin` left or differs from the configuration.
    /// Returns whether it did.
    @discardableResult
    public func renewProfileIfNeeded(margin: UInt64 = 30 * Limits.millisPerDay) throws(NodeError) -> Bool {
        let now = now()
        let current: Envelope?
        do {
            current = try store.latestProfile(of: building, now: now)
        } catch { throw .wrap(error) }
        if let current, current.expiresAt > now + margin, case .profile(let p) = current.content.payload, p == configuration.profile {
            return false
        }
        try publishProfile()
        return true
    }

    static func profileContent(_ profile: BuildingProfile, key: PublicKey, at timestamp: HybridTimestamp) -> EnvelopeContent {
        EnvelopeContent(
            kind: .profile, scope: .neighbourhood, building: key, author: key, timestamp: timestamp,
            expiresAt: timestamp.millis + profileLifetime, payload: .profile(profile)
        )
    }

    func checkPermission(of author: PublicKey, for kind: Kind) throws(NodeError) {
        let membership: Membership?
        do { membership = try store.membership(of: author, in: building, now: now()) } catch { throw .wrap(error) }
        switch ViewRules.permission(of: author, in: building, for: kind, membership: membership) {
        case .success: return
        case .failure(.notGranted): throw NodeError(.notGranted(author))
        case .failure(.roleMayNotPost(let role)): throw NodeError(.roleMayNotPost(role, kind))
        }
    }

    func ownPost(_ idPrefix: String, of author: SigningKey) throws(NodeError) -> Envelope {
        let target = try envelope(idPrefix)
        guard target.kind.isContent else { throw NodeError(.notAPost(target.id, target.kind)) }
        guard target.author == author.publicKey else { throw NodeError(.notAuthor(target.id)) }
        return target
    }
}

extension BuildingNode {
    /// Changes the building's profile and screen panel in config.json: a new name or address is
    /// signed into a new profile (neighbours see it at their next sync), the panel (caretaker,
    /// emergency numbers) is this screen's alone. Returns the node as reopened with the new
    /// configuration, and whether a profile was signed.
    public func settingProfile(name: String? = nil, address: String? = nil, caretaker: String? = nil,
                               emergency: [KioskPanel.Number]? = nil) throws(NodeError) -> (node: BuildingNode, signed: Bool) {
        var changed = configuration
        if let name { changed.buildingName = name.trimmingCharacters(in: .whitespacesAndNewlines) }
        if let address { changed.address = address }
        if caretaker != nil || emergency != nil {
            var panel = changed.feed.panel ?? KioskPanel()
            if let caretaker { panel.caretaker = caretaker.isEmpty ? nil : caretaker }
            if let emergency { panel.emergency = emergency }
            changed.feed.panel = panel.isEmpty ? nil : panel
        }
        if let problem = changed.problem { throw NodeError(.configuration("The building's settings are not valid: \(problem).")) }
        let profileChanged = changed.profile != configuration.profile
        if profileChanged {
            // Checked before anything is written.
            do { try EnvelopeRules.check(Self.profileContent(changed.profile, key: building, at: HybridTimestamp(millis: now()))) } catch {
                throw NodeError(.configuration("The building's profile is not valid: \(error); nothing was changed."))
            }
        }
        try changed.write(to: directory.configurationFile)
        let reopened = BuildingNode(directory: directory, configuration: changed, buildingKey: buildingKey, store: store, clock: clock)
        if profileChanged { try reopened.publishProfile() }
        return (reopened, profileChanged)
    }
}
