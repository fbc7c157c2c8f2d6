import NIOCore
import NIOPosix
import PalierDiscovery

/// Carries sync sessions: it accepts inbound byte streams and dials endpoints, and hands each
/// stream to the service as a NIO channel. The service puts the same pipeline on every channel
/// (frames, Noise, the identity proof), so a transport knows nothing of the protocol, and the
/// protocol nothing of the transport.
///
/// Implementations: ``TCPTransport`` (what `palier run` uses), ``OnionTransport`` (Tor onion
/// services through the system's tor), ``InMemoryTransport`` (tests: nodes of one process, no
/// network).
public protocol SyncTransport: Sendable {
    /// A short name for logs ("tcp", "memory").
    var name: String { get }

    /// Whether this transport can reach `endpoint` (the service dials each endpoint with the
    /// first transport that can).
    func canDial(_ endpoint: Endpoint) -> Bool

    /// How long its sessions' handshakes may take, when longer than the service's (a path of
    /// several hops); nil: the service's.
    var handshakeTimeout: Duration? { get }

    /// Starts accepting streams. `accept` is called on each new channel's event loop before the
    /// channel becomes active, with a description of the remote side for logs; it builds the
    /// channel's pipeline. Throws when the transport cannot listen (the service runs on
    /// without a listener, dialling only).
    func listen(accept: @escaping @Sendable (any Channel, _ remote: String) -> EventLoopFuture<Void>) async throws -> SyncListener

    /// Opens a stream to `endpoint`; `initialize` builds the channel's pipeline before it
    /// becomes active.
    func connect(to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel
}

extension SyncTransport {
    public var handshakeTimeout: Duration? { nil }
}

/// A transport's listener, until closed.
public struct SyncListener: Sendable {
    /// The TCP port to publish over mDNS, when the listener has one.
    public let port: Int?
    /// Where it listens, for the log ("0.0.0.0:7447").
    public let description: String
    private let stop: @Sendable () -> Void

    public init(port: Int?, description: String, stop: @escaping @Sendable () -> Void) {
        self.port = port
        self.description = description
        self.stop = stop
    }

    public func close() { stop() }
}

/// Sessions over TCP: a listener on `host:port` (port 0 picks a free one) and outgoing
/// connections to any address that is not an onion or an in-memory name.
public struct TCPTransport: SyncTransport {
    public let host: String
    public let port: Int
    public var connectTimeout: TimeAmount = .seconds(5)

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    public var name: String { "tcp" }

    public func canDial(_ endpoint: Endpoint) -> Bool {
        !endpoint.host.hasSuffix(".onion") && !endpoint.host.hasSuffix(InMemoryTransport.domain)
    }

    public func listen(accept: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Void>) async throws -> SyncListener {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in accept(channel, channel.remoteAddress?.description ?? "?") }
            .bind(host: host, port: port)
            .get()
        let port = server.localAddress?.port
        return SyncListener(port: port, description: "\(host):\(port ?? self.port)") { server.close(promise: nil) }
    }

    public func connect(to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(connectTimeout)
            .channelInitializer(initialize)
            .connect(host: endpoint.host, port: endpoint.port)
            .get()
    }
}
