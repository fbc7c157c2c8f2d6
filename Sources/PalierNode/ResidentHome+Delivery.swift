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
    /// Redeems `code` with this machine's key (made now if there is none) and remembers the
    /// building. Returns the key and the membership.
    /// `discovery`: how to find the building's node on the local network (mDNS) when the
    /// code's addresses do not answer or it has none.
    public func join(_ code: EnrolmentCode, discovery: (any Discovery)? = nil) async throws(NodeError) -> (key: SigningKey, membership: ResidentMembership) {
        let key: SigningKey
        if let existing = try self.key() { key = existing } else { key = try createKey() }
        var addresses = code.addresses
        let connection: ResidentConnection
        do {
            connection = try await open(addresses: addresses, building: code.building, key: key)
        } catch {
            guard let discovery, case .nodeUnreachable = error.code else { throw error }
            addresses = await Self.find(code.building, with: discovery)
            guard !addresses.isEmpty else {
                throw NodeError(.nodeUnreachable(code.addresses + ["the local network (mDNS)"], "no answer, and the building was not found nearby"))
            }
            connection = try await open(addresses: addresses, building: code.building, key: key)
        }
        defer { connection.close() }
        let joined: (role: Role, displayName: String, grant: EnvelopeID)
        do { joined = try await connection.join(code, key: key.publicKey) } catch let error as ResidentClientError {
            throw Self.nodeError(error, joining: true)
        } catch {
            throw NodeError(.nodeUnreachable([], "\(error)"))
        }
        let membership = ResidentMembership(
            building: code.building.text, addresses: addresses, role: joined.role.name, displayName: joined.displayName)
        try save(membership)
        return (key, membership)
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
        do { connection = try await open(addresses: membership.addresses, building: building, key: key) } catch let error as NodeError {
            return waiting.map { .waiting($0, error) }
        } catch {
            return waiting.map { .waiting($0, NodeError(.nodeUnreachable([], "\(error)"))) }
        }
        defer { connection.close() }
        var deliveries: [Delivery] = []
        for (index, envelope) in waiting.enumerated() {
            let answer: ResidentMessage.Answer
            do { answer = try await connection.submit(envelope.bytes) } catch let error as ResidentClientError {
                // Unreachable, rate-limited, revoked: all of it waits, and the reason is said.
                let why = Self.nodeError(error, joining: false)
                deliveries += waiting[index...].map { .waiting($0, why) }
                return deliveries
            } catch {
                deliveries += waiting[index...].map { .waiting($0, NodeError(.nodeUnreachable([], "\(error)"))) }
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
        return deliveries
    }

    /// The residents' channel addresses `building` announces on the local network, looked for
    /// during `within` at most.
    static func find(_ building: PublicKey, with discovery: any Discovery, within: Duration = .seconds(4)) async -> [String] {
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
        for await event in events {
            guard case .appeared(let peer) = event, peer.building == building, let port = peer.residentsPort else { continue }
            return peer.endpoints.map { Endpoint(host: $0.host, port: port).description }
        }
        return []
    }

    private func open(addresses: [String], building: PublicKey, key: SigningKey) async throws(NodeError) -> ResidentConnection {
        do {
            return try await ResidentConnection.open(addresses: addresses, building: building, key: key)
        } catch let error as ResidentClientError {
            throw Self.nodeError(error, joining: false)
        } catch {
            throw NodeError(.nodeUnreachable(addresses, "\(error)"))
        }
    }

    static func nodeError(_ error: ResidentClientError, joining: Bool) -> NodeError {
        switch error {
        case .unreachable(let tried, let last): NodeError(.nodeUnreachable(tried, last))
        case .wrongBuilding(let key): NodeError(.wrongBuilding(key))
        case .refused(let reason, let text): joining ? NodeError(.joinRefused(reason, text)) : NodeError(.submissionRefused(reason, text))
        case .connectionLost: NodeError(.nodeUnreachable([], "the connection was lost"))
        case .unexpectedAnswer: NodeError(.nodeUnreachable([], "the node answered something unexpected"))
        }
    }
}
