import PalierCore

/// Settings of what the screen shows.
public struct ScreenConfiguration: Hashable, Sendable, Codable {
    /// The largest share of screen time merchants' promos may take (0…1).
    public var promoShare: Double = 0.2
    /// How long before its start an event appears on the screen.
    public var eventLeadTimeMillis: UInt64 = 7 * Limits.millisPerDay
    /// Longest body shown, in characters.
    public var maximumBodyCharacters: Int = 500
    /// Most items in the playlist. At 6–30 s an item, 100 items are a loop of 10 to 50
    /// minutes: more would never come round while anyone rides the lift, and would only make
    /// every screen's snapshot heavier (docs/feed.md).
    public var maximumItems: Int = 100

    public init(promoShare: Double = 0.2, eventLeadTimeMillis: UInt64 = 7 * Limits.millisPerDay, maximumBodyCharacters: Int = 500,
                maximumItems: Int = 100) {
        self.promoShare = promoShare
        self.eventLeadTimeMillis = eventLeadTimeMillis
        self.maximumBodyCharacters = maximumBodyCharacters
        self.maximumItems = maximumItems
    }
}

/// The screen's playlist: what is shown, in order, and when it next changes by itself.
public struct Playlist: Hashable, Sendable {
    /// Pre-empting items first (alerts, then flashes), then the rotation.
    public var items: [ScreenItem]
    /// The next instant at which the playlist changes without any new envelope: an expiry, an
    /// event entering its lead time or ending. nil when nothing is scheduled.
    public var nextChange: UInt64?

    public init(items: [ScreenItem], nextChange: UInt64?) {
        self.items = items
        self.nextChange = nextChange
    }

    /// Seconds of promos against all seconds in one turn of the rotation.
    public var promoShare: Double {
        let rotation = items.filter { !$0.preempts }
        let total = rotation.reduce(0) { $0 + $1.displaySeconds }
        guard total > 0 else { return 0 }
        return Double(rotation.filter { $0.kind == Kind.promo.name }.reduce(0) { $0 + $1.displaySeconds }) / Double(total)
    }
}

/// The screen's rules, pure: the same view, time and settings always give the same playlist.
///
/// - This building's `alert`s, and its `flash`es by the building, an admin, the landlord or the
///   elevator company, pre-empt the rotation until they expire. Alerts come before flashes,
///   newest first. A followed neighbour's alert or flash never pre-empts: it is an item of the
///   rotation, with the notices (and shows only if the follow takes that kind).
/// - A followed building's posts show only in the kinds its follow takes
///   (``FederationPolicy/defaultFollowedKinds`` unless set), labelled with its name; a neighbour
///   whose name reads as ours (case, accents, spaces and punctuation aside) is named by its
///   key's short form instead, and no neighbour's post is marked official.
/// - Events are on the screen from `eventLeadTimeMillis` before their start (or from their
///   shows-from) until their end, in agenda order (start, then id), after the notices.
/// - A post with a shows-from is on the screen from then on; one whose edit set a shows-until
///   leaves it then (the view gives it that expiry).
/// - Notices, then tips and classifieds, newest first.
/// - Promos, newest first, as long as their seconds stay within `promoShare` of a turn of the
///   rotation; the rest wait for more content or for older promos to expire.
/// - Hides and grants have already been applied by the view.
/// - At most `maximumItems` items, filled in that order of priority: pre-empting items, then
///   the rotation (notices, events, tips and classifieds); promos have their share of the slots
///   the pre-empting items leave (`promoShare`, rounded down) when there are promos.
///   Only the items kept are made screen-safe.
public enum PlaylistRules {
    /// A post's screen-safe title and body. The hub memoises it per content revision.
    public typealias SafeText = @Sendable (_ entry: ViewItem, _ configuration: ScreenConfiguration) -> (title: String, body: String)

    /// Sanitises a post's title and body for the screen (the work ``SafeText`` memoises).
    @Sendable public static func safeText(_ entry: ViewItem, configuration: ScreenConfiguration) -> (title: String, body: String) {
        (ScreenText.safe(entry.content.title, limit: Limits.maximumTitleScalars),
         ScreenText.safe(entry.content.body, limit: configuration.maximumBodyCharacters, keepLineBreaks: true))
    }

