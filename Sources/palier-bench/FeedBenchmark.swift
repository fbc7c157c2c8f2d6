import Foundation
import PalierTestSupport

/// `feed`: a real `palier run` and real `palier post` processes; ten screens on the feed socket,
/// one of which never reads. For each post: the time from `palier post` returning to the
/// `upsert` line reaching the screens.
struct FeedBenchmark {
    var posts = 1000
    var screens = 10

    func run() async throws {
        let binary = palierBinary(for: "feed")
        let dir = makeTemporaryDirectory("palier-bench-feed").appendingPathComponent(".palier")
        defer { try? FileManager.default.removeItem(at: dir.deletingLastPathComponent()) }
        @discardableResult
        func palier(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = binary
            process.arguments = arguments + ["--data-dir", dir.path]
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            guard process.terminationStatus == 0 else { throw BenchError("palier \(arguments.joined(separator: " ")) failed") }
            return text
        }
        try palier(["init", "--name", "Banc d'essai"])
        let configURL = dir.appendingPathComponent("config.json")
        var config = try JSONSerialization.jsonObject(with: Data(contentsOf: configURL)) as! [String: Any]
        config["feed"] = ["kioskPort": 0]
        try JSONSerialization.data(withJSONObject: config).write(to: configURL)

        let node = Process()
        node.executableURL = binary
        node.arguments = ["run", "--data-dir", dir.path]
        node.standardError = FileHandle.nullDevice
        try node.run()
        defer { node.terminate(); node.waitUntilExit() }
        let socketPath = dir.appendingPathComponent("run/feed.sock").path
        for _ in 0..<200 where !FileManager.default.fileExists(atPath: socketPath) { try await Task.sleep(for: .milliseconds(25)) }

        let frozen = TestScreen(path: socketPath, reads: false)
        let readers = (1..<screens).compactMap { _ in TestScreen(path: socketPath) }
        guard frozen != nil, readers.count == screens - 1 else { throw BenchError("could not connect \(screens) screens") }
        for reader in readers { _ = await reader.waitFor { $0.type == "snapshot" } }

        var latencies: [Double] = []      // ms, post returning → slowest reading screen has the upsert
        var roundTrips: [Double] = []     // ms, the whole `palier post`
        var fromStart: [Double] = []      // ms, `palier post` starting → slowest reading screen has the upsert
        for n in 0..<posts {
            let start = ContinuousClock.now
            // posix_spawn and waitpid: Foundation's Process notices an exit only every 50 ms or so.
            let (status, output) = try spawnAndWait(binary.path, [
                "post", "tip", "--title", "Annonce \(n)", "--body", "Texte de l'annonce numéro \(n).", "--expires", "2h",
                "--data-dir", dir.path,
            ])
            let returned = ContinuousClock.now
            guard status == 0 else { throw BenchError("palier post failed with status \(status)") }
            roundTrips.append(milliseconds(returned - start))
            let shortID = output.split(separator: " ")[2]
            var slowest = start
            for reader in readers {
                guard let line = await reader.waitFor(timeout: .seconds(5), { $0.type == "upsert" && ($0.subject?.hasPrefix(shortID) ?? false) }) else {
                    throw BenchError("post \(n) never reached a screen")
                }
                slowest = max(slowest, line.arrival)
            }
            latencies.append(milliseconds(slowest - returned))
            fromStart.append(milliseconds(slowest - start))
        }
        latencies.sort()
        roundTrips.sort()
        fromStart.sort()
        func percentile(_ values: [Double], _ p: Double) -> Double { values[min(values.count - 1, Int(Double(values.count) * p))] }
        print("scenario feed")
        print("posts \(posts)")
        print("screens \(screens)")
        print("screens_never_reading 1")
        print("p50_ms \(String(format: "%.2f", percentile(latencies, 0.5)))")
        print("p99_ms \(String(format: "%.2f", percentile(latencies, 0.99)))")
        print("max_ms \(String(format: "%.2f", latencies.last ?? 0))")
        print("from_post_start_p50_ms \(String(format: "%.1f", percentile(fromStart, 0.5)))")
        print("from_post_start_p99_ms \(String(format: "%.1f", percentile(fromStart, 0.99)))")
        print("post_command_p50_ms \(String(format: "%.1f", percentile(roundTrips, 0.5)))")
        print("post_command_p99_ms \(String(format: "%.1f", percentile(roundTrips, 0.99)))")
        _ = frozen
    }

    func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

/// The `palier` binary built next to `palier-bench`; exits (69) saying how to build it if absent.
func palierBinary(for scenario: String) -> URL {
    let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier")
    guard FileManager.default.isExecutableFile(atPath: binary.path) else {
        FileHandle.standardError.write(Data("palier-bench \(scenario) needs the palier binary next to it: run `swift build -c release` first\n".utf8))
        exit(69)
    }
    return binary
}

/// Runs a program, collects its standard output, and returns as soon as it exits.
func spawnAndWait(_ path: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    var pipe: [Int32] = [0, 0]
    guard Glibc.pipe(&pipe) == 0 else { throw BenchError("pipe failed") }
    var actions = posix_spawn_file_actions_t()
    posix_spawn_file_actions_init(&actions)
    defer { posix_spawn_file_actions_destroy(&actions) }
    posix_spawn_file_actions_adddup2(&actions, pipe[1], 1)
    posix_spawn_file_actions_addclose(&actions, pipe[0])
    let argv = ([path] + arguments).map { strdup($0) } + [nil]
    defer { argv.forEach { free($0) } }
    var pid: pid_t = 0
    let spawned = posix_spawn(&pid, path, &actions, nil, argv, environ)
    close(pipe[1])
    guard spawned == 0 else { close(pipe[0]); throw BenchError("posix_spawn failed: \(spawned)") }
    var output = [UInt8]()
    var chunk = [UInt8](repeating: 0, count: 4096)
    while true {
        let n = read(pipe[0], &chunk, chunk.count)
        if n <= 0 { break }
        output.append(contentsOf: chunk[0..<n])
    }
    close(pipe[0])
    var status: Int32 = 0
    waitpid(pid, &status, 0)
    return ((status >> 8) & 0xff, String(decoding: output, as: UTF8.self))
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
