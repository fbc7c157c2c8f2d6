import Logging
import NIOCore
import NIOPosix
import NIOSOCKS
import PalierCore
import PalierCrypto
import PalierDiscovery
import Synchronization

/// Where onion federation stands, for `palier status` and the log.
public enum OnionStatus: Hashable, Sendable {
    case starting
    /// tor answers but has not finished connecting to the Tor network.
    case bootstrapping(percent: Int)
    /// This node's sync port answers at `address`:`port`.
    case published(address: OnionAddress, port: UInt16)
    /// Not working now, for `reason`; retried.
    case unavailable(reason: String)

    /// One plain sentence.
    public var sentence: String {
        switch self {
        case .starting:
            L("Onion federation is starting: palier is asking the system's tor to publish this node.", "La fédération via Tor démarre : palier demande au tor du système de publier ce nœud.")
        case .bootstrapping(let percent):
            L("Onion federation waits for tor, which is connecting to the Tor network (\(percent) %); neighbours on the local network and static peers still work.", "La fédération via Tor attend tor, qui se connecte au réseau Tor (\(percent) %) ; les voisins du réseau local et les voisins fixes fonctionnent toujours.")
        case .published(let address, let port):
            L("Onion federation is on: this node answers at \(address.host):\(port) and reaches neighbours' onion addresses through tor.", "La fédération via Tor est active : ce nœud répond à \(address.host):\(port) et joint les adresses onion des voisins par tor.")
        case .unavailable(let reason):
            L("Onion federation is waiting because \(reason); neighbours on the local network and static peers still work, and palier keeps trying.", "La fédération via Tor attend, car \(reason) ; les voisins du réseau local et les voisins fixes fonctionnent toujours, et palier continue d'essayer.")
        }
    }
}

/// Sync sessions through Tor onion services (docs/protocol.md §13.4): the node asks the system's
/// tor, over its control port, to publish a v3 onion service with the node's own onion key whose
/// virtual port leads to a listener of this transport on the loopback; and it dials `.onion`
/// endpoints through tor's SOCKS port. Noise and everything above run inside unchanged.
///
/// tor may be missing, stopped, or still connecting: the transport then says why
/// (``OnionStatus``), refuses to dial, and keeps trying; when tor comes back (a restart) it
/// publishes the same address again.
public final class OnionTransport: SyncTransport {
    public struct Settings: Sendable {
        /// tor's control port: a socket path (Debian: /run/tor/control) or host:port.
        public var control: String
        /// The onion service's virtual port (what neighbours dial).
        public var virtualPort: UInt16
        public var key: OnionServiceKey
        /// With it, the onion service admits only tor clients that hold its private half (the
        /// network's members: ``NetworkKey/onionClientAuthorisation``), and dialled onions are
        /// given it; nil: no client authorisation.
        public var clientAuthorisation: (privateKey: [UInt8], publicKey: [UInt8])?
        /// How long reaching an onion service through tor may take (descriptor, circuits).
        public var connectTimeout: Duration = .seconds(120)
        /// The Noise handshake and identity exchange over a circuit of several hops.
        public var handshakeTimeout: Duration = .seconds(60)
        /// Waits between attempts to reach tor: doubling from the first up to the second.
        public var retry: (first: Duration, longest: Duration) = (.seconds(1), .seconds(30))

        public init(control: String, virtualPort: UInt16, key: OnionServiceKey, clientAuthorisation: (privateKey: [UInt8], publicKey: [UInt8])?) {
            self.control = control
            self.virtualPort = virtualPort
            self.key = key
            self.clientAuthorisation = clientAuthorisation
        }
    }

    private struct Ready {
        let control: TorControlConnection
        let socks: SOCKSPlace
        /// Onion service ids given the client authorisation over this control connection.
        var authorised: Set<String> = []
    }

    enum SOCKSPlace: Sendable {
        case tcp(host: String, port: Int)
        case unix(String)
    }

    public let settings: Settings
    private let logger: Logger
    private let onStatus: @Sendable (OnionStatus) -> Void
    private let ready = Mutex<Ready?>(nil)
    private let status = Mutex<OnionStatus>(.starting)

    /// `onStatus` hears every change of status (`palier status` reads it from a file).
    public init(settings: Settings, logger: Logger, onStatus: @escaping @Sendable (OnionStatus) -> Void = { _ in }) {
        self.settings = settings
        self.logger = logger
        self.onStatus = onStatus
        onStatus(.starting)
    }

    public var name: String { "onion" }
    public var handshakeTimeout: Duration? { settings.handshakeTimeout }

    /// The status now.
    public var currentStatus: OnionStatus { status.withLock { $0 } }

    public func canDial(_ endpoint: Endpoint) -> Bool { endpoint.host.lowercased().hasSuffix(OnionAddress.suffix) }

