import Foundation
import Logging
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierStore
import PalierTestSupport
import Testing

@Suite struct BuildingNodeTests {
    let clock = ManualClock(Fixtures.epoch)

    func makeNode(name: String = "Résidence Les Tilleuls") throws -> BuildingNode {
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        return try BuildingNode.initialise(directory, configuration: NodeConfiguration(buildingName: name), clock: clock)
    }

    func mode(_ url: URL) throws -> Int {
        try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as! Int
    }

    @Test func initialiseCreatesAPrivateDirectoryAKeyAndASignedProfile() throws {
        let node = try makeNode()
        // Others may pass through the data directory (to reach the screens' socket), not list it.
        #expect(try mode(node.directory.root) == 0o711)
        #expect(try mode(node.directory.identitiesDirectory) == 0o700)
        #expect(try mode(node.directory.resolve("building.key")) == 0o600)
        #expect(try mode(node.directory.resolve("palier.sqlite")) == 0o600)
        #expect(try node.view().profile(of: node.building)?.name == "Résidence Les Tilleuls")
        // A second init changes nothing.
        let error = #expect(throws: NodeError.self) {
            try BuildingNode.initialise(node.directory, configuration: NodeConfiguration(buildingName: "Autre"), clock: clock)
        }
        #expect(error?.exitCode == 73)
        let reopened = try BuildingNode.open(node.directory, clock: clock)
        #expect(reopened.building == node.building)
        #expect(try reopened.view().profile(of: node.building)?.name == "Résidence Les Tilleuls")
    }

    @Test("palier list reads a page: the newest first, whether older ones are left out, blocked buildings left out, by kind")
    func listPages() throws {
        let node = try makeNode()
        let camille = try node.createIdentity(named: "camille")
        try node.grant(.resident, to: camille.publicKey, displayName: "Camille")
        for n in 0..<30 {
            clock.advance(by: 1_000)
            try node.post(n % 3 == 0 ? .classified : .tip, PostContent(title: "Annonce \(n)"), as: camille)
        }
        let neighbour = Fixtures.key(40)
        clock.advance(by: 1_000)
        _ = try node.store.ingest([Fixtures.post(by: neighbour, in: neighbour.publicKey, at: clock.nowMillis(), title: "Voisins")].map(\.bytes), now: clock.nowMillis())
        let page = try node.listed(limit: 20)
        #expect(page.items.count == 20)
        #expect(page.more)
        #expect(page.items.first?.content.title == "Voisins")
        #expect(page.items[1].content.title == "Annonce 29")
        try node.setStance(.block, for: neighbour.publicKey)
        #expect(try node.listed(limit: 30).more == false)
        #expect(try node.listed(limit: 29).more)
        #expect(try node.listed(limit: nil).items.count == 30)
        let classifieds = try node.listed(kind: .classified, limit: 3)
        #expect(classifieds.items.map(\.content.title) == ["Annonce 27", "Annonce 24", "Annonce 21"])
        #expect(classifieds.more)
        #expect(try node.listed(kind: .classified, limit: 10).more == false)
    }

    @Test("status counts what the screen shows (not a neighbour it does not follow) and the members, by lookups")
    func statusCountsTheScreen() throws {
        let node = try makeNode()
        let camille = try node.createIdentity(named: "camille")
        try node.grant(.resident, to: camille.publicKey, displayName: "Camille")
        for n in 0..<3 {
            clock.advance(by: 1_000)
            try node.post(.tip, PostContent(title: "Annonce \(n)"), as: camille)
        }
        let neighbour = Fixtures.key(41)
        _ = try node.store.ingest([Fixtures.post(by: neighbour, in: neighbour.publicKey, at: clock.nowMillis(), title: "Voisins")].map(\.bytes), now: clock.nowMillis())
        var status = try node.status()
        #expect(status.shown == 3)
        #expect(status.shownByKind == [.tip: 3])
        #expect(status.members == 1)
        #expect(status.buildingName == "Résidence Les Tilleuls")
        try node.setStance(.follow, for: neighbour.publicKey)
        status = try node.status()
        #expect(status.shown == 4)
        clock.advance(by: 1_000)
        try node.revoke(camille.publicKey)
        status = try node.status()
        #expect(status.members == 0)
        #expect(status.shown == 1)
    }

    @Test func anInvalidBuildingNameWritesNothing() throws {
        let root = makeTemporaryDirectory().appendingPathComponent(".palier")
        #expect(throws: NodeError.self) {
            try BuildingNode.initialise(NodeDirectory(path: root.path), configuration: NodeConfiguration(buildingName: ""), clock: clock)
        }
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }

    @Test func residentsPostOnceGrantedAndOnlyTheirKinds() throws {
        let node = try makeNode()
        let camille = try node.createIdentity(named: "camille")
        #expect(throws: NodeError.self) { try node.post(.tip, PostContent(title: "Bonjour"), as: camille) }
        try node.grant(.resident, to: camille.publicKey, displayName: "Camille")
        let tip = try node.post(.tip, PostContent(title: "Bonjour"), as: camille)
        let denied = #expect(throws: NodeError.self) { try node.post(.flash, PostContent(title: "Ascenseur"), as: camille) }
        #expect(denied?.exitCode == 77)
        #expect(try node.view().items.map(\.id) == [tip.id])
        // Revocation hides the posts.
        clock.advance(by: 1)
        try node.revoke(camille.publicKey)
        #expect(try node.view().items.isEmpty)
    }

    @Test func editRetractAndHideFollowTheirRules() throws {
        let node = try makeNode()
        let camille = try node.createIdentity(named: "camille")
        let dominique = try node.createIdentity(named: "dominique")
        try node.grant(.resident, to: camille.publicKey, displayName: "Camille")
        try node.grant(.resident, to: dominique.publicKey, displayName: "Dominique")
        let tip = try node.post(.tip, PostContent(title: "Vélo trouvé", body: "Dans la cour."), as: camille)
        clock.advance(by: 1000)

        let notAuthor = #expect(throws: NodeError.self) { try node.edit(tip.id.hex, as: dominique) { c, _ in c.title = "pirate" } }
        #expect(notAuthor?.exitCode == 77)
        try node.edit(String(tip.id.hex.prefix(10)), as: camille) { c, _ in c.title = "Vélo bleu trouvé" }
        #expect(try node.view().items.first?.content.title == "Vélo bleu trouvé")
        #expect(try node.view().items.first?.content.body == "Dans la cour.")

        let residentHide = #expect(throws: NodeError.self) { try node.hide(tip.id.hex, reason: "", as: dominique) }
        #expect(residentHide?.description == "A resident may not hide posts; only the building key and admins may.")
        try node.hide(tip.id.hex, reason: "doublon", as: node.buildingKey)
        #expect(try node.view().items.isEmpty)

        try node.retract(tip.id.hex, as: camille)
        let gone = #expect(throws: NodeError.self) { try node.envelope(tip.id.hex) }
        #expect(gone?.description.contains("retracted") == true)
        #expect(try node.store.isErased(tip.id))
    }

    @Test func expiryDefaultsAndLimits() throws {
        let node = try makeNode()
        let tip = try node.post(.tip, PostContent(title: "t"), as: node.buildingKey)
        #expect(tip.expiresAt == clock.nowMillis() + 7 * Limits.millisPerDay)
        let event = try node.post(.event, PostContent(title: "Fête", event: EventDetails(
            startsAt: clock.nowMillis() + Limits.millisPerDay, endsAt: clock.nowMillis() + Limits.millisPerDay + 7_200_000, place: "Cour"
        )), as: node.buildingKey)
        #expect(event.expiresAt == clock.nowMillis() + Limits.millisPerDay + 7_200_000)
        let tooFar = #expect(throws: NodeError.self) {
            try node.post(.tip, PostContent(title: "t"), expiresAt: clock.nowMillis() + 91 * Limits.millisPerDay, as: node.buildingKey)
        }
        #expect(tooFar?.exitCode == 65)
    }

    @Test func theSweeperRemovesExpiredPostsAndRenewsTheProfile() throws {
        let node = try makeNode()
        try node.post(.tip, PostContent(title: "court"), expiresAt: clock.nowMillis() + 30_000, as: node.buildingKey)
        let sweeper = ExpirySweeper(node: node, logger: Logger(label: "test"))
        #expect(sweeper.sweep() == .milliseconds(30_001))
        clock.advance(by: 30_000)
        _ = sweeper.sweep()
        #expect(try node.store.statistics().byKind[.tip] == nil)
        // 61 days later the profile has under 30 days left: it is signed anew.
        let before = try node.store.liveEnvelopes(now: clock.nowMillis()).first { $0.kind == .profile }!
        clock.advance(by: 61 * Limits.millisPerDay)
        _ = sweeper.sweep()
        let after = try node.store.liveEnvelopes(now: clock.nowMillis()).filter { $0.kind == .profile }
        #expect(after.contains { $0.id != before.id && $0.expiresAt > before.expiresAt })
        #expect(try node.view().profile(of: node.building)?.name == "Résidence Les Tilleuls")
    }

    @Test func timeSpecsReadDurationsAndDates() throws {
        let utc = TimeZone(identifier: "UTC")!
        #expect(try TimeSpec.parse("90m", now: 0) == 5_400_000)
        #expect(try TimeSpec.parse("7d", now: 1000) == 1000 + 7 * 86_400_000)
        #expect(try TimeSpec.parse("2026-12-24", now: 0, timeZone: utc) == 1_798_070_400_000)
        #expect(try TimeSpec.parse("2026-12-24T18:30", now: 0, timeZone: utc) == 1_798_070_400_000 + 66_600_000)
        #expect(try TimeSpec.parse("2026-12-24T18:30:00+01:00", now: 0) == 1_798_070_400_000 + 63_000_000)
        for bad in ["", "soon", "0d", "-3d", "2026-13-01", "99999999999999999999d"] {
            #expect(throws: NodeError.self) { try TimeSpec.parse(bad, now: 0) }
        }
    }
}

