#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix
import PalierCore

/// Why tor could not be used, in a sentence for `palier status` and the log.
public struct TorControlError: Error, Hashable, Sendable, CustomStringConvertible {
    public let description: String

    public init(_ description: String) { self.description = description }

    static let closed = TorControlError(L("tor closed its control connection (tor stopped or restarted)", "tor a fermé sa connexion de contrôle (tor s'est arrêté ou a redémarré)"))
}

/// A connection to tor's control port (a Unix socket such as Debian's `/run/tor/control`, or
/// `host:port`), authenticated with tor's cookie. Commands are answered in order; events tor
/// sends by itself are dropped (palier asks for none).
final class TorControlConnection: Sendable {
    private let channel: any Channel

    private init(channel: any Channel) { self.channel = channel }

    /// Connects to `place` (a path, or `host:port`) and authenticates.
    static func open(_ place: String) async throws(TorControlError) -> TorControlConnection {
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        ByteToMessageHandler(TorLineDecoder()), TorControlHandler(),
                    ])
                }
            }
        let channel: any Channel
        do {
            if place.hasPrefix("/") {
                channel = try await bootstrap.connect(unixDomainSocketPath: place).get()
            } else if let colon = place.lastIndex(of: ":"), let port = Int(place[place.index(after: colon)...]) {
                channel = try await bootstrap.connect(host: String(place[..<colon]), port: port).get()
            } else {
                throw TorControlError(L("sync.onionControl is “\(place)”, neither a socket path nor host:port", "sync.onionControl vaut « \(place) », ni un chemin de socket ni hôte:port"))
            }
        } catch let error as TorControlError {
            throw error
        } catch {
            throw Self.unreachable(place, error)
        }
        let connection = TorControlConnection(channel: channel)
        do {
            try await connection.authenticate(place)
        } catch {
            connection.close()
            throw error
        }
        return connection
    }

    private static func unreachable(_ place: String, _ error: any Error) -> TorControlError {
        let code = (error as? IOError)?.errnoCode
        switch code {
        case ENOENT?, ECONNREFUSED?:
            return TorControlError(L("tor is not running here: nothing answers at \(place) (install it with apt install tor; its service starts it)", "tor ne tourne pas ici : rien ne répond à \(place) (installez-le avec apt install tor ; son service le démarre)"))
        case EACCES?, EPERM?:
            return TorControlError(L("palier may not open tor's control socket \(place): add palier's user to the debian-tor group (adduser palier debian-tor) and restart palier", "palier n'a pas le droit d'ouvrir la socket de contrôle de tor \(place) : ajoutez l'utilisateur de palier au groupe debian-tor (adduser palier debian-tor) et redémarrez palier"))
        default:
            return TorControlError(L("tor's control port \(place) cannot be reached (\(error))", "le port de contrôle de tor \(place) est injoignable (\(error))"))
        }
    }

    /// PROTOCOLINFO, then AUTHENTICATE with the cookie it names (or with nothing when tor
    /// asks for none).
    private func authenticate(_ place: String) async throws(TorControlError) {
        let info = try await send("PROTOCOLINFO 1")
        guard info.isOK, let auth = info.lines.first(where: { $0.hasPrefix("AUTH ") }) else {
            throw TorControlError(L("tor's control port \(place) did not say how to authenticate", "le port de contrôle de tor \(place) n'a pas dit comment s'authentifier"))
        }
        let methods = Set((TorReply.field("METHODS", in: auth) ?? "").split(separator: ",").map(String.init))
        let command: String
        if methods.contains("NULL") {
            command = "AUTHENTICATE"
        } else if methods.contains("COOKIE"), let file = TorReply.field("COOKIEFILE", in: auth) {
            command = "AUTHENTICATE " + hexString(try Self.readCookie(file))
        } else {
            throw TorControlError(L("tor asks for a password on \(place); palier authenticates with tor's cookie (CookieAuthentication 1, as Debian's tor service has)", "tor demande un mot de passe sur \(place) ; palier s'authentifie avec le cookie de tor (CookieAuthentication 1, comme le service tor de Debian)"))
        }
        let reply = try await send(command)
        guard reply.isOK else {
            throw TorControlError(L("tor refused palier's authentication (\(reply.status) \(reply.lines.first ?? ""))", "tor a refusé l'authentification de palier (\(reply.status) \(reply.lines.first ?? ""))"))
        }
    }

    private static func readCookie(_ path: String) throws(TorControlError) -> [UInt8] {
        let fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let code = errno
            if code == EACCES || code == EPERM {
                throw TorControlError(L("palier may not read tor's cookie \(path): add palier's user to the debian-tor group (adduser palier debian-tor) and restart palier", "palier n'a pas le droit de lire le cookie de tor \(path) : ajoutez l'utilisateur de palier au groupe debian-tor (adduser palier debian-tor) et redémarrez palier"))
            }
            throw TorControlError(L("tor's cookie \(path) cannot be read: \(String(cString: strerror(code)))", "le cookie de tor \(path) est illisible : \(String(cString: strerror(code)))"))
        }
        defer { Glibc.close(fd) }
        var cookie = [UInt8](repeating: 0, count: 64)
        let count = read(fd, &cookie, cookie.count)
        guard count == 32 else { throw TorControlError(L("tor's cookie \(path) is not 32 bytes", "le cookie de tor \(path) ne fait pas 32 octets")) }
        return Array(cookie.prefix(32))
    }

    /// Sends one command line; returns tor's reply.
    func send(_ command: String) async throws(TorControlError) -> TorReply {
        let promise = channel.eventLoop.makePromise(of: TorReply.self)
        let written = channel.eventLoop.makePromise(of: Void.self)
        // A write that never reached the handler (the pipeline is gone) answers nothing: the
        // reply fails with it. (A reply already settled stays as it is.)
        written.futureResult.whenFailure { _ in promise.fail(TorControlError.closed) }
        channel.writeAndFlush(TorControlHandler.Command(line: command, reply: promise), promise: written)
        do {
            return try await promise.futureResult.get()
        } catch let error as TorControlError {
            throw error
        } catch {
            throw TorControlError(L("tor's control connection failed: \(error)", "la connexion de contrôle de tor a échoué : \(error)"))
        }
    }

    /// Returns when tor closes the connection (it stopped) or ``close()`` is called.
    func closed() async {
        try? await channel.closeFuture.get()
    }

    func close() { channel.close(promise: nil) }
}

