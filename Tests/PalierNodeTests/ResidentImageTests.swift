import Foundation
import PalierCore
import PalierCrypto
import PalierImaging
@testable import PalierNode
import PalierStore
import PalierSync
import PalierTestSupport
import Testing

/// A resident's post with an image over the residents' channel (docs/protocol.md §15.5).
@Suite(.serialized)
struct ResidentImageTests {
    static let photo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("PalierImagingTests/Fixtures/photo-gps.jpg").path

    static func prepared() throws -> (bytes: [UInt8], reference: ImageReference) {
        let image = try ImageProcessor.prepare(Array(try Data(contentsOf: URL(fileURLWithPath: photo))))
        let reference = ImageReference(blob: BlobID(bytes: SodiumCrypto().blake2b256(image.bytes))!, byteCount: UInt32(image.bytes.count),
                                       type: .jpeg, width: UInt16(image.width), height: UInt16(image.height), alt: "Un dégradé")
        return (image.bytes, reference)
    }

    @Test("the image travels before its post and is kept; a post naming an image not sent, or sent wrong, is refused and nothing is kept")
    func imagesWithAPost() async throws {
        let lab = try await ResidentsLab()
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        let image = try Self.prepared()
        func post(_ title: String, _ reference: ImageReference) -> Envelope {
            Fixtures.imagePost(by: camille, in: lab.node.building, images: [reference], at: lab.node.now(), title: title)
        }

        // Not sent: refused, nothing stored.
        let missing = post("Sans image", image.reference)
        let refusedMissing = try await connection.submit(missing.bytes)
        #expect(refusedMissing.outcome == .refused && refusedMissing.reason == .image && refusedMissing.detail.contains("did not arrive whole"))
        // Sent with a byte changed: not the bytes the post names.
        var damaged = image.bytes
        damaged[damaged.count / 2] ^= 0x40
        let refusedDamaged = try await connection.submit(post("Abîmée", image.reference).bytes, images: [(image.reference.blob, damaged)])
        #expect(refusedDamaged.reason == .image && refusedDamaged.detail.contains("are not the ones the post names"), "\(refusedDamaged.detail)")
        // Bytes that hash right but are not the image described (the post says 301 pixels wide).
        var wrongSize = image.reference
        wrongSize.width += 1
        let refusedWrong = try await connection.submit(post("Mal décrite", wrongSize).bytes, images: [(image.reference.blob, image.bytes)])
        #expect(refusedWrong.reason == .image && refusedWrong.detail.contains("pixels"), "\(refusedWrong.detail)")
        #expect(try lab.node.store.blobUsage().count == 0)
        #expect(try lab.node.store.statistics().envelopes == 2, "the building's profile and Camille's grant only")

        // Whole and right: kept, and the post shows with it.
        let good = post("Vélo à donner", image.reference)
        #expect(try await connection.submit(good.bytes, images: [(image.reference.blob, image.bytes)]).outcome == .accepted)
        #expect(try lab.node.store.heldBlob(image.reference.blob) != nil)
        #expect(try lab.node.store.blobFiles.read(image.reference.blob, type: .jpeg, offset: 0, length: 1 << 20) == image.bytes)
        // An edit naming the same image needs no second copy.
        let edit = Fixtures.sign(camille, EnvelopeContent(
            kind: .edit, scope: .neighbourhood, building: lab.node.building, author: camille.publicKey,
            timestamp: HybridTimestamp(millis: lab.node.now() + 1), expiresAt: good.expiresAt, target: good.id,
            payload: .edit(kind: .classified, content: PostContent(title: "Vélo donné", images: [image.reference]))))
        #expect(try await connection.submit(edit.bytes).outcome == .accepted)
        connection.close()
        await lab.stop()
    }

    @Test("a post held for moderation keeps its image until approved; rejected, the image goes")
    func moderatedImages() async throws {
        let lab = try await ResidentsLab(moderation: .all)
        let camille = SigningKey.generate()
        let connection = try await lab.connect(camille)
        _ = try await connection.join(try lab.code(), key: camille.publicKey)
        let image = try Self.prepared()
        let held = Fixtures.imagePost(by: camille, in: lab.node.building, images: [image.reference], at: lab.node.now(), title: "En attente")
        #expect(try await connection.submit(held.bytes, images: [(image.reference.blob, image.bytes)]).outcome == .held)
        // A minute later (past the spare time of a blob kept for a post about to be written), still there.
        try lab.node.store.collectBlobs(now: lab.node.now() + 120_000)
        #expect(try lab.node.store.heldBlob(image.reference.blob) != nil)
        try lab.node.reject(held.id.hex)
        try lab.node.store.collectBlobs(now: lab.node.now() + 120_000)
        #expect(try lab.node.store.heldBlob(image.reference.blob) == nil)
        connection.close()
        await lab.stop()
    }

    @Test("image chunks out of order, or from a key that is not a member, end the connection")
    func hostileChunks() async throws {
        let lab = try await ResidentsLab()
        let stranger = SigningKey.generate()
        let id = Fixtures.blob(1).reference.blob
        let connection = try await lab.connect(stranger)
        await #expect(throws: ResidentClientError.self) {
            _ = try await connection.ask(.blob(id, offset: 0, bytes: [1, 2, 3]))
        }
        let camille = SigningKey.generate()
        let member = try await lab.connect(camille)
        _ = try await member.join(try lab.code(), key: camille.publicKey)
        await #expect(throws: ResidentClientError.self) {
            _ = try await member.ask(.blob(id, offset: 10, bytes: [1, 2, 3]))
        }
        await lab.stop()
    }
}
