import PalierCore
import PalierStore
import Synchronization

/// Keeps the screen's playlist up to date and hands its changes to every connected screen
/// (feed socket clients, kiosk pages). Never waits for a screen: each subscriber takes its
/// events at its own pace from a queue of its own; one that falls more than `subscriberBuffer`
/// events behind (a burst of posts from a neighbour) has its queue replaced by one fresh
/// snapshot, so it is never cut off and its memory stays bounded. A screen that stops reading
/// altogether is its connection's business (the feed socket closes it when a write stalls).
public actor FeedHub {
    public let store: EnvelopeStore
    public let configuration: ScreenConfiguration
    let clock: any WallClock
    public let buildingName: String
    /// Events queued per subscriber before they are coalesced into a snapshot.
    let subscriberBuffer: Int
    /// Called by ``markShown()`` with the highest envelope row the playlist was made from.
    let shown: (@Sendable (Int64) -> Void)?
    /// The highest envelope row when the playlist was last computed; nil before the first time.
    private var playlistRow: Int64?
    /// The row last passed to `shown`: an idle node writes nothing.
    private var markedRow: Int64?
    public static let heartbeatSeconds = 15

    public private(set) var playlist = Playlist(items: [], nextChange: nil)
    /// Screen-safe text per content revision: made once, kept while the playlist shows it.
    private let textCache = SafeTextCache()
    private var seenChanges: Int64 = -1
    private var subscribers: [Int: Subscriber] = [:]
    private var nextSubscriberID = 0
    private var closed = false

    /// One screen's queue, and the screen's wait for its next event, if it waits.
    struct Subscriber {
        var pending: [FeedEvent] = []
        var head = 0
        var waiter: CheckedContinuation<FeedEvent?, Never>?
        var count: Int { pending.count - head }

        mutating func take() -> FeedEvent? {
            guard head < pending.count else { return nil }
            let event = pending[head]
            head += 1
            if head == pending.count { pending.removeAll(keepingCapacity: true); head = 0 }
            return event
        }
    }
    /// Snapshots sent because a screen fell behind (for tests and status).
    public private(set) var coalescedSnapshots = 0

    public init(store: EnvelopeStore, buildingName: String, clock: any WallClock, configuration: ScreenConfiguration = .init(),
                subscriberBuffer: Int = 256, shown: (@Sendable (Int64) -> Void)? = nil) {
        self.shown = shown
        self.store = store
        self.buildingName = buildingName
        self.clock = clock
        self.configuration = configuration
        self.subscriberBuffer = subscriberBuffer
    }

    /// How many times the feed's clock loop has woken (tests of an idle node).
    public private(set) var wakeups = 0
    func countWakeup() { wakeups += 1 }

    /// Number of connected screens.
    public var subscriberCount: Int { subscribers.count }

    /// A stream that starts with `hello` and the current `snapshot`, then carries every change,
    /// or a fresh `snapshot` in place of changes the screen fell too far behind on. It ends when
    /// the hub closes, or when the consuming task is cancelled.
    public func subscribe() -> FeedSubscription {
        let id = nextSubscriberID
        nextSubscriberID += 1
        if !closed {
            var subscriber = Subscriber()
            subscriber.pending = [
                .hello(building: buildingName, key: store.building.text, heartbeatSeconds: Self.heartbeatSeconds),
                .snapshot(items: playlist.items, at: clock.nowMillis()),
            ]
            subscribers[id] = subscriber
        }
        return FeedSubscription(hub: self, id: id)
    }

    /// The subscriber's next event, waiting for one; nil once it is gone or the hub closed.
    fileprivate func next(for id: Int) async -> FeedEvent? {
        guard subscribers[id] != nil else { return nil }
        if let event = subscribers[id]!.take() { return event }
        return await withCheckedContinuation { continuation in
            subscribers[id]!.waiter = continuation
        }
    }

    fileprivate func unsubscribe(_ id: Int) {
        subscribers.removeValue(forKey: id)?.waiter?.resume(returning: nil)
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
        let next = try Self.playlist(store: store, now: now, configuration: configuration, policy: try store.federationPolicy(),
                                     buildingName: buildingName, safeText: textCache.safeText)
        textCache.keepOnlyUsed()
        let events = PlaylistDiff.events(from: playlist, to: next, at: now)
        playlist = next
        playlistRow = lastRow
        broadcast(events)
        return events
    }

    /// The playlist at `now`, read from the store's materialised view by index: of each kind
    /// only the `maximumItems` the rules could keep (the newest; events showing now in agenda
    /// order) are read, and the next change is the store's earliest over every shown post. The
    /// same playlist as ``PlaylistRules`` gives from the whole view (a property test holds it).
    public static func playlist(store: EnvelopeStore, now: UInt64, configuration: ScreenConfiguration, policy: FederationPolicy,
                                buildingName: String? = nil,
                                safeText: @escaping PlaylistRules.SafeText = PlaylistRules.safeText) throws(StoreError) -> Playlist {
        let bound = max(configuration.maximumItems, 1)
        let local = store.building
        let buildings = [local] + policy.followed.subtracting(policy.blocked).subtracting([local]).sorted()
        // Each kind from the buildings whose posts of that kind this screen shows.
        func from(_ kind: Kind) -> [PublicKey] { policy.buildings(showing: kind, local: local) }
        var queries = Kind.contentKinds.filter { ![.event, .flash, .alert].contains($0) }
            .map { ViewQuery(kinds: [$0], limit: bound, buildings: from($0), onScreen: true) }
        // This building's alerts, its flashes that pre-empt (by these roles) and its others apart.
        let preempting = PlaylistRules.preemptingFlashRoles
        queries.append(ViewQuery(kinds: [.alert], limit: bound, buildings: [local], onScreen: true))
        queries.append(ViewQuery(kinds: [.flash], roles: preempting, limit: bound, buildings: [local], onScreen: true))
        queries.append(ViewQuery(kinds: [.flash], roles: Role.allCases.filter { !preempting.contains($0) }, limit: bound, buildings: [local], onScreen: true))
        // A neighbour's alerts and flashes never pre-empt: read apart, so that they cannot take
        // the places of this building's own.
        for kind in [Kind.alert, .flash] {
            let neighbours = Array(from(kind).dropFirst())
            if !neighbours.isEmpty { queries.append(ViewQuery(kinds: [kind], limit: bound, buildings: neighbours, onScreen: true)) }
        }
        queries.append(ViewQuery(kinds: [.event], order: .agenda(leadTime: configuration.eventLeadTimeMillis), limit: bound, buildings: from(.event), onScreen: true))
        let items = try store.viewItems(queries, buildings: buildings, now: now)
        var playlist = PlaylistRules.playlist(
            view: BuildingView(items: items, memberships: [], profiles: []), now: now, viewer: store.building, viewerName: buildingName,
            configuration: configuration, policy: policy, safeText: safeText)
        // The next change among the posts this screen may show: all of this building's, and
        // the followed kinds of each followed building (grouped by the kinds they show).
        var later = try store.nextViewChange(after: now, leadTime: configuration.eventLeadTimeMillis, buildings: [local])
        let groups = Dictionary(grouping: buildings.dropFirst()) { policy.kinds(from: $0) }
        for (kinds, members) in groups.sorted(by: { Kind.mask($0.key) < Kind.mask($1.key) }) {
            let next = try store.nextViewChange(after: now, leadTime: configuration.eventLeadTimeMillis, buildings: members,
                                                kinds: Kind.contentKinds.filter(kinds.contains))
            later = [later, next].compactMap { $0 }.min()
        }
        playlist.nextChange = [playlist.nextChange, later].compactMap { $0 }.min()
        try attachMedia(&playlist.items, store: store)
        return playlist
    }

    /// Fills the items' images with their files, leaving out those not held yet, and draws
    /// their links' QR codes.
    static func attachMedia(_ items: inout [ScreenItem], store: EnvelopeStore) throws(StoreError) {
        for index in items.indices where !items[index].images.isEmpty || items[index].link != nil {
            var held: [ScreenItem.Image] = []
            for var image in items[index].images {
                guard let id = BlobID(hex: image.blob), let record = try store.heldBlob(id) else { continue }
                image.path = store.blobFiles.path(of: id, type: record.type)
                held.append(image)
            }
            items[index].images = held
            if let url = items[index].link?.url {
                items[index].link?.qr = QRCode(url)?.svg ?? ""
            }
        }
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
        for subscriber in subscribers.values { subscriber.waiter?.resume(returning: nil) }
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
        for id in subscribers.keys {
            var subscriber = subscribers[id]!
            if subscriber.count + events.count > subscriberBuffer {
                // Too far behind: what it has not taken yet is replaced by where things stand now.
                subscriber.pending = [.snapshot(items: playlist.items, at: clock.nowMillis())]
                subscriber.head = 0
                coalescedSnapshots += 1
            } else {
                subscriber.pending += events
            }
            if let waiter = subscriber.waiter, let event = subscriber.take() {
                subscriber.waiter = nil
                waiter.resume(returning: event)
            }
            subscribers[id] = subscriber
        }
    }
}

