import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import PalierCore
import PalierDiscovery
import PalierFeed
import PalierScreen
import PalierSync
import ServiceLifecycle

/// A running building node, composed in one place: the expiry sweeper, sync with its
/// discoveries, the kiosk page and the feed, around the node's lock and crash journal.
/// `palier run` and the tests build it alike; tests swap the transports and discoveries.
public final class NodeRuntime: Sendable {
    public struct Options: Sendable {
        /// Carry sync sessions on these instead of TCP on the configured address (tests: an
        /// in-memory network).
        public var transports: [any SyncTransport]?
        /// Find neighbours with these instead of the configured mDNS (tests).
        public var discoveries: [any Discovery]?
        /// Serve the kiosk page on the configured port.
        public var kiosk = true
        /// Adjusts sync's settings once the configuration has given them (tests: shorter waits).
        public var tuneSync: (@Sendable (inout SyncSettings) -> Void)?
        /// Carry the residents' channel on this instead of TCP on the configured port (tests).
        public var residentsTransport: (any SyncTransport)?
        /// Serve metrics on the configured port (`metrics.port`).
        public var metrics = true

        public init() {}
    }

    public let node: BuildingNode
    /// What the screens are shown.
    public let hub: FeedHub
    /// nil when sync is off (``BuildingNode/syncOffReason()``).
    public let sync: SyncService?
    /// nil when the residents' channel is off (`residents.port` 0).
    public let residents: ResidentService?
    /// The figures `GET /metrics` serves.
    public let metrics: NodeMetrics
    private let lock: NodeLock
    private let journal: CrashJournal
    private let logger: Logger
    private let services: [ServiceGroupConfiguration.ServiceConfiguration]
    private let summary: Logger.Metadata
    /// The kiosk page's port on 127.0.0.1, when it is served.
    private let kioskPort: Int?
    /// The metrics port, when metrics are served.
    private let metricsPort: Int?

    /// Takes the node's lock (one runtime per data directory), sets aside what a previous run
    /// died handling, and builds the services. Nothing runs until ``run(signals:)``.
    public init(node: BuildingNode, logger: Logger, options: Options = Options()) throws(NodeError) {
        self.node = node
        self.logger = logger
        metrics = NodeMetrics(logger: logger)
        lock = try NodeLock(node.directory)
        let settings = node.configuration.feed
        let group: gid_t?
        do {
            group = try prepareRuntimeDirectory(node.runtimeDirectory.path, groupName: settings.group)
            // The feed gives signage players the paths of images: readable by the same group.
            if let blobs = node.store.blobFiles.directory { try prepareBlobDirectory(blobs, group: group) }
        } catch {
            throw NodeError.configuration("\(error)")
        }
        // Next to the lock: whoever sees the node running also sees its version and start.
        node.writeRuntimeInfo(RuntimeInfo(version: PalierVersion.current, started: node.now(), pid: getpid()), logger: logger)
        // Whatever the previous run died handling is set aside before anything reads it again.
        journal = try CrashJournal(path: node.crashJournalPath)
        if let recovery = try journal.recover(node, now: node.now()) {
            logger.error("the previous run stopped without shutting down; what it was handling is set aside", metadata: [
                "quarantined": "\(recovery.quarantined.count)",
                "suspended": "\(recovery.suspended.map { $0.shortText } ?? "none")",
            ])
        }
        // Images no post needs any more, and files a crash left behind (docs/protocol.md §2.2.2).
        do {
            let collected = try node.store.collectBlobs(now: node.now())
            if collected > 0 { logger.info("images no post needs were deleted", metadata: ["count": "\(collected)"]) }
        } catch {
            logger.error("could not look for images no post needs; they stay until the next start", metadata: ["error": "\(error)"])
        }
        let journal = journal
        hub = FeedHub(
            store: node.store, buildingName: node.configuration.buildingName, clock: node.clock,
            configuration: ScreenConfiguration(
                promoShare: settings.promoShare, eventLeadTimeMillis: UInt64(max(settings.eventLeadDays, 0)) * 86_400_000
            ),
            shown: { journal.shown(upToRow: $0) }
        )
        // A ServiceGroup stops its services last to first: the feed stops before the kiosk page,
        // ending the page's event streams so that the web server is not kept waiting.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: ExpirySweeper(node: node, logger: logger))]
        sync = try node.syncService(logger: logger, journal: journal, transports: options.transports, discoveries: options.discoveries,
                                    tune: options.tuneSync)
        if let sync { services.append(.init(service: sync)) }
        let residentsSettings = node.configuration.residents
        if let transport = options.residentsTransport ?? (residentsSettings.port > 0
            ? TCPTransport(host: residentsSettings.listen, port: residentsSettings.port) : nil) {
            let service = ResidentService(settings: .init(transport: transport), signingKey: node.buildingKey,
                                          desk: BuildingResidentDesk(node: node), logger: logger)
            residents = service
            services.append(.init(service: service))
        } else {
            residents = nil
        }
        let kiosk = options.kiosk && settings.kioskPort > 0
        kioskPort = kiosk ? settings.kioskPort : nil
        metricsPort = options.metrics && node.configuration.metrics.port > 0 ? node.configuration.metrics.port : nil
        if kiosk {
            let page = KioskServer.Page(language: settings.language, panel: settings.panel, hostNames: settings.kioskHostNames)
            services.append(.init(service: KioskServer.service(hub: hub, port: settings.kioskPort, page: page, logger: logger)))
        }
        services.append(.init(service: FeedService(
            hub: hub,
            endpoints: FeedEndpoints(feedSocket: node.feedSocketPath, controlSocket: node.controlSocketPath, group: group),
            logger: logger
        )))
        self.services = services
        let syncState = try sync != nil
            ? options.transports.map { $0.map(\.name).joined(separator: ", ") } ?? "\(node.configuration.sync.listen):\(node.configuration.sync.port)"
            : "off: \(node.syncOffReason() ?? "")"
        let discoveryState = try options.discoveries != nil ? "given" : node.discoveryOffReason().map { "off: \($0)" } ?? "avahi"
        summary = [
            "building": "\(node.configuration.buildingName)",
            "key": "\(node.building.text)",
            "data": "\(node.directory.root.path)",
            "feed": "\(node.feedSocketPath)",
            "kiosk": "\(kiosk ? "http://127.0.0.1:\(settings.kioskPort)/" : "off")",
            "sync": "\(syncState)",
            "discovery": "\(discoveryState)",
            "onion": "\(options.transports != nil ? "given" : try node.onionOffReason().map { "off: \($0)" } ?? "tor at \(node.configuration.sync.onionControl)")",
            "residents": "\(residents == nil ? "off" : options.residentsTransport?.name ?? "\(residentsSettings.listen):\(residentsSettings.port)")",
            "pid": "\(getpid())",
        ]
    }

