import Foundation
import Logging
import PalierCore
@testable import PalierNode
import PalierTestSupport
import Testing

/// Posts with an image and with a link on a running node's kiosk page, in real headless
/// Chromium, in portrait and landscape (scripts/kiosk-media.py); screenshots in test-artifacts/.
@Suite(.serialized)
struct KioskMediaTests {
    static let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PalierImagingTests/Fixtures/photo-gps.jpg").path

    @Test("an image post and a link post: the picture fitted whole with its alt text, the link as a QR code that reads back")
    func imageAndLink() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: "/usr/bin/zbarimg"), "zbar-tools is not installed: run scripts/setup.sh --tests")
        var configuration = NodeConfiguration(buildingName: "Résidence des Lilas")
        configuration.sync.port = 0
        configuration.sync.discovery = false
        configuration.residents.port = 0
        configuration.metrics.port = 0
        let port = KioskLayoutTests.Screen.freePort()
        configuration.feed.kioskPort = port
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        let node = try BuildingNode.initialise(directory, configuration: configuration)
        let alt = "Un vélo d'enfant rouge appuyé contre un mur"
        let image = try node.attachImage(file: Self.photo, alt: alt)
        try node.post(.classified, PostContent(title: "Vélo d'enfant à donner", body: "16 pouces, bon état. Loge du bâtiment B.",
                                               language: "fr", images: [image], link: "https://exemple.fr/velo"), as: node.buildingKey)
        try node.post(.event, PostContent(title: "Concert de l'harmonie municipale", body: "Entrée libre, réservation conseillée.",
                                          language: "fr", event: EventDetails(startsAt: node.now() + 86_400_000, endsAt: node.now() + 90_000_000,
                                                                              place: "Salle des fêtes"),
                                          link: "https://mairie.exemple.fr/agenda/harmonie"), as: node.buildingKey)
        var logger = Logger(label: "test-kiosk-media")
        logger.logLevel = .critical
        let runtime = try NodeRuntime(node: node, logger: logger, options: NodeRuntime.Options())
        let task = Task { try await runtime.run(signals: false) }
        defer { task.cancel() }
        _ = try await eventually(within: .seconds(10)) { KioskLayoutTests.Screen.accepts(port: port) }
        // The images' directory: the screens' group may read what the feed points at.
        let blobs = try #require(node.store.blobFiles.directory)
        let directoryMode = try FileManager.default.attributesOfItem(atPath: blobs)[.posixPermissions] as? Int
        #expect(directoryMode == 0o2750, "blobs/ is \(String(directoryMode ?? 0, radix: 8))")
        let file = try #require(node.store.blobFiles.path(of: image.blob, type: image.type))
        #expect(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int == 0o640)

        let artifacts = packageRoot.appendingPathComponent("test-artifacts").path
        let result = try await onOwnThread { try runProjectScript("scripts/kiosk-media.py", interpreter: "python3", [
            "http://127.0.0.1:\(port)/", "Vélo d'enfant à donner", alt, "https://exemple.fr/velo", "Concert de l'harmonie municipale",
            "https://mairie.exemple.fr/agenda/harmonie", artifacts,
        ], captureErrors: true) }
        #expect(result.status == 0, "\(result.output)")
        print(result.output)
        task.cancel()
        _ = await task.result
    }
}
