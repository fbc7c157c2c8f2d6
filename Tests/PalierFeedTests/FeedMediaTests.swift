import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Testing
@testable import PalierFeed
@testable import PalierScreen

/// Images and links in the screen's items (docs/feed.md): an image shows once the node holds
/// it, with the path a signage player opens; a link comes with a QR code drawn by the node.
struct FeedMediaTests {
    @Test("an image still on its way is left out, and appears with its file's path once kept; the link carries its QR code")
    func imagesAppearWhenHeld() async throws {
        let building = Fixtures.key(1)
        let directory = makeTemporaryDirectory("palier-feed-media")
        let store = try EnvelopeStore(path: directory.appendingPathComponent("palier.sqlite").path, building: building.publicKey, validator: .sodium)
        let hub = FeedHub(store: store, buildingName: "Les Tilleuls", clock: SystemClock(), configuration: .init())
        let now = UInt64(Date().timeIntervalSince1970 * 1000)
        let blob = Fixtures.blob(3, size: 5000, alt: "Une <b>galette</b>\u{202E} des rois")
        let post = Fixtures.imagePost(by: building, in: building.publicKey, images: [blob.reference], at: now, title: "Galette des rois",
                                      link: "https://www.boulangerie.exemple/galette")
        #expect(try store.ingest([post.bytes], now: now).accepted == [post.id])
        try await hub.refresh()
        let before = try #require(await hub.playlist.items.first)
        #expect(before.images.isEmpty, "not held yet")
        let link = try #require(before.link)
        #expect(link.url == "https://www.boulangerie.exemple/galette" && link.host == "boulangerie.exemple")
        #expect(link.qr.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && link.qr.hasSuffix("</svg>"))
        #expect(!link.qr.contains("boulangerie") && !link.qr.contains("<script") && !link.qr.contains("<text"), "squares only")

        try store.keepBlob(BlobRecord(blob.reference), bytes: blob.bytes, budget: 1 << 20, now: now)
        let events = try await hub.refresh()
        #expect(!events.isEmpty, "keeping the image changes the item")
        let after = try #require(await hub.playlist.items.first)
        let image = try #require(after.images.first)
        #expect(image.blob == blob.reference.blob.hex && image.type == "image/jpeg" && image.width == 800 && image.height == 600)
        #expect(image.url == "/blobs/\(blob.reference.blob.hex).jpg")
        #expect(image.path == directory.appendingPathComponent("blobs/\(blob.reference.blob.hex).jpg").path)
        #expect(FileManager.default.contents(atPath: image.path!) == Data(blob.bytes))
        #expect(!image.alt.contains("\u{202E}"), "screen-safe text")
        // And the feed line carries them.
        let line = FeedEvent.snapshot(items: await hub.playlist.items, at: now).line()
        #expect(line.contains("\"images\":[{") && line.contains("\"qr\":\"<svg"))
    }
}
