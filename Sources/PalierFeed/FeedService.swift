#if canImport(Glibc)
import Glibc
#endif
import Logging
import NIOCore
import PalierCore
import ServiceLifecycle

/// Where the feed listens.
public struct FeedEndpoints: Sendable {
    /// The screens' socket (NDJSON, docs/feed.md), mode 0660.
    public var feedSocket: String
    /// The CLI's socket: a connection means "the store changed, look now". Mode 0600.
    public var controlSocket: String
    /// Group of the runtime directory and the feed socket; nil keeps the node's own group.
    public var group: gid_t?

    public init(feedSocket: String, controlSocket: String, group: gid_t?) {
        self.feedSocket = feedSocket
        self.controlSocket = controlSocket
        self.group = group
    }
}

/// The feed of a running node: the screens' socket, the CLI's change signal, and the clock that
/// applies expiries at their time and sends heartbeats.
public struct FeedService: Service {
    let hub: FeedHub
    let endpoints: FeedEndpoints
    let logger: Logger
    /// Longest wait between two looks at the store (changes the CLI did not signal).
    let pollInterval: Duration

    public init(hub: FeedHub, endpoints: FeedEndpoints, logger: Logger, pollInterval: Duration = .seconds(1)) {
        self.hub = hub
        self.endpoints = endpoints
        self.logger = logger
        self.pollInterval = pollInterval
    }

    public func run() async throws {
        try await hub.refresh(force: true)
        let hub = self.hub
        let logger = self.logger
        try await cancelWhenGracefulShutdown {
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask {
                    try await UnixSocketServer(path: endpoints.feedSocket, mode: 0o660, group: endpoints.group).run { connection in
                        await Self.serveScreen(connection, hub: hub, logger: logger)
                    }
                }
                tasks.addTask {
                    try await UnixSocketServer(path: endpoints.controlSocket, mode: 0o600, group: nil).run { connection in
                        await Self.serveControl(connection, hub: hub, logger: logger)
                    }
                }
                tasks.addTask { try await self.tick() }
                logger.info("feed listening", metadata: ["socket": "\(endpoints.feedSocket)"])
                try await tasks.next()
                tasks.cancelAll()
            }
        }
    }

    /// Looks at the store at the next scheduled change, at least every `pollInterval`, and sends
    /// heartbeats.
    func tick() async throws {
        let clock = ContinuousClock()
        var nextHeartbeat = clock.now + .seconds(FeedHub.heartbeatSeconds)
        while !Task.isCancelled {
            var wake = min(clock.now + pollInterval, nextHeartbeat)
            if let change = await hub.nextChange {
                let now = hub.clockMillis()
                let untilChange = change > now ? Duration.milliseconds(Int64(change - now)) : .zero
                wake = min(wake, clock.now + untilChange)
            }
            try await Task.sleep(until: wake, clock: clock)
            do { try await hub.refresh() } catch { logger.error("feed refresh failed", metadata: ["error": "\(error)"]) }
            if clock.now >= nextHeartbeat {
                await hub.heartbeat()
                nextHeartbeat = clock.now + .seconds(FeedHub.heartbeatSeconds)
            }
        }
    }

    static func serveScreen(_ connection: UnixSocketServer.Connection, hub: FeedHub, logger: Logger) async {
        let channel = connection.channel
        do {
            try await connection.executeThenClose { _, outbound in
                let events = await hub.subscribe(cutOff: { channel.close(promise: nil) })
                for await event in events {
                    try await outbound.write(ByteBuffer(string: event.line()))
                }
            }
        } catch {
            logger.debug("screen disconnected", metadata: ["error": "\(error)"])
        }
    }

    static func serveControl(_ connection: UnixSocketServer.Connection, hub: FeedHub, logger: Logger) async {
        do {
            try await connection.executeThenClose { inbound, outbound in
                for try await _ in inbound {
                    try await hub.refresh()
                    try await outbound.write(ByteBuffer(string: "ok\n"))
                    break
                }
            }
        } catch {
            logger.debug("control connection ended", metadata: ["error": "\(error)"])
        }
    }
}

extension FeedHub {
    /// The hub's wall clock, for scheduling.
    nonisolated func clockMillis() -> UInt64 { clock.nowMillis() }
}
