import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing
@testable import PalierFeed
@testable import PalierScreen

/// Events whose times lie at the edges of 64 bits (valid envelopes: only end ≥ start is a rule)
/// on the screen: a playlist and a wake-up delay, never a trap.
@Suite struct ExtremeScheduleTests {
    let building = Fixtures.key(1)
    let now = Fixtures.epoch + 60_000

    func event(start: UInt64, end: UInt64) -> Envelope {
        Fixtures.sign(building, EnvelopeContent(
            kind: .event, scope: .neighbourhood, building: building.publicKey, author: building.publicKey,
            timestamp: HybridTimestamp(millis: Fixtures.epoch), expiresAt: Fixtures.epoch + 7 * Fixtures.day,
            payload: .post(PostContent(title: "Fête", event: EventDetails(startsAt: start, endsAt: end, place: "")))
        ))
    }

    @Test("event starts and ends at 0, 1, max − 1, max give a playlist and a finite wake-up", arguments: extremes(UInt64.self))
    func extremeEvents(start: UInt64) {
        for end in extremes(UInt64.self) where end >= start {
            for lead in extremes(UInt64.self) {
                let view = ViewRules.view(of: [event(start: start, end: end)], now: now, viewer: building.publicKey)
                let configuration = ScreenConfiguration(eventLeadTimeMillis: lead)
                let list = PlaylistRules.playlist(view: view, now: now, viewer: building.publicKey, configuration: configuration)
                let shown = list.items.contains { $0.title == "Fête" }
                let appears = start > lead ? start - lead : 0
                #expect(shown == (now >= appears && now < end))
                if let change = list.nextChange {
                    #expect(change > now)
                    #expect(FeedService.delay(until: change, now: now) > .zero)
                }
                // Every line the screen gets encodes.
                #expect(FeedEvent.snapshot(items: list.items, at: now).line().hasSuffix("\n"))
            }
        }
    }

    @Test("the wake-up delay at the edges")
    func delays() {
        #expect(FeedService.delay(until: 0, now: .max) == .zero)
        #expect(FeedService.delay(until: .max, now: .max) == .zero)
        #expect(FeedService.delay(until: 1, now: 0) == .milliseconds(1))
        #expect(FeedService.delay(until: .max, now: 0) == .milliseconds(Int64.max))
        #expect(FeedService.delay(until: .max, now: 1) == .milliseconds(Int64.max))
        #expect(FeedService.delay(until: .max - 1, now: .max) == .zero)
    }
}
