import Foundation

/// A local network of buildings made by `scripts/avahi-lab.sh`: one network namespace per
/// building on a shared bridge, each with its own D-Bus and (unless told otherwise)
/// avahi-daemon. Taken down (every process it started, its namespaces) by ``down()``, which
/// tests call in a `defer`; a lab whose test process died is taken down by the next `up`.
public final class AvahiLab: Sendable {
    /// Why no lab can be made on this machine (not root, no `ip netns`, no avahi-daemon…);
    /// nil when one can.
    public static let unavailableReason: String? = LabScript.unavailableReason("scripts/avahi-lab.sh", skipping: "avahi-daemon lab tests")

    public static var isAvailable: Bool { unavailableReason == nil }

    public let directory: String

    private init(directory: String) {
        self.directory = directory
    }

    /// Makes a lab. Each spec is a building name (D-Bus and avahi-daemon), `name:nodaemon`
    /// (D-Bus only) or `name:bare` (neither); building number n (from 1) has 10.77.0.n.
    public static func up(_ specs: [String]) async throws -> AvahiLab {
        let directory = makeTemporaryDirectory("palier-lab").appendingPathComponent("lab").path
        let result = try await onOwnThread {
            try runProjectScript("scripts/avahi-lab.sh", ["up", directory] + specs, captureErrors: true,
                                 environment: ["LAB_OWNER": "\(getpid())"])
        }
        guard result.status == 0 else {
            _ = try? runProjectScript("scripts/avahi-lab.sh", ["down", directory])
            throw LabError(text: "avahi-lab.sh up failed: \(result.output)")
        }
        return AvahiLab(directory: directory)
    }

    public struct LabError: Error, CustomStringConvertible {
        public let text: String
        public var description: String { text }
    }

    /// The address of building number `n` (from 1).
    public static func address(_ n: Int) -> String { "10.77.0.\(n)" }

    /// Starts `arguments` in `building`'s namespace, on its D-Bus, with standard error to `log`
    /// (a file). Its pid is recorded so that ``down()`` stops it if the test did not.
    public func start(in building: String, _ arguments: [String], log: String) throws -> Process {
        try LabScript.start("scripts/avahi-lab.sh", directory: directory, building: building, arguments, log: log)
    }

    /// Runs `arguments` in `building`'s namespace to their end; returns what they printed.
    public func run(in building: String, _ arguments: [String]) async throws -> ScriptResult {
        let directory = directory
        return try await onOwnThread { try runProjectScript("scripts/avahi-lab.sh", ["exec", directory, building] + arguments) }
    }

    public func stopAvahi(_ building: String) async throws {
        let directory = directory
        _ = try await onOwnThread { try runProjectScript("scripts/avahi-lab.sh", ["avahi-stop", directory, building]) }
    }

    /// Starts the building's avahi-daemon again and returns once it is on its bus.
    public func startAvahi(_ building: String) async throws {
        let directory = directory
        let result = try await onOwnThread {
            try runProjectScript("scripts/avahi-lab.sh", ["avahi-start", directory, building], captureErrors: true)
        }
        guard result.status == 0 else { throw LabError(text: "avahi-start failed: \(result.output)") }
    }

    /// Stops every process the lab started and deletes its namespaces (blocking: for a `defer`).
    public func down() {
        _ = try? runProjectScript("scripts/avahi-lab.sh", ["down", directory])
    }
}