    /// - Parameter policy: whose posts this screen shows besides its own building's (followed
    ///   buildings), and whose never (blocked ones).
    /// - Parameter viewerName: this building's name, which no neighbour may appear under.
    public static func playlist(view: BuildingView, now: UInt64, viewer: PublicKey, viewerName: String? = nil, configuration: ScreenConfiguration = .init(),
                                policy: FederationPolicy = FederationPolicy(), safeText: SafeText = PlaylistRules.safeText) -> Playlist {
        typealias Entry = (entry: ViewItem, from: UInt64, until: UInt64)
        var preempting: [Entry] = []
        var notices: [Entry] = []
        var events: [(start: UInt64, entry: Entry)] = []
        var chatter: [Entry] = []
        var promos: [Entry] = []
        var nextChange: UInt64?
        func schedule(_ t: UInt64) { if t > now { nextChange = min(nextChange ?? t, t) } }

        let ourName = viewerName.map(ScreenText.folded)
        for entry in view.items where entry.expiresAt > now && policy.screenShows(building: entry.building, kind: entry.kind, local: viewer) {
            schedule(entry.expiresAt)
            var from = entry.postedAt.millis
            var until = entry.expiresAt
            if let event = entry.content.event {
                // From its shows-from if it has one, else from the lead time before its start.
                let appears = entry.content.showsFrom
                    ?? (event.startsAt > configuration.eventLeadTimeMillis ? event.startsAt - configuration.eventLeadTimeMillis : 0)
                schedule(appears)
                schedule(event.endsAt)
                guard now >= appears, now < event.endsAt else { continue }
                from = appears
                until = min(until, event.endsAt)
            } else if let showsFrom = entry.content.showsFrom {
                // Scheduled: on the screen from then on.
                schedule(showsFrom)
                guard now >= showsFrom else { continue }
                from = max(from, showsFrom)
            }
            let kept = (entry, from, until)
            switch entry.kind {
            case _ where preempts(entry, viewer: viewer): preempting.append(kept)
            case .notice, .alert, .flash: notices.append(kept)
            case .event: events.append((entry.content.event!.startsAt, kept))
            case .promo: promos.append(kept)
            default: chatter.append(kept)
            }
        }
        func item(_ kept: Entry) -> ScreenItem {
            screenItem(kept.entry, from: kept.from, until: kept.until, viewer: viewer, viewerName: ourName, configuration: configuration, safeText: safeText)
        }
        let bound = max(configuration.maximumItems, 1)
        // Alerts before flashes; the view's order (newest first, then id) within each.
        preempting.sort { a, b in
            let (pa, pb) = (priority(a.entry.kind), priority(b.entry.kind))
            if pa != pb { return pa > pb }
            return a.entry.postedAt != b.entry.postedAt ? a.entry.postedAt > b.entry.postedAt : a.entry.id < b.entry.id
        }
        events.sort { $0.start != $1.start ? $0.start < $1.start : $0.entry.entry.id < $1.entry.entry.id }
        let share = min(max(configuration.promoShare, 0), 0.95)
        let shownPreempting = preempting.prefix(bound).map(item)
        let slots = bound - shownPreempting.count
        let promoSlots = promos.isEmpty ? 0 : min(Int((Double(slots) * share).rounded(.down)), promos.count)
        let rotation = (notices + events.map(\.entry) + chatter).prefix(slots - promoSlots).map(item)
        let contentSeconds = rotation.reduce(0) { $0 + $1.displaySeconds }
        // promo / (content + promo) ≤ share  ⇔  promo ≤ share / (1 − share) × content
        let promoBudget = Int((share / (1 - share) * Double(contentSeconds)).rounded(.down))
        var promoSeconds = 0
        var shownPromos: [ScreenItem] = []
        // The `bound` newest promos are considered, each taken if it still fits.
        for promo in promos.prefix(bound) where shownPromos.count < promoSlots {
            let candidate = item(promo)
            guard promoSeconds + candidate.displaySeconds <= promoBudget else { continue }
            shownPromos.append(candidate)
            promoSeconds += candidate.displaySeconds
        }
        // Interleave promos evenly through the rotation rather than bunching them at the end.
        var merged: [ScreenItem] = []
        merged.reserveCapacity(rotation.count + shownPromos.count)
        let stride = shownPromos.isEmpty ? Int.max : max(rotation.count / shownPromos.count, 1)
        var promoIterator = shownPromos.makeIterator()
        for (index, item) in rotation.enumerated() {
            merged.append(item)
            if (index + 1) % stride == 0, let promo = promoIterator.next() { merged.append(promo) }
        }
        while let promo = promoIterator.next() { merged.append(promo) }
        return Playlist(items: shownPreempting + merged, nextChange: nextChange)
    }

