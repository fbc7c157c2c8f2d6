import PalierCore
import PalierImaging
import PalierCrypto
import PalierStore
import PalierSync

extension BuildingNode {
    /// How long an enrolment code stays valid when no validity is given.
    public static let defaultEnrolmentValidity: UInt64 = 2 * Limits.millisPerDay

    /// Makes a one-time enrolment code: whoever redeems it with `palier join` gets `role` under
    /// `displayName`, for their own key. `addresses`: where residents reach this node.
    public func enrol(_ role: Role, displayName: String, validFor: UInt64 = defaultEnrolmentValidity, addresses: [String]) throws(NodeError) -> (code: EnrolmentCode, enrolment: Enrolment) {
        let name = displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, name.unicodeScalars.count <= Limits.maximumDisplayNameScalars else {
            throw NodeError(.invalid(.tooLong("display name", length: name.unicodeScalars.count, limit: Limits.maximumDisplayNameScalars, unit: "characters")))
        }
        guard validFor > 0, validFor <= Limits.maximumLifetimeMillis else { throw NodeError(.expiryInThePast(TimeSpec.format(now()))) }
        // The short form names the code by its id's first two bytes: unique among open codes.
        let taken: Set<UInt16>
        do { taken = Set(try store.openEnrolments(now: now()).map { Enrolment.shortID(of: $0.id) }) } catch { throw .wrap(error) }
        var id = SodiumCrypto.randomBytes(ResidentMessage.codeIDLength)
        while taken.contains(Enrolment.shortID(of: id)) { id = SodiumCrypto.randomBytes(ResidentMessage.codeIDLength) }
        let secret = SodiumCrypto.randomBytes(EnrolmentCode.secretLength)
        let enrolment = Enrolment(id: id, secret: secret, role: role, displayName: name, expiresAt: now() + validFor)
        do { try store.addEnrolment(enrolment) } catch { throw .wrap(error) }
        return (EnrolmentCode(building: building, id: id, secret: secret, addresses: addresses), enrolment)
    }
}

extension Enrolment {
    /// The id of the code's short form: its id's first two bytes, big-endian.
    static func shortID(of id: [UInt8]) -> UInt16 { UInt16(id[0]) << 8 | UInt16(id[1]) }

    /// The code's short form, to type (docs/protocol.md §15.8): its short id, and 36 bits of
    /// secret taken from HMAC-SHA-256(secret, "palier-short-code-v1"), so that one enrolment
    /// has one short form and knowing it tells nothing of the long form's secret.
    public var shortCode: ShortEnrolmentCode {
        let derived = NoiseHMAC.sha256(key: secret, Array("palier-short-code-v1".utf8))
        let top = derived.prefix(5).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
        return ShortEnrolmentCode(shortID: Self.shortID(of: id), secret: top >> 4)
    }
}

extension BuildingNode {
    /// Whether a resident's post from `author` waits for an admin (`residents.moderation`).
    func mustHold(from author: PublicKey) throws(StoreError) -> Bool {
        switch configuration.residents.moderation {
        case .none: false
        case .all: true
        case .newMembers: try store.postCount(by: author, in: building) < ResidentsConfiguration.Moderation.newMemberPosts
        }
    }

    /// Posts waiting for moderation.
    public func pending() throws(NodeError) -> [PendingPost] {
        do { return try store.pendingPosts(now: now()) } catch { throw .wrap(error) }
    }

    /// Approves a held post: the resident's envelope goes in unchanged, shows and is relayed.
    @discardableResult
    public func approve(_ prefix: String) throws(NodeError) -> Envelope {
        let id = try resolvePending(prefix)
        let held: PendingPost?
        do { held = try store.pendingPosts(now: now()).first { $0.envelope.id == id } } catch { throw .wrap(error) }
        guard let envelope = held?.envelope else { throw NodeError(.unknownEnvelope(prefix)) }
        // Stored first, then taken off the list: a failure in between leaves it waiting, never lost.
        let report: IngestReport
        do { report = try store.ingest([envelope.bytes], now: now()) } catch { throw .wrap(error) }
        if let problem = report.problem(at: 0) { throw NodeError(.refused(problem)) }
        do { _ = try store.takePending(id) } catch { throw .wrap(error) }
        RunningNodeSignal.storeChanged(controlSocket: controlSocketPath)
        return envelope
    }

