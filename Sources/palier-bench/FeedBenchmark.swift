import Foundation
import PalierTestSupport

/// `feed`: a real `palier run` and real `palier post` processes; ten screens on the feed socket,
/// one of which never reads. For each post: the time from `palier post` returning to the
/// `upsert` line reaching the screens.
struct FeedBenchmark {
    var posts = 1000
    var screens = 10

    func run() async throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("palier")
        guard FileManager.default.isExecutableFile(atPath: binary.path) else {
            FileHandle.standardError.write(Data("palier-bench feed needs the palier binary next to it: run `swift build -c release` first\n".utf8))
            exit(69)
        }
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
        for n in 0..<posts {
            let start = ContinuousClock.now
            let output = try palier(["post", "tip", "--title", "Annonce \(n)", "--body", "Texte de l'annonce numéro \(n).", "--expires", "2h"])
            let returned = ContinuousClock.now
            roundTrips.append(milliseconds(returned - start))
            let shortID = output.split(separator: " ")[2]
            var slowest = -Double.infinity
            for reader in readers {
                guard let line = await reader.waitFor(timeout: .seconds(5), { $0.type == "upsert" && ($0.subject?.hasPrefix(shortID) ?? false) }) else {
                    throw BenchError("post \(n) never reached a screen")
                }
                slowest = max(slowest, milliseconds(line.arrival - returned))
            }
            latencies.append(slowest)
        }
        latencies.sort()
        roundTrips.sort()
        func percentile(_ values: [Double], _ p: Double) -> Double { values[min(values.count - 1, Int(Double(values.count) * p))] }
        print("scenario feed")
        print("posts \(posts)")
        print("screens \(screens)")
        print("screens_never_reading 1")
        print("p50_ms \(String(format: "%.2f", percentile(latencies, 0.5)))")
        print("p99_ms \(String(format: "%.2f", percentile(latencies, 0.99)))")
        print("max_ms \(String(format: "%.2f", latencies.last ?? 0))")
        print("post_command_p50_ms \(String(format: "%.1f", percentile(roundTrips, 0.5)))")
        print("post_command_p99_ms \(String(format: "%.1f", percentile(roundTrips, 0.99)))")
        _ = frozen
    }

    func milliseconds(_ d: Duration) -> Double {
        Double(d.components.seconds) * 1000 + Double(d.components.attoseconds) / 1e15
    }
}

struct BenchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
