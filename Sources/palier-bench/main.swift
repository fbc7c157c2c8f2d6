import Foundation

/// palier-bench SCENARIO [--name value …]: prints `name value` lines; ratios against the raw
/// limits are measured in the same run (see docs/benchmarks.md).
let arguments = Array(CommandLine.arguments.dropFirst())
// The palier processes the benchmarks start answer in English, which they read.
setenv("PALIER_LANG", "en", 1)
func option(_ name: String, _ fallback: Int) -> Int {
    guard let index = arguments.firstIndex(of: "--\(name)"), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else {
        return fallback
    }
    return value
}

switch arguments.first {
case "ingest":
    var benchmark = IngestBenchmark()
    benchmark.posts = option("posts", benchmark.posts)
    benchmark.batch = option("batch", benchmark.batch)
    benchmark.authors = option("authors", benchmark.authors)
    benchmark.rounds = option("rounds", benchmark.rounds)
    try benchmark.run()
case "feed":
    var benchmark = FeedBenchmark()
    benchmark.posts = option("posts", benchmark.posts)
    benchmark.screens = option("screens", benchmark.screens)
    try await benchmark.run()
case "reconcile":
    var benchmark = ReconcileBenchmark()
    benchmark.items = option("items", benchmark.items)
    try benchmark.run()
case "scale":
    var benchmark = ScaleBenchmark()
    benchmark.posts = option("posts", benchmark.posts)
    benchmark.idleSeconds = option("idle", benchmark.idleSeconds)
    benchmark.burst = option("burst", benchmark.burst)
    try await benchmark.run()
case "propagate":
    var benchmark = PropagateBenchmark()
    benchmark.nodes = option("nodes", benchmark.nodes)
    benchmark.degree = option("degree", benchmark.degree)
    benchmark.posts = option("posts", benchmark.posts)
    try benchmark.run()
case "blobs":
    var benchmark = BlobBenchmark()
    benchmark.blobs = option("blobs", benchmark.blobs)
    benchmark.rawMiB = option("raw-mib", benchmark.rawMiB)
    try await benchmark.run()
default:
    FileHandle.standardError.write(Data("""
        usage: palier-bench ingest [--posts N] [--batch N] [--authors N] [--rounds N]
               palier-bench feed [--posts N] [--screens N]
               palier-bench reconcile [--items N]
               palier-bench propagate [--nodes N] [--degree N] [--posts N]
               palier-bench scale [--posts N] [--burst N] [--idle SECONDS]
               palier-bench blobs [--blobs N] [--raw-mib N]

        """.utf8))
    exit(64)
}
