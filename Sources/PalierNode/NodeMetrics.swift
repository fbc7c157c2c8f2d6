import CoreMetrics
import Foundation
import Hummingbird
import Logging
import PalierCore
import PalierFeed
import PalierSync
import Prometheus
import ServiceLifecycle
import Synchronization

/// The node's figures in Prometheus's text format (docs/operations.md, "Metrics"): swift-metrics
/// counters and gauges made by a `PrometheusMetricsFactory` on a registry of this node's own (no
/// process-wide bootstrap, so that tests run several nodes in one process), brought up to date
/// from the node's own statistics when they are read. Nothing on the paths of posts and sync
/// pays for them.
public final class NodeMetrics: Sendable {
    public static let version = PalierVersion.current

    let registry = PrometheusCollectorRegistry()
    private let factory: PrometheusMetricsFactory
    private let started: Double
    /// The last value given to each counter: counters only go up, by the difference.
    private let counted = Mutex<[String: Int]>([:])
    private let logger: Logger

    public init(started: Date = Date(), logger: Logger = Logger(label: "palier")) {
        factory = PrometheusMetricsFactory(registry: registry)
        self.started = started.timeIntervalSince1970
        self.logger = logger
    }

    /// A figure the store could not give: logged and counted (`palier_metrics_read_failures_total`),
    /// the previous value left as it was.
    private func failed(_ what: String, _ error: any Error) {
        logger.warning("metrics: could not read the store", metadata: ["what": "\(what)", "error": "\(error)"])
        CoreMetrics.Counter(label: "palier_metrics_read_failures_total", factory: factory).increment()
    }

    private func gauge(_ label: String, _ dimensions: [(String, String)] = []) -> CoreMetrics.Gauge {
        CoreMetrics.Gauge(label: label, dimensions: dimensions, factory: factory)
    }

    /// Brings the counter to `total` (a figure that only grows while the node runs).
    private func count(_ label: String, _ dimensions: [(String, String)] = [], total: Int) {
        let key = label + dimensions.map { "|\($0.0)=\($0.1)" }.joined()
        let delta = counted.withLock { last -> Int in
            let previous = last[key] ?? 0
            last[key] = max(previous, total)
            return max(total - previous, 0)
        }
        let counter = CoreMetrics.Counter(label: label, dimensions: dimensions, factory: factory)
        counter.increment(by: delta)
    }

    /// The figures of `runtime` now, as Prometheus reads them.
    public func text(of runtime: NodeRuntime) async -> String {
        await update(runtime)
        return registry.emitToString()
    }

    func update(_ runtime: NodeRuntime) async {
        let node = runtime.node
        gauge("palier_build_info", [("version", Self.version)]).record(1)
        gauge("palier_start_time_seconds").record(started)
        do {
            let stats = try node.store.statistics()
            for kind in Kind.allCases { gauge("palier_envelopes_stored", [("kind", kind.name)]).record(stats.byKind[kind] ?? 0) }
            gauge("palier_retracted_ids_stored").record(stats.erased)
            count("palier_store_refused_total", [("reason", "invalid")], total: stats.refused)
            count("palier_store_refused_total", [("reason", "future_dated")], total: stats.deferredFutureDated)
        } catch {
            failed("statistics", error)
        }
        let storePath = node.directory.resolve(node.configuration.storeFile).path
        // A WAL that is not there (checkpointed away) counts as nothing.
        let bytes = ["", "-wal"].compactMap { try? FileManager.default.attributesOfItem(atPath: storePath + $0)[.size] as? Int }.reduce(0, +)
        gauge("palier_store_bytes").record(bytes)
        gauge("palier_screen_clients").record(await runtime.hub.subscriberCount)
        gauge("palier_screen_playlist_items").record(await runtime.hub.playlist.items.count)
        if let sync = runtime.sync {
            let stats = await sync.statistics()
            gauge("palier_sync_sessions").record(await sync.sessions().count)
            count("palier_sync_received_bytes_total", total: stats.bytesReceived)
            count("palier_sync_envelopes_received_total", total: stats.bodiesReceived)
            count("palier_sync_envelopes_sent_total", total: stats.bodiesSent)
            count("palier_sync_envelopes_accepted_total", total: stats.bodiesAccepted)
            count("palier_sync_reconciliation_rounds_total", total: stats.reconciliationRounds)
            count("palier_sync_refused_total", [("reason", "blocked")], total: stats.refusedBlocked)
            count("palier_sync_refused_total", [("reason", "invalid")], total: stats.refusedInvalid)
            count("palier_sync_refused_total", [("reason", "rate_limited")], total: stats.droppedRateLimited)
            count("palier_sync_store_failures_total", total: stats.storeFailures)
            count("palier_blobs_fetched_total", total: stats.blobsFetched)
            count("palier_blob_bytes_received_total", total: stats.blobBytesReceived)
            count("palier_blob_bytes_sent_total", total: stats.blobBytesSent)
            count("palier_blobs_refused_total", [("reason", "hash")], total: stats.blobsRefusedFromPeers)
            count("palier_blobs_refused_total", [("reason", "not_the_image")], total: stats.blobsRefusedFromAuthors)
            count("palier_blob_transfers_stalled_total", total: stats.blobTransfersStalled)
            count("palier_onion_addresses_learned_total", total: stats.onionAddressesLearned)
            count("palier_onion_addresses_refused_total", total: stats.onionAddressesRefused)
        }
        do {
            let usage = try node.store.blobUsage()
            gauge("palier_blobs_held").record(usage.count)
            gauge("palier_blob_bytes").record(usage.bytes)
            gauge("palier_blobs_missing").record(usage.missing)
            gauge("palier_blob_budget_bytes").record(node.configuration.blobs.budgetBytes)
        } catch {
            failed("blobs", error)
        }
        do { gauge("palier_sync_peers_known").record(try node.store.peers().count) } catch { failed("peers", error) }
    }
}

/// `GET /metrics` on 127.0.0.1. A port another program holds is logged and left: the screen
/// and sync go on without metrics.
struct MetricsService: Service {
    let runtime: NodeRuntime
    let metrics: NodeMetrics
    let port: Int
    let logger: Logger

    func run() async throws {
        let router = Router()
        let runtime = runtime, metrics = metrics
        router.get("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8", .cacheControl: "no-store"],
                body: .init(byteBuffer: ByteBuffer(string: await metrics.text(of: runtime)))
            )
        }
        var quiet = logger
        quiet.logLevel = max(logger.logLevel, .warning)
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: quiet)
        do {
            // As a service of the node's group (`run()`, not `runService()`, which would catch
            // SIGTERM itself and end before the group asks it to).
            try await app.run()
        } catch is CancellationError {
            // Shutting down.
        } catch {
            logger.error("metrics cannot listen; the node runs without them", metadata: ["port": "\(port)", "error": "\(error)"])
            try? await gracefulShutdown()
        }
    }
}