    /// Rejects a held post: it is deleted, never shown or relayed.
    @discardableResult
    public func reject(_ prefix: String) throws(NodeError) -> Envelope {
        let id = try resolvePending(prefix)
        let envelope: Envelope?
        do { envelope = try store.takePending(id) } catch { throw .wrap(error) }
        guard let envelope else { throw NodeError(.unknownEnvelope(prefix)) }
        // Its images go with it.
        do { try store.collectBlobs(now: now()) } catch { throw .wrap(error) }
        return envelope
    }

    /// Keeps the images a resident sent with `content` (§15.5): each image the post names is
    /// held already, or came whole in `images`, hashes to its id and is the image described;
    /// kept within the budget, spared until the post is written. Nil when all are here; else
    /// why not, in a sentence for the resident.
    func keepResidentImages(of content: EnvelopeContent, images: [BlobID: [UInt8]]) -> String? {
        guard let post = content.postContent else { return nil }
        for image in post.images {
            do {
                if try store.heldBlob(image.blob) != nil { continue }
            } catch {
                return L("the node cannot read its images just now (\(error))", "le nœud ne peut pas lire ses images pour l'instant (\(error))")
            }
            guard let bytes = images[image.blob], bytes.count == Int(image.byteCount) else {
                return L("the image “\(image.alt)” did not arrive whole", "l'image « \(image.alt) » n'est pas arrivée entière")
            }
            guard SodiumCrypto().blake2b256(bytes) == image.blob.bytes else {
                return L("the bytes of the image “\(image.alt)” are not the ones the post names", "les octets de l'image « \(image.alt) » ne sont pas ceux que nomme la publication")
            }
            if let problem = ImageProcessor.check(bytes, against: image) { return problem }
            do {
                try store.keepBlob(BlobRecord(image), bytes: bytes, budget: configuration.blobs.budgetBytes, now: now(), pinned: true)
            } catch {
                return error.description
            }
        }
        return nil
    }

    func resolvePending(_ prefix: String) throws(NodeError) -> EnvelopeID {
        let ids: [EnvelopeID]
        do { ids = try store.pendingIDs(matchingHexPrefix: prefix) } catch { throw .wrap(error) }
        guard let id = ids.first else { throw NodeError(.unknownEnvelope(prefix)) }
        guard ids.count == 1 else { throw NodeError(.ambiguousEnvelope(prefix, ids.count)) }
        return id
    }
}

/// The building's answers on the residents' channel: membership by one lookup, enrolment codes
/// from the store, residents' envelopes through the one ingest path.
public struct BuildingResidentDesk: ResidentDesk {
    let node: BuildingNode

    public init(node: BuildingNode) { self.node = node }

    public func role(of key: PublicKey) async throws -> Role? {
        guard key != node.building else { return nil }
        return try node.store.membership(of: key, in: node.building, now: node.now())?.role
    }

    public func join(code: [UInt8], proof: [UInt8], handshakeHash: [UInt8], key: PublicKey) async -> ResidentJoinOutcome {
        let now = node.now()
        let enrolment: Enrolment?
        do { enrolment = try node.store.enrolment(id: code) } catch {
            return .refused(.retryLater, "the node could not read its codes (\(error))")
        }
        guard let enrolment, enrolment.isRedeemable(now: now) else {
            return .refused(.codeNotValid, "this code is unknown, expired, already used or burnt")
        }
        let expected = NoiseHMAC.sha256(key: enrolment.secret, ResidentProtocol.joinMessage(handshakeHash: handshakeHash, resident: key))
        guard NoiseHMAC.equal(expected, proof) else {
            // A try that cannot be counted is not answered as one: the resident tries later.
            do {
                let left = try node.store.recordWrongSecret(id: code)
                return .refused(.wrongSecret, "\(left)")
            } catch {
                return .refused(.retryLater, "the node could not count the try (\(error))")
            }
        }
        return await redeem(code: code, key: key, spentTry: false)
    }

    public func openShortCode(_ shortID: UInt16) async -> ShortCodeOpening {
        let now = node.now()
        let enrolment: Enrolment?
        do { enrolment = try node.store.openEnrolments(now: now).first { Enrolment.shortID(of: $0.id) == shortID } } catch {
            return .refused(.retryLater, "the node could not read its codes (\(error))")
        }
        guard let enrolment else { return .refused(.codeNotValid, "this code is unknown, expired, already used or burnt") }
        // Every run of the PAKE is a guess: the try is spent before it starts.
        let left: Int?
        do { left = try node.store.spendTry(id: enrolment.id, now: now) } catch {
            return .refused(.retryLater, "the node could not count the try (\(error))")
        }
        guard let left else { return .refused(.codeNotValid, "this code was used a moment ago") }
        return .open(code: enrolment.id, password: enrolment.shortCode.password, triesLeft: left)
    }

