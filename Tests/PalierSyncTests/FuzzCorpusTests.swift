import Foundation
import PalierCore
import PalierCrypto
import PalierDiscovery
import PalierTestSupport
import Testing

/// The fuzz targets' seed corpora (Tests/FuzzCorpus/<target>/), made from the protocol's test
/// vectors and examples. The committed files must equal what this makes, so that the seeds follow
/// the protocol; `PALIER_WRITE_FUZZ_CORPUS=1 swift test --filter FuzzCorpusTests` writes them anew.
@Suite struct FuzzCorpusTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("FuzzCorpus")

    @Test("the committed seed corpora are the protocol's current vectors and examples")
    func seedsAreCurrent() throws {
        let write = ProcessInfo.processInfo.environment["PALIER_WRITE_FUZZ_CORPUS"] == "1"
        for (target, seeds) in Self.seeds() {
            let folder = Self.directory.appendingPathComponent(target)
            if write { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
            for (name, bytes) in seeds {
                let file = folder.appendingPathComponent(name)
                if write { try Data(bytes).write(to: file) }
                let committed = try? [UInt8](Data(contentsOf: file))
                #expect(committed == bytes, "\(target)/\(name) is missing or out of date")
            }
        }
    }

    static func seeds() -> [String: [(String, [UInt8])]] {
        let building = TestVectors.buildingKey
        let resident = TestVectors.residentKey
        let b = building.publicKey
        let grant = Fixtures.sign(building, TestVectors.grantContent)
        let tip = Fixtures.sign(resident, TestVectors.tipContent)
        let event = Fixtures.post(.event, by: building, in: b, title: "Fête des voisins")
        let alert = Fixtures.post(.alert, by: building, in: b, scope: .building, title: "Coupure d'eau", body: "Jeudi 9h–12h")
        let envelopes: [(String, Envelope)] = [
            ("vector-1-grant", grant), ("vector-2-tip", tip), ("event", event), ("alert", alert),
            ("classified", Fixtures.post(.classified, by: resident, in: b)),
            ("notice", Fixtures.post(.notice, by: building, in: b)),
            ("flash", Fixtures.post(.flash, by: building, in: b)),
            ("promo", Fixtures.post(.promo, by: building, in: b)),
            ("edit", Fixtures.edit(tip, by: resident, title: "Réparé", at: Fixtures.epoch + 1)),
            ("retract", Fixtures.retract(tip, by: resident, in: b, at: Fixtures.epoch + 2)),
            ("hide", Fixtures.hide(tip, by: building, for: b, at: Fixtures.epoch + 3)),
            ("revoke", Fixtures.grant(nil, to: resident.publicKey, by: building)),
            ("profile", Fixtures.profile(of: building, name: "Résidence Les Tilleuls")),
        ]
        // The envelope of issue 17 (refused: its expiry is 2^64 − 1) and an event at the top of time.
        var issue17 = RawEnvelope(author: building)
        issue17.timestamp = 1 << 16
        issue17.expiresAt = .max
        var farEvent = RawEnvelope(author: building)
        farEvent.kind = .event
        farEvent.event = (.max - 1, .max, "Cour")

        func envelopesBody(_ list: [[UInt8]]) -> [UInt8] { Array(SyncMessage.envelopes(list).encoded().dropFirst()) }
        let ids = envelopes.map(\.1.id)
        let reconcileSet = SyncItemSet((0..<300).map { n in
            // The same set as Fuzz/Sources/FuzzReconcile.
            SyncItem(timestamp: UInt64(n / 3) << 16, id: EnvelopeID(bytes: BLAKE2b.hash256([UInt8(n & 0xff), UInt8(n >> 8)]))!)
        })
        func initiate(_ items: [SyncItem]) -> [UInt8] { ReconciliationStateMachine(set: SyncItemSet(items), crypto: SodiumCrypto()).initiate() }
        let someMissing = reconcileSet.items.enumerated().filter { $0.offset % 7 != 0 }.map(\.element)
        let someExtra = reconcileSet.items + envelopes.map { SyncItem(timestamp: $0.1.timestamp.rawValue, id: $0.1.id) }

        let record = DiscoveryRecord(building: b, networkID: "0123456789abcdef", name: "Résidence Les Tilleuls")
        func txt(_ strings: [String]) -> [UInt8] { strings.flatMap { [UInt8($0.utf8.count)] + Array($0.utf8) } }
        let network = NetworkKey(bytes: (64..<96).map { UInt8($0) })!

        // A handshake with the fuzz target's fixed responder: messages 1 and 3 of a real dialler.
        let psk = [UInt8](repeating: 0x42, count: 32)
        var initiator = NoiseHandshake(role: .initiator, prologue: SyncProtocol.prologue,
                                       staticKey: NoiseKeyPair(privateKey: [UInt8](repeating: 3, count: 32))!, presharedKey: psk,
                                       ephemeral: NoiseKeyPair(privateKey: [UInt8](repeating: 4, count: 32))!)
        var responder = NoiseHandshake(role: .responder, prologue: SyncProtocol.prologue,
                                       staticKey: NoiseKeyPair(privateKey: [UInt8](repeating: 1, count: 32))!, presharedKey: psk,
                                       ephemeral: NoiseKeyPair(privateKey: [UInt8](repeating: 2, count: 32))!)
        let m1 = try! initiator.writeMessage()
        _ = try! responder.readMessage(m1)
        _ = try! initiator.readMessage(try! responder.writeMessage())
        let m3 = try! initiator.writeMessage()

        // A peer's coded symbols against FuzzSketch's fixed 300 ids: the same set with 5 ids
        // swapped for 5 others, and the same set; batch byte, then 48 bytes a symbol.
        let sketchIDs = (0..<300).map { n in EnvelopeID(bytes: BLAKE2b.hash256([UInt8(n & 0xff), UInt8(n >> 8)]))! }
        func symbols(_ ids: [EnvelopeID], count: Int, batch: UInt8) -> [UInt8] {
            let encoder = SketchEncoder(ids.map { SketchItem($0, crypto: SodiumCrypto()) }, prefix: count)
            return [batch] + encoder.symbols.flatMap { symbol in
                ([symbol.sum[0], symbol.sum[1], symbol.sum[2], symbol.sum[3], symbol.checksum, UInt64(bitPattern: symbol.count)])
                    .flatMap { word in (0..<8).map { UInt8(truncatingIfNeeded: word >> (8 * UInt64($0))) } }
            }
        }

        return [
            "FuzzSketch": [
                ("five-swapped", symbols(Array(sketchIDs.dropFirst(5)) + ids.prefix(5), count: 40, batch: 7)),
                ("same-set", symbols(sketchIDs, count: 3, batch: 0)),
            ],
            "FuzzEnvelope": envelopes.map { ($0.0, $0.1.bytes) } + [("issue-17-expiry-max", issue17.bytes), ("event-at-the-top", farEvent.bytes),
                ("scheduled-notice", try! TestVectors.buildingKey.sign(TestVectors.scheduledNoticeContent).bytes),
                ("edit-ending-early", try! TestVectors.residentKey.sign(TestVectors.editEndingEarlyContent).bytes),
                ("image-and-link", try! TestVectors.residentKey.sign(TestVectors.imagePostContent).bytes)],
            "FuzzSyncMessage": [
                ("identity", SyncMessage.identity(building: b, signature: building.sign([1, 2, 3])).encoded()),
                ("hello", SyncMessage.hello(.init(name: "Résidence Les Tilleuls")).encoded()),
                ("reconcile", SyncMessage.reconcile(initiate(someExtra)).encoded()),
                ("want", SyncMessage.want(ids).encoded()),
                ("announce", SyncMessage.announce(ids).encoded()),
                ("envelopes", SyncMessage.envelopes([grant.bytes, tip.bytes, event.bytes]).encoded()),
                ("ping", SyncMessage.ping(42).encoded()), ("pong", SyncMessage.pong(.max).encoded()),
                ("bye", SyncMessage.bye(.invalidEnvelopes, "sent an invalid envelope").encoded()),
                ("unsupported", SyncMessage.unsupported(type: 0x7f).encoded()), ("unknown-type", [0x7f, 1, 2]),
                ("sketch-request", SyncMessage.sketchRequest(start: 0, count: 32, setSize: 100_000).encoded()),
                ("sketch-symbols", SyncMessage.sketchSymbols(start: 32, end: 40, symbols: Array(SketchEncoder(
                    sketchIDs.prefix(40).map { SketchItem($0, crypto: SodiumCrypto()) }, prefix: 40).symbols[32..<40])).encoded()),
                ("blob-want", SyncMessage.blobWant(TestVectors.imageBlob, offset: 0, length: 48_213).encoded()),
                ("blob-chunk", SyncMessage.blobChunk(TestVectors.imageBlob, offset: 61_440, bytes: Array(0..<200).map { UInt8($0) }).encoded()),
                ("blob-missing", SyncMessage.blobMissing(TestVectors.imageBlob).encoded()),
            ],
            "FuzzReconcile": [
                ("same-set", reconcileSet.items.isEmpty ? [] : initiate(reconcileSet.items)),
                ("one-in-seven-missing", initiate(someMissing)), ("thirteen-extra", initiate(someExtra)),
                ("small-set-id-list", initiate(Array(reconcileSet.items.prefix(10)))), ("empty-set", initiate([])),
                ("done", [ReconciliationStateMachine.version]),
            ],
            "FuzzKeyText": [("building", Array(b.text.utf8)), ("resident-plain", Array(resident.publicKey.text.replacingOccurrences(of: "-", with: "").uppercased().utf8))],
            "FuzzTXTRecord": [
                ("record", txt(record.txt)),
                ("upper-case-keys-and-extra", txt(["V=1", "PK=\(b.text)", "net=0123456789abcdef", "name=Les Tilleuls", "path=/x", "v=9"])),
            ],
            "FuzzInvite": [("invite", Array(network.invite.utf8)), ("invite-spaced", Array(network.invite.uppercased().replacingOccurrences(of: "-", with: " ").utf8))],
            "FuzzScreen": [
                ("building-posts", envelopesBody([grant.bytes, tip.bytes, event.bytes, alert.bytes, Fixtures.profile(of: building, name: "Les Tilleuls").bytes])),
                ("edits-retracts-hides", envelopesBody(envelopes.map(\.1.bytes).suffix(6))),
                ("extremes", envelopesBody([issue17.bytes, farEvent.bytes])),
            ],
            "FuzzNoise": [("handshake-1-and-3", [UInt8(m1.count + 1)] + m1 + m3)],
            "FuzzResidentMessage": [
                ("identity", ResidentMessage.identity(key: resident.publicKey, signature: resident.sign([1, 2, 3])).encoded()),
                ("join", ResidentMessage.join(code: Array(0..<8), proof: Array(32..<64)).encoded()),
                ("joined", ResidentMessage.joined(role: .resident, displayName: "Camille, 3e étage", grant: grant.id).encoded()),
                ("submit", ResidentMessage.submit(tip.bytes).encoded()),
                ("answer", ResidentMessage.answer(.init(id: tip.id, outcome: .refused, reason: .notAllowed, detail: "a resident may not post an alert")).encoded()),
                ("bye", ResidentMessage.bye(.wrongSecret, "4").encoded()),
                ("claim", ResidentMessage.claim(shortID: 0x0102, element: Array(0..<32)).encoded()),
                ("challenge", ResidentMessage.challenge(element: Array(0..<32), confirmation: Array(32..<64)).encoded()),
                ("confirm", ResidentMessage.confirm(Array(32..<64)).encoded()),
                ("blob", ResidentMessage.blob(TestVectors.imageBlob, offset: 61_440, bytes: Array(0..<200).map { UInt8($0) }).encoded()),
            ],
            "FuzzEnrolmentCode": [
                ("code", Array(EnrolmentCode(building: b, id: Array(0..<8), secret: Array(16..<32), addresses: ["192.168.1.20:7482", "[fe80::1%eth0]:7482"]).text.utf8)),
                ("code-no-address", Array(EnrolmentCode(building: b, id: Array(0..<8), secret: Array(16..<32), addresses: []).text.uppercased().utf8)),
                ("short", Array(ShortEnrolmentCode(shortID: 0x0102, secret: 0x1_2345_6789).text.utf8)),
            ],
        ]
    }
}
