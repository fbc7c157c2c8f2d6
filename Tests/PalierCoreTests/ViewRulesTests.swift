import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

@Suite struct ViewRulesTests {
    let building = Fixtures.key(1)
    let alice = Fixtures.key(2)
    let bob = Fixtures.key(3)
    let bakery = Fixtures.key(4)
    let other = Fixtures.key(5)
    let now = Fixtures.epoch + 1000

    var b: PublicKey { building.publicKey }

    func view(_ envelopes: [Envelope], viewer: PublicKey? = nil, at time: UInt64? = nil) -> BuildingView {
        ViewRules.view(of: envelopes, now: time ?? now, viewer: viewer ?? b)
    }

    @Test func aPostIsShownOnceItsGrantArrivesWhateverTheOrder() {
        let grant = Fixtures.grant(.resident, to: alice.publicKey, by: building)
        let post = Fixtures.post(by: alice, in: b)
        #expect(view([post]).items.isEmpty)
        #expect(view([post, grant]).items.map(\.id) == [post.id])
        #expect(view([grant, post]).items.map(\.id) == [post.id])
        #expect(view([grant, post]).items.first?.role == .resident)
        #expect(view([grant, post]).items.first?.authorName == "Voisin")
    }

    @Test func aGrantFromAnotherBuildingDoesNotCount() {
        let foreignGrant = Fixtures.grant(.resident, to: alice.publicKey, by: other)
        #expect(view([foreignGrant, Fixtures.post(by: alice, in: b)]).items.isEmpty)
    }

    @Test func rolesLimitKinds() {
        let merchant = Fixtures.grant(.merchant, to: bakery.publicKey, by: building)
        let promo = Fixtures.post(.promo, by: bakery, in: b, title: "Croissants -20 %")
        let alert = Fixtures.post(.alert, by: bakery, in: b, counter: 1, title: "Alerte")
        #expect(view([merchant, promo, alert]).items.map(\.id) == [promo.id])

        let resident = Fixtures.grant(.resident, to: alice.publicKey, by: building)
        let flash = Fixtures.post(.flash, by: alice, in: b)
        #expect(view([resident, flash]).items.isEmpty)
        let elevator = Fixtures.grant(.elevator, to: alice.publicKey, by: building, counter: 1)
        #expect(view([resident, elevator, flash]).items.map(\.id) == [flash.id])
    }

    @Test func revocationByALaterGrantHidesThePosts() {
        let grant = Fixtures.grant(.resident, to: alice.publicKey, by: building)
        let revoke = Fixtures.grant(nil, to: alice.publicKey, by: building, at: Fixtures.epoch + 10)
        let post = Fixtures.post(by: alice, in: b)
        #expect(view([revoke, post, grant]).items.isEmpty)
        #expect(view([grant, post]).items.count == 1)
        // An expired grant no longer counts either.
        #expect(view([grant, post], at: grant.expiresAt).items.isEmpty)
    }

    @Test func editsAreLastWriterWinsOnTimestampThenID() {
        let post = Fixtures.post(by: building, in: b, title: "v0")
        let e1 = Fixtures.edit(post, by: building, title: "v1", at: Fixtures.epoch + 10)
        let e2 = Fixtures.edit(post, by: building, title: "v2", at: Fixtures.epoch + 20)
        let forged = Fixtures.edit(post, by: alice, title: "pirate", at: Fixtures.epoch + 30)
        let grant = Fixtures.grant(.admin, to: alice.publicKey, by: building)
        for order in [[post, e1, e2, forged, grant], [e2, forged, grant, e1, post], [grant, e1, post, forged, e2]] {
            let item = view(order).items.first
            #expect(item?.content.title == "v2")
            #expect(item?.revision == e2.id)
        }
        // Same timestamp: the greater id wins.
        let tieA = Fixtures.edit(post, by: building, title: "A", at: Fixtures.epoch + 40)
        let tieB = Fixtures.edit(post, by: building, title: "B", at: Fixtures.epoch + 40)
        let winner = tieA.id < tieB.id ? "B" : "A"
        #expect(view([post, tieA, tieB]).items.first?.content.title == winner)
        #expect(view([tieB, tieA, post]).items.first?.content.title == winner)
    }

    @Test func retractByTheAuthorErasesPostAndEdits() {
        let post = Fixtures.post(by: building, in: b)
        let edit = Fixtures.edit(post, by: building, title: "v1", at: Fixtures.epoch + 10)
        let retract = Fixtures.retract(post, by: building, in: b, at: Fixtures.epoch + 20)
        #expect(view([post, edit, retract]).items.isEmpty)
        #expect(view([retract, post]).items.isEmpty)
        // Somebody else's retract does nothing.
        let grant = Fixtures.grant(.admin, to: alice.publicKey, by: building)
        let foreign = Fixtures.retract(post, by: alice, in: b, at: Fixtures.epoch + 20)
        #expect(view([post, grant, foreign]).items.count == 1)
        // Retracting only an edit brings back the previous content.
        let retractEdit = Fixtures.retract(edit, by: building, in: b, at: Fixtures.epoch + 30)
        #expect(view([post, edit, retractEdit]).items.first?.content.title == "Bonjour")
    }

    @Test func hidesApplyToOwnMembersEverywhereAndToAnythingOnOwnScreen() {
        let neighbour = Fixtures.key(6)
        let ownPost = Fixtures.post(by: building, in: b)
        let foreignPost = Fixtures.post(by: neighbour, in: neighbour.publicKey)
        let hideOwn = Fixtures.hide(ownPost, by: building, for: b, at: Fixtures.epoch + 5)
        let hideForeign = Fixtures.hide(foreignPost, by: building, for: b, at: Fixtures.epoch + 5)
        let all = [ownPost, foreignPost, hideOwn, hideForeign]
        // On this building's screen, both are hidden.
        #expect(view(all).items.isEmpty)
        // On the neighbour's screen, this building's member post stays hidden, the neighbour's own post shows.
        #expect(view(all, viewer: neighbour.publicKey).items.map(\.id) == [foreignPost.id])
        // An admin may hide; a resident may not.
        let admin = Fixtures.grant(.admin, to: alice.publicKey, by: building)
        let resident = Fixtures.grant(.resident, to: bob.publicKey, by: building)
        #expect(view([ownPost, admin, Fixtures.hide(ownPost, by: alice, for: b, at: now)]).items.isEmpty)
        #expect(view([ownPost, resident, Fixtures.hide(ownPost, by: bob, for: b, at: now)]).items.count == 1)
    }

    @Test func expiryAndScope() {
        let post = Fixtures.post(by: building, in: b, lifetime: Fixtures.day)
        #expect(view([post], at: post.expiresAt - 1).items.count == 1)
        #expect(view([post], at: post.expiresAt).items.isEmpty)
        let local = Fixtures.post(by: building, in: b, scope: .building)
        #expect(view([local]).items.count == 1)
        #expect(view([local], viewer: other.publicKey).items.isEmpty)
    }

    @Test func profilesNameTheBuilding() {
        let p1 = Fixtures.profile(of: building, name: "Les Tilleuls")
        let p2 = Fixtures.profile(of: building, name: "Résidence Les Tilleuls", at: Fixtures.epoch + 1)
        let post = Fixtures.post(by: building, in: b)
        let v = view([p2, post, p1])
        #expect(v.items.first?.buildingName == "Résidence Les Tilleuls")
        #expect(v.items.first?.authorName == "Résidence Les Tilleuls")
        #expect(v.profile(of: b)?.name == "Résidence Les Tilleuls")
    }
}