    /// Runs until SIGTERM or SIGINT (then stops gracefully), or until the task is cancelled;
    /// `signals: false` leaves the process's signals alone (tests, which cancel).
    /// `onReady` is called once the screens' sockets, the kiosk page and the sync port accept
    /// connections (`palier run` tells systemd then).
    public func run(signals: Bool = true, onReady: (@Sendable () -> Void)? = nil) async throws {
        try journal.started(shownRow: node.store.lastRowID())
        defer { journal.stopped() }
        logger.info("node running", metadata: summary)
        var services = services
        if let metricsPort {
            services.insert(.init(service: MetricsService(runtime: self, metrics: metrics, port: metricsPort, logger: logger)), at: 0)
        }
        let group = ServiceGroup(configuration: .init(services: services, gracefulShutdownSignals: signals ? [.sigterm, .sigint] : [], logger: logger))
        let watcher = onReady.map { onReady in
            Task { [self] in
                while !Task.isCancelled, !isReady() { try? await Task.sleep(for: .milliseconds(20)) }
                if !Task.isCancelled {
                    logger.info("node ready")
                    onReady()
                }
            }
        }
        defer { watcher?.cancel() }
        try await group.run()
        logger.info("node stopped")
        withExtendedLifetime(lock) {}
    }

    /// Whether everything this runtime serves accepts connections now.
    func isReady() -> Bool {
        guard let control = connectUnixStream(node.controlSocketPath) else { return false }
        close(control)
        if let sync, !sync.hasSettledListeners { return false }
        if let kioskPort, !Self.acceptsTCP(port: kioskPort) { return false }
        return true
    }

    static func acceptsTCP(port: Int) -> Bool {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return false }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(clamping: port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0
    }
}

/// What a running node says of itself for `palier status`: `run/node.json`.
public struct RuntimeInfo: Codable, Sendable, Equatable {
    public var version: String
    /// Unix milliseconds.
    public var started: UInt64
    public var pid: Int32
}

extension BuildingNode {
    public var runtimeInfoFile: URL { runtimeDirectory.appendingPathComponent("node.json") }

    func writeRuntimeInfo(_ info: RuntimeInfo, logger: Logger) {
        do {
            try JSONEncoder().encode(info).write(to: runtimeInfoFile, options: .atomic)
        } catch {
            logger.warning("could not write the node's runtime information", metadata: ["file": "\(runtimeInfoFile.path)", "error": "\(error)"])
        }
    }

    /// The running node's version and start, when it runs.
    public func runtimeInfo() -> RuntimeInfo? {
        guard let pid = directory.runningNodePID(), let data = FileManager.default.contents(atPath: runtimeInfoFile.path),
              let info = try? JSONDecoder().decode(RuntimeInfo.self, from: data), info.pid == pid else { return nil }
        return info
    }
}
