import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Synchronization
import Testing

/// The real `palier` binary in real processes: exit statuses, stderr, `run` and its signals.
@Suite struct LiveProcessTests {
    static var binary: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier")
    }

    typealias Output = ProcessOutput

    let dataDir = makeTemporaryDirectory("palier-live").appendingPathComponent(".palier").path

    @discardableResult
    func palier(_ arguments: String...) throws -> Output { try palier(arguments: arguments) }

    @discardableResult
    func palier(arguments: [String]) throws -> Output {
        try runProcess(Self.binary.path, arguments + ["--data-dir", dataDir])
    }

    @Test func refusalsGoToStderrWithTheirExitStatus() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.binary.path), "palier binary not built at \(Self.binary.path)")
        let none = try palier("list")
        #expect(none.status == 66)
        #expect(none.stdout.isEmpty)
        #expect(none.stderr == "palier: No palier node is initialised in \(dataDir); run `palier init --name \"<building name>\"` first.\n")
        #expect(try palier("init", "--name", "Les Tilleuls").status == 0)
        let unknown = try palier("post", "sonnet", "--title", "x")
        #expect(unknown.status == 64)
        #expect(unknown.stderr.hasPrefix("palier: Unknown kind 'sonnet'"))
        #expect(try palier("init", "--name", "Les Tilleuls", "--if-needed").status == 0)
    }

    @Test("French or English: PALIER_LANG, the locale, else the building's screen language")
    func speaksTheBuildingsLanguage() throws {
        let missing = try runProcess(Self.binary.path, ["list", "--data-dir", dataDir], environment: ["PALIER_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"])
        #expect(missing.status == 66)
        #expect(missing.stderr == "palier: Aucun nœud palier n'est initialisé dans \(dataDir) ; lancez d'abord `palier init --name \"<nom de l'immeuble>\"`.\n")
        try palier("init", "--name", "Les Tilleuls")
        try configure("feed", ["language": "en"])
        let unknown = ["post", "sonnet", "--title", "x", "--data-dir", dataDir]
        let english = try runProcess(Self.binary.path, unknown, environment: ["PALIER_LANG": "", "LC_ALL": "", "LC_MESSAGES": "", "LANG": "C.UTF-8"])
        #expect(english.stderr.hasPrefix("palier: Unknown kind 'sonnet'"), "\(english.stderr)")
        let french = try runProcess(Self.binary.path, unknown, environment: ["PALIER_LANG": "", "LC_ALL": "", "LC_MESSAGES": "fr_FR.UTF-8", "LANG": "C.UTF-8"])
        #expect(french.stderr.hasPrefix("palier: Genre inconnu « sonnet »"), "\(french.stderr)")
        #expect(try runProcess(Self.binary.path, ["--help"], environment: ["PALIER_LANG": "fr"]).stdout.contains("Le nœud d'un immeuble du réseau de quartier palier."))
    }

    @Test("the building key on paper brings the building back; wrong words write nothing")
    func paperKeyRecovers() throws {
        try palier("init", "--name", "Les Tilleuls")
        let key = try palier("status").stdout.split(separator: "\n").first { $0.hasPrefix("Building key: ") }
        #expect(try palier("key", "export").status == 64)  // --paper is required
        let paper = try palier("key", "export", "--paper")
        #expect(paper.status == 0)
        let lines = paper.stdout.split(separator: "\n").filter { $0.hasPrefix("   1.") || $0.contains(" 9. ") || $0.contains("17. ") }
        #expect(!lines.isEmpty)
        // The words in order, as a person reads the three columns.
        let numbered = paper.stdout.split(separator: "\n").flatMap { line in
            line.split(separator: " ").enumerated().compactMap { index, part in
                part.hasSuffix(".") ? Int(part.dropLast()).map { ($0, String(line.split(separator: " ")[index + 1])) } : nil
            }
        }.sorted { $0.0 < $1.0 }.map(\.1)
        #expect(numbered.count == 24)
        let elsewhere = makeTemporaryDirectory("palier-paper").appendingPathComponent("node").path
        // A wrong word: nothing written.
        var wrong = numbered
        wrong.swapAt(3, 4)
        let refused = try runProcess(Self.binary.path, ["key", "recover", "--name", "Les Tilleuls", "--data-dir", elsewhere],
                                     input: wrong.joined(separator: " ") + "\n")
        #expect(refused.status == 65)
        #expect(refused.stderr == "palier: Those words are not this building's key: the words do not check out: one of them is wrong or two are swapped; nothing was written.\n")
        #expect(!FileManager.default.fileExists(atPath: elsewhere))
        // Four letters of each word, on several lines.
        let typed = numbered.map { String($0.prefix(4)) }
        let recovered = try runProcess(Self.binary.path, ["key", "recover", "--name", "Les Tilleuls", "--data-dir", elsewhere],
                                       input: typed[..<12].joined(separator: " ") + "\n" + typed[12...].joined(separator: " ") + "\n\n")
        #expect(recovered.status == 0, "\(recovered.stderr)")
        let recoveredKey = try runProcess(Self.binary.path, ["status", "--data-dir", elsewhere]).stdout.split(separator: "\n").first { $0.hasPrefix("Building key: ") }
        #expect(recoveredKey == key)
        // Never over a node.
        let again = try runProcess(Self.binary.path, ["key", "recover", "--name", "Les Tilleuls", "--data-dir", elsewhere], input: typed.joined(separator: " ") + "\n")
        #expect(again.status == 73)
    }

    @Test func showHexGivesTheSignedBytesForIndependentChecking() throws {
        try palier("init", "--name", "Les Tilleuls")
        let posted = try palier("post", "notice", "--title", "Assemblée générale", "--body", "Mardi 19 h, salle commune.")
        #expect(posted.status == 0)
        let shortID = try #require(posted.stdout.split(separator: " ").dropFirst(2).first.map(String.init))
        let hex = try palier("show", shortID, "--hex").stdout.trimmingCharacters(in: .whitespacesAndNewlines)
        let envelope = try EnvelopeValidator.sodium.open(try #require(bytes(fromHex: hex)))
        #expect(envelope.id.hex.hasPrefix(shortID))
        #expect(envelope.content.postContent?.title == "Assemblée générale")
    }

    /// Sets keys of one section (`feed`, `sync`) of the node's config.json.
    func configure(_ section: String, _ settings: [String: Any]) throws {
        let url = URL(fileURLWithPath: dataDir).appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as! [String: Any]
        var values = config[section] as? [String: Any] ?? [:]
        values.merge(settings) { _, new in new }
        config[section] = values
        try JSONSerialization.data(withJSONObject: config).write(to: url)
    }

    @Test func runHoldsTheDirectoryAndStopsOnSIGTERM() async throws {
        try palier("init", "--name", "Les Tilleuls")
        try configure("feed", ["kioskPort": 0])
        try configure("sync", ["port": 0])
        let process = Process()
        process.environment = palierEnvironment
        process.executableURL = Self.binary
        process.arguments = ["run", "--data-dir", dataDir]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        // Wait (bounded) until the node reports itself running.
        var status = try palier("status")
        // (The version and start follow the lock by a moment: wait for both.)
        for _ in 0..<100 where !status.stdout.contains("Node: running") || !status.stdout.contains(", since ") {
            try await Task.sleep(for: .milliseconds(100))
            status = try palier("status")
        }
        #expect(status.stdout.contains("Node: running (pid \(process.processIdentifier)"))
        #expect(status.stdout.contains("Version: palier ") && status.stdout.contains(", since "))
        // A second node on the same directory is refused.
        let second = try palier("run")
        #expect(second.status != 0)
        #expect(second.stderr.contains("already running"))
        // The CLI works while the node runs.
        #expect(try palier("post", "tip", "--title", "Pendant que le nœud tourne").status == 0)

        process.terminate()  // SIGTERM
        for _ in 0..<100 where process.isRunning { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        #expect(process.terminationStatus == 0)
        let log = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(log.contains("node running"))
        #expect(log.contains("node stopped"))
        #expect(try palier("status").stdout.contains("Node: not running"))
    }

    @Test("SIGTERM at any moment of start-up, with 5,000 posts stored, stops the node within 3 s and leaves the store whole")
    func sigtermDuringStartUp() async throws {
        try palier("init", "--name", "Les Tilleuls")
        try configure("feed", ["kioskPort": 0])
        try configure("sync", ["port": 0])
        let root = URL(fileURLWithPath: dataDir)
        let building = try KeyFile.load(root.appendingPathComponent("building.key").path)
        let store = try EnvelopeStore(path: root.appendingPathComponent("palier.sqlite").path, building: building.publicKey, validator: .sodium)
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let posts = (0..<5_000).map { Fixtures.post(by: building, in: building.publicKey, at: now - 600_000 + UInt64($0), title: "Annonce \($0)") }
        _ = try store.ingest(posts.map(\.bytes), now: now)
        for delay in [0, 5, 20, 50, 100, 250] {
            let process = Process()
            process.environment = palierEnvironment
            process.executableURL = Self.binary
            process.arguments = ["run", "--data-dir", dataDir]
            process.standardError = FileHandle.nullDevice
            process.standardOutput = FileHandle.nullDevice
            try process.run()
            try await Task.sleep(for: .milliseconds(delay))
            process.terminate()
            for _ in 0..<300 where process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!process.isRunning, "still running 3 s after SIGTERM sent \(delay) ms after the start")
            if process.isRunning { process.interrupt() }
            process.waitUntilExit()
            // Stopped gracefully (0), or by the signal itself before the node took it over.
            let stopped = process.terminationReason == .uncaughtSignal ? process.terminationStatus == SIGTERM : process.terminationStatus == 0
            #expect(stopped, "after \(delay) ms: \(process.terminationReason) \(process.terminationStatus)")
        }
        let list = try palier("list", "--limit", "1")
        #expect(list.status == 0)
        #expect(list.stdout.contains("Annonce 4999"))
    }
}

