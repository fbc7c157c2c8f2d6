import PalierCore
import PalierStore

/// Keeps the screen's playlist up to date and hands its changes to every connected screen
/// (feed socket clients, kiosk pages). Never waits for a screen: each subscriber has a bounded
/// buffer, and one that falls behind is cut off; when it reconnects it gets a fresh snapshot.
public actor FeedHub {
    public let store: EnvelopeStore
    public let configuration: ScreenConfiguration
    let clock: any WallClock
    let buildingName: String
    /// Events buffered per subscriber before it is cut off.
    let subscriberBuffer: Int
    /// Called by ``markShown()`` with the highest envelope row the playlist was made from.
    let shown: (@Sendable (Int64) -> Void)?
    /// The highest envelope row when the playlist was last computed; nil before the first time.
    private var playlistRow: Int64?
    /// The row last passed to `shown`: an idle node writes nothing.
    private var markedRow: Int64?
    public static let heartbeatSeconds = 15

    public private(set) var playlist = Playlist(items: [], nextChange: nil)
    private var seenChanges: Int64 = -1
    private var subscribers: [Int: Subscriber] = [:]
    private var nextSubscriberID = 0
    private var closed = false

    struct Subscriber {
        let continuation: AsyncStream<FeedEvent>.Continuation
        let cutOff: @Sendable () -> Void
    }

    public init(store: EnvelopeStore, buildingName: String, clock: any WallClock, configuration: ScreenConfiguration = .init(),
                subscriberBuffer: Int = 256, shown: (@Sendable (Int64) -> Void)? = nil) {
        self.shown = shown
        self.store = store
        self.buildingName = buildingName
        self.clock = clock
        self.configuration = configuration
        self.subscriberBuffer = subscriberBuffer
    }

    /// Number of connected screens.
    public var subscriberCount: Int { subscribers.count }

    /// A stream that starts with `hello` and the current `snapshot`, then carries every change.
    /// `cutOff` is called if the subscriber falls more than the buffer behind (close its
    /// connection there); the stream then ends.
    public func subscribe(cutOff: @escaping @Sendable () -> Void = {}) -> AsyncStream<FeedEvent> {
        let (stream, continuation) = AsyncStream<FeedEvent>.makeStream(bufferingPolicy: .bufferingOldest(subscriberBuffer))
        guard !closed else {
            continuation.finish()
            return stream
        }
        let id = nextSubscriberID
        nextSubscriberID += 1
        continuation.onTermination = { [weak self] _ in
            Task { await self?.unsubscribe(id) }
        }
        continuation.yield(.hello(building: buildingName, key: store.building.text, heartbeatSeconds: Self.heartbeatSeconds))
        continuation.yield(.snapshot(items: playlist.items, at: clock.nowMillis()))
        subscribers[id] = Subscriber(continuation: continuation, cutOff: cutOff)
        return stream
    }

    private func unsubscribe(_ id: Int) {
        subscribers[id] = nil
    }

    /// Recomputes the playlist if the store changed or a scheduled change is due, and sends
    /// the differences. Returns the events sent.
    @discardableResult
    public func refresh(force: Bool = false) throws(StoreError) -> [FeedEvent] {
        let now = clock.nowMillis()
        let changes = try store.changeCount()
        let due = playlist.nextChange.map { $0 <= now } ?? false
        guard force || changes != seenChanges || due else { return [] }
        seenChanges = changes
        let lastRow = try store.lastRowID()
        let view = try store.view(now: now)
        let next = PlaylistRules.playlist(
            view: view, now: now, viewer: store.building, configuration: configuration, policy: try store.federationPolicy())
        let events = PlaylistDiff.events(from: playlist, to: next, at: now)
        playlist = next
        playlistRow = lastRow
        broadcast(events)
        return events
    }

    /// Everything the playlist was made from has been through the screen's rules and its
    /// schedule without harm: tells the `shown` callback (the node's crash journal).
    public func markShown() {
        guard let playlistRow, playlistRow != markedRow else { return }
        markedRow = playlistRow
        shown?(playlistRow)
    }

    /// Ends every subscription, and every later one at once: the node is stopping, and open
    /// screens (a kiosk page's event stream above all) must not keep it waiting.
    public func close() {
        closed = true
        for subscriber in subscribers.values { subscriber.continuation.finish() }
        subscribers.removeAll()
    }

    /// Sends a heartbeat to every screen.
    public func heartbeat() {
        broadcast([.heartbeat(at: clock.nowMillis())])
    }

    /// When the playlist next changes by itself.
    public var nextChange: UInt64? { playlist.nextChange }

    private func broadcast(_ events: [FeedEvent]) {
        guard !events.isEmpty else { return }
        for (id, subscriber) in subscribers {
            for event in events {
                if case .dropped = subscriber.continuation.yield(event) {
                    // Too far behind: cut it off rather than slow anyone down.
                    subscribers[id] = nil
                    subscriber.continuation.finish()
                    subscriber.cutOff()
                    break
                }
            }
        }
    }
}
