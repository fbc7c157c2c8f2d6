import CAvahi
import Glibc
import Logging
import PalierCore

/// Discovery through the system's avahi-daemon (libavahi-client over D-Bus): publishes this
/// node as a `_palier._tcp` service with its ``DiscoveryRecord`` and browses for the others.
///
/// Done the way Avahi's documentation asks: an `AvahiThreadedPoll`, a client made with
/// `AVAHI_CLIENT_NO_FAIL` (so a missing daemon is waited for, not an error), services published
/// once the client runs, an alternative name on a collision, and, when the daemon goes away, a
/// fresh client that publishes and browses again when it comes back. With no D-Bus system bus at
/// all the client cannot even be made: that is retried every ``retryInterval``, as is resolving
/// a listed service whose resolution failed.
public struct AvahiDiscovery: Discovery {
    public let record: DiscoveryRecord
    public var retryInterval: Duration = .seconds(2)
    private let logger: Logger
    private let onStatus: @Sendable (DiscoveryStatus) -> Void

    /// `onStatus` hears every change of status, on Avahi's thread: keep it short.
    public init(record: DiscoveryRecord, logger: Logger, onStatus: @escaping @Sendable (DiscoveryStatus) -> Void = { _ in }) {
        self.record = record
        self.logger = logger
        self.onStatus = onStatus
    }

    public func run(port: Int?, events: AsyncStream<DiscoveryEvent>.Continuation) async {
        let session: AvahiSession
        do {
            session = try AvahiSession(record: record, port: port, events: events, logger: logger, onStatus: onStatus)
        } catch {
            onStatus(.unavailable(reason: error.reason))
            logger.error("local discovery cannot start", metadata: ["reason": "\(error.reason)"])
            return
        }
        session.maintain()
        while !Task.isCancelled {
            try? await Task.sleep(for: retryInterval)
            if !Task.isCancelled { session.maintain() }
        }
        session.stop()
    }
}

/// Why Avahi could not be used.
struct AvahiFailure: Error {
    let reason: String

    init(_ reason: String) { self.reason = reason }

    /// Avahi's own text for an error code, as a reason a person can act on.
    init(code: Int32) {
        let text = String(cString: avahi_strerror(code))
        switch code {
        case Int32(AVAHI_ERR_NO_DAEMON):
            // Avahi says the same when there is no bus at all: tell the two apart.
            if let socket = Self.systemBusSocket, access(socket, F_OK) != 0 {
                reason = "there is no D-Bus system bus (no \(socket)), so no avahi-daemon can be reached"
            } else {
                reason = "no avahi-daemon answers on the D-Bus system bus (\(text))"
            }
        case Int32(AVAHI_ERR_DBUS_ERROR):
            reason = "the D-Bus system bus cannot be reached (\(text))"
        default:
            reason = "Avahi failed: \(text)"
        }
    }

    /// The path of the system bus's socket, when its address is a plain Unix path.
    static var systemBusSocket: String? {
        guard let address = getenv("DBUS_SYSTEM_BUS_ADDRESS").map({ String(cString: $0) }), !address.isEmpty else {
            return "/run/dbus/system_bus_socket"
        }
        guard address.hasPrefix("unix:path="), !address.contains(";") else { return nil }
        let path = address.dropFirst("unix:path=".count).prefix { $0 != "," }
        return String(path)
    }
}
