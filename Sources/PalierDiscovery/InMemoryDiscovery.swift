import PalierCore
import Synchronization

/// A local network in memory, for tests: services published by ``InMemoryDiscovery`` instances
/// (or put there raw) and seen by all of them.
public final class InMemoryLAN: Sendable {
    public struct Service: Hashable, Sendable {
        public var name: String
        public var txt: [[UInt8]]
        public var endpoint: Endpoint
    }

    enum Change: Sendable {
        case resolved(Service)
        case removed(String)
    }

    private struct State {
        var services: [String: Service] = [:]
        var watchers: [Int: AsyncStream<Change>.Continuation] = [:]
        var nextWatcher = 0
    }
    private let state = Mutex(State())

    public init() {}

    /// The services published now, by instance name.
    public var services: [String: Service] { state.withLock { $0.services } }

    /// Publishes `txt` under `name`, or under "name #2", "name #3", … when the name is taken
    /// (what Avahi's alternative names do); returns the name used.
    @discardableResult
    public func publish(name: String, txt: [[UInt8]], endpoint: Endpoint) -> String {
        let (service, watchers) = state.withLock { state in
            var chosen = name
            var n = 2
            while state.services[chosen] != nil {
                chosen = "\(name) #\(n)"
                n += 1
            }
            let service = Service(name: chosen, txt: txt, endpoint: endpoint)
            state.services[chosen] = service
            return (service, Array(state.watchers.values))
        }
        for watcher in watchers { watcher.yield(.resolved(service)) }
        return service.name
    }

    public func withdraw(name: String) {
        let watchers = state.withLock { state in
            state.services[name] = nil
            return Array(state.watchers.values)
        }
        for watcher in watchers { watcher.yield(.removed(name)) }
    }

    /// The services now, then every change, until the task reading it is cancelled.
    func watch() -> AsyncStream<Change> {
        let (stream, continuation) = AsyncStream<Change>.makeStream()
        let id = state.withLock { state in
            let id = state.nextWatcher
            state.nextWatcher += 1
            for service in state.services.values.sorted(by: { $0.name < $1.name }) { continuation.yield(.resolved(service)) }
            state.watchers[id] = continuation
            return id
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.watchers.removeValue(forKey: id) }
        }
        return stream
    }
}

/// Discovery over an ``InMemoryLAN``: the same records and the same filtering as mDNS,
/// without a daemon.
public struct InMemoryDiscovery: Discovery {
    public let lan: InMemoryLAN
    public let record: DiscoveryRecord
    public let host: String
    private let onIgnored: @Sendable (ServiceInstance, PeerDirectory.Ignored) -> Void

    public init(lan: InMemoryLAN, record: DiscoveryRecord, host: String = "127.0.0.1",
                onIgnored: @escaping @Sendable (ServiceInstance, PeerDirectory.Ignored) -> Void = { _, _ in }) {
        self.lan = lan
        self.record = record
        self.host = host
        self.onIgnored = onIgnored
    }

    public func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async {
        let published = port.map { lan.publish(name: record.instanceName, txt: record.txt.map { Array($0.utf8) }, endpoint: Endpoint(host: host, port: $0)) }
        defer { if let published { lan.withdraw(name: published) } }
        var directory = PeerDirectory(own: record.building, networkID: record.networkID, ownRun: record.runID)
        for await change in lan.watch() {
            switch change {
            case .resolved(let service):
                let instance = ServiceInstance(name: service.name, interface: "memory")
                let outcome = directory.resolved(instance, txt: service.txt, endpoint: service.endpoint)
                if let ignored = outcome.ignored { onIgnored(instance, ignored) }
                for event in outcome.events { events.yield(event) }
            case .removed(let name):
                for event in directory.removed(ServiceInstance(name: name, interface: "memory")) { events.yield(event) }
            }
        }
    }
}
