import PalierCore
import PalierCrypto
import Testing

/// The residents' channel (docs/protocol.md part 3): the test vectors of §15.6, computed with an
/// independent implementation (Python's hmac, hashlib and `cryptography`), and the codecs'
/// behaviour on hostile bytes.
struct ResidentVectorTests {
    static let buildingSeed = [UInt8](repeating: 1, count: 32)
    static let residentSeed = [UInt8](repeating: 2, count: 32)
    static let codeID: [UInt8] = Array(0..<8)
    static let secret: [UInt8] = Array(16..<32)
    static let handshakeHash: [UInt8] = Array(32..<64)

    @Test("the enrolment code, join proof, identity and messages of §15.6")
    func vectors() throws {
        let building = try #require(SigningKey(seed: Self.buildingSeed))
        let resident = try #require(SigningKey(seed: Self.residentSeed))
        #expect(hexString(building.publicKey.bytes) == "8a88e3dd7409f195fd52db2d3cba5d72ca6709bf1d94121bf3748801b40f6f5c")
        #expect(hexString(resident.publicKey.bytes) == "8139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394")

        let code = EnrolmentCode(building: building.publicKey, id: Self.codeID, secret: Self.secret, addresses: ["192.168.1.20:7482"])
        let text = "palier-join-agfi-ry65-oqe7-dfp5-klns-2pf2-lvzm-uzyj-x4oz-ieq3-6n2i-qanu-b5xv-yaab-aibq-ibig-a4ib-ceqt-cqkr-mfyy-denb-wha5-dypq-cejr-hezc-4mjw-haxd-clrs-ga5d-onby-gie7-22q"
        #expect(code.text == text)
        #expect(try EnrolmentCode(text: text) == code)
        #expect(try EnrolmentCode(text: "  " + text.uppercased().replacingOccurrences(of: "-", with: " ").replacingOccurrences(of: "PALIER JOIN ", with: "palier-join-") + "\n") == code)

        let proof = NoiseHMAC.sha256(key: Self.secret, ResidentProtocol.joinMessage(handshakeHash: Self.handshakeHash, resident: resident.publicKey))
        #expect(hexString(proof) == "6847c57c0130dca6c0be1590909732ec868b1789d731577ec8e0b8324aba2a6c")
        #expect(hexString(ResidentMessage.join(code: Self.codeID, proof: proof).encoded())
                == "0100010203040506076847c57c0130dca6c0be1590909732ec868b1789d731577ec8e0b8324aba2a6c")

        let signature = resident.sign(ResidentProtocol.identityMessage(initiator: true, handshakeHash: Self.handshakeHash))
        let identity = ResidentMessage.identity(key: resident.publicKey, signature: signature).encoded()
        #expect(hexString(identity) == "008139770ea87d175f56a35466c34c7ecccb8d8a91b4ee37a25df60f5b8fc9b394"
            + "1085bd3bfe3c42fbf95257713bd4f3f2841752fbb27943888c022f5c99eaf322c4ac48bedff2a985beab4ceb1f6fdd823b655e90735b407c299606d349951609")

        let answer = ResidentMessage.answer(.init(id: EnvelopeID(bytes: Array(64..<96))!, outcome: .accepted))
        #expect(hexString(answer.encoded()) == "04404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f000000")
        #expect(hexString(ResidentMessage.bye(.codeNotValid, "expired").encoded()) == "05020765787069726564")
    }

    @Test("every message reads back as written; every cut-short message and trailing byte is refused")
    func roundTripsAndTruncations() throws {
        let key = SigningKey(seed: Self.residentSeed)!
        let messages: [ResidentMessage] = [
            .identity(key: key.publicKey, signature: key.sign([1, 2, 3])),
            .join(code: Self.codeID, proof: [UInt8](repeating: 0xAB, count: 32)),
            .joined(role: .resident, displayName: "Camille, 3e étage", grant: EnvelopeID(bytes: Array(0..<32))!),
            .submit([UInt8](repeating: 7, count: Limits.maximumEnvelopeBytes)),
            .answer(.init(id: EnvelopeID(bytes: Array(0..<32))!, outcome: .refused, reason: .notAllowed, detail: String(repeating: "é", count: 200))),
            .bye(.rateLimited, ""),
        ]
        for message in messages {
            let bytes = message.encoded()
            if case .answer = message {
                // The detail is cut at 255 bytes between characters.
                guard case .answer(let read) = try ResidentMessage.decode(bytes) else { Issue.record("not an answer"); continue }
                #expect(read.detail.utf8.count <= 255 && read.detail.allSatisfy { $0 == "é" })
            } else {
                #expect(try ResidentMessage.decode(bytes) == message)
            }
            for cut in 0..<bytes.count where !(bytes[0] == 0x03 && cut > 1) {
                #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode(Array(bytes.prefix(cut))) }
            }
            if bytes[0] != 0x03 {
                #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode(bytes + [0]) }
            }
        }
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0x03] + [UInt8](repeating: 0, count: Limits.maximumEnvelopeBytes + 1)) }
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0x06]) }
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0xFF]) }
        // An unknown refusal reads as .other, an unknown outcome or role is refused.
        #expect(try ResidentMessage.decode([0x05, 0x77, 0x00]) == .bye(.other, ""))
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0x04] + [UInt8](repeating: 0, count: 32) + [0x09, 0, 0]) }
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0x02, 0x00, 0x00] + [UInt8](repeating: 0, count: 32)) }
    }

    @Test("a mistyped, cut, padded or foreign code gets its own error")
    func badCodes() throws {
        let code = EnrolmentCode(building: SigningKey(seed: Self.buildingSeed)!.publicKey, id: Self.codeID, secret: Self.secret,
                                 addresses: ["10.0.0.1:7482", "[fe80::1]:7482"])
        let text = code.text
        var typo = Array(text)
        let index = text.count - 7
        typo[index] = typo[index] == "a" ? "b" : "a"
        #expect(throws: EnrolmentCodeError.mistyped) { _ = try EnrolmentCode(text: String(typo)) }
        #expect(throws: EnrolmentCodeError.notACode) { _ = try EnrolmentCode(text: "palier-invite-abcd") }
        #expect(throws: EnrolmentCodeError.self) { _ = try EnrolmentCode(text: String(text.dropLast(5))) }
        #expect(throws: EnrolmentCodeError.damaged) { _ = try EnrolmentCode(text: "palier-join-") }
        #expect(throws: EnrolmentCodeError.damaged) { _ = try EnrolmentCode(text: "palier-join-" + String(repeating: "a", count: 2_000)) }
        #expect(throws: EnrolmentCodeError.damaged) { _ = try EnrolmentCode(text: "palier-join-é") }
        // Zero, one and the most addresses; over-long ones are left out when made.
        for count in [0, 1, EnrolmentCode.maximumAddresses] {
            let addresses = (0..<count).map { "10.0.0.\($0):7482" }
            let made = EnrolmentCode(building: code.building, id: Self.codeID, secret: Self.secret, addresses: addresses)
            #expect(try EnrolmentCode(text: made.text).addresses == addresses)
        }
        let long = String(repeating: "h", count: EnrolmentCode.maximumAddressBytes + 1)
        #expect(EnrolmentCode(building: code.building, id: Self.codeID, secret: Self.secret, addresses: [long, "a:1"]).addresses == ["a:1"])
    }
}
