import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierSync

/// What became of one envelope from a resident's outbox.
public enum Delivery: Sendable {
    case accepted(Envelope)
    /// The node already had it (an earlier send whose answer was lost).
    case alreadyStored(Envelope)
    case held(Envelope)
    /// Refused for good: it left the outbox.
    case refused(Envelope, NodeError)
    /// Still in the outbox: the node could not be reached, or asked to send it later.
    case waiting(Envelope, NodeError)

    public var envelope: Envelope {
        switch self {
        case .accepted(let e), .alreadyStored(let e), .held(let e), .refused(let e, _), .waiting(let e, _): e
        }
    }
}

extension ResidentHome {
    /// How a search over mDNS is named among the addresses tried.
    public static let nearby = "the local network (mDNS)"

    /// Redeems `code` with this machine's key (made now if there is none) and remembers the
    /// building. Returns the key and the membership.
    /// `addresses`: where to reach the node before the code's own; `discovery`: how to find the
    /// building's node on the local network (mDNS) when none of them answers.
    public func join(_ code: EnrolmentCode, addresses extra: [String] = [], discovery: (any Discovery)? = nil) async throws(NodeError) -> (key: SigningKey, membership: ResidentMembership) {
        let key = try keyForJoining()
        var addresses = extra + code.addresses
        let connection: ResidentConnection
        do {
            connection = try await open(addresses: addresses, building: code.building, key: key)
        } catch {
            guard let discovery, case .nodeUnreachable = error.code else { throw error }
            addresses = await Self.find(code.building, with: discovery)
            guard !addresses.isEmpty else {
                throw NodeError(.nodeUnreachable(extra + code.addresses + [Self.nearby], "no answer, and the building was not found nearby"))
            }
            connection = try await open(addresses: addresses, building: code.building, key: key)
        }
        defer { connection.close() }
        let joined: (role: Role, displayName: String, grant: EnvelopeID)
        do { joined = try await connection.join(code, key: key.publicKey) } catch {
            throw Self.nodeError(error, joining: true)
        }
        return (key, try remember(joined, building: code.building, addresses: addresses))
    }

    /// Redeems a short code (docs/protocol.md §15.8) with this machine's key: at `addresses`
    /// when given, else at each building that announces its residents' channel nearby (mDNS),
    /// as they appear during `within`, until one knows the code. The building is the one whose
    /// node proved it knows the code.
    public func join(_ code: ShortEnrolmentCode, addresses: [String], discovery: (any Discovery)?, within: Duration = .seconds(6)) async throws(NodeError) -> (key: SigningKey, membership: ResidentMembership) {
        let key = try keyForJoining()
        guard addresses.isEmpty, let discovery else {
            return (key, try await redeem(code, at: addresses, key: key))
        }
        var last: NodeError?
        let joined = try await Self.browseResidentsChannels(with: discovery, within: within) { _, candidates throws(NodeError) -> ResidentMembership? in
            do throws(NodeError) {
                return try await redeem(code, at: candidates, key: key)
            } catch {
                // Another building does not know the code, or one did not answer: ask the next.
                switch error.code {
                case .joinRefused(.codeNotValid, _), .nodeUnreachable:
                    last = error
                    return nil
                default: throw error
                }
            }
        }
        if let joined { return (key, joined) }
        throw last ?? NodeError(.nodeUnreachable([Self.nearby], "no building's node was found nearby"))
    }

    private func redeem(_ code: ShortEnrolmentCode, at addresses: [String], key: SigningKey) async throws(NodeError) -> ResidentMembership {
        let connection = try await open(addresses: addresses, building: nil, key: key)
        defer { connection.close() }
        let joined: (role: Role, displayName: String, grant: EnvelopeID)
        do { joined = try await connection.join(code) } catch {
            if case .codeNotProven = error { throw NodeError(.codeNotProven(connection.node)) }
            throw Self.nodeError(error, joining: true)
        }
        return try remember(joined, building: connection.node, addresses: addresses)
    }

    private func keyForJoining() throws(NodeError) -> SigningKey {
        if let existing = try key() { return existing }
        return try createKey()
    }

    private func remember(_ joined: (role: Role, displayName: String, grant: EnvelopeID), building: PublicKey, addresses: [String]) throws(NodeError) -> ResidentMembership {
        let membership = ResidentMembership(building: building.text, addresses: addresses, role: joined.role.name, displayName: joined.displayName)
        try save(membership)
        return membership
    }

    /// This machine's key and building, or why it cannot post yet.
    public func member() throws(NodeError) -> (key: SigningKey, membership: ResidentMembership, building: PublicKey) {
        guard let key = try key(), let membership = try membership(), let building = membership.buildingKey else { throw NodeError(.notJoined) }
        return (key, membership, building)
    }

