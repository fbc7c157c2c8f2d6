import Foundation
import Logging
import PalierCore
import PalierCrypto
import PalierStore
import PalierSync
import PalierTestSupport

/// `scale`: a node holding a district. The store is filled with N live posts through the ingest
/// path, then the real `palier run`, `palier list` and `palier post` processes are timed as a
/// user waits for them: start-up until the feed socket answers, the first page of the list, a
/// post until the slowest of ten screens shows it (from the command's start), memory, a burst of
/// 2,000 posts synced from a neighbour in one session while the screens read, and a minute idle.
struct ScaleBenchmark {
    var posts = 10_000
    var idleSeconds = 60
    var burst = 2_000
    var samples = 30

    func run() async throws {
        let binary = palierBinary(for: "scale")
        let dir = makeTemporaryDirectory("palier-bench-scale").appendingPathComponent(".palier")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        func palier(_ arguments: [String]) throws -> String {
            let (status, output) = try spawnAndWait(binary.path, arguments + ["--data-dir", dir.path])
            guard status == 0 else { throw BenchError("palier \(arguments.joined(separator: " ")) failed (\(status))") }
            return output
        }
        _ = try palier(["init", "--name", "Banc d'essai"])
        let neighbour = SigningKey.generate()
        _ = try palier(["follow", neighbour.publicKey.text])
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["feed"] = ["kioskPort": 0]
        config["sync"] = ["listen": "127.0.0.1", "port": 47_000 + Int(getpid() % 1_000), "discovery": false]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)
        let syncPort = (config["sync"] as! [String: Any])["port"] as! Int

        // Fill: N live posts by the building key, through the ingest path; the ratio against
        // libsodium's raw verify rate is measured on the last tenth, at the store's full size.
        let building = try KeyFile.load(dir.appendingPathComponent("building.key").path)
        let fillNow = UInt64(Date().timeIntervalSince1970 * 1000)
        let ratio = try fill(storePath: dir.appendingPathComponent("palier.sqlite").path, building: building, now: fillNow)

        // What an admin waits for at this size, from each command's start: status, doctor
        // (SQLite's integrity check of the whole store), an encrypted backup (it is built in
        // memory: the peak memory of the commands is reported with it).
        func timed(_ arguments: [String], allowed: Set<Int32> = [0]) throws -> Double {
            let start = ContinuousClock.now
            let (status, _) = try spawnAndWait(binary.path, arguments + ["--data-dir", dir.path])
            guard allowed.contains(status) else { throw BenchError("palier \(arguments.joined(separator: " ")) failed (\(status))") }
            return milliseconds(ContinuousClock.now - start)
        }
        let statusMs = try timed(["status"])
        let doctorMs = try timed(["doctor"], allowed: [0, 1])  // 1: the bench machine's own warnings or problems
        setenv("PALIER_PASSPHRASE", "banc d'essai du quartier", 1)
        let backupFile = dir.deletingLastPathComponent().appendingPathComponent("bench.palier-backup").path
        let backupMs = try timed(["backup", backupFile])
        let backupBytes = (try? FileManager.default.attributesOfItem(atPath: backupFile)[.size] as? Int) ?? 0
        var usage = rusage()
        getrusage(RUSAGE_CHILDREN.rawValue, &usage)
        let commandsPeakMb = Double(usage.ru_maxrss) / 1024

        // Start-up, until the feed socket answers with the playlist.
        let socketPath = dir.appendingPathComponent("run/feed.sock").path
        let started = ContinuousClock.now
        let node = Process()
        node.executableURL = binary
        node.arguments = ["run", "--data-dir", dir.path]
        // PALIER_BENCH_NODE_LOG=FILE keeps the node's log (at debug level) for a look afterwards.
        if let log = ProcessInfo.processInfo.environment["PALIER_BENCH_NODE_LOG"] {
            FileManager.default.createFile(atPath: log, contents: nil)
            node.standardError = FileHandle(forWritingAtPath: log)
            node.arguments! += ["--log-level", "debug"]
        } else {
            node.standardError = FileHandle.nullDevice
        }
        try node.run()
        defer { if node.isRunning { node.terminate(); node.waitUntilExit() } }
        var first: TestScreen?
        while first == nil, ContinuousClock.now - started < .seconds(3_600) {
            if FileManager.default.fileExists(atPath: socketPath), let screen = TestScreen(path: socketPath),
               await screen.waitFor(timeout: .seconds(3_600), { $0.type == "snapshot" }) != nil {
                first = screen
            } else {
                try await Task.sleep(for: .milliseconds(5))
            }
        }
        let startup = ContinuousClock.now - started
        guard first != nil else { throw BenchError("the feed socket never answered") }
        let rss = residentMegabytes(node.processIdentifier)

        // The first page of `palier list`.
        var listTimes: [Double] = []
        for _ in 0..<5 {
            let start = ContinuousClock.now
            _ = try palier(["list"])
            listTimes.append(milliseconds(ContinuousClock.now - start))
        }

