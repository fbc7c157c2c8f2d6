import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing
@testable import PalierFeed
@testable import PalierScreen

@Suite struct PlaylistRulesTests {
    let building = Fixtures.key(1)
    let resident = Fixtures.key(2)
    let elevator = Fixtures.key(3)
    let bakery = Fixtures.key(4)
    let landlord = Fixtures.key(5)
    let now = Fixtures.epoch + 60_000

    var b: PublicKey { building.publicKey }

    var grants: [Envelope] {
        [
            Fixtures.grant(.resident, to: resident.publicKey, by: building, name: "Camille"),
            Fixtures.grant(.elevator, to: elevator.publicKey, by: building, name: "Ascenseurs Martin"),
            Fixtures.grant(.merchant, to: bakery.publicKey, by: building, name: "Boulangerie"),
            Fixtures.grant(.landlord, to: landlord.publicKey, by: building, name: "Bailleur"),
        ]
    }

    func playlist(_ envelopes: [Envelope], at time: UInt64? = nil, configuration: ScreenConfiguration = .init()) -> Playlist {
        let t = time ?? now
        return PlaylistRules.playlist(view: ViewRules.view(of: grants + envelopes, now: t, viewer: b), now: t, viewer: b, configuration: configuration)
    }

    @Test func theScreenShowsItsBuildingAndFollowedBuildingsNeverBlockedOnes() {
        let neighbour = Fixtures.key(6), other = Fixtures.key(7)
        let ours = Fixtures.post(by: building, in: b, at: now - 1_000, title: "Chez nous")
        let theirs = Fixtures.post(by: neighbour, in: neighbour.publicKey, at: now - 1_000, title: "Chez les voisins")
        let others = Fixtures.post(by: other, in: other.publicKey, at: now - 1_000, title: "Plus loin")
        let view = ViewRules.view(of: grants + [ours, theirs, others], now: now, viewer: b)
        func titles(_ policy: FederationPolicy) -> Set<String> {
            Set(PlaylistRules.playlist(view: view, now: now, viewer: b, policy: policy).items.map(\.title))
        }
        #expect(titles(FederationPolicy()) == ["Chez nous"])
        #expect(titles(FederationPolicy(followed: [neighbour.publicKey])) == ["Chez nous", "Chez les voisins"])
        #expect(titles(FederationPolicy(followed: [neighbour.publicKey], blocked: [neighbour.publicKey])) == ["Chez nous"])
        // A building cannot hide its own posts from itself by blocking or not following.
        #expect(titles(FederationPolicy(blocked: [b])).contains("Chez nous"))
    }

    @Test("a followed neighbour's alert and flash never take over this screen: they are labelled items of the rotation; ours pre-empt")
    func neighboursNeverPreempt() {
        let neighbour = Fixtures.key(6)
        let n = neighbour.publicKey
        let theirAlert = Fixtures.post(.alert, by: neighbour, in: n, at: now - 3_000, lifetime: Fixtures.day, title: "Coupure d'eau chez eux")
        let theirFlash = Fixtures.post(.flash, by: neighbour, in: n, at: now - 2_000, title: "Ascenseur en panne chez eux")
        let ourAlert = Fixtures.post(.alert, by: building, in: b, at: now - 1_000, lifetime: Fixtures.day, title: "Coupure d'eau chez nous")
        let tip = Fixtures.post(.tip, by: resident, in: b, at: now - 4_000, title: "Vélo")
        let view = ViewRules.view(of: grants + [theirAlert, theirFlash, ourAlert, tip], now: now, viewer: b)
        let everything = FederationPolicy(followed: [n], followedKinds: [n: Set(Kind.contentKinds)])
        let list = PlaylistRules.playlist(view: view, now: now, viewer: b, policy: everything)
        #expect(list.items.map(\.title) == ["Coupure d'eau chez nous", "Ascenseur en panne chez eux", "Coupure d'eau chez eux", "Vélo"])
        #expect(list.items.map(\.preempts) == [true, false, false, false])
        #expect(list.items.map(\.local) == [true, false, false, true])
        // Without our alert, nothing pre-empts: the screen keeps its rotation.
        let calm = ViewRules.view(of: grants + [theirAlert, theirFlash, tip], now: now, viewer: b)
        #expect(PlaylistRules.playlist(view: calm, now: now, viewer: b, policy: everything).items.allSatisfy { !$0.preempts })
    }

