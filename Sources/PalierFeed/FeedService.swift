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
    /// Longest wait between two looks at the store: changes are signalled (in process, and the
    /// CLI's through the control socket); one nobody signalled is seen within this time.
    let pollInterval: Duration
    /// A screen that takes none of a line for this long has stopped reading: it is closed.
    let stallTimeout: Duration

    public init(hub: FeedHub, endpoints: FeedEndpoints, logger: Logger, pollInterval: Duration = .seconds(30), stallTimeout: Duration = .seconds(20)) {
        self.hub = hub
        self.endpoints = endpoints
        self.logger = logger
        self.pollInterval = pollInterval
        self.stallTimeout = stallTimeout
    }

    public func run() async throws {
        try await hub.refresh(force: true)
        let hub = self.hub
        let logger = self.logger
        do {
            try await cancelWhenGracefulShutdown {
                try await self.serve(hub: hub, logger: logger)
            }
        } catch is CancellationError {
            // Shutting down: the servers and the clock stopped as asked.
        }
        await hub.close()
    }

    private func serve(hub: FeedHub, logger: Logger) async throws {
        let endpoints = self.endpoints
        let stallTimeout = TimeAmount.milliseconds(Int64(stallTimeout.components.seconds * 1000 + stallTimeout.components.attoseconds / 1_000_000_000_000_000))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask {
                try await UnixSocketServer(path: endpoints.feedSocket, mode: 0o660, group: endpoints.group).run {
                    ScreenConnectionHandler(hub: hub, logger: logger, stallTimeout: stallTimeout)
                }
            }
            tasks.addTask {
                try await UnixSocketServer(path: endpoints.controlSocket, mode: 0o600, group: nil).run {
                    ControlConnectionHandler(hub: hub, logger: logger)
                }
            }
            tasks.addTask { try await self.tick() }
            logger.info("feed listening", metadata: ["socket": "\(endpoints.feedSocket)"])
            // The first to end (the clock, on cancellation; a server, on error) ends them all.
            try await tasks.next()
            tasks.cancelAll()
        }
    }

    /// How long until `change` (Unix milliseconds), zero if it is past. `change` can come from a
    /// stranger's envelope (an event starting in the year 584,554,051): it is clamped, never
    /// converted with a trap.
    static func delay(until change: UInt64, now: UInt64) -> Duration {
        change > now ? .milliseconds(Int64(clamping: change - now)) : .zero
    }

    /// Looks at the store when it changes, at the next scheduled change, and at least every
    /// `pollInterval`, and sends heartbeats; sleeps in between.
    func tick() async throws {
        let clock = ContinuousClock()
        let waiter = await hub.store.changes.waiter()
        var nextHeartbeat = clock.now + .seconds(FeedHub.heartbeatSeconds)
        while !Task.isCancelled {
            var wake = min(clock.now + pollInterval, nextHeartbeat)
            if let change = await hub.nextChange {
                let now = hub.clockMillis()
                wake = min(wake, clock.now + Self.delay(until: change, now: now))
            }
            // The playlist and its schedule were computed without harm: the envelopes they were
            // made from are shown.
            await hub.markShown()
            await waiter.wait(upTo: max(wake - clock.now, .zero))
            await hub.countWakeup()
            try Task.checkCancellation()
            do { try await hub.refresh() } catch { logger.error("feed refresh failed", metadata: ["error": "\(error)"]) }
            if clock.now >= nextHeartbeat {
                await hub.heartbeat()
                nextHeartbeat = clock.now + .seconds(FeedHub.heartbeatSeconds)
            }
        }
    }

}

/// One screen on the feed socket: a subscription to the hub written out line by line. A write
/// completes only once the kernel took the bytes, so a slow screen takes its events at its own
/// pace (the hub coalesces what it falls behind on), and one whose write stalls for
/// `stallTimeout` has stopped reading: it is closed. Nobody else waits.
final class ScreenConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let hub: FeedHub
    let logger: Logger
    let stallTimeout: TimeAmount
    private var subscription: Task<Void, Never>?

    init(hub: FeedHub, logger: Logger, stallTimeout: TimeAmount) {
        self.hub = hub
        self.logger = logger
        self.stallTimeout = stallTimeout
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel
        let hub = self.hub
        let stallTimeout = self.stallTimeout
        let logger = self.logger
        subscription = Task {
            for await event in await hub.subscribe() {
                let stalled = channel.eventLoop.scheduleTask(in: stallTimeout) {
                    logger.notice("a screen stopped reading; its connection is closed")
                    channel.close(promise: nil)
                }
                defer { stalled.cancel() }
                do {
                    try await channel.writeAndFlush(ByteBuffer(string: event.line())).get()
                } catch {
                    break
                }
            }
            channel.close(promise: nil)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        subscription?.cancel()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // Screens have nothing to say; what they send is ignored.
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        logger.debug("screen connection failed", metadata: ["error": "\(error)"])
        context.close(promise: nil)
    }
}

/// The CLI's signal on the control socket: any bytes mean "look at the store now". The reply
/// `ok` is sent once the screens have been told.
final class ControlConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    let hub: FeedHub
    let logger: Logger
    private var signalled = false

    init(hub: FeedHub, logger: Logger) {
        self.hub = hub
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard !signalled else { return }
        signalled = true
        let channel = context.channel
        let hub = self.hub
        let logger = self.logger
        Task {
            // Sync hears of it too: the store's signal wakes every part of the node.
            hub.store.changes.signal()
            do { try await hub.refresh() } catch { logger.error("feed refresh failed", metadata: ["error": "\(error)"]) }
            try? await channel.writeAndFlush(ByteBuffer(string: "ok\n")).get()
            try? await channel.close()
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

extension FeedHub {
    /// The hub's wall clock, for scheduling.
    nonisolated func clockMillis() -> UInt64 { clock.nowMillis() }
}
