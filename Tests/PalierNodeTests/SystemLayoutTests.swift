import Foundation
import Logging
import PalierCore
import PalierFeed
@testable import PalierNode
import PalierSync
import PalierTestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Debian package's layout (data in /var/lib/palier, settings in /etc/palier) and systemd's
/// readiness notification, without the package (DebianPackageTests runs the real one).
@Suite struct SystemLayoutTests {
    @Test("the package's node is the default only where the package is installed, and names beat it")
    func resolution() throws {
        let etc = makeTemporaryDirectory("palier-etc").appendingPathComponent("palier")
        let data = makeTemporaryDirectory("palier-var").appendingPathComponent("palier").path
        func resolve(_ option: String? = nil, _ environment: [String: String] = [:]) -> NodeDirectory {
            NodeDirectory.resolve(option, environment: environment, configurationDirectory: etc.path, dataDirectory: data)
        }
        #expect(!resolve().isSystem)
        #expect(resolve().root.lastPathComponent == ".palier")
        try FileManager.default.createDirectory(at: etc, withIntermediateDirectories: true)
        let system = resolve()
        #expect(system.isSystem)
        #expect(system.root.path == data)
        #expect(system.configurationFile.path == etc.appendingPathComponent("config.json").path)
        #expect(resolve("/srv/lilas").configurationFile.path == "/srv/lilas/config.json")
        #expect(!resolve(nil, ["PALIER_DIR": "/srv/lilas"]).isSystem)
        // A file of that name is not the package's directory.
        try FileManager.default.removeItem(at: etc)
        FileManager.default.createFile(atPath: etc.path, contents: Data())
        #expect(!resolve().isSystem)
    }

    @Test("init, open and restore keep the settings where the layout says, apart from the data")
    func configurationApart() throws {
        let etc = makeTemporaryDirectory("palier-etc")
        let directory = NodeDirectory(path: makeTemporaryDirectory("palier-var").appendingPathComponent("palier").path,
                                      configurationFile: etc.appendingPathComponent("config.json").path, isSystem: false)
        let node = try BuildingNode.initialise(directory, configuration: NodeConfiguration(buildingName: "Les Lilas"))
        #expect(FileManager.default.fileExists(atPath: etc.appendingPathComponent("config.json").path))
        #expect(!FileManager.default.fileExists(atPath: directory.root.appendingPathComponent("config.json").path))
        #expect(try BuildingNode.open(directory).building == node.building)
        let file = makeTemporaryDirectory("palier-backup").appendingPathComponent("lilas.palier-backup")
        try node.backup(to: file, passphrase: "chat perché sous la lune", strength: .interactive)
        let newEtc = makeTemporaryDirectory("palier-etc2")
        let newBox = NodeDirectory(path: makeTemporaryDirectory("palier-var2").appendingPathComponent("palier").path,
                                   configurationFile: newEtc.appendingPathComponent("config.json").path, isSystem: false)
        let restored = try BuildingNode.restore(from: file, passphrase: "chat perché sous la lune", into: newBox)
        #expect(restored.building == node.building)
        #expect(FileManager.default.fileExists(atPath: newEtc.appendingPathComponent("config.json").path))
        #expect(!FileManager.default.fileExists(atPath: newBox.root.appendingPathComponent("config.json").path))
    }

    /// A datagram socket standing in for systemd's.
    static func listen(_ path: [UInt8]) throws -> Int32 {
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { for (i, b) in path.enumerated() { $0[i] = b } }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count + (path.first == 0 ? 0 : 1))
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        try #require(bound == 0, "bind: \(String(cString: strerror(errno)))")
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return fd
    }

    static func receive(_ fd: Int32) -> String? {
        var buffer = [UInt8](repeating: 0, count: 256)
        let n = recv(fd, &buffer, buffer.count, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : nil
    }

    @Test("READY=1 reaches a socket named by a path or in the abstract namespace; no socket, nothing sent")
    func notify() throws {
        let path = makeTemporaryDirectory("palier-notify").appendingPathComponent("notify").path
        let fd = try Self.listen(Array(path.utf8))
        defer { close(fd) }
        #expect(SystemdNotify.send("READY=1", environment: ["NOTIFY_SOCKET": path]))
        #expect(Self.receive(fd) == "READY=1")
        let name = "palier-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let abstract = try Self.listen([0] + Array(name.utf8))
        defer { close(abstract) }
        #expect(SystemdNotify.send("READY=1", environment: ["NOTIFY_SOCKET": "@" + name]))
        #expect(Self.receive(abstract) == "READY=1")
        #expect(!SystemdNotify.send("READY=1", environment: [:]))
        #expect(!SystemdNotify.send("READY=1", environment: ["NOTIFY_SOCKET": "/nonexistent/notify"]))
        #expect(!SystemdNotify.send("READY=1", environment: ["NOTIFY_SOCKET": "/" + String(repeating: "x", count: 200)]))
    }

    @Test("the runtime says it is ready once its sockets answer, not before")
    func readiness() async throws {
        var configuration = NodeConfiguration(buildingName: "Les Lilas")
        configuration.sync.discovery = false
        configuration.residents.port = 0
        let node = try BuildingNode.initialise(NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path),
                                               configuration: configuration)
        var logger = Logger(label: "test-ready")
        logger.logLevel = .critical
        let runtime = try NodeRuntime(node: node, logger: logger, options: .inMemory(InMemoryNetwork(), "a"))
        #expect(!runtime.isReady())
        let (ready, signal) = AsyncStream<Bool>.makeStream()
        let task = Task { try await runtime.run(signals: false, onReady: { signal.yield(runtime.isReady()) }) }
        // Bounded: a runtime that never says it is ready fails here rather than hanging.
        let readyThen = await withTaskGroup(of: Bool?.self) { group in
            group.addTask { await ready.first { _ in true } }
            group.addTask { try? await Task.sleep(for: .seconds(10)); return nil }
            let first = await group.next() ?? nil
            group.cancelAll()
            return first
        }
        #expect(readyThen == true, "onReady was not called within 10 s")
        #expect(connectUnixStream(node.controlSocketPath).map { close($0) } != nil)
        task.cancel()
        _ = await task.result
    }
}