    /// Who pre-empts the rotation with a flash: the building key (nil), an admin, the landlord
    /// or the elevator company.
    public static let preemptingFlashRoles: [Role?] = [nil, .admin, .landlord, .elevator]

    /// This building's alerts, and its flashes by ``preemptingFlashRoles``.
    static func preempts(_ entry: ViewItem, viewer: PublicKey) -> Bool {
        entry.building == viewer && (entry.kind == .alert || (entry.kind == .flash && preemptingFlashRoles.contains(entry.role)))
    }

    static func priority(_ kind: Kind) -> Int {
        switch kind {
        case .alert: 3
        case .flash: 2
        case .notice: 1
        default: 0
        }
    }

    /// `viewerName`: this building's name, folded (``ScreenText/folded(_:)``).
    static func screenItem(_ entry: ViewItem, from: UInt64, until: UInt64, viewer: PublicKey, viewerName: String?, configuration: ScreenConfiguration,
                           safeText: SafeText = PlaylistRules.safeText) -> ScreenItem {
        let (title, body) = safeText(entry, configuration)
        let official: Set<Role> = [.admin, .council, .syndic, .landlord, .elevator, .city]
        let local = entry.building == viewer
        var name = entry.buildingName ?? ""
        if !local, name.isEmpty || ScreenText.folded(name) == viewerName || ScreenText.folded(name).isEmpty {
            // A neighbour that names itself as we do is known by its key.
            name = entry.building.shortText + "…"
        }
        let buildingName = ScreenText.safe(name.isEmpty ? entry.building.shortText : name, limit: Limits.maximumBuildingNameScalars)
        let authorName = ScreenText.safe(entry.authorName, limit: Limits.maximumDisplayNameScalars)
        return ScreenItem(
            id: entry.id.hex,
            kind: entry.kind.name,
            title: title,
            body: body,
            language: entry.content.language,
            author: .init(
                name: authorName.isEmpty ? buildingName : authorName,
                role: entry.role?.name ?? "building",
                verified: local && (entry.role.map { official.contains($0) } ?? true)
            ),
            building: buildingName,
            local: local,
            priority: priority(entry.kind),
            preempts: preempts(entry, viewer: viewer),
            from: from,
            until: until,
            displaySeconds: displaySeconds(kind: entry.kind, characters: title.count + body.count),
            event: entry.content.event.map { .init(start: $0.startsAt, end: $0.endsAt, place: ScreenText.safe($0.place, limit: Limits.maximumPlaceScalars)) },
            revision: entry.revision.hex,
            // Paths are the feed's to fill, for the images the node holds.
            images: entry.content.images.map {
                .init(blob: $0.blob.hex, type: $0.type.mediaType, width: Int($0.width), height: Int($0.height),
                      alt: ScreenText.safe($0.alt, limit: Limits.maximumAltScalars), url: "/blobs/\($0.blob.hex).\($0.type.fileExtension)", path: nil)
            },
            link: entry.content.link.map { .init(url: $0, host: ScreenText.safe(linkHost($0), limit: 80), qr: "") }
        )
    }

    /// The host of a checked link (``LinkRules``), without `www.`, as people say it.
    static func linkHost(_ link: String) -> String {
        let rest = link.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false)
        let authority = rest.count > 2 ? rest[2] : ""
        let host = authority.split(separator: ":").first.map(String.init) ?? ""
        return host.lowercased().hasPrefix("www.") ? String(host.dropFirst(4)) : host.lowercased()
    }

    /// 6 s plus a second per 15 characters, 6–30 s; alerts at least 15 s.
    static func displaySeconds(kind: Kind, characters: Int) -> Int {
        let reading = min(max(6 + characters / 15, 6), 30)
        return kind == .alert ? max(reading, 15) : reading
    }
}