/// Lines of the control protocol: up to LF, without CR LF; a line longer than the parser
/// takes is an error.
struct TorLineDecoder: ByteToMessageDecoder {
    typealias InboundOut = String

    mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let newline = buffer.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) else {
            if buffer.readableBytes > TorReplyParser.maximumLineBytes { throw TorReplyError(text: "a line without end") }
            return .needMoreData
        }
        let length = newline - buffer.readerIndex
        var line = buffer.readString(length: length) ?? ""
        buffer.moveReaderIndex(forwardBy: 1)
        if line.hasSuffix("\r") { line.removeLast() }
        context.fireChannelRead(wrapInboundOut(line))
        return .continue
    }
}

/// Pairs each command with its reply, in order.
final class TorControlHandler: ChannelDuplexHandler {
    struct Command {
        let line: String
        let reply: EventLoopPromise<TorReply>
    }

    typealias InboundIn = String
    typealias OutboundIn = Command
    typealias OutboundOut = ByteBuffer

    private var waiting = CircularBuffer<EventLoopPromise<TorReply>>()
    private var parser = TorReplyParser()

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let command = unwrapOutboundIn(data)
        guard context.channel.isActive else {
            command.reply.fail(TorControlError.closed)
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        waiting.append(command.reply)
        context.write(wrapOutboundOut(context.channel.allocator.buffer(string: command.line + "\r\n")), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        do {
            guard let reply = try parser.feed(unwrapInboundIn(data)), !reply.isEvent else { return }
            guard let waiter = waiting.popFirst() else { throw TorReplyError(text: "a reply to no command") }
            waiter.succeed(reply)
        } catch {
            failAll(TorControlError(L("tor's control port misbehaved: \(error)", "le port de contrôle de tor s'est mal comporté : \(error)")))
            context.close(promise: nil)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(TorControlError(L("tor's control connection failed: \(error)", "la connexion de contrôle de tor a échoué : \(error)")))
        context.close(promise: nil)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(.closed)
        context.fireChannelInactive()
    }

    private func failAll(_ error: TorControlError) {
        while let waiter = waiting.popFirst() { waiter.fail(error) }
    }
}