    public func redeem(code: [UInt8], key: PublicKey, spentTry: Bool) async -> ResidentJoinOutcome {
        let now = node.now()
        let enrolment: Enrolment
        do {
            guard let found = try node.store.enrolment(id: code),
                  try node.store.claimEnrolment(id: code, by: key, now: now, spentTry: spentTry) else {
                return .refused(.codeNotValid, "this code was used a moment ago")
            }
            enrolment = found
        } catch {
            return .refused(.retryLater, "the node could not record the code (\(error))")
        }
        do {
            let grant = try node.grant(enrolment.role, to: key, displayName: enrolment.displayName)
            return .joined(role: enrolment.role, displayName: enrolment.displayName, grant: grant.id)
        } catch {
            do { try node.store.releaseEnrolment(id: code) } catch let release {
                return .refused(.codeNotValid, "the node could not store the grant (\(error)) nor free the code again (\(release))")
            }
            return .refused(.retryLater, "the node could not store the grant (\(error))")
        }
    }

    public func submit(_ bytes: [UInt8], from key: PublicKey, images: [BlobID: [UInt8]]) async -> ResidentMessage.Answer {
        let now = node.now()
        let envelope: UnverifiedEnvelope
        do { envelope = try node.store.validator.decode(bytes) } catch {
            return ResidentMessage.Answer(id: EnvelopeID(bytes: SodiumCrypto().blake2b256(bytes))!, outcome: .refused,
                                          reason: .invalidEnvelope, detail: "\(error)")
        }
        func refused(_ reason: ResidentMessage.Refusal, _ detail: String) -> ResidentMessage.Answer {
            ResidentMessage.Answer(id: envelope.id, outcome: .refused, reason: reason, detail: detail)
        }
        let content = envelope.content
        guard content.author == key else { return refused(.notYourKey, "signed by another key") }
        guard content.building == node.building else { return refused(.otherBuilding, "for another building") }
        let membership: Membership?
        do { membership = try node.store.membership(of: key, in: node.building, now: now) } catch {
            return refused(.retryLater, "the node cannot read its members just now (\(error))")
        }
        if content.kind.isContent || content.kind == .hide {
            if case .failure(let why) = ViewRules.permission(of: key, in: node.building, for: content.kind, membership: membership) {
                return refused(.notAllowed, "\(why)")
            }
        } else if content.kind != .edit && content.kind != .retract {
            // Grants and profiles are the building key's.
            return refused(.notAllowed, "a resident does not send \(content.kind.name)")
        }
        if let problem = node.keepResidentImages(of: content, images: images) { return refused(.image, problem) }
        let hold: Bool
        do { hold = try (content.kind.isContent || content.kind == .edit) && node.mustHold(from: key) } catch {
            return refused(.retryLater, "the node cannot read its posts just now (\(error))")
        }
        if hold {
            // Checked like any envelope (signature, rules, admission), then kept aside.
            let verified: Envelope
            do {
                try EnvelopeValidator.admit(content, now: now, localBuilding: node.building)
                verified = try node.store.validator.verify(envelope)
            } catch {
                return refused(.invalidEnvelope, "\(error)")
            }
            do {
                if try node.store.envelope(verified.id) != nil { return ResidentMessage.Answer(id: envelope.id, outcome: .alreadyStored) }
            } catch {
                return refused(.retryLater, "the node cannot read its posts just now (\(error))")
            }
            do { try node.store.hold(verified, now: now) } catch { return refused(.retryLater, "\(error)") }
            return ResidentMessage.Answer(id: envelope.id, outcome: .held)
        }
        let report: IngestReport
        do { report = try node.store.ingest(decoded: [.success(envelope)], now: now) } catch {
            return refused(.retryLater, "\(error)")
        }
        if let problem = report.problem(at: 0) { return refused(.invalidEnvelope, "\(problem)") }
        if report.accepted.contains(envelope.id) || report.erasedOnArrival.contains(envelope.id) {
            return ResidentMessage.Answer(id: envelope.id, outcome: .accepted)
        }
        return ResidentMessage.Answer(id: envelope.id, outcome: .alreadyStored)
    }
}