    @Test("a follow shows a neighbour's events, tips, classifieds and promos by default, or the kinds it names")
    func followByKind() {
        let neighbour = Fixtures.key(6)
        let n = neighbour.publicKey
        let posts = Kind.contentKinds.enumerated().map { index, kind in
            Fixtures.post(kind, by: neighbour, in: n, at: now - UInt64(1_000 * (index + 1)), lifetime: Fixtures.day, title: kind.name)
        }
        let view = ViewRules.view(of: grants + posts, now: now, viewer: b)
        func kinds(_ policy: FederationPolicy) -> Set<String> {
            // Promos get half the time, so that one shows beside three other posts.
            Set(PlaylistRules.playlist(view: view, now: now, viewer: b, configuration: ScreenConfiguration(promoShare: 0.5), policy: policy).items.map(\.kind))
        }
        #expect(kinds(FederationPolicy(followed: [n])) == ["event", "tip", "classified", "promo"])
        #expect(kinds(FederationPolicy(followed: [n], followedKinds: [n: [.event]])) == ["event"])
        #expect(kinds(FederationPolicy(followed: [n], followedKinds: [n: [.notice, .alert]])) == ["notice", "alert"])
        // Kinds set for a building that is then blocked count for nothing.
        #expect(kinds(FederationPolicy(followed: [n], blocked: [n], followedKinds: [n: Set(Kind.contentKinds)])).isEmpty)
        #expect(Kind.kinds(mask: Kind.mask([.event, .promo])) == [.event, .promo])
        #expect(Kind.kinds(mask: -1) == Set(Kind.contentKinds))
        #expect(Kind.kinds(mask: 0).isEmpty)
    }

    @Test("a neighbour's post names its building; one that calls itself as we do is named by its key, and no neighbour is marked official")
    func neighbourLabels() {
        let neighbour = Fixtures.key(6), lookalike = Fixtures.key(7)
        let profiles = [
            Fixtures.profile(of: building, name: "Résidence des Lilas"),
            Fixtures.profile(of: neighbour, name: "Les Tilleuls"),
            Fixtures.profile(of: lookalike, name: "  RESIDENCE des-lilas "),
        ]
        let ours = Fixtures.post(.event, by: building, in: b, at: now - 1_000, title: "Chez nous")
        let theirs = Fixtures.post(.event, by: neighbour, in: neighbour.publicKey, at: now - 2_000, title: "Aux Tilleuls")
        let fake = Fixtures.post(.event, by: lookalike, in: lookalike.publicKey, at: now - 3_000, title: "Faux Lilas")
        let view = ViewRules.view(of: grants + profiles + [ours, theirs, fake], now: now, viewer: b)
        let list = PlaylistRules.playlist(view: view, now: now, viewer: b, viewerName: "Résidence des Lilas",
                                          policy: FederationPolicy(followed: [neighbour.publicKey, lookalike.publicKey]))
        let byTitle = Dictionary(uniqueKeysWithValues: list.items.map { ($0.title, $0) })
        #expect(byTitle["Chez nous"]?.building == "Résidence des Lilas")
        #expect(byTitle["Chez nous"]?.author.verified == true)
        #expect(byTitle["Aux Tilleuls"]?.building == "Les Tilleuls")
        #expect(byTitle["Faux Lilas"]?.building == lookalike.publicKey.shortText + "…")
        #expect(byTitle["Aux Tilleuls"]?.author.verified == false && byTitle["Faux Lilas"]?.author.verified == false)
        #expect(ScreenText.folded("Résidence des Lilas") == ScreenText.folded("residence\u{200B} DES   lilas!"))
        #expect(ScreenText.folded("Les Tilleuls") != ScreenText.folded("Les Lilas"))
    }

