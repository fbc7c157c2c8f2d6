// swift-tools-version:6.1
import PackageDescription

/// libFuzzer targets for every decoder that takes bytes from strangers (docs/benchmarks.md,
/// "Fuzzing"). Built only by scripts/fuzz.sh, with `-sanitize=fuzzer,address` and
/// `-parse-as-library` (libFuzzer brings `main`), in .build/fuzz: a package of its own so that
/// the ordinary build never sees executables without an entry point.
let targets = ["FuzzEnvelope", "FuzzSyncMessage", "FuzzReconcile", "FuzzKeyText", "FuzzTXTRecord", "FuzzInvite", "FuzzScreen", "FuzzNoise", "FuzzSketch", "FuzzResidentMessage", "FuzzEnrolmentCode", "FuzzImage", "FuzzTorReply"]

let package = Package(
    name: "palier-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "palier", path: "..")],
    targets: [
        .target(name: "CFuzzDriver"),
        .target(name: "FuzzSupport", dependencies: [
            "CFuzzDriver",
            .product(name: "PalierCore", package: "palier"),
            .product(name: "PalierCrypto", package: "palier"),
        ]),
    ] + targets.map { name in
        .executableTarget(name: name, dependencies: [
            "FuzzSupport",
            .product(name: "PalierCore", package: "palier"),
            .product(name: "PalierCrypto", package: "palier"),
            .product(name: "PalierDiscovery", package: "palier"),
            .product(name: "PalierScreen", package: "palier"),
        ] + (name == "FuzzImage" ? [.product(name: "PalierImaging", package: "palier")] : []))
    }
)