        // Ten screens; a post from the command's start to the slowest screen.
        let readers = (0..<10).compactMap { _ in TestScreen(path: socketPath) }
        guard readers.count == 10 else { throw BenchError("could not connect 10 screens") }
        for reader in readers { _ = await reader.waitFor(timeout: .seconds(60)) { $0.type == "snapshot" } }
        var postTimes: [Double] = []
        for n in 0..<samples {
            let start = ContinuousClock.now
            let output = try palier(["post", "tip", "--title", "Annonce \(n)", "--expires", "2h"])
            let shortID = output.split(separator: " ")[2]
            var slowest = start
            for reader in readers {
                guard let line = await reader.waitFor(timeout: .seconds(30), { $0.type == "upsert" && ($0.subject?.hasPrefix(shortID) ?? false) }) else {
                    throw BenchError("post \(n) never reached a screen")
                }
                slowest = max(slowest, line.arrival)
            }
            postTimes.append(milliseconds(slowest - start))
        }

        // A burst: a neighbour pushes `burst` posts in one session while the screens read.
        let (dropped, lastToScreen) = try await syncBurst(
            dir: dir, neighbour: neighbour, port: syncPort, readers: readers, now: UInt64(Date().timeIntervalSince1970 * 1000))

        // Idle: wake-ups and CPU over `idleSeconds`, from /proc.
        let pid = node.processIdentifier
        let cpuBefore = cpuTicks(pid)
        let wakeups = try await idleWakeups(pid)
        let cpuAfter = cpuTicks(pid)
        let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))

        postTimes.sort()
        listTimes.sort()
        print("scenario scale")
        print("posts \(posts)")
        print("startup_s \(format(milliseconds(startup) / 1000, 3))")
        print("list_first_page_ms \(format(listTimes[listTimes.count / 2], 1))")
        print("post_to_screen_p50_ms \(format(percentile(postTimes, 0.5), 1))")
        print("post_to_screen_p99_ms \(format(percentile(postTimes, 0.99), 1))")
        print("rss_mb \(format(rss, 1))")
        print("ingest_ratio \(format(ratio, 2))")
        print("status_ms \(format(statusMs, 1))")
        print("doctor_ms \(format(doctorMs, 1))")
        print("backup_ms \(format(backupMs, 1))")
        print("backup_mb \(format(Double(backupBytes) / 1_048_576, 1))")
        print("commands_peak_rss_mb \(format(commandsPeakMb, 1))")
        print("burst_screens_dropped \(dropped)")
        print("burst_last_post_to_screen_ms \(format(lastToScreen, 1))")
        print("idle_wakeups_per_s \(format(Double(wakeups) / Double(idleSeconds), 2))")
        print("idle_cpu_percent \(format(Double(cpuAfter - cpuBefore) / ticksPerSecond / Double(idleSeconds) * 100, 3))")
        print("idle_rss_mb \(format(residentMegabytes(pid), 1))")
    }

    /// Ingests `posts` signed posts in batches of 1,000; returns verify time ÷ ingest time over
    /// the last tenth.
    func fill(storePath: String, building: SigningKey, now: UInt64) throws -> Double {
        let store = try EnvelopeStore(path: storePath, building: building.publicKey, validator: .sodium)
        let measuredFrom = posts - max(posts / 10, min(posts, 1_000))
        var verifyTime = Duration.zero
        var ingestTime = Duration.zero
        for start in stride(from: 0, to: posts, by: 1_000) {
            let batch = (start..<min(start + 1_000, posts)).map { i in
                Fixtures.post(
                    Kind.contentKinds[i % 3 == 0 ? 1 : 0], by: building, in: building.publicKey,
                    at: now - 3_600_000 + UInt64(i % 3_000_000), counter: UInt16(i / 3_000_000), lifetime: 30 * Fixtures.day,
                    title: "Annonce n° \(i)", body: String(repeating: "Texte de l'annonce du voisinage. ", count: 1 + i % 6)
                ).bytes
            }
            guard start >= measuredFrom else {
                _ = try store.ingest(batch, now: now)
                continue
            }
            let verifyStart = ContinuousClock.now
            for bytes in batch {
                let content = bytes[0..<(bytes.count - Signature.byteCount)]
                guard Ed25519.verify(signature: Array(bytes.suffix(Signature.byteCount)),
                                     message: EnvelopeCodec.signedMessage(contentBytes: content), publicKey: building.publicKey.bytes) else {
                    throw BenchError("a benchmark envelope does not verify")
                }
            }
            verifyTime += ContinuousClock.now - verifyStart
            let ingestStart = ContinuousClock.now
            let report = try store.ingest(batch, now: now)
            ingestTime += ContinuousClock.now - ingestStart
            guard report.accepted.count == batch.count else { throw BenchError("the store refused benchmark posts") }
        }
        return milliseconds(verifyTime) / max(milliseconds(ingestTime), 0.001)
    }

    /// A neighbour (in this process, over TCP) pushes `burst` posts; returns how many reading
    /// screens were dropped and the time from the newest post's storing to the slowest screen.
    func syncBurst(dir: URL, neighbour: SigningKey, port: Int, readers: [TestScreen], now: UInt64) async throws -> (Int, Double) {
        let network = try NetworkKey.load(dir.appendingPathComponent("network.key").path)
        let store = try EnvelopeStore(path: nil, building: neighbour.publicKey, validator: .sodium)
        // 40 residents of the neighbouring building, 50 posts each: within each author's limit
        // (a burst of 500), as a day's posts of a busy district would be.
        let residents = (0..<40).map { _ in SigningKey.generate() }
        let grants = residents.enumerated().map { n, key in
            Fixtures.grant(.resident, to: key.publicKey, by: neighbour, name: "Voisin \(n)", at: now - 3_600_000)
        }
        let posts = (0..<burst).map { i in
            Fixtures.post(.tip, by: residents[i % residents.count], in: neighbour.publicKey, at: now - UInt64(burst - i), title: "Voisins n° \(i)")
        }
        _ = try store.ingest((grants + posts).map(\.bytes), now: now)
        let newest = posts.last!
        let nodeStore = try EnvelopeStore(path: dir.appendingPathComponent("palier.sqlite").path, building: try KeyFile.load(
            dir.appendingPathComponent("building.key").path).publicKey, validator: .sodium)
        var logger = Logger(label: "bench-neighbour")
        logger.logLevel = .critical
        var settings = SyncSettings(listenHost: "127.0.0.1", port: 0, staticPeers: ["127.0.0.1:\(port)"], engine: .init(name: "Voisins"))
        settings.minimumBackoff = .milliseconds(50)
        let service = try SyncService(settings: settings, signingKey: neighbour, networkKey: network, store: store, clock: SystemClock(), logger: logger)
        let task = Task { try await service.run() }
        defer { task.cancel() }
        let deadline = ContinuousClock.now + .seconds(120)
        var stored: ContinuousClock.Instant?
        while stored == nil, ContinuousClock.now < deadline {
            if try nodeStore.envelope(newest.id) != nil { stored = ContinuousClock.now } else { try await Task.sleep(for: .milliseconds(2)) }
        }
        guard let stored else { throw BenchError("the burst never arrived") }
        var slowest = stored
        for reader in readers where !reader.isClosed {
            guard let line = await reader.waitFor(timeout: .seconds(60), { line in
                line.subject == newest.id.hex || (line.type == "snapshot" && line.text.contains(newest.id.hex))
            }) else { continue }
            slowest = max(slowest, line.arrival)
        }
        task.cancel()
        _ = await task.result
        // The node has seen the neighbour go before the idle minute starts.
        for _ in 0..<1_000 where try nodeStore.peers().contains(where: \.connected) { try await Task.sleep(for: .milliseconds(10)) }
        return (readers.filter(\.isClosed).count, milliseconds(slowest - stored))
    }

    func percentile(_ values: [Double], _ p: Double) -> Double { values[min(values.count - 1, Int(Double(values.count) * p))] }
    func format(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
    func milliseconds(_ d: Duration) -> Double { Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15 }

    /// VmRSS of a process, in MB.
    func residentMegabytes(_ pid: Int32) -> Double {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
        return Double(line.split(separator: " ").dropFirst().first ?? "0").map { $0 / 1024 } ?? 0
    }

    /// Times the process's threads were switched in during `idleSeconds` (each thread's
    /// schedstat, read every 200 ms so that threads which come and go are counted too).
    func idleWakeups(_ pid: Int32) async throws -> Int {
        func sample() -> [String: Int] {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            var counts: [String: Int] = [:]
            for task in tasks {
                let text = (try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/schedstat", encoding: .utf8)) ?? ""
                counts[task] = text.split(separator: " ").dropFirst(2).first.flatMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            }
            return counts
        }
        var last = sample()
        var total = 0
        var byThread: [String: Int] = [:]
        let end = ContinuousClock.now + .seconds(idleSeconds)
        while ContinuousClock.now < end {
            try await Task.sleep(for: .milliseconds(200))
            let now = sample()
            for (task, count) in now {
                total += count - (last[task] ?? 0)
                let name = ((try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/comm", encoding: .utf8)) ?? "?").trimmingCharacters(in: .whitespacesAndNewlines)
                byThread[name, default: 0] += count - (last[task] ?? 0)
            }
            last = now
        }
        // PALIER_BENCH_DETAIL=1: which threads woke.
        if ProcessInfo.processInfo.environment["PALIER_BENCH_DETAIL"] == "1" {
            for (name, count) in byThread.sorted(by: { $0.value > $1.value }) {
                FileHandle.standardError.write(Data("idle wakeups \(name): \(count)\n".utf8))
            }
        }
        return total
    }

    /// utime + stime of the process, in clock ticks.
    func cpuTicks(_ pid: Int32) -> Int {
        let text = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
        // The fields after the command name (which may hold spaces) start after the last ')'.
        guard let close = text.lastIndex(of: ")") else { return 0 }
        let fields = text[text.index(after: close)...].split(separator: " ")
        return (Int(fields[11]) ?? 0) + (Int(fields[12]) ?? 0)
    }
}