/// One screen's events from the hub (iterate it once). The screen leaves the hub when its
/// iteration ends, however it ends: the stream finished, the loop broke, the task was cancelled.
public struct FeedSubscription: AsyncSequence, Sendable {
    public typealias Element = FeedEvent
    let hub: FeedHub
    let id: Int

    public func makeAsyncIterator() -> Iterator { Iterator(hub: hub, id: id) }

    public final class Iterator: AsyncIteratorProtocol {
        let hub: FeedHub
        let id: Int

        init(hub: FeedHub, id: Int) {
            self.hub = hub
            self.id = id
        }

        public func next() async -> FeedEvent? {
            let hub = hub
            let id = id
            return await withTaskCancellationHandler {
                await hub.next(for: id)
            } onCancel: {
                Task { await hub.unsubscribe(id) }
            }
        }

        deinit {
            let hub = hub
            let id = id
            Task { await hub.unsubscribe(id) }
        }
    }
}

/// Memoises ``PlaylistRules/safeText(_:configuration:)`` per content revision (the envelope
/// whose content is shown). Entries not used by the last playlist are dropped.
final class SafeTextCache: Sendable {
    private struct State {
        var texts: [EnvelopeID: (title: String, body: String)] = [:]
        var used: Set<EnvelopeID> = []
    }
    private let state = Mutex(State())

    var safeText: PlaylistRules.SafeText {
        { [self] entry, configuration in
            if let known = state.withLock({ state in
                state.used.insert(entry.revision)
                return state.texts[entry.revision]
            }) { return known }
            let made = PlaylistRules.safeText(entry, configuration: configuration)
            state.withLock { $0.texts[entry.revision] = made }
            return made
        }
    }

    func keepOnlyUsed() {
        state.withLock { state in
            state.texts = state.texts.filter { state.used.contains($0.key) }
            state.used.removeAll(keepingCapacity: true)
        }
    }

    var count: Int { state.withLock { $0.texts.count } }
}
