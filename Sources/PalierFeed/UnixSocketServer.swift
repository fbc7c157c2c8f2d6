#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOPosix

/// A Unix-domain stream socket server: each connection is handled in a child task of `run`.
/// The socket file gets `mode` and, when given, `group`; the directory around it is the
/// caller's to protect.
struct UnixSocketServer: Sendable {
    let path: String
    let mode: mode_t
    let group: gid_t?

    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    func run(_ handle: @escaping @Sendable (Connection) async -> Void) async throws {
        let server = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(ChannelOptions.backlog, value: 128)
            // A node holds its data directory's lock: a socket file left there is a dead node's.
            .bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(wrappingChannelSynchronously: channel)
                }
            }
        guard chmod(path, mode) == 0, group.map({ chown(path, uid_t.max, $0) == 0 }) ?? true else {
            let error = errno
            try? await server.channel.close()
            throw FeedError.socket(path: path, errno: error)
        }
        defer { unlink(path) }
        try await withThrowingDiscardingTaskGroup { tasks in
            try await server.executeThenClose { connections in
                for try await connection in connections {
                    tasks.addTask { await handle(connection) }
                }
            }
        }
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
