import PalierCore

/// Finds neighbouring nodes, and (for mDNS) tells the local network about this one.
///
/// The sync service runs each discovery once its listener is bound, and dials the peers it
/// reports. Implementations: ``AvahiDiscovery`` (the system's avahi-daemon), ``StaticDiscovery``
/// (addresses from the configuration), ``InMemoryDiscovery`` (tests).
public protocol Discovery: Sendable {
    /// Publishes this node on `port` (nil: nothing to publish, only look) and reports
    /// neighbours to `events` until the calling task is cancelled. Never throws: a discovery
    /// that cannot work says why in its status and keeps trying.
    func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async
}

/// A TCP address of a neighbour's sync port.
public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
    /// An IP address or a host name; IPv6 link-local addresses carry their zone (`fe80::1%eth0`).
    public var host: String
    public var port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Reads "host:port" or "[v6-address]:port".
    public init?(_ text: String) {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
              (1...65535).contains(port) else { return nil }
        var host = Substring(text[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A neighbour a discovery knows of.
public struct DiscoveredPeer: Hashable, Sendable {
    /// Stable while the peer is known: `pk:<building key>` for mDNS, `static:<host:port>` for a
    /// configured address.
    public var id: String
    /// The building key it announced; nil for a static peer (learned at the handshake).
    public var building: PublicKey?
    /// The building name it announced.
    public var name: String?
    /// Where to dial it, best first.
    public var endpoints: [Endpoint]
    /// The port of its residents' channel on the same hosts, when it announced one.
    public var residentsPort: Int?

    public init(id: String, building: PublicKey? = nil, name: String? = nil, endpoints: [Endpoint], residentsPort: Int? = nil) {
        self.id = id
        self.building = building
        self.name = name
        self.endpoints = endpoints
        self.residentsPort = residentsPort
    }
}

/// What a discovery reports.
public enum DiscoveryEvent: Hashable, Sendable {
    case appeared(DiscoveredPeer)
    /// New addresses or a new name.
    case changed(DiscoveredPeer)
    case disappeared(id: String)
}

/// Where local discovery stands, for `palier status` and the log.
public enum DiscoveryStatus: Hashable, Sendable {
    case starting
    /// Published under `name` (which may be an alternative after a name collision) and browsing.
    case published(name: String, port: Int)
    /// Browsing only: the node has no listener to publish.
    case browsing
    /// Not working now, for `reason` (no D-Bus, no avahi-daemon, …); retried.
    case unavailable(reason: String)

    /// One plain sentence.
    public var sentence: String {
        switch self {
        case .starting:
            L("Local discovery is starting.", "La découverte locale démarre.")
        case .published(let name, let port):
            L("Local discovery is on: this node is published as “\(name)” (\(DiscoveryRecord.serviceType), port \(port)) and looks for neighbours.", "La découverte locale est active : ce nœud est annoncé comme « \(name) » (\(DiscoveryRecord.serviceType), port \(port)) et cherche ses voisins.")
        case .browsing:
            L("Local discovery is on, looking for neighbours; this node is not published because sync could not listen.", "La découverte locale est active et cherche les voisins ; ce nœud n'est pas annoncé, car la synchronisation n'a pas pu écouter.")
        case .unavailable(let reason):
            L("Local discovery is off because \(reason); static peers still work, and palier keeps trying.", "La découverte locale est inactive, car \(reason) ; les voisins fixes fonctionnent toujours, et palier continue d'essayer.")
        }
    }
}
