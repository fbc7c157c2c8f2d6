/// Peers listed in the configuration (`sync.staticPeers`): reported once, never withdrawn.
public struct StaticDiscovery: Discovery {
    public let addresses: [String]
    private let onInvalid: @Sendable (String) -> Void

    /// `onInvalid` hears each address that is not "host:port".
    public init(addresses: [String], onInvalid: @escaping @Sendable (String) -> Void = { _ in }) {
        self.addresses = addresses
        self.onInvalid = onInvalid
    }

    /// The peers the addresses name; invalid ones are left out.
    public var peers: [DiscoveredPeer] {
        addresses.compactMap { address in
            Endpoint(address).map { DiscoveredPeer(id: "static:\($0)", endpoints: [$0]) }
        }
    }

    public func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async {
        for address in addresses where Endpoint(address) == nil { onInvalid(address) }
        for peer in peers { events.yield(.appeared(peer)) }
    }
}
