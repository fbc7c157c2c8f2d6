import Logging
import PalierCore
import ServiceLifecycle

/// Keeps a running node's store tidy: deletes envelopes (and erased ids) at their expiry and
/// renews the building's profile before it lapses.
public struct ExpirySweeper: Service {
    let node: BuildingNode
    let logger: Logger
    /// Longest sleep between sweeps, so that a profile change or a clock jump is noticed.
    let maximumInterval: Duration

    public init(node: BuildingNode, logger: Logger, maximumInterval: Duration = .seconds(60)) {
        self.node = node
        self.logger = logger
        self.maximumInterval = maximumInterval
    }

    public func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let delay = sweep()
            try? await cancelWhenGracefulShutdown {
                try await Task.sleep(for: delay)
            }
        }
    }

    /// One sweep; returns how long to wait before the next.
    func sweep() -> Duration {
        let now = node.now()
        do {
            let removed = try node.store.purgeExpired(now: now)
            if removed > 0 { logger.info("expired envelopes removed", metadata: ["count": "\(removed)"]) }
            if try node.renewProfileIfNeeded() { logger.info("building profile signed anew") }
            if let next = try node.store.nextExpiry(after: now) {
                return min(.milliseconds(Int64(clamping: next - now)) + .milliseconds(1), maximumInterval)
            }
        } catch {
            logger.error("sweep failed", metadata: ["error": "\(error)"])
        }
        return maximumInterval
    }
}