    /// Signs content stamped by this machine's clock with the resident's key, and puts it in
    /// the outbox (delivered by ``flush()``).
    public func sign(wallMillis: UInt64, _ makeContent: (HybridTimestamp, _ building: PublicKey, _ author: PublicKey) -> EnvelopeContent) throws(NodeError) -> Envelope {
        let (key, _, building) = try member()
        let timestamp = try nextTimestamp(wallMillis: wallMillis)
        let envelope: Envelope
        do { envelope = try key.sign(makeContent(timestamp, building, key.publicKey)) } catch {
            throw NodeError(.invalid(error))
        }
        try enqueue(envelope)
        return envelope
    }

    /// Sends every envelope of the outbox, oldest first, over one session. Those the node
    /// took leave it; those refused for good too (with the reason); the others wait for the
    /// next command (the node unreachable, full, or asking to slow down).
    public func flush() async throws(NodeError) -> [Delivery] {
        let waiting = try waiting()
        guard !waiting.isEmpty else { return [] }
        let (key, membership, building) = try member()
        let connection: ResidentConnection
        do { connection = try await open(addresses: membership.addresses, building: building, key: key) } catch {
            return waiting.map { .waiting($0, error) }
        }
        defer { connection.close() }
        var deliveries: [Delivery] = []
        for (index, envelope) in waiting.enumerated() {
            let answer: ResidentMessage.Answer
            do { answer = try await connection.submit(envelope.bytes, images: outboxImages(of: envelope)) } catch {
                // Unreachable, rate-limited, revoked: all of it waits, and the reason is said.
                let why = Self.nodeError(error, joining: false)
                deliveries += waiting[index...].map { .waiting($0, why) }
                return deliveries
            }
            switch answer.outcome {
            case .accepted:
                try delivered(envelope)
                deliveries.append(.accepted(envelope))
            case .alreadyStored:
                try delivered(envelope)
                deliveries.append(.alreadyStored(envelope))
            case .held:
                try delivered(envelope)
                deliveries.append(.held(envelope))
            case .refused where answer.reason == .retryLater:
                deliveries.append(.waiting(envelope, NodeError(.submissionRefused(answer.reason, answer.detail))))
            case .refused:
                try discard(envelope)
                deliveries.append(.refused(envelope, NodeError(.submissionRefused(answer.reason, answer.detail))))
            }
        }
        try dropDeliveredImages()
        return deliveries
    }

    /// The residents' channel addresses `building` announces on the local network, looked for
    /// during `within` at most.
    static func find(_ building: PublicKey, with discovery: any Discovery, within: Duration = .seconds(4)) async -> [String] {
        let found = try? await browseResidentsChannels(with: discovery, within: within) { announced, addresses throws(NodeError) in
            announced == building ? addresses : nil
        }
        return found ?? []
    }

    /// Browses the local network during `within` and shows `visit` each building that
    /// announces a residents' channel, once, with its `host:port` addresses, as they appear,
    /// until `visit` returns a result.
    static func browseResidentsChannels<T>(
        with discovery: any Discovery, within: Duration,
        _ visit: (_ building: PublicKey, _ addresses: [String]) async throws(NodeError) -> T?
    ) async throws(NodeError) -> T? {
        let (events, continuation) = AsyncStream<DiscoveryEvent>.makeStream()
        let browsing = Task { await discovery.run(port: nil, events: continuation) }
        let deadline = Task {
            try? await Task.sleep(for: within)
            continuation.finish()
        }
        defer {
            browsing.cancel()
            deadline.cancel()
        }
        var seen: Set<PublicKey> = []
        for await event in events {
            guard case .appeared(let peer) = event, let port = peer.residentsPort, let building = peer.building,
                  seen.insert(building).inserted else { continue }
            if let result = try await visit(building, peer.endpoints.map { Endpoint(host: $0.host, port: port).description }) { return result }
        }
        return nil
    }

    private func open(addresses: [String], building: PublicKey?, key: SigningKey) async throws(NodeError) -> ResidentConnection {
        do {
            return try await ResidentConnection.open(addresses: addresses, building: building, key: key)
        } catch {
            throw Self.nodeError(error, joining: false)
        }
    }

    static func nodeError(_ error: ResidentClientError, joining: Bool) -> NodeError {
        switch error {
        case .unreachable(let tried, let last): NodeError(.nodeUnreachable(tried, last))
        case .wrongBuilding(let key): NodeError(.wrongBuilding(key))
        case .codeNotProven: NodeError(.nodeUnreachable([], "the node that answered does not know this code"))
        case .refused(let reason, let text): joining ? NodeError(.joinRefused(reason, text)) : NodeError(.submissionRefused(reason, text))
        case .connectionLost: NodeError(.nodeUnreachable([], "the connection was lost"))
        case .unexpectedAnswer: NodeError(.nodeUnreachable([], "the node answered something unexpected"))
        }
    }
}
