import Foundation
import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Testing
@testable import PalierFeed
@testable import PalierScreen

/// The hub reads only what the rules can keep (per kind, the bound's worth) from the store's
/// materialised view: the playlist must be the one the rules make from the whole view.
@Suite struct PlaylistFromStoreTests {
    @Test(arguments: Array(UInt64(1)...120))
    func theBoundedReadGivesTheRulesPlaylist(seed: UInt64) throws {
        let world = RandomNeighbourhood(seed: seed &+ 50_000, size: 160)
        let home = world.home.publicKey
        var random = SeededRandom(seed: seed &* 131)
        let store = try EnvelopeStore(path: nil, building: home, validator: .sodium)
        let start = Fixtures.epoch + 2 * 3_600_000
        var taken: [Envelope] = []
        let byID = Dictionary(world.envelopes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        let report = try store.ingest(world.envelopes.map(\.bytes), now: start)
        taken = (report.accepted + report.erasedOnArrival).compactMap { byID[$0] }

        let policy: FederationPolicy = switch Int.random(in: 0..<4, using: &random) {
        case 0: FederationPolicy()
        case 1: FederationPolicy(followed: [world.neighbour.publicKey])
        case 2: FederationPolicy(followed: [world.neighbour.publicKey], followedKinds: [world.neighbour.publicKey: Set(Kind.contentKinds)])
        default: FederationPolicy(followed: [world.neighbour.publicKey], blocked: [world.neighbour.publicKey])
        }
        let configuration = ScreenConfiguration(
            promoShare: [0, 0.2, 0.5].randomElement(using: &random)!,
            eventLeadTimeMillis: [0, 3_600_000, 7 * Fixtures.day].randomElement(using: &random)!,
            maximumItems: Int.random(in: 1...8, using: &random))
        for now in [start, start + Fixtures.day + 1_800_000, start + 10 * Fixtures.day, start + 70 * Fixtures.day] {
            let expected = PlaylistRules.playlist(
                view: ViewRules.view(of: taken, now: now, viewer: home), now: now, viewer: home, viewerName: "Les Lilas",
                configuration: configuration, policy: policy)
            let actual = try FeedHub.playlist(store: store, now: now, configuration: configuration, policy: policy, buildingName: "Les Lilas")
            #expect(actual.items.map(\.id) == expected.items.map(\.id), "seed \(seed) at +\((now - start) / 3_600_000) h")
            #expect(actual == expected, "seed \(seed) at +\((now - start) / 3_600_000) h")
        }
    }
}
