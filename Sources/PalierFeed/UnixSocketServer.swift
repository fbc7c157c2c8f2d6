import Foundation
#if canImport(Glibc)
import Glibc
#endif
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A Unix-domain stream socket server: every connection gets the handler `makeHandler` makes.
/// The socket file gets `mode` and, when given, `group`; the directory around it is the
/// caller's to protect. `run` returns (closing every connection) when its task is cancelled.
struct UnixSocketServer: Sendable {
    let path: String
    let mode: mode_t
    let group: gid_t?

    func run(_ makeHandler: @escaping @Sendable () -> any ChannelHandler) async throws {
        let connections = OpenConnections()
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 128)
            .childChannelInitializer { channel in
                connections.add(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(makeHandler())
                }
            }
            // A node holds its data directory's lock: a socket file left there is a dead node's.
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true)
            .get()
        guard chmod(path, mode) == 0, group.map({ chown(path, uid_t.max, $0) == 0 }) ?? true else {
            let error = errno
            try? await server.close()
            throw FeedError.socket(path: path, errno: error)
        }
        defer { unlink(path) }
        try await withTaskCancellationHandler {
            try await server.closeFuture.get()
        } onCancel: {
            server.close(promise: nil)
            connections.closeAll()
        }
    }
}

/// The connections a server has accepted and not yet seen closed.
final class OpenConnections: Sendable {
    private let channels = NIOLockedValueBox([ObjectIdentifier: any Channel]())

    func add(_ channel: any Channel) {
        let id = ObjectIdentifier(channel)
        channels.withLockedValue { $0[id] = channel }
        channel.closeFuture.whenComplete { _ in
            self.channels.withLockedValue { _ = $0.removeValue(forKey: id) }
        }
    }

    func closeAll() {
        for channel in channels.withLockedValue({ Array($0.values) }) { channel.close(promise: nil) }
    }
}

/// Why the feed could not start.
public struct FeedError: Error, CustomStringConvertible, Sendable {
    package enum Code: Sendable {
        case socket(path: String, errno: Int32)
        case directory(path: String, errno: Int32)
        case unknownGroup(String)
    }
    package let code: Code

    static func socket(path: String, errno: Int32) -> Self { Self(code: .socket(path: path, errno: errno)) }
    static func directory(path: String, errno: Int32) -> Self { Self(code: .directory(path: path, errno: errno)) }
    static func unknownGroup(_ name: String) -> Self { Self(code: .unknownGroup(name)) }

    public var description: String {
        switch code {
        case .socket(let path, let e): "The socket \(path) could not be set up: \(String(cString: strerror(e)))."
        case .directory(let path, let e): "The runtime directory \(path) could not be set up: \(String(cString: strerror(e)))."
        case .unknownGroup(let name): "The group '\(name)' does not exist; create it or change feed.group in config.json."
        }
    }
}

/// The runtime directory holding the sockets: created if needed, mode 0750, owned by `group`.
public func prepareRuntimeDirectory(_ path: String, groupName: String?) throws -> gid_t? {
    var group: gid_t?
    if let groupName {
        guard let entry = getgrnam(groupName) else { throw FeedError.unknownGroup(groupName) }
        group = entry.pointee.gr_gid
    }
    if mkdir(path, 0o750) != 0 && errno != EEXIST { throw FeedError.directory(path: path, errno: errno) }
    guard chmod(path, 0o750) == 0, group.map({ chown(path, uid_t.max, $0) == 0 }) ?? true else {
        throw FeedError.directory(path: path, errno: errno)
    }
    return group
}

/// Makes the images' directory readable by the screens' group (`group`; nil: the node's own):
/// mode 2750, so that every image written later takes the directory's group, and the images
/// already there given to it — a signage player opens the paths the feed gives it.
public func prepareBlobDirectory(_ path: String, group: gid_t?) throws {
    if mkdir(path, 0o750) != 0 && errno != EEXIST { throw FeedError.directory(path: path, errno: errno) }
    guard chmod(path, 0o2750) == 0, group.map({ chown(path, uid_t.max, $0) == 0 }) ?? true else {
        throw FeedError.directory(path: path, errno: errno)
    }
    guard let group else { return }
    let names: [String]
    do { names = try FileManager.default.contentsOfDirectory(atPath: path) } catch { throw FeedError.directory(path: path, errno: errno) }
    for name in names where name.hasSuffix(".jpg") || name.hasSuffix(".png") || name.hasSuffix(".webp") {
        let file = path + "/" + name
        guard chown(file, uid_t.max, group) == 0 else { throw FeedError.directory(path: file, errno: errno) }
    }
}