    @Test("a post scheduled with shows-from reaches the screen then (the playlist changes at that time); an edit's shows-until takes it off early")
    func scheduling() {
        let later = now + 3_600_000
        let notice = Fixtures.post(.notice, by: building, in: b, at: now - 1_000, lifetime: Fixtures.day, title: "Ramonage", showsFrom: later)
        let tip = Fixtures.post(.tip, by: resident, in: b, at: now - 2_000, title: "Vélo")
        #expect(playlist([notice, tip]).items.map(\.title) == ["Vélo"])
        #expect(playlist([notice, tip]).nextChange == later)
        let shown = playlist([notice, tip], at: later)
        #expect(shown.items.map(\.title) == ["Ramonage", "Vélo"])
        #expect(shown.items[0].from == later)
        // An event shows from its shows-from, even before its lead time.
        var event = Fixtures.post(.event, by: building, in: b, at: now - 3_000, lifetime: 30 * Fixtures.day, title: "Fête")
        let start = now + 20 * Fixtures.day
        let early = now + 3_600_000
        if case .post(var post) = event.content.payload {
            post.event = EventDetails(startsAt: start, endsAt: start + 3_600_000, place: "Cour")
            post.showsFrom = early
            var content = event.content
            content.payload = .post(post)
            event = try! building.sign(content)
        }
        #expect(playlist([event]).items.isEmpty)
        #expect(playlist([event], at: early).items.map(\.title) == ["Fête"])
        // Taken off the screens early by its author's edit.
        let stop = now + 2 * 3_600_000
        let edit = Fixtures.edit(tip, by: resident, title: "Vélo (rendu)", at: now, showsUntil: stop)
        #expect(playlist([tip, edit]).items.map(\.title) == ["Vélo (rendu)"])
        #expect(playlist([tip, edit]).nextChange == stop)
        #expect(playlist([tip, edit], at: stop).items.isEmpty)
    }

    @Test("notices, flashes and alerts stay in their building unless told; the rest goes to the neighbourhood")
    func defaultScopes() {
        #expect(Kind.contentKinds.filter { $0.defaultScope == .building } == [.notice, .flash, .alert])
        #expect(Kind.contentKinds.filter { $0.defaultScope == .neighbourhood } == [.tip, .classified, .event, .promo])
    }

    @Test func alertsAndAuthorisedFlashesPreemptTheRotation() {
        let tip = Fixtures.post(.tip, by: resident, in: b, title: "Vélo")
        let flash = Fixtures.post(.flash, by: elevator, in: b, at: Fixtures.epoch + 1, title: "Maintenance 14 h")
        let alert = Fixtures.post(.alert, by: landlord, in: b, at: Fixtures.epoch + 2, lifetime: Fixtures.day, title: "Coupure d'eau")
        let adminlessFlash = Fixtures.post(.flash, by: building, in: b, at: Fixtures.epoch + 3, title: "Flash immeuble")
        let list = playlist([tip, flash, alert, adminlessFlash])
        #expect(list.items.map(\.title) == ["Coupure d'eau", "Flash immeuble", "Maintenance 14 h", "Vélo"])
        #expect(list.items.map(\.preempts) == [true, true, true, false])
        #expect(list.items[0].priority == 3)
        // When the alert expires it leaves the pre-empting group.
        #expect(list.nextChange == alert.expiresAt)
        #expect(playlist([tip, flash, alert], at: alert.expiresAt).items.map(\.title) == ["Maintenance 14 h", "Vélo"])
    }

    @Test func eventsAppearFromTheirLeadTimeUntilTheirEndInAgendaOrder() {
        func event(_ title: String, startsIn: UInt64, counter: UInt16) -> Envelope {
            let start = now + startsIn
            return Fixtures.sign(building, EnvelopeContent(
                kind: .event, scope: .neighbourhood, building: b, author: b,
                timestamp: HybridTimestamp(millis: Fixtures.epoch, counter: counter), expiresAt: start + Fixtures.day,
                payload: .post(PostContent(title: title, event: EventDetails(startsAt: start, endsAt: start + 3_600_000, place: "Cour")))
            ))
        }
        let soon = event("Fête des voisins", startsIn: 2 * Fixtures.day, counter: 1)
        let sooner = event("Assemblée", startsIn: Fixtures.day, counter: 2)
        let later = event("Vide-grenier", startsIn: 10 * Fixtures.day, counter: 3)
        let notice = Fixtures.post(.notice, by: building, in: b, title: "Avis")
        let list = playlist([soon, later, notice, sooner])
        #expect(list.items.map(\.title) == ["Avis", "Assemblée", "Fête des voisins"])
        // The next change is the end of the first event; the far one enters 7 days before its start.
        #expect(list.nextChange == now + Fixtures.day + 3_600_000)
        #expect(!list.items.contains { $0.title == "Vide-grenier" })
        #expect(playlist([soon, later, notice, sooner], at: now + 3 * Fixtures.day).items.map(\.title).contains("Vide-grenier"))
        // After its end an event is gone, even before it expires.
        #expect(!playlist([sooner], at: now + Fixtures.day + 3_600_000).items.contains { $0.title == "Assemblée" })
        let item = list.items[1]
        #expect(item.event?.place == "Cour")
        #expect(item.from == now + Fixtures.day - 7 * Fixtures.day)
        #expect(item.until == now + Fixtures.day + 3_600_000)
    }

