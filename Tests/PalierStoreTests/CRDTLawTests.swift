import PalierCore
import PalierCrypto
import PalierStore
import PalierTestSupport
import Testing

/// The replicated state is a set and the view a function of it: whatever the delivery order,
/// duplication or split between stores, every store that ends with the same envelopes shows the
/// same view, and that view is the one computed from the whole set at once.
@Suite struct CRDTLawTests {
    static let seeds: [UInt64] = Array(1...200)

    @Test(arguments: seeds)
    func storesConvergeWhateverTheDeliveryOrder(seed: UInt64) throws {
        let world = RandomNeighbourhood(seed: seed)
        let now = Fixtures.epoch + 2 * 3_600_000
        let home = world.home.publicKey
        var random = SeededRandom(seed: seed &* 7919)

        // The reference: the view of the whole set at once. Building-scope envelopes of the
        // neighbour never reach this node, so they are not part of its set.
        let admissible = world.envelopes.filter { $0.content.scope == .neighbourhood || $0.building == home }
        let laterInstants = [now, now + 3 * Fixtures.day, now + 40 * Fixtures.day]
        let reference = laterInstants.map { SodiumCrypto().blake2b256(ViewRules.view(of: admissible, now: $0, viewer: home).canonicalBytes()) }

        // Three stores, each given a random part of the history (with duplicates), in random batches.
        let stores = try (0..<3).map { _ in try EnvelopeStore(path: nil, building: home, validator: .sodium) }
        for store in stores {
            var part = world.envelopes.filter { _ in Int.random(in: 0..<3, using: &random) > 0 }
            part += part.filter { _ in Int.random(in: 0..<4, using: &random) == 0 }  // duplicates
            part.shuffle(using: &random)
            try deliver(part.map(\.bytes), to: store, now: now, random: &random)
        }
        // Then they exchange what they hold, each in its own order, and the missing rest arrives.
        for store in stores {
            var incoming = try stores.flatMap { try $0.liveEnvelopes(now: now).map(\.bytes) } + world.envelopes.map(\.bytes)
            incoming.shuffle(using: &random)
            try deliver(incoming, to: store, now: now, random: &random)
        }

        for (instant, expected) in zip(laterInstants, reference) {
            for store in stores {
                #expect(try store.stateDigest(now: instant) == expected, "seed \(seed) at +\(instant - now) ms")
            }
        }
        // Purging expired envelopes never changes what is shown (the view is read at times that
        // never go back: reading it deletes what expired).
        let late = laterInstants[2]
        try stores[0].purgeExpired(now: late)
        #expect(try stores[0].stateDigest(now: late) == reference[2], "seed \(seed) after purge")
    }

    func deliver(_ all: [[UInt8]], to store: EnvelopeStore, now: UInt64, random: inout SeededRandom) throws {
        var rest = all[...]
        while !rest.isEmpty {
            let n = Int.random(in: 1...8, using: &random)
            let batch = Array(rest.prefix(n))
            rest = rest.dropFirst(n)
            let report = try store.ingest(batch, now: now)
            // Only the neighbour's building-scope posts may be refused; nothing else.
            for (_, error) in report.refused { #expect(error == .foreignBuildingScope) }
        }
    }
}

@Suite struct RandomNeighbourhoodCoverageTests {
    /// The law test is only as good as its histories: check that they exercise every rule.
    @Test func historiesExerciseEveryRule() {
        var shown = 0, edited = 0, erasures = 0, hidden = 0, ungranted = 0, roles = Set<Role?>()
        let now = Fixtures.epoch + 2 * 3_600_000
        for seed in CRDTLawTests.seeds {
            let world = RandomNeighbourhood(seed: seed)
            let home = world.home.publicKey
            let view = ViewRules.view(of: world.envelopes, now: now, viewer: home)
            shown += view.items.count
            edited += view.items.filter { $0.editedAt != nil }.count
            roles.formUnion(view.items.map(\.role))
            let byID = Dictionary(world.envelopes.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
            for r in world.envelopes where r.kind == .retract {
                if let victim = byID[r.target!], ViewRules.retract(r.content, erases: victim.content) { erasures += 1 }
            }
            let visibleIDs = Set(view.items.map(\.id))
            let withoutHides = ViewRules.view(of: world.envelopes.filter { $0.kind != .hide }, now: now, viewer: home)
            hidden += withoutHides.items.filter { !visibleIDs.contains($0.id) }.count
            let allGranted = world.envelopes.filter { $0.kind != .grant }
            ungranted += view.items.count - ViewRules.view(of: allGranted, now: now, viewer: home).items.count
        }
        #expect(shown > 1000)
        #expect(edited > 100)
        #expect(erasures > 100)
        #expect(hidden > 50)
        #expect(ungranted > 100)
        #expect(roles.count >= 5)
    }
}
