import Foundation

/// A private Tor network made by `scripts/tor-lab.sh` under `.build/tor-labs/`: three directory
/// authorities and three relays in an "internet" namespace, and buildings each behind a NAT of
/// its own with a tor client (control socket, cookie, SOCKS 127.0.0.1:9050). Taken down (every
/// process it started, its namespaces, its directory) by ``down()``, which tests call in a
/// `defer`; a lab whose test process died is taken down by the next `up`.
public final class TorLab: Sendable {
    /// Why no lab can be made on this machine (not root, no tor, no iptables…); nil when one can.
    public static let unavailableReason: String? = LabScript.unavailableReason("scripts/tor-lab.sh", skipping: "Tor lab tests")

    public static var isAvailable: Bool { unavailableReason == nil }

    /// Where labs live: inside the build directory, nothing outside it.
    public static let root = packageRoot.appendingPathComponent(".build/tor-labs").path

    public let directory: String

    private init(directory: String) { self.directory = directory }

    /// Makes a lab of `buildings` buildings, named b1…bN, and waits until each one's tor has
    /// bootstrapped.
    public static func up(buildings: Int) async throws -> TorLab {
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
        let directory = "\(root)/lab-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let result = try await onOwnThread {
            try runProjectScript("scripts/tor-lab.sh", ["up", directory, "\(buildings)"], captureErrors: true,
                                 environment: ["LAB_OWNER": "\(getpid())"])
        }
        guard result.status == 0 else {
            _ = try? runProjectScript("scripts/tor-lab.sh", ["down", directory])
            throw AvahiLab.LabError(text: "tor-lab.sh up failed: \(result.output)")
        }
        return TorLab(directory: directory)
    }

    /// Building `name`'s tor control socket.
    public func controlSocket(_ name: String) -> String { "\(directory)/\(name)/control" }

    /// The lab's namespaces (for the test that nothing is left behind).
    public var namespaces: [String] {
        ((try? String(contentsOfFile: "\(directory)/namespaces", encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    /// Starts `arguments` in `building`'s namespace with standard error to `log` (a file); its
    /// pid is recorded so that ``down()`` stops it if the test did not.
    public func start(in building: String, _ arguments: [String], log: String) throws -> Process {
        try LabScript.start("scripts/tor-lab.sh", directory: directory, building: building, arguments, log: log)
    }

    /// Stops building `name`'s tor.
    public func stopTor(_ name: String) async throws {
        let directory = directory
        _ = try await onOwnThread { try runProjectScript("scripts/tor-lab.sh", ["tor-stop", directory, name]) }
    }

    /// Starts building `name`'s tor again and returns once it has bootstrapped.
    public func startTor(_ name: String) async throws {
        let directory = directory
        let result = try await onOwnThread { try runProjectScript("scripts/tor-lab.sh", ["tor-start", directory, name], captureErrors: true) }
        guard result.status == 0 else { throw AvahiLab.LabError(text: "tor-start failed: \(result.output)") }
    }

    /// Stops every process the lab started, deletes its namespaces and its directory (blocking:
    /// for a `defer`).
    public func down() {
        _ = try? runProjectScript("scripts/tor-lab.sh", ["down", directory])
    }
}