@Suite struct FeedCommandTests {
    @Test func palierFeedFollowsTheRunningNode() async throws {
        let live = LiveProcessTests()
        try live.palier("init", "--name", "Les Tilleuls")
        try live.configure("feed", ["kioskPort": 0])
        try live.configure("sync", ["port": 0])
        let refused = try live.palier("feed")
        #expect(refused.status == 69)
        #expect(refused.stderr.hasPrefix("palier: No running node answers on"))
        try live.palier("post", "tip", "--title", "Déjà là")

        let node = Process()

        node.environment = palierEnvironment
        node.executableURL = LiveProcessTests.binary
        node.arguments = ["run", "--data-dir", live.dataDir]
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer { if node.isRunning { node.terminate() } }
        let socketPath = URL(fileURLWithPath: live.dataDir).appendingPathComponent("run/feed.sock").path
        for _ in 0..<100 where !FileManager.default.fileExists(atPath: socketPath) { try await Task.sleep(for: .milliseconds(50)) }

        let feed = Process()

        feed.environment = palierEnvironment
        feed.executableURL = LiveProcessTests.binary
        feed.arguments = ["feed", "--data-dir", live.dataDir]
        let output = Pipe()
        feed.standardOutput = output
        try feed.run()
        defer { if feed.isRunning { feed.terminate() } }
        let lines = LineCollector(output.fileHandleForReading)
        #expect(await lines.waitFor { $0.contains("[tip] Déjà là") })
        try live.palier("post", "alert", "--title", "Coupure d'eau")
        #expect(await lines.waitFor { $0.hasPrefix("+ !! [alert] Coupure d'eau") })
        #expect(lines.all.first == "Screen of Les Tilleuls")
    }
}

/// Collects the lines a process prints, on a thread of its own.
final class LineCollector: Sendable {
    private let lines = Mutex<[String]>([])

    init(_ handle: FileHandle) {
        let thread = Thread { [self] in
            var buffer = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                buffer.append(chunk)
                while let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = String(decoding: buffer[..<newline], as: UTF8.self)
                    buffer.removeSubrange(...newline)
                    self.lines.withLock { $0.append(line) }
                }
            }
        }
        thread.start()
    }

    var all: [String] { lines.withLock { $0 } }

    func waitFor(timeout: Duration = .seconds(5), _ matches: (String) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if all.contains(where: matches) { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return false
    }
}