    @Test func promosStayWithinTheirShareOfScreenTime() {
        let tips = (0..<4).map { Fixtures.post(.tip, by: resident, in: b, counter: UInt16($0), title: "Astuce \($0)") }
        let promos = (0..<6).map { Fixtures.post(.promo, by: bakery, in: b, counter: UInt16(10 + $0), title: "Offre \($0)") }
        let list = playlist(tips + promos)
        #expect(list.promoShare <= 0.2)
        #expect(list.items.contains { $0.kind == "promo" })
        #expect(list.items.filter { $0.kind == "promo" }.count < 6)
        // With nothing else to show, promos do not take the whole screen.
        #expect(playlist(promos).items.isEmpty)
        // The share is configurable.
        let generous = playlist(tips + promos, configuration: ScreenConfiguration(promoShare: 0.5))
        #expect(generous.promoShare <= 0.5)
        #expect(generous.items.filter { $0.kind == "promo" }.count > list.items.filter { $0.kind == "promo" }.count)
    }

    @Test("the playlist holds at most maximumItems, filled by priority: alerts, notices, events, then the newest tips; promos keep their share of the slots")
    func thePlaylistIsBounded() {
        let configuration = ScreenConfiguration(maximumItems: 20)
        let alert = Fixtures.post(.alert, by: landlord, in: b, at: Fixtures.epoch, lifetime: Fixtures.day, title: "Coupure d'eau")
        let notices = (0..<3).map { Fixtures.post(.notice, by: landlord, in: b, at: Fixtures.epoch + 5_000, counter: UInt16($0), title: "Avis \($0)") }
        let tips = (0..<300).map { Fixtures.post(.tip, by: resident, in: b, at: Fixtures.epoch + UInt64($0), title: "Astuce \($0)") }
        let promos = (0..<10).map { Fixtures.post(.promo, by: bakery, in: b, counter: UInt16(10 + $0), title: "Offre \($0)") }
        let list = playlist([alert] + notices + tips + promos, configuration: configuration)
        #expect(list.items.count <= 20)
        #expect(list.items.first?.title == "Coupure d'eau")
        #expect(Set(notices.map(\.id.hex)).isSubset(of: Set(list.items.map(\.id))))
        // The newest tips are kept, the oldest left out.
        #expect(list.items.contains { $0.title == "Astuce 299" })
        #expect(!list.items.contains { $0.title == "Astuce 0" })
        // 19 slots after the alert: 3 of them for promos (20 %), within their share of time.
        #expect(list.items.filter { $0.kind == "promo" }.count == 3)
        #expect(list.promoShare <= 0.2)
        // The next change still counts every live post (the tip that leaves first lets another in).
        #expect(playlist(notices + tips, configuration: configuration).nextChange == tips[0].expiresAt)
        // Unbounded by a small set: nothing is left out.
        #expect(playlist(notices + tips.prefix(5), configuration: configuration).items.count == 8)
    }

    @Test func promoShareHoldsOverASimulatedHourOfPlaying() {
        // A screen plays the playlist in turn, item by item, for an hour while posts come and go
        // every few minutes; promos never take more than their share of the time.
        var random = SeededRandom(seed: 7)
        var envelopes: [Envelope] = []
        var promoSeconds = 0, totalSeconds = 0
        var clock = now
        var position = 0
        var counter: UInt16 = 0
        let end = now + 3_600_000
        var nextPost = now
        while clock < end {
            if clock >= nextPost {
                counter += 1
                let merchant = Int.random(in: 0..<3, using: &random) == 0
                envelopes.append(Fixtures.post(
                    merchant ? .promo : .tip, by: merchant ? bakery : resident, in: b, at: clock, counter: counter,
                    lifetime: UInt64.random(in: 5...40, using: &random) * 60_000, title: "Post \(counter)",
                    body: String(repeating: "texte ", count: Int.random(in: 0...40, using: &random))
                ))
                nextPost = clock + UInt64.random(in: 1...6, using: &random) * 60_000
            }
            let items = playlist(envelopes, at: clock).items
            guard !items.isEmpty else { clock += 1000; continue }
            let item = items[position % items.count]
            position += 1
            totalSeconds += item.displaySeconds
            if item.kind == "promo" { promoSeconds += item.displaySeconds }
            clock += UInt64(item.displaySeconds) * 1000
        }
        #expect(totalSeconds > 3000)
        #expect(promoSeconds > 0)
        #expect(Double(promoSeconds) / Double(totalSeconds) <= 0.2)
    }

