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
            .claim(shortID: 0xFFFF, element: [UInt8](repeating: 1, count: 32)),
            .challenge(element: [UInt8](repeating: 2, count: 32), confirmation: [UInt8](repeating: 3, count: 32)),
            .confirm([UInt8](repeating: 4, count: 32)),
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
        #expect(throws: SyncMessageError.self) { _ = try ResidentMessage.decode([0x09]) }
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

    // MARK: Short codes (§15.8)

    static let shortCodeText = "0411-4D2P-F282"

    @Test("the short code, CPace run and messages of §15.8")
    func shortCodeVectors() throws {
        let code = ShortEnrolmentCode(shortID: 0x0102, secret: 0x1_2345_6789)
        #expect(code.text == Self.shortCodeText)
        #expect(code.canonical == "04114D2PF282")
        #expect(try ShortEnrolmentCode(text: " o4ii-4d2p-f282 ") == code)  // O and I read as 0 and 1, any case
        #expect(try ShortEnrolmentCode(text: "04114 D2PF 282") == code)

        let resident = try CPace(password: code.password, sessionID: Self.handshakeHash, scalarSeed: Array(0x40..<0x80))
        let node = try CPace(password: code.password, sessionID: Self.handshakeHash, scalarSeed: Array(0x80..<0xC0))
        #expect(hexString(CPace.generator(password: code.password, sessionID: Self.handshakeHash))
                == "30f4f30155f9e4f7e753284e421cd2ed5afb93ae2aef98a71afbd635dd5b2776")
        #expect(hexString(resident.element) == "9491c7a0e37c43b3385fce4096cfe3c16baac418c6503784d4b3bc6e70521c2d")
        #expect(hexString(node.element) == "768284472c60e64a0ae3c64467dfd481f505f199c2d50fed206c57796efb8b63")
        let residentKey = try resident.key(peerElement: node.element, initiator: true)
        let nodeKey = try node.key(peerElement: resident.element, initiator: false)
        #expect(hexString(residentKey.bytes) == "8cb3f12f8b9e88fb0423e0eac682fbb596e64c596c27350b1299130c2df87d7d")
        #expect(nodeKey.bytes == residentKey.bytes)
        let residentConfirmation = residentKey.confirmation(initiator: true)
        let nodeConfirmation = nodeKey.confirmation(initiator: false)
        #expect(hexString(residentConfirmation) == "c6bb600814db374d26b06bb829cbf3386c0e974122c023227707fa033e90def2")
        #expect(hexString(nodeConfirmation) == "9cf2f4bb8509c86c0949a3a1565c5212b0da40974b19d76ec468c8399b41d57d")

        #expect(hexString(ResidentMessage.claim(shortID: code.shortID, element: resident.element).encoded())
                == "0601029491c7a0e37c43b3385fce4096cfe3c16baac418c6503784d4b3bc6e70521c2d")
        #expect(hexString(ResidentMessage.challenge(element: node.element, confirmation: nodeConfirmation).encoded())
                == "07768284472c60e64a0ae3c64467dfd481f505f199c2d50fed206c57796efb8b63"
                + "9cf2f4bb8509c86c0949a3a1565c5212b0da40974b19d76ec468c8399b41d57d")
        #expect(hexString(ResidentMessage.confirm(residentConfirmation).encoded())
                == "08c6bb600814db374d26b06bb829cbf3386c0e974122c023227707fa033e90def2")
    }

    @Test("a wrong password or another session gives another key; an invalid element is refused")
    func cpaceMismatch() throws {
        let right = Array("04114D2PF282".utf8)
        let wrong = Array("04114D2PF283".utf8)
        let resident = try CPace(password: right, sessionID: Self.handshakeHash)
        let node = try CPace(password: right, sessionID: Self.handshakeHash)
        let guesser = try CPace(password: wrong, sessionID: Self.handshakeHash)
        let otherSession = try CPace(password: right, sessionID: Array(Self.handshakeHash.reversed()))
        let agreed = try resident.key(peerElement: node.element, initiator: true).bytes
        #expect(agreed == (try node.key(peerElement: resident.element, initiator: false).bytes))
        #expect(agreed != (try guesser.key(peerElement: node.element, initiator: true).bytes))
        #expect((try node.key(peerElement: guesser.element, initiator: false).bytes) != (try guesser.key(peerElement: node.element, initiator: true).bytes))
        #expect((try node.key(peerElement: otherSession.element, initiator: false).bytes) != (try otherSession.key(peerElement: node.element, initiator: true).bytes))
        // The identity, a non-canonical encoding, a short or long element.
        for element in [[UInt8](repeating: 0, count: 32), [UInt8](repeating: 0xFF, count: 32), [UInt8](repeating: 1, count: 31), [UInt8](repeating: 0, count: 33)] {
            #expect(throws: CPaceError.invalidElement) { _ = try node.key(peerElement: element, initiator: false) }
        }
        #expect(throws: CPaceError.invalidInput) { _ = try CPace(password: [UInt8](repeating: 0, count: 256), sessionID: Self.handshakeHash) }
        #expect(throws: CPaceError.invalidInput) { _ = try CPace(password: right, sessionID: Self.handshakeHash, scalarSeed: [1]) }
    }

    @Test("every mistyped character of a short code is caught; its fields at 0, 1, max − 1 and max")
    func shortCodeChecks() throws {
        for (id, secret) in [(UInt16(0), UInt64(0)), (1, 1), (0xFFFE, ShortEnrolmentCode.secretLimit - 2), (0xFFFF, ShortEnrolmentCode.secretLimit - 1)] {
            let code = ShortEnrolmentCode(shortID: id, secret: secret)
            #expect(try ShortEnrolmentCode(text: code.text) == code)
        }
        let canonical = Array(ShortEnrolmentCode(shortID: 0xBEEF, secret: 0xA_BCDE_F012).canonical)
        var swapsCaught = 0
        for position in canonical.indices {
            for replacement in ShortEnrolmentCode.alphabet where replacement != canonical[position] {
                var typo = canonical
                typo[position] = replacement
                #expect(throws: EnrolmentCodeError.mistyped) { _ = try ShortEnrolmentCode(text: String(typo)) }
            }
            if position + 1 < canonical.count, canonical[position] != canonical[position + 1] {
                var swapped = canonical
                swapped.swapAt(position, position + 1)
                if (try? ShortEnrolmentCode(text: String(swapped))) == nil { swapsCaught += 1 }
            }
        }
        #expect(swapsCaught >= 10)
        #expect(throws: EnrolmentCodeError.notACode) { _ = try ShortEnrolmentCode(text: "0411-4D2P-F28") }
        #expect(throws: EnrolmentCodeError.notACode) { _ = try ShortEnrolmentCode(text: "0411-4D2P-F2822") }
        #expect(throws: EnrolmentCodeError.notACode) { _ = try ShortEnrolmentCode(text: "0411-4D2P-F28U") }
        #expect(throws: EnrolmentCodeError.notACode) { _ = try ShortEnrolmentCode(text: "0411-4D2P-F28é") }
        #expect(throws: EnrolmentCodeError.notACode) { _ = try ShortEnrolmentCode(text: "") }
    }
}
