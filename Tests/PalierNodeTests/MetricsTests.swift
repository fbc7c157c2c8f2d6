import Foundation
import Logging
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierSync
import PalierTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The metrics a running node serves, and what `palier status` learns from it: its version and
/// start, and each neighbour's last sync.
@Suite(.serialized) struct MetricsTests {
    /// A TCP port nobody listens on now.
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        try #require(withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } } == 0)
        try #require(withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } } == 0)
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// GET /metrics over a plain socket, read up to its Content-Length (bounded by a 10 s
    /// receive timeout).
    static func scrape(_ port: Int) throws -> [String: Double] {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port)).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        try #require(withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        } == 0)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let request = Array("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".utf8)
        _ = request.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        func complete() -> Bool {
            let text = String(decoding: bytes, as: UTF8.self)
            guard let end = text.range(of: "\r\n\r\n"),
                  let line = text[..<end.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
                  let length = Int(line.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)) else { return false }
            return text[end.upperBound...].utf8.count >= length
        }
        while !complete() {
            let n = read(fd, &buffer, buffer.count)
            if n <= 0 { break }
            bytes += buffer[..<n]
        }
        let text = String(decoding: bytes, as: UTF8.self)
        let parts = text.components(separatedBy: "\r\n\r\n")
        #expect(parts.first?.lowercased().contains("content-type: text/plain; version=0.0.4") == true, "\(parts.first ?? "")")
        return parse(parts.dropFirst().first ?? "")
    }

    static func parse(_ text: String) -> [String: Double] {
        var values: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            let fields = line.split(separator: " ")
            if fields.count == 2, let value = Double(fields[1]) { values[String(fields[0])] = value }
        }
        return values
    }

    @Test("the figures follow the store, the screen and sync; status shows version, start and last sync")
    func figures() async throws {
        let memory = InMemoryNetwork()
        let port = try Self.freePort(), portB = try Self.freePort()
        func make(_ name: String, peers: [String], metrics: Int) throws -> BuildingNode {
            var configuration = NodeConfiguration(buildingName: name)
            configuration.sync.staticPeers = peers
            configuration.sync.discovery = false
            configuration.residents.port = 0
            configuration.metrics.port = metrics
            return try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                               configuration: configuration)
        }
        let a = try make("Les Lilas", peers: [], metrics: port)
        let b = try make("Les Tilleuls", peers: [InMemoryNetwork.endpoint("a").description], metrics: portB)
        try b.joinNetwork(invite: a.networkKey()!.invite, replace: true)
        try a.setStance(.follow, for: b.building)
        for n in 0..<3 { try b.post(.tip, PostContent(title: "Astuce \(n)", language: "fr"), scope: .neighbourhood, as: b.buildingKey) }
        try a.post(.notice, PostContent(title: "Coupure d'eau", language: "fr"), as: a.buildingKey)
        var logger = Logger(label: "test-metrics")
        logger.logLevel = .critical
        func start(_ node: BuildingNode, _ name: String) throws -> (NodeRuntime, Task<Void, any Error>) {
            let runtime = try NodeRuntime(node: node, logger: logger, options: .inMemory(memory, name))
            return (runtime, Task { try await runtime.run(signals: false) })
        }
        let (runtimeA, taskA) = try start(a, "a")
        let (runtimeB, taskB) = try start(b, "b")
        defer { taskA.cancel(); taskB.cancel() }

        // Synced: A holds B's tips, shows them, and says when it last agreed with B.
        let synced = try await eventually(within: .seconds(15)) {
            try a.peers().first { $0.building == b.building }?.lastSync != nil
        }
        #expect(synced != nil, "no reconciliation round was recorded")
        // The tips have arrived (a round finishes once the differences are known; the bodies
        // follow), and the screen has taken them in (its refresh follows the store's signal).
        #expect(try await eventually(within: .seconds(15)) { try a.status().shown == 4 } != nil)
        #expect(try await eventually(within: .seconds(10)) { await runtimeA.hub.playlist.items.count == 4 } != nil)
        // Over HTTP, as Prometheus reads it; then the figures straight from the runtime (a
        // parallel test's node may take a port between freePort() and the bind).
        #expect(try Self.scrape(port)["palier_build_info{version=\"\(PalierVersion.current)\"}"] == 1)
        let values = Self.parse(await runtimeA.metrics.text(of: runtimeA))
        #expect(values["palier_envelopes_stored{kind=\"tip\"}"] == 3)
        #expect(values["palier_envelopes_stored{kind=\"notice\"}"] == 1)
        #expect(values["palier_sync_sessions"] == 1)
        #expect(values["palier_sync_peers_known"] == 1)
        #expect((values["palier_sync_envelopes_accepted_total"] ?? 0) >= 4)  // 3 tips and B's profile
        // B dialled, so B started the rounds.
        #expect((Self.parse(await runtimeB.metrics.text(of: runtimeB))["palier_sync_reconciliation_rounds_total"] ?? 0) >= 1)
        #expect((values["palier_sync_received_bytes_total"] ?? 0) > 0)
        #expect((values["palier_store_bytes"] ?? 0) > 0)
        #expect(values["palier_build_info{version=\"\(PalierVersion.current)\"}"] == 1)
        // The screen's count is the status's count.
        let shown = await runtimeA.hub.playlist.items.count
        #expect(values["palier_screen_playlist_items"] == Double(shown))
        #expect(try a.status().shown == shown)
        // Counters only go up: a second read adds nothing that did not happen.
        let again = Self.parse(await runtimeA.metrics.text(of: runtimeA))
        #expect(again["palier_sync_envelopes_accepted_total"] == values["palier_sync_envelopes_accepted_total"])
        // palier status: the running version and start.
        let info = try #require(a.runtimeInfo())
        #expect(info.version == PalierVersion.current && info.pid == getpid())
        #expect(info.started <= a.now())
    }

    @Test("lengths of time and times past read as a person says them")
    func durations() {
        #expect(TimeSpec.duration(millis: 0) == "0 s")
        #expect(TimeSpec.duration(millis: 59_999) == "59 s")
        #expect(TimeSpec.duration(millis: 60_000) == "1 min")
        #expect(TimeSpec.duration(millis: 3_600_000) == "1 h")
        #expect(TimeSpec.duration(millis: 3_600_000 + 20 * 60_000) == "1 h 20 min")
        #expect(TimeSpec.duration(millis: 86_400_000) == "1 day")
        #expect(TimeSpec.duration(millis: .max) == "\(UInt64.max / 1000 / 86_400) days")
        #expect(TimeSpec.ago(millis: 10_000, now: 5_000) == "just now")
        #expect(TimeSpec.ago(millis: 0, now: 120_000) == "2 min ago")
        #expect(TimeSpec.ago(millis: 0, now: 8 * 86_400_000).hasPrefix("on 1970-01-01"))
    }
}
