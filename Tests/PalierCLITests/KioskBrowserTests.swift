import Foundation
import PalierTestSupport
import Testing

/// The kiosk page in real headless Chromium (Debian's `chromium`, installed by scripts/setup.sh):
/// French text shows, an alert posted with the CLI appears without a reload, and screenshots are
/// kept in test-artifacts/.
@Suite struct KioskBrowserTests {

    /// A TCP port nobody listens on right now.
    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = loopback(port: 0)
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// The IPv4 address 127.0.0.1:port.
    static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = UInt16(port).bigEndian
        return address
    }

    /// A TCP socket connected to 127.0.0.1:port, or nil when nothing accepts there.
    static func connectLoopback(port: Int) -> Int32? {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = loopback(port: port)
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); return nil }
        return fd
    }

    /// Whether something accepts TCP connections on 127.0.0.1:port.
    static func accepts(port: Int) -> Bool {
        guard let fd = connectLoopback(port: port) else { return false }
        close(fd)
        return true
    }

    @Test func theKioskPageShowsFrenchTextAndAnAlertWithoutReloading() async throws {
        let live = LiveProcessTests()
        try live.palier("init", "--name", "Résidence Les Érables")
        let port = Self.freePort()
        try live.configure("feed", ["kioskPort": port])
        try live.configure("sync", ["port": 0])
        let event = "Fête de la Saint-Jean à l'école élémentaire"
        #expect(try live.palier("post", "event", "--title", event, "--start", "2d", "--place", "Cour des Érables", "--lang", "fr").status == 0)
        #expect(try live.palier("post", "tip", "--title", "Vélo bleu trouvé près du local", "--body", "Il attend son propriétaire chez la gardienne.").status == 0)

        let node = Process()

        node.environment = palierEnvironment
        node.executableURL = LiveProcessTests.binary
        node.arguments = ["run", "--data-dir", live.dataDir]
        node.standardOutput = FileHandle.nullDevice
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer { if node.isRunning { node.terminate() } }
        // Wait (bounded) for the page to answer.
        var up = false
        for _ in 0..<100 where !up {
            up = Self.accepts(port: port)
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        try #require(up, "the kiosk page never answered on port \(port)")

        let artifacts = packageRoot.appendingPathComponent("test-artifacts")
        let check = try await onOwnThread { try runProjectScript("scripts/kiosk-check.py", interpreter: "python3", [
            "http://127.0.0.1:\(port)/", event, "Coupure d'eau générale", artifacts.appendingPathComponent("kiosk.png").path,
            "--", LiveProcessTests.binary.path, "post", "alert", "--title", "Coupure d'eau générale",
            "--body", "Jeudi de 9 h à 12 h : travaux sur la colonne montante.", "--data-dir", live.dataDir,
        ], captureErrors: true) }
        let text = check.output
        #expect(check.status == 0, "\(text)")
        #expect(text.contains("shows without a reload"), "\(text)")
        #expect(FileManager.default.fileExists(atPath: artifacts.appendingPathComponent("kiosk.png").path))
    }

    @Test func theNodeStopsPromptlyWithAnOpenKioskEventStream() async throws {
        let live = LiveProcessTests()
        try live.palier("init", "--name", "Les Tilleuls")
        let port = Self.freePort()
        try live.configure("feed", ["kioskPort": port])
        try live.configure("sync", ["port": 0])
        let node = Process()
        node.environment = palierEnvironment
        node.executableURL = LiveProcessTests.binary
        node.arguments = ["run", "--data-dir", live.dataDir]
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer { if node.isRunning { node.terminate() } }
        for _ in 0..<100 where !Self.accepts(port: port) { try await Task.sleep(for: .milliseconds(100)) }

        // A browser's event stream: open, and never closed by the client.
        let fd = try #require(Self.connectLoopback(port: port))
        defer { close(fd) }
        let request = Array("GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".utf8)
        _ = send(fd, request, request.count, 0)
        var buffer = [UInt8](repeating: 0, count: 4096)
        let n = recv(fd, &buffer, buffer.count, 0)
        #expect(String(decoding: buffer[0..<max(n, 0)], as: UTF8.self).contains("text/event-stream"))

        node.terminate()  // SIGTERM
        let stopping = ContinuousClock.now
        while node.isRunning && ContinuousClock.now - stopping < .seconds(10) { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!node.isRunning, "palier run still running 10 s after SIGTERM with an open event stream")
        #expect(node.terminationStatus == 0)
    }

    @Test("a browser started before the node waits on the launcher page, then opens the kiosk page by itself")
    func theLauncherWaitsForTheNode() async throws {
        let live = LiveProcessTests()
        try live.palier("init", "--name", "Les Tilleuls")
        let port = Self.freePort()
        try live.configure("feed", ["kioskPort": port])
        try live.configure("sync", ["port": 0])
        let check = try await onOwnThread { try runProjectScript("scripts/kiosk-launcher.py", interpreter: "python3", [
            packageRoot.appendingPathComponent("examples/screen/launcher.html").path, "http://127.0.0.1:\(port)/",
            "--", LiveProcessTests.binary.path, "run", "--data-dir", live.dataDir,
        ], captureErrors: true) }
        #expect(check.status == 0, "\(check.output)")
        #expect(check.output.contains("opens http://127.0.0.1:\(port)/ by itself"), "\(check.output)")
    }
}