    public func listen(accept: @escaping @Sendable (any Channel, String) -> EventLoopFuture<Void>) async throws -> SyncListener {
        // Sessions that come through the onion service arrive here: tor connects from the
        // loopback. Only tor can reach this port from outside the machine.
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 64)
            .serverChannelOption(ChannelOptions.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in accept(channel, "onion (incoming)") }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        guard let localPort = server.localAddress?.port else {
            server.close(promise: nil)
            throw TorControlError(L("the onion listener got no port", "l'écoute onion n'a pas eu de port"))
        }
        let keeper = Task { await self.keepPublished(localPort: localPort) }
        return SyncListener(port: nil, description: "\(settings.key.address.host):\(settings.virtualPort) → 127.0.0.1:\(localPort)") {
            keeper.cancel()
            server.close(promise: nil)
        }
    }

    private func report(_ new: OnionStatus) {
        let changed = status.withLock { current in
            defer { current = new }
            return current != new
        }
        guard changed else { return }
        switch new {
        case .published(let address, let port):
            logger.info("onion service published", metadata: ["address": "\(address.host):\(port)"])
        case .unavailable(let reason):
            logger.warning("onion federation is waiting", metadata: ["reason": "\(reason)"])
        case .bootstrapping(let percent):
            logger.info("tor is connecting to the Tor network", metadata: ["progress": "\(percent)"])
        case .starting:
            break
        }
        onStatus(new)
    }

    /// Keeps the onion service published for as long as the listener is open: reaches tor,
    /// waits for its bootstrap, publishes, then waits for tor to go and starts again.
    private func keepPublished(localPort: Int) async {
        var wait = settings.retry.first
        while !Task.isCancelled {
            do {
                let control = try await TorControlConnection.open(settings.control)
                defer { control.close() }
                try await withTaskCancellationHandler {
                    try await publish(on: control, localPort: localPort)
                    wait = settings.retry.first
                    await control.closed()
                } onCancel: {
                    control.close()
                }
                ready.withLock { $0 = nil }
                if !Task.isCancelled { report(.unavailable(reason: TorControlError.closed.description)) }
            } catch let error as TorControlError {
                ready.withLock { $0 = nil }
                if !Task.isCancelled { report(.unavailable(reason: error.description)) }
            } catch {
                ready.withLock { $0 = nil }
            }
            try? await Task.sleep(for: wait)
            wait = min(wait * 2, settings.retry.longest)
        }
        ready.withLock { $0 = nil }
    }

    private func publish(on control: TorControlConnection, localPort: Int) async throws {
        // tor must have a consensus and circuits before a service can be published or reached.
        while true {
            let phase = try await control.send("GETINFO status/bootstrap-phase")
            guard phase.isOK, let line = phase.value("status/bootstrap-phase") else {
                throw TorControlError(L("tor did not tell its bootstrap progress (\(phase.status))", "tor n'a pas donné l'état de sa connexion (\(phase.status))"))
            }
            let percent = TorReply.field("PROGRESS", in: line).flatMap { Int($0) } ?? 0
            if percent >= 100 { break }
            report(.bootstrapping(percent: percent))
            try await Task.sleep(for: .seconds(2))
        }
        let listeners = try await control.send("GETINFO net/listeners/socks")
        guard listeners.isOK, let socks = listeners.value("net/listeners/socks").flatMap(Self.socksPlace) else {
            throw TorControlError(L("tor has no SOCKS port (SocksPort 0 in its torrc?): palier dials neighbours' onions through it", "tor n'a pas de port SOCKS (SocksPort 0 dans son torrc ?) : palier joint les onions des voisins par lui"))
        }
        var command = "ADD_ONION \(settings.key.torKeyBlob)"
        if let authorisation = settings.clientAuthorisation {
            command += " Flags=V3Auth Port=\(settings.virtualPort),127.0.0.1:\(localPort) ClientAuthV3=\(Base32.encode(authorisation.publicKey).uppercased())"
        } else {
            command += " Port=\(settings.virtualPort),127.0.0.1:\(localPort)"
        }
        let added = try await control.send(command)
        guard added.isOK else {
            throw TorControlError(L("tor refused to publish the onion service (\(added.status) \(added.lines.first ?? ""))", "tor a refusé de publier le service onion (\(added.status) \(added.lines.first ?? ""))"))
        }
        let expected = settings.key.address.serviceID
        guard added.value("ServiceID") == expected else {
            throw TorControlError(L("tor published \(added.value("ServiceID") ?? "?").onion instead of \(expected).onion", "tor a publié \(added.value("ServiceID") ?? "?").onion au lieu de \(expected).onion"))
        }
        ready.withLock { $0 = Ready(control: control, socks: socks) }
        report(.published(address: settings.key.address, port: settings.virtualPort))
    }

    /// The first entry of `net/listeners/socks`: `"127.0.0.1:9050"`, `"[::1]:9050"` or
    /// `"unix:/run/tor/socks"`, space-separated, each quoted.
    static func socksPlace(_ text: String) -> SOCKSPlace? {
        guard let first = text.split(separator: " ").first.map({ TorReply.unquoted(String($0)) }) else { return nil }
        if first.hasPrefix("unix:") { return .unix(String(first.dropFirst(5))) }
        guard let endpoint = Endpoint(first) else { return nil }
        return .tcp(host: endpoint.host, port: endpoint.port)
    }

    public func connect(to endpoint: Endpoint, initialize: @escaping @Sendable (any Channel) -> EventLoopFuture<Void>) async throws -> any Channel {
        guard let current = ready.withLock({ $0 }) else {
            throw TorControlError(L("tor is not ready (\(currentStatus.sentence))", "tor n'est pas prêt (\(currentStatus.sentence))"))
        }
        guard let address = OnionAddress(text: endpoint.host) else {
            throw TorControlError(L("\(endpoint.host) is not a v3 onion address", "\(endpoint.host) n'est pas une adresse onion v3"))
        }
        if let authorisation = settings.clientAuthorisation, !current.authorised.contains(address.serviceID) {
            let reply = try await current.control.send("ONION_CLIENT_AUTH_ADD \(address.serviceID) x25519:\(Base64.encode(authorisation.privateKey))")
            // 250 added, 251 replaced, 252 added and a descriptor decrypted with it.
            guard (250...252).contains(reply.status) else {
                throw TorControlError(L("tor refused the client authorisation for \(address.host) (\(reply.status))", "tor a refusé l'autorisation client pour \(address.host) (\(reply.status))"))
            }
            ready.withLock { state in
                if state?.control === current.control { state?.authorised.insert(address.serviceID) }
            }
        }
        let established = MultiThreadedEventLoopGroup.singleton.any().makePromise(of: Void.self)
        let bootstrap = ClientBootstrap(group: established.futureResult.eventLoop)
            .connectTimeout(.seconds(10))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        SOCKSClientHandler(targetAddress: .domain(address.host, port: endpoint.port)),
                        SOCKSGate(established: established),
                    ])
                }.flatMap { initialize(channel) }
            }
        let channel: any Channel
        do {
            switch current.socks {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unix(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
        } catch {
            established.fail(error)
            throw error
        }
        let timeout = settings.connectTimeout
        let timer = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            established.fail(TorControlError(L("tor could not reach \(address.host) within \(timeout.components.seconds) s", "tor n'a pas pu joindre \(address.host) en \(timeout.components.seconds) s")))
            channel.close(promise: nil)
        }
        do {
            try await established.futureResult.get()
            timer.cancel()
            return channel
        } catch {
            timer.cancel()
            channel.close(promise: nil)
            throw error
        }
    }
}

