// swift-tools-version:6.1
import PackageDescription

/// The simulation tests run hundreds of simulated neighbourhoods: the code they exercise is
/// optimised even in debug builds, so that `make test` stays within minutes.
let optimisedInDebug: [SwiftSetting] = [.unsafeFlags(["-O"], .when(configuration: .debug))]

let package = Package(
    name: "palier",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "palier", targets: ["palier"]),
        .executable(name: "palier-bench", targets: ["palier-bench"]),
        .library(name: "PalierCore", targets: ["PalierCore"]),
        .library(name: "PalierNode", targets: ["PalierNode"]),
        // For the fuzz targets (Fuzz/), a package of their own built with libFuzzer.
        .library(name: "PalierCrypto", targets: ["PalierCrypto"]),
        .library(name: "PalierDiscovery", targets: ["PalierDiscovery"]),
        .library(name: "PalierScreen", targets: ["PalierScreen"]),
        .library(name: "PalierImaging", targets: ["PalierImaging"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift", exact: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.35.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
    ],
    targets: [
        // C libraries from the system, each behind a module map and a small shim.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"])]
        ),
        .systemLibrary(
            name: "CAvahi",
            pkgConfig: "avahi-client",
            providers: [.apt(["libavahi-client-dev"])]
        ),
        // QR codes: the screen's for posts' links (PalierFeed), which the CLI draws too.
        .systemLibrary(
            name: "CQRencode",
            pkgConfig: "libqrencode",
            providers: [.apt(["libqrencode-dev"])]
        ),
        // Images: decoding, shrinking and re-encoding residents' photos, checking neighbours' blobs.
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        // The kernel clock's synchronisation state (glibc's sys/timex.h), for `palier doctor`.
        .systemLibrary(name: "CTimex"),

        // Pure model: no I/O, no C.
        .target(name: "PalierCore", swiftSettings: optimisedInDebug),
        // The only importer of CSodium.
        .target(name: "PalierCrypto", dependencies: ["PalierCore", "CSodium"], swiftSettings: optimisedInDebug),
        .target(
            name: "PalierStore",
            dependencies: [
                "PalierCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // The SQLite C API that GRDB links, for the ingest hot path.
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            swiftSettings: optimisedInDebug
        ),
        // The only importer of CAvahi.
        .target(
            name: "PalierDiscovery",
            dependencies: [
                "PalierCore", "CAvahi",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "PalierSync",
            dependencies: [
                "PalierCore", "PalierCrypto", "PalierStore", "PalierDiscovery",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                // tor's SOCKS port, for the onion transport.
                .product(name: "NIOSOCKS", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: optimisedInDebug
        ),
        // The only importer of CVips.
        .target(name: "PalierImaging", dependencies: ["PalierCore", "CVips"]),
        // The screen's rules, pure: playlist, screen-safe text, feed lines. No I/O.
        .target(name: "PalierScreen", dependencies: ["PalierCore"], swiftSettings: optimisedInDebug),
        .target(
            name: "PalierFeed",
            dependencies: [
                "PalierCore", "PalierScreen", "PalierStore", "CQRencode",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            exclude: ["Embedded"],
            plugins: ["EmbedFiles"]
        ),
        // Embeds the kiosk page's templates and string tables in PalierFeed at build time.
        .executableTarget(name: "embed-files"),
        .plugin(name: "EmbedFiles", capability: .buildTool(), dependencies: ["embed-files"]),
        .target(
            name: "PalierNode",
            dependencies: [
                "PalierCore", "PalierCrypto", "PalierStore", "PalierFeed", "PalierSync", "PalierDiscovery", "PalierImaging", "CTimex",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "palier",
            dependencies: [
                "PalierNode", "PalierCore", "PalierCrypto", "PalierFeed", "PalierStore", "PalierDiscovery",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "palier-bench",
            dependencies: ["PalierCore", "PalierCrypto", "PalierStore", "PalierSync", "PalierTestSupport",
                           .product(name: "Logging", package: "swift-log"),
                           .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
                           .product(name: "NIOConcurrencyHelpers", package: "swift-nio")]
        ),
        .target(
            name: "PalierTestSupport",
            dependencies: ["PalierCore", "PalierCrypto", "PalierStore", "PalierFeed", "PalierSync", "PalierDiscovery"],
            swiftSettings: optimisedInDebug
        ),

        .testTarget(name: "PalierCoreTests", dependencies: ["PalierCore", "PalierCrypto", "PalierTestSupport"]),
        .testTarget(name: "PalierImagingTests", dependencies: ["PalierImaging", "PalierCore"], exclude: ["Fixtures"]),
        .testTarget(name: "PalierCryptoTests", dependencies: ["PalierCore", "PalierCrypto", "PalierTestSupport"]),
        .testTarget(name: "PalierStoreTests", dependencies: ["PalierCore", "PalierCrypto", "PalierStore", "PalierTestSupport", .product(name: "GRDB", package: "GRDB.swift")]),
        .testTarget(name: "PalierFeedTests", dependencies: ["PalierFeed", "PalierScreen", "PalierCore", "PalierCrypto", "PalierStore", "PalierTestSupport"]),
        .testTarget(name: "PalierDiscoveryTests", dependencies: ["PalierDiscovery", "PalierCore", "PalierCrypto", "PalierTestSupport"]),
        .testTarget(name: "PalierSyncTests", dependencies: ["PalierSync", "PalierDiscovery", "PalierCore", "PalierCrypto", "PalierStore", "PalierTestSupport", .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOEmbedded", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(name: "PalierNodeTests", dependencies: ["PalierNode", "PalierCore", "PalierCrypto", "PalierStore", "PalierFeed", "PalierImaging", "PalierTestSupport"]),
        .testTarget(name: "PalierCLITests", dependencies: ["palier", "PalierNode", "PalierDiscovery", "PalierFeed", "PalierCore", "PalierCrypto", "PalierStore", "PalierTestSupport",
                                                    .product(name: "GRDB", package: "GRDB.swift")]),
    ]
)
