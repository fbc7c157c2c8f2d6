import Foundation

/// The lines of the feed protocol (docs/feed.md): one JSON object per line.
public enum FeedEvent: Hashable, Sendable {
    public static let protocolVersion = 1

    /// First line on every connection.
    case hello(building: String, key: String, heartbeatSeconds: Int)
    /// The whole playlist, in order. Sent after `hello`, and again whenever a client must resync.
    case snapshot(items: [ScreenItem], at: UInt64)
    /// An item appeared or changed, at this position of the playlist.
    case upsert(item: ScreenItem, position: Int, at: UInt64)
    /// An item left the playlist: `expired` (its time is over) or `withdrawn` (retracted,
    /// hidden, author's role revoked).
    case remove(id: String, reason: String, at: UInt64)
    /// Periodic sign of life.
    case heartbeat(at: UInt64)

    /// The event as one line of JSON, newline included.
    public func line() -> String {
        let object: Wire = switch self {
        case .hello(let building, let key, let heartbeat):
            Wire(type: "hello", version: Self.protocolVersion, building: .init(name: building, key: key), heartbeatSeconds: heartbeat)
        case .snapshot(let items, let at): Wire(type: "snapshot", at: at, items: items)
        case .upsert(let item, let position, let at): Wire(type: "upsert", at: at, item: item, position: position)
        case .remove(let id, let reason, let at): Wire(type: "remove", at: at, id: id, reason: reason)
        case .heartbeat(let at): Wire(type: "heartbeat", at: at)
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try! encoder.encode(object), as: UTF8.self) + "\n"
    }

    private struct Wire: Encodable {
        struct Building: Encodable { let name: String; let key: String }
        var type: String
        var version: Int?
        var building: Building?
        var heartbeatSeconds: Int?
        var at: UInt64?
        var items: [ScreenItem]?
        var item: ScreenItem?
        var position: Int?
        var id: String?
        var reason: String?
    }
}

/// What changed between two playlists, as feed events.
public enum PlaylistDiff {
    public static func events(from old: Playlist, to new: Playlist, at now: UInt64) -> [FeedEvent] {
        var events: [FeedEvent] = []
        let newIDs = Set(new.items.map(\.id))
        for item in old.items where !newIDs.contains(item.id) {
            events.append(.remove(id: item.id, reason: item.until <= now ? "expired" : "withdrawn", at: now))
        }
        // Replay what a client does (remove the id if present, insert at the position) so that
        // after these events its list equals the new playlist, item for item.
        var list = old.items.filter { newIDs.contains($0.id) }
        for (position, item) in new.items.enumerated() {
            if position < list.count, list[position] == item { continue }
            if let index = list.firstIndex(where: { $0.id == item.id }) { list.remove(at: index) }
            list.insert(item, at: min(position, list.count))
            events.append(.upsert(item: item, position: position, at: now))
        }
        return events
    }
}
