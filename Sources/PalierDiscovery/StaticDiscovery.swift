/// Peers listed in the configuration (`sync.staticPeers`): reported once, never withdrawn.
public struct StaticDiscovery: Discovery {
    public let addresses: [String]
    private let onInvalid: @Sendable (String) -> Void

    /// `onInvalid` hears each address that is not "host:port".
    public init(addresses: [String], onInvalid: @escaping @Sendable (String) -> Void = { _ in }) {
        self.addresses = addresses
        self.onInvalid = onInvalid
    }

    public func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async {
        for address in addresses {
            guard let endpoint = Endpoint(address) else {
                onInvalid(address)
                continue
            }
            events.yield(.appeared(DiscoveredPeer(id: "static:\(endpoint)", endpoints: [endpoint])))
        }
    }
}