/// Holds the session's pipeline back until tor has connected the SOCKS stream to the onion
/// service: the pipeline's `channelActive` (where Noise starts, with its handshake timer) is
/// passed on only then; a SOCKS failure or a close before fails `established`.
final class SOCKSGate: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let established: EventLoopPromise<Void>
    private var open = false

    init(established: EventLoopPromise<Void>) { self.established = established }

    func channelActive(context: ChannelHandlerContext) {
        // Held until the proxy is established.
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is SOCKSProxyEstablishedEvent, !open {
            open = true
            established.succeed()
            context.fireChannelActive()
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if !open {
            established.fail(TorControlError(Self.sentence(error)))
            context.close(promise: nil)
            return
        }
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !open { established.fail(TorControlError(L("tor closed the stream before reaching the onion service", "tor a fermé le flux avant d'atteindre le service onion"))) }
        context.fireChannelInactive()
    }

    /// What tor's SOCKS answer means (tor's extended SOCKS5 replies for onion services).
    static func sentence(_ error: any Error) -> String {
        guard let refused = error as? SOCKSError.ConnectionFailed else {
            return L("tor's SOCKS port failed: \(error)", "le port SOCKS de tor a échoué : \(error)")
        }
        switch refused.reply.value {
        case 0xF0: return L("the onion service is unknown to the Tor network (its descriptor was not found)", "le service onion est inconnu du réseau Tor (son descripteur est introuvable)")
        case 0xF1: return L("the onion service's descriptor could not be read", "le descripteur du service onion est illisible")
        case 0xF2: return L("the onion service could not be reached (introduction failed)", "le service onion est injoignable (l'introduction a échoué)")
        case 0xF3: return L("the onion service did not answer (rendezvous failed)", "le service onion n'a pas répondu (le rendez-vous a échoué)")
        case 0xF4: return L("the onion service admits members only, and this node's authorisation is missing", "le service onion n'admet que ses membres, et l'autorisation de ce nœud manque")
        case 0xF5: return L("the onion service refused this node's authorisation (another network?)", "le service onion a refusé l'autorisation de ce nœud (un autre réseau ?)")
        case 0xF6: return L("the onion address is not valid", "l'adresse onion n'est pas valide")
        case 0xF7: return L("the onion service's introduction timed out", "l'introduction au service onion a expiré")
        default: return L("tor could not reach the onion service (SOCKS reply \(refused.reply.value))", "tor n'a pas pu joindre le service onion (réponse SOCKS \(refused.reply.value))")
        }
    }
}