@Suite struct DiscoverySettingsTests {
    func node(_ configure: (inout NodeConfiguration) -> Void = { _ in }) throws -> BuildingNode {
        var configuration = NodeConfiguration(buildingName: "Les Tilleuls")
        configure(&configuration)
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        return try BuildingNode.initialise(directory, configuration: configuration, clock: ManualClock(Fixtures.epoch))
    }

    @Test func statusSaysInOneSentenceWhetherLocalDiscoveryIsOnAndWhyNot() throws {
        #expect(try node().discoveryOffReason() == nil)
        #expect(try node().discoveryState() == "Local discovery starts with palier run, through the system's avahi-daemon.")
        #expect(try node { $0.sync.discovery = false }.discoveryState() == "Local discovery is off because sync.discovery is false in config.json.")
        #expect(try node { $0.sync.port = 0 }.discoveryState() == "Local discovery is off because sync is off (sync.port is 0 in config.json).")
    }

    @Test func discoveryIsOnUnlessConfigSaysOtherwise() throws {
        let absent = try JSONDecoder().decode(NodeConfiguration.self, from: Data(#"{"buildingName": "A", "sync": {"port": 7481}}"#.utf8))
        #expect(absent.sync.discovery)
        let off = try JSONDecoder().decode(NodeConfiguration.self, from: Data(#"{"buildingName": "A", "sync": {"discovery": false}}"#.utf8))
        #expect(!off.sync.discovery)
    }
}

@Suite struct BuildingNamesTests {
    @Test("follow and block name a building by its name, its key or the start of its key as peers shows it; an unknown or ambiguous one is refused")
    func buildingsByNameOrKeyPrefix() throws {
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        let node = try BuildingNode.initialise(directory, configuration: NodeConfiguration(buildingName: "Résidence Les Tilleuls"))
        let lilas = SigningKey.generate(), erables = SigningKey.generate()
        try node.store.recordPeer(PeerRecord(building: lilas.publicKey, name: "Résidence des Lilas", address: "10.0.0.2:7481", lastContact: 1, connected: false))
        _ = try node.store.ingest([Fixtures.profile(of: erables, name: "Les Érables", at: node.now() - 1_000).bytes], now: node.now())
        #expect(try node.building(named: "residence des lilas") == lilas.publicKey)
        #expect(try node.building(named: "LES ERABLES") == erables.publicKey)
        #expect(try node.building(named: lilas.publicKey.shortText) == lilas.publicKey)
        #expect(try node.building(named: String(erables.publicKey.text.prefix(14)).uppercased()) == erables.publicKey)
        #expect(try node.building(named: lilas.publicKey.text) == lilas.publicKey)
        #expect(throws: NodeError.self) { try node.building(named: "Les Tilleuls du bout") }
        #expect(throws: NodeError.self) { try node.building(named: "ab") }
        // Two buildings met under the same name cannot be told apart by it.
        for _ in 0..<2 {
            try node.store.recordPeer(PeerRecord(building: SigningKey.generate().publicKey, name: "Le Square", address: "", lastContact: 1, connected: false))
        }
        #expect(throws: NodeError.self) { try node.building(named: "le square") }
        try node.setStance(BuildingStance.follow, for: try node.building(named: "Résidence des Lilas"))
        #expect(try node.federationPolicy().followed == [lilas.publicKey])
    }
}
