import PalierCore

/// One resolved mDNS service instance: a name seen on one interface with one address family.
public struct ServiceInstance: Hashable, Sendable, CustomStringConvertible {
    public var name: String
    /// The interface and address family it was seen on, e.g. "v1/IPv4".
    public var interface: String
    public var domain: String

    public init(name: String, interface: String, domain: String = "local") {
        self.name = name
        self.interface = interface
        self.domain = domain
    }

    public var description: String { "“\(name)” on \(interface)" }
}

/// The neighbours mDNS shows, as a pure state machine: resolved services in, peer events out.
/// Filters out this node itself, other networks and records it cannot read; merges the
/// instances of one building (several interfaces, IPv4 and IPv6) into one peer.
public struct PeerDirectory: Sendable {
    /// Why a resolved service is not a peer.
    public enum Ignored: Hashable, Sendable, CustomStringConvertible {
        case ownService
        case otherNetwork(String)
        case malformed(DiscoveryRecordError)

        public var description: String {
            switch self {
            case .ownService: "it is this node"
            case .otherNetwork(let id): "it belongs to another network (\(id))"
            case .malformed(let error): "\(error)"
            }
        }
    }

    public struct Outcome: Hashable, Sendable {
        public var events: [DiscoveryEvent] = []
        /// Set when the service was ignored.
        public var ignored: Ignored?

        public init(events: [DiscoveryEvent] = [], ignored: Ignored? = nil) {
            self.events = events
            self.ignored = ignored
        }
    }

    private let own: PublicKey
    private let ownRun: String?
    private let networkID: String
    private var instances: [ServiceInstance: (record: DiscoveryRecord, endpoint: Endpoint)] = [:]
    private var known: [PublicKey: DiscoveredPeer] = [:]

    /// `networkID` empty: every network's services (a resident's machine looking for its
    /// building, which knows no network).
    /// `ownRun`: this run's id (``DiscoveryRecord/runID``). A service with this node's key and
    /// another run id is another node under the same key: it is a peer, so that sync meets it
    /// and both admins are warned (docs/protocol.md §13).
    public init(own: PublicKey, networkID: String, ownRun: String? = nil) {
        self.own = own
        self.ownRun = ownRun
        self.networkID = networkID
    }

    /// The peers known now.
    public var peers: [DiscoveredPeer] { known.values.sorted { $0.id < $1.id } }

    public static func peerID(_ building: PublicKey) -> String { "pk:\(building.text)" }

    /// A service was resolved (or resolved again with new data).
    public mutating func resolved(_ instance: ServiceInstance, txt: [[UInt8]], endpoint: Endpoint) -> Outcome {
        var outcome = Outcome()
        let previous = instances[instance]?.record.building
        var accepted: DiscoveryRecord?
        do {
            let record = try DiscoveryRecord(txt: txt)
            if record.building == own && (ownRun == nil || record.runID == nil || record.runID == ownRun) {
                outcome.ignored = .ownService
            } else if !networkID.isEmpty && record.networkID != networkID {
                outcome.ignored = .otherNetwork(record.networkID)
            } else {
                accepted = record
            }
        } catch {
            outcome.ignored = .malformed(error)
        }
        instances[instance] = accepted.map { ($0, endpoint) }
        // A record that changed building updates both the old and the new one.
        var touched: [PublicKey] = []
        if let previous { touched.append(previous) }
        if let accepted, accepted.building != previous { touched.append(accepted.building) }
        for building in touched { outcome.events += update(building) }
        return outcome
    }

    /// A service instance went away.
    public mutating func removed(_ instance: ServiceInstance) -> [DiscoveryEvent] {
        guard let gone = instances.removeValue(forKey: instance) else { return [] }
        return update(gone.record.building)
    }

    /// Everything went away (the daemon was lost).
    public mutating func removeAll() -> [DiscoveryEvent] {
        instances = [:]
        let events = known.keys.sorted().map { DiscoveryEvent.disappeared(id: Self.peerID($0)) }
        known = [:]
        return events
    }

    /// Recomputes one building's peer from its instances and says what changed.
    private mutating func update(_ building: PublicKey) -> [DiscoveryEvent] {
        let mine = instances.filter { $0.value.record.building == building }
        let before = known[building]
        guard !mine.isEmpty else {
            known[building] = nil
            return before == nil ? [] : [.disappeared(id: Self.peerID(building))]
        }
        // IPv4 first, then global IPv6, then link-local; the newest name.
        let endpoints = Set(mine.values.map(\.endpoint)).sorted { a, b in
            let rank = { (e: Endpoint) in e.host.contains("%") ? 2 : e.host.contains(":") ? 1 : 0 }
            return (rank(a), a.host, a.port) < (rank(b), b.host, b.port)
        }
        let first = mine.sorted { $0.key.description < $1.key.description }.first?.value.record
        let peer = DiscoveredPeer(id: Self.peerID(building), building: building, name: first?.name, endpoints: endpoints,
                                  residentsPort: first?.residentsPort)
        known[building] = peer
        if before == nil { return [.appeared(peer)] }
        return before == peer ? [] : [.changed(peer)]
    }
}
