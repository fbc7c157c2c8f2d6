#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore
import NIOPosix
import PalierDiscovery
import Synchronization

/// Nodes of one process joined without a network: each node listens under a name, and a dial
/// to `<name>.memory:1` gets one end of a Unix socket pair whose other end the named node
/// accepts. The bytes and the pipeline are those of TCP; only the network is missing. Tests
/// can cut a node's streams and make it unreachable.
public final class InMemoryNetwork: Sendable {
    private struct Node {
        var accept: (@Sendable (any Channel, String) -> EventLoopFuture<Void>)?
        var reachable = true
        var channels: [ObjectIdentifier: any Channel] = [:]
    }
    private let nodes = Mutex<[String: Node]>([:])

    public init() {}

    /// The transport of the node called `name`.
    public func transport(_ name: String) -> InMemoryTransport { InMemoryTransport(network: self, address: name) }

    /// The endpoint at which `name` is dialled.
    public static func endpoint(_ name: String) -> Endpoint { Endpoint(host: name + InMemoryTransport.domain, port: 1) }

    /// Closes every stream of `name` (both ends go inactive, as when a cable is pulled).
    public func cut(_ name: String) {
        let channels = nodes.withLock { Array(($0[name]?.channels ?? [:]).values) }
        for channel in channels { channel.close(promise: nil) }
    }

    /// An unreachable node's dials fail and dials to it fail, until it is reachable again.
    public func setReachable(_ name: String, _ reachable: Bool) {
        nodes.withLock { $0[name, default: Node()].reachable = reachable }
    }

    func listen(_ name: String, accept: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Void>) throws -> SyncListener {
        try nodes.withLock { nodes throws(InMemoryTransportError) in
            guard nodes[name]?.accept == nil else { throw InMemoryTransportError(text: "\(name) already listens") }
            nodes[name, default: Node()].accept = accept
        }
        return SyncListener(port: nil, description: name + InMemoryTransport.domain) { [self] in
            nodes.withLock { $0[name]?.accept = nil }
        }
    }

    func connect(from caller: String, to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel {
        let name = String(endpoint.host.dropLast(InMemoryTransport.domain.count))
        let accept = try nodes.withLock { nodes throws(InMemoryTransportError) in
            guard nodes[caller]?.reachable ?? true else { throw InMemoryTransportError(text: "\(caller) is cut off") }
            guard let target = nodes[name], target.reachable, let accept = target.accept else {
                throw InMemoryTransportError(text: "nobody listens at \(endpoint)")
            }
            return accept
        }
        var descriptors: [CInt] = [-1, -1]
        #if canImport(Glibc)
        let kind = CInt(SOCK_STREAM.rawValue) | CInt(SOCK_CLOEXEC.rawValue)
        #else
        let kind = SOCK_STREAM
        #endif
        guard socketpair(AF_UNIX, kind, 0, &descriptors) == 0 else {
            throw InMemoryTransportError(text: "socketpair failed (errno \(errno))")
        }
        let group = MultiThreadedEventLoopGroup.singleton
        let accepted: any Channel
        do {
            accepted = try await NIOPipeBootstrap(group: group)
                .channelInitializer { channel in accept(channel, caller + InMemoryTransport.domain) }
                .takingOwnershipOfDescriptor(inputOutput: descriptors[1]).get()
        } catch {
            close(descriptors[0])
            throw error
        }
        let dialled = try await NIOPipeBootstrap(group: group)
            .channelInitializer(initialize)
            .takingOwnershipOfDescriptor(inputOutput: descriptors[0]).get()
        track(accepted, of: name)
        track(dialled, of: caller)
        return dialled
    }

    private func track(_ channel: any Channel, of name: String) {
        let id = ObjectIdentifier(channel)
        nodes.withLock { $0[name, default: Node()].channels[id] = channel }
        channel.closeFuture.whenComplete { [self] _ in nodes.withLock { _ = $0[name]?.channels.removeValue(forKey: id) } }
    }
}

/// One node's side of an ``InMemoryNetwork``.
public struct InMemoryTransport: SyncTransport {
    /// The suffix of in-memory host names.
    public static let domain = ".memory"
    public let network: InMemoryNetwork
    /// The name this node listens under.
    public let address: String

    public var name: String { "memory" }

    public func canDial(_ endpoint: Endpoint) -> Bool { endpoint.host.hasSuffix(Self.domain) }

    public func listen(accept: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Void>) async throws -> SyncListener {
        try network.listen(address, accept: accept)
    }

    public func connect(to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel {
        try await network.connect(from: address, to: endpoint, initialize: initialize)
    }
}

struct InMemoryTransportError: Error, CustomStringConvertible {
    let text: String
    var description: String { text }
}
