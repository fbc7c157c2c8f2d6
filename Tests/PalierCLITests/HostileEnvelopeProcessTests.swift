import Foundation
import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// Issue 17: one envelope from a neighbour must not crash a node. A real `palier run` process is
/// sent envelopes with each time field at its extremes by an independent peer (Python) that
/// holds the network key; invalid ones get `bye` 2 and are not stored, valid ones at the top of
/// time are stored without harm, and the node keeps answering another peer.
@Suite struct HostileEnvelopeProcessTests {
    struct Case: Sendable {
        let name: String
        let envelope: @Sendable (SigningKey) -> [UInt8]
        /// `bye 2` (blamed), or `kept` (the session stays: refused without blame, or stored).
        let expected: String
        let stored: Bool
    }

    static let now = UInt64(Date().timeIntervalSince1970 * 1000)

    static func raw(_ key: SigningKey, _ change: (inout RawEnvelope) -> Void) -> [UInt8] {
        var raw = RawEnvelope(author: key)
        raw.timestamp = HybridTimestamp(millis: now).rawValue
        raw.expiresAt = now + Limits.millisPerDay
        change(&raw)
        return raw.bytes
    }

    static let cases: [Case] = [
        Case(name: "issue 17: created 1 ms after the epoch, expiring at 2^64 − 1", envelope: { key in
            raw(key) { $0.timestamp = 1 << 16; $0.expiresAt = .max }
        }, expected: "bye 2", stored: false),
        Case(name: "timestamp and expiry at 2^64 − 1", envelope: { key in
            raw(key) { $0.timestamp = .max; $0.expiresAt = .max }
        }, expected: "bye 2", stored: false),
        Case(name: "timestamp 0", envelope: { key in raw(key) { $0.timestamp = 0 } }, expected: "bye 2", stored: false),
        Case(name: "expiry 0", envelope: { key in raw(key) { $0.expiresAt = 0 } }, expected: "bye 2", stored: false),
        Case(name: "a valid lifetime of 1 ms at the epoch (expired: refused without blame)", envelope: { key in
            raw(key) { $0.timestamp = 1; $0.expiresAt = 1 }
        }, expected: "kept", stored: false),
        Case(name: "an event starting at 2^64 − 2 and ending at 2^64 − 1 (valid: stored, shown in 584 million years)", envelope: { key in
            raw(key) { $0.kind = .event; $0.title = "Fin des temps"; $0.event = (.max - 1, .max, "Cour") }
        }, expected: "kept", stored: true),
        Case(name: "an event from 0 to 2^64 − 1 (valid: on the screen now)", envelope: { key in
            raw(key) { $0.kind = .event; $0.title = "Toujours"; $0.event = (0, .max, "Cour") }
        }, expected: "kept", stored: true),
    ]

    @Test("envelopes with extreme times over sync: the invalid get bye 2 and are not stored, the node runs on and answers another peer")
    func extremesOverSync() async throws {
        let node = LiveProcessTests()
        try node.palier("init", "--name", "Les Tilleuls")
        let port = KioskBrowserTests.freePort()
        try node.configure("feed", ["kioskPort": 0])
        try node.configure("sync", ["listen": "127.0.0.1", "port": port, "discovery": false])
        let network = try NetworkKey.load(URL(fileURLWithPath: node.dataDir).appendingPathComponent("network.key").path)

        // Each case speaks as a building of its own (a blamed one is refused for a while), all
        // followed, so that what they post goes through this screen's rules too.
        let keys = (0..<Self.cases.count).map { Fixtures.key(1700 + UInt64($0)) }
        for key in keys { #expect(try node.palier("follow", key.publicKey.text).status == 0) }
        let stored = try node.palier("status").stdout

        let process = try FederationProcessTests.start(node)
        defer { if process.isRunning { process.terminate() } }
        try await waitForPort(port)

        for (key, test) in zip(keys, Self.cases) {
            let result = try await onOwnThread { try runProjectScript("scripts/noise-interop.sh", [
                "127.0.0.1", "\(port)", hexString(network.bytes), "--envelope", hexString(key.seed), hexString(test.envelope(key)),
            ]) }
            #expect(result.status == 0, "\(test.name): \(result.output)")
            #expect(result.output.contains("\(test.expected)\n"), "\(test.name): \(result.output)")
            #expect(process.isRunning, "the node died on: \(test.name)")
        }
        // Give the screen's clock a turn with what was stored (it used to trap on the far event).
        try await Task.sleep(for: .milliseconds(1500))
        #expect(process.isRunning, "the node died after storing the extreme events")

        // A second, ordinary peer still gets hello, pong and unsupported.
        let second = try await onOwnThread { try runProjectScript("scripts/noise-interop.sh", ["127.0.0.1", "\(port)", hexString(network.bytes)]) }
        #expect(second.status == 0 && second.output.contains("pong 42\n"), "\(second.output)")

        // Nothing invalid was stored: the store holds the profile and the two valid events.
        let status = try node.palier("status").stdout
        #expect(stored.contains("Stored: 1 envelope,"), "\(stored)")
        #expect(status.contains("Stored: 3 envelopes,"), "\(status)")
        let list = try node.palier("list").stdout
        #expect(list.contains("Toujours") && list.contains("Fin des temps"), "\(list)")
    }

    /// Waits (bounded) until something listens on `port` on loopback.
    func waitForPort(_ port: Int) async throws {
        for _ in 0..<100 {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = in_port_t(UInt16(port).bigEndian)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            } == 0
            close(fd)
            if connected { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        Issue.record("nothing listens on port \(port)")
    }
}
