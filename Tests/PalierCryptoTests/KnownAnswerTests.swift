import Foundation
import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// The vectors published in docs/protocol.md: palier must produce exactly these bytes, ids and
/// signatures, and accept them.
@Suite struct KnownAnswerTests {
    static let protocolDocument = packageRoot.appendingPathComponent("docs/protocol.md")

    /// The ```vector blocks of the document, as key → value.
    static func publishedVectors() throws -> [String: [String: String]] { try blocks("vector") }

    /// The ```refused blocks: envelopes every node must refuse, with the reason.
    static func refusedVectors() throws -> [String: [String: String]] { try blocks("refused") }

    /// The document's fenced blocks of one tag, by their `vector:` name, as key → value.
    static func blocks(_ tag: String) throws -> [String: [String: String]] {
        let text = try String(contentsOf: protocolDocument, encoding: .utf8)
        var vectors: [String: [String: String]] = [:]
        for block in text.components(separatedBy: "```\(tag)\n").dropFirst() {
            var fields: [String: String] = [:]
            for line in block.components(separatedBy: "```")[0].split(separator: "\n") {
                guard let colon = line.range(of: ": ") else { continue }
                fields[String(line[..<colon.lowerBound])] = String(line[colon.upperBound...])
            }
            vectors[fields["vector"] ?? "?"] = fields
        }
        return vectors
    }

    @Test(arguments: [
        ("grant", TestVectors.buildingKey, TestVectors.grantContent),
        ("tip", TestVectors.residentKey, TestVectors.tipContent),
        ("scheduled notice", TestVectors.buildingKey, TestVectors.scheduledNoticeContent),
        ("edit ending early", TestVectors.residentKey, TestVectors.editEndingEarlyContent),
        ("image and link", TestVectors.residentKey, TestVectors.imagePostContent),
    ])
    func palierProducesThePublishedVectors(name: String, key: SigningKey, content: EnvelopeContent) throws {
        let published = try #require(try Self.publishedVectors()[name], "vector \(name) missing from docs/protocol.md")
        #expect(hexString(key.seed) == published["seed"])
        #expect(key.publicKey.hex == published["public key"])
        #expect(key.publicKey.text == published["key text"])
        let envelope = try key.sign(content)
        #expect(hexString(envelope.bytes) == published["envelope"])
        #expect(envelope.id.hex == published["id"])
        #expect(hexString(envelope.signature.bytes) == published["signature"])
        // And the published bytes open to the same envelope.
        let opened = try EnvelopeValidator.sodium.open(try #require(bytes(fromHex: published["envelope"] ?? "")))
        #expect(opened == envelope)
    }

    @Test("vector 3 (issue 17): an envelope expiring at 2^64 − 1 is published, made by palier, and refused for its expiry")
    func theRefusedVector() throws {
        var raw = RawEnvelope(author: TestVectors.buildingKey)
        raw.timestamp = 1 << 16
        raw.expiresAt = .max
        raw.title = "Fin"
        raw.body = ""
        raw.language = ""
        let published = try #require(try Self.refusedVectors()["expiry at the top"], "the refused vector is missing from docs/protocol.md")
        #expect(hexString(raw.bytes) == published["envelope"], "\(hexString(raw.bytes))")
        #expect(throws: EnvelopeError.expiryTooFar(days: 213_503_982_335, limit: 90)) {
            try EnvelopeValidator.sodium.open(try #require(bytes(fromHex: published["envelope"] ?? "")))
        }
        #expect(published["refusal"] == "\(EnvelopeError.expiryTooFar(days: 213_503_982_335, limit: 90))")
    }

    @Test func theVectorsStandTogether() throws {
        // The tip's author holds the resident grant of vector 1: the view shows the tip.
        let grant = try TestVectors.buildingKey.sign(TestVectors.grantContent)
        let tip = try TestVectors.residentKey.sign(TestVectors.tipContent)
        let view = ViewRules.view(of: [tip, grant], now: TestVectors.tipContent.createdAt, viewer: TestVectors.buildingKey.publicKey)
        #expect(view.items.map(\.id) == [tip.id])
        #expect(view.items.first?.authorName == "Camille, 3e étage")
    }

    @Test func theIndependentCheckerAgrees() throws {
        // scripts/check-vectors.py verifies the same blocks with Python's hashlib and OpenSSL.
        let result = try runProjectScript("scripts/check-vectors.py", interpreter: "python3", [Self.protocolDocument.path])
        let text = result.output
        #expect(result.status == 0, "\(text)")
        #expect(text.contains("7 passed, 0 failed"))
    }
}