    @Test func textIsMadeScreenSafe() {
        // Right-to-left override, isolates, marks and zero-width characters are all removed.
        let hostile = "Réunion\u{202E}erdnom\u{202C} \u{2067}x\u{2069}\u{200F}\u{200B}\u{FEFF}\u{2060}\u{200D}\u{061C}fin"
        #expect(ScreenText.safe(hostile, limit: 120) == "Réunionerdnom xfin")
        #expect(!ScreenText.safe(hostile, limit: 120).unicodeScalars.contains { ScreenText.isNeutralised($0) })
        // Long text is clamped with an ellipsis, never cutting an accent from its letter.
        let long = String(repeating: "e\u{301}", count: 50)
        let clamped = ScreenText.safe(long, limit: 10)
        #expect(clamped.count == 10)
        #expect(clamped.hasSuffix("…"))
        #expect(ScreenText.safe("ligne 1\nligne 2\tfin", limit: 100, keepLineBreaks: true) == "ligne 1\nligne 2 fin")

        let post = Fixtures.post(.tip, by: resident, in: b, title: "A\u{202E}B", body: "x\u{200B}y")
        let item = playlist([post]).items[0]
        #expect(item.title == "AB")
        #expect(item.body == "xy")
    }

    @Test func itemsAreDisplayReady() {
        let tip = Fixtures.post(.tip, by: resident, in: b, title: "Vélo", body: String(repeating: "a", count: 900))
        let item = playlist([tip, Fixtures.profile(of: building, name: "Les Tilleuls")]).items[0]
        #expect(item.author == .init(name: "Camille", role: "resident", verified: false))
        #expect(item.building == "Les Tilleuls")
        #expect(item.local)
        #expect(item.body.count == 500)
        #expect(item.displaySeconds == 30)
        #expect(item.language == "fr")
        #expect(item.id == tip.id.hex)
        let elevatorFlash = playlist([Fixtures.post(.flash, by: elevator, in: b, title: "Arrêt")]).items[0]
        #expect(elevatorFlash.author.verified)
    }
}

@Suite struct PlaylistDiffTests {
    /// Whatever the two playlists, a client applying the diff (remove; then remove-if-present
    /// and insert at the position) ends with exactly the new playlist.
    @Test(arguments: 1...300)
    func aClientApplyingTheDiffEndsWithTheNewPlaylist(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        func item(_ n: Int, revision: Int) -> ScreenItem {
            ScreenItem(
                id: "id\(n)", kind: "tip", title: "t\(n).\(revision)", body: "", language: "fr",
                author: .init(name: "a", role: "resident", verified: false), building: "b", local: true,
                priority: 0, preempts: false, from: 0, until: 10, displaySeconds: 6, event: nil, revision: "r\(revision)"
            )
        }
        func randomPlaylist() -> [ScreenItem] {
            Array((0..<12).shuffled(using: &random).prefix(Int.random(in: 0...10, using: &random)))
                .map { item($0, revision: Int.random(in: 0...1, using: &random)) }
        }
        let old = Playlist(items: randomPlaylist(), nextChange: nil)
        let new = Playlist(items: randomPlaylist(), nextChange: nil)
        var client = old.items
        for event in PlaylistDiff.events(from: old, to: new, at: 5) {
            switch event {
            case .remove(let id, _, _):
                client.removeAll { $0.id == id }
            case .upsert(let item, let position, _):
                client.removeAll { $0.id == item.id }
                client.insert(item, at: min(position, client.count))
            default:
                Issue.record("unexpected \(event)")
            }
        }
        #expect(client == new.items)
        #expect(PlaylistDiff.events(from: new, to: new, at: 5).isEmpty)
    }
}
