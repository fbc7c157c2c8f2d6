import Foundation
import PalierCore
import PalierTestSupport
import Testing

/// Images through the real binary: `palier post --image`, two `palier run` processes moving an
/// image post and its blob, a retract deleting it on both, and the refusals.
@Suite struct ImageProcessTests {
    static func fixture(_ name: String) -> String {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("PalierImagingTests/Fixtures/\(name)").path
    }

    /// The image files in a node's blob directory.
    static func blobFiles(_ node: LiveProcessTests) -> [String] {
        let directory = URL(fileURLWithPath: node.dataDir).appendingPathComponent("blobs").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".jpg") }.sorted()
    }

    static func blobBytes(_ node: LiveProcessTests, _ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: node.dataDir).appendingPathComponent("blobs/\(name)")))
    }

    @Test("an image post moves with its blob to the neighbour, without the photo's GPS position; a retract deletes it on both nodes")
    func anImagePostBetweenTwoBuildings() async throws {
        let a = LiveProcessTests(), b = LiveProcessTests()
        try a.palier("init", "--name", "Les Tilleuls")
        try b.palier("init", "--name", "Le Clos")
        let invite = try #require(try a.palier("network").stdout.split(separator: " ").first { $0.hasPrefix("palier-invite-") }
            .map { String($0.split(separator: "\n")[0]) })
        #expect(try b.palier("network", "join", invite, "--replace").status == 0)
        let portA = KioskBrowserTests.freePort(), portB = KioskBrowserTests.freePort()
        for (node, port) in [(a, portA), (b, portB)] {
            try node.configure("feed", ["kioskPort": 0])
            try node.configure("metrics", ["port": 0])
            try node.configure("sync", ["listen": "127.0.0.1", "port": port, "discovery": false, "staticPeers": port == portA ? [] : ["127.0.0.1:\(portA)"]])
        }

        let posted = try a.palier("post", "classified", "--title", "Vélo d'enfant à donner", "--image", Self.fixture("photo-gps.jpg"),
                                  "--alt", "Un dégradé bleu et rose", "--link", "https://exemple.fr/velo")
        #expect(posted.status == 0, "\(posted.stderr)")
        let files = Self.blobFiles(a)
        #expect(files.count == 1)
        let name = try #require(files.first)
        let bytes = try Self.blobBytes(a, name)
        // No EXIF (APP1), no GPS, no camera make: only what the screen needs.
        #expect(bytes.firstRange(of: Array("GPS".utf8)) == nil && bytes.firstRange(of: Array("PhoneMaker".utf8)) == nil)
        #expect(bytes.firstRange(of: [0xFF, 0xE1]) == nil)
        let id = try #require(posted.stdout.split(separator: " ").dropFirst(2).first.map(String.init))
        let shown = try a.palier("show", id).stdout
        #expect(shown.contains("300 × 400 image/jpeg") && shown.contains("“Un dégradé bleu et rose”") && shown.contains("https://exemple.fr/velo"), "\(shown)")

        let processes = try [a, b].map(FederationProcessTests.start)
        defer { for process in processes where process.isRunning { process.terminate() } }
        var arrived = false
        for _ in 0..<100 where !arrived {
            try await Task.sleep(for: .milliseconds(100))
            arrived = Self.blobFiles(b) == files
        }
        #expect(arrived, "the image never reached B")
        #expect(try Self.blobBytes(b, name) == bytes)
        #expect(try b.palier("status").stdout.contains("Images: 1 here"))

        #expect(try a.palier("retract", id).status == 0)
        #expect(Self.blobFiles(a).isEmpty, "deleted at once where the retract was made")
        var gone = false
        for _ in 0..<100 where !gone {
            try await Task.sleep(for: .milliseconds(100))
            gone = Self.blobFiles(b).isEmpty
        }
        #expect(gone, "the image stayed on B after the retract")
        #expect(try b.palier("status").stdout.contains("Images: 0 here"))
    }

    @Test("a file that is not an image, a decompression bomb, a truncated photo or an image without alt text: refused with a sentence, nothing stored")
    func refusals() throws {
        let a = LiveProcessTests()
        try a.palier("init", "--name", "Les Tilleuls")
        let text = makeTemporaryDirectory("palier-image").appendingPathComponent("note.txt")
        try Data("Bonjour".utf8).write(to: text)
        let truncated = makeTemporaryDirectory("palier-image").appendingPathComponent("cut.jpg")
        let photo = try Data(contentsOf: URL(fileURLWithPath: Self.fixture("photo-gps.jpg")))
        try photo.prefix(photo.count / 2).write(to: truncated)
        for (file, says) in [(text.path, "is not an image palier can read"), (Self.fixture("bomb.png"), "60000 × 60000"),
                             (truncated.path, "could not be read to its end"), ("/nonexistent.jpg", "cannot be read")] {
            let refused = try a.palier("post", "tip", "--title", "Photo", "--image", file, "--alt", "Une photo")
            #expect(refused.status == 65, "\(file): \(refused.stderr)")
            #expect(refused.stderr.contains("Nothing was posted: the image \(file) is refused:") && refused.stderr.contains(says), "\(refused.stderr)")
        }
        let noAlt = try a.palier("post", "tip", "--title", "Photo", "--image", Self.fixture("photo-gps.jpg"))
        #expect(noAlt.status == 64 && noAlt.stderr.contains("Each --image needs its --alt"), "\(noAlt.stderr)")
        let badLink = try a.palier("post", "tip", "--title", "Lien", "--link", "javascript:alert(1)")
        #expect(badLink.status == 64 && badLink.stderr.contains("does not start with https:// or http://"), "\(badLink.stderr)")
        #expect(try a.palier("list").stdout.contains("No posts") || !a.palier("list").stdout.contains("Photo"))
        #expect(Self.blobFiles(a).isEmpty)
        // And in French.
        let french = try runProcess(LiveProcessTests.binary.path, ["post", "tip", "--title", "Photo", "--image", text.path, "--alt", "x", "--data-dir", a.dataDir],
                                    environment: ["PALIER_LANG": "fr"])
        #expect(french.stderr.contains("Rien n'a été publié : l'image") && french.stderr.contains("n'est pas une image que palier sait lire"), "\(french.stderr)")
    }
}
