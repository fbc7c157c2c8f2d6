@testable import PalierCore
import PalierCrypto
import PalierTestSupport
import Testing

/// Every number a stranger sends, at 0, 1, max − 1 and max: an error or a value, never a trap.
@Suite struct ExtremeValueTests {
    let building = Fixtures.key(1)
    let validator = EnvelopeValidator.sodium
    let now = Fixtures.epoch

    @Test("the envelope of issue 17 (created 1 ms after the epoch, expiring at 2^64 − 1) is refused, not a crash")
    func issue17Envelope() {
        var raw = RawEnvelope(author: building)
        raw.timestamp = 1 << 16
        raw.expiresAt = .max
        #expect(throws: EnvelopeError.expiryTooFar(days: 213_503_982_335, limit: 90)) { try validator.open(raw.bytes) }
        // The same for every kind of post, and for a grant's longer limit.
        for kind in Kind.contentKinds {
            raw.kind = kind
            raw.event = kind == .event ? (1, 2, "") : nil
            #expect(throws: EnvelopeError.expiryTooFar(days: 213_503_982_335, limit: 90)) { try validator.decode(raw.bytes) }
        }
    }

    @Test("timestamp and expiry at 0, 1, max − 1, max: each pair decodes or is refused with a reason", arguments: extremes(UInt64.self))
    func timestampAndExpiry(timestamp: UInt64) throws {
        for expiresAt in extremes(UInt64.self) {
            var raw = RawEnvelope(author: building)
            raw.timestamp = timestamp
            raw.expiresAt = expiresAt
            let created = timestamp >> 16
            do {
                let envelope = try validator.open(raw.bytes)
                // Only a lifetime within 90 days can be valid.
                #expect(envelope.expiresAt > created && envelope.expiresAt - created <= Limits.maximumLifetimeMillis)
                for clock in extremes(UInt64.self) {
                    _ = try? EnvelopeValidator.admit(envelope.content, now: clock, localBuilding: building.publicKey)
                }
            } catch {
                if timestamp == 0 { #expect(error == .zeroTimestamp) }
                else if expiresAt <= created { #expect(error == .expiryNotAfterCreation) }
                else { #expect(error == .expiryTooFar(days: Int((expiresAt - created - 1) / Limits.millisPerDay) + 1, limit: 90)) }
            }
        }
    }

    @Test("admission at clock extremes: a far-future timestamp is deferred, an expired one refused")
    func admissionAtClockExtremes() throws {
        var raw = RawEnvelope(author: building)
        raw.timestamp = UInt64.max - 1
        raw.expiresAt = (UInt64.max >> 16) + Limits.millisPerDay
        let envelope = try validator.open(raw.bytes)
        #expect(throws: EnvelopeError.fromTheFuture(secondsAhead: (envelope.content.createdAt - now) / 1000)) {
            try EnvelopeValidator.admit(envelope.content, now: now, localBuilding: building.publicKey)
        }
        #expect(throws: EnvelopeError.expired) { try EnvelopeValidator.admit(envelope.content, now: .max, localBuilding: building.publicKey) }
        #expect(throws: EnvelopeError.expired) { try EnvelopeValidator.admit(envelope.content, now: .max - 1, localBuilding: building.publicKey) }
        try EnvelopeValidator.admit(envelope.content, now: envelope.expiresAt - 1, localBuilding: building.publicKey)
        #expect(throws: EnvelopeError.fromTheFuture(secondsAhead: (envelope.content.createdAt - 1) / 1000)) {
            try EnvelopeValidator.admit(envelope.content, now: 1, localBuilding: building.publicKey)
        }
    }

    @Test("an event's start and end at 0, 1, max − 1, max", arguments: extremes(UInt64.self))
    func eventTimes(start: UInt64) throws {
        for end in extremes(UInt64.self) {
            var raw = RawEnvelope(author: building)
            raw.kind = .event
            raw.event = (start, end, "Cour")
            if end >= start {
                #expect(try validator.open(raw.bytes).content.postContent?.event == EventDetails(startsAt: start, endsAt: end, place: "Cour"))
            } else {
                #expect(throws: EnvelopeError.eventEndsBeforeStart) { try validator.open(raw.bytes) }
            }
        }
    }

    @Test("days rounded up without overflow")
    func daysRoundedUp() {
        #expect(EnvelopeRules.days(roundingUp: 0) == 0)
        #expect(EnvelopeRules.days(roundingUp: 1) == 1)
        #expect(EnvelopeRules.days(roundingUp: Limits.millisPerDay) == 1)
        #expect(EnvelopeRules.days(roundingUp: .max - 1) == 213_503_982_335)
        #expect(EnvelopeRules.days(roundingUp: .max) == 213_503_982_335)
    }

    @Test("the clock never wraps to the epoch at the top of its range")
    func clockAtTheTop() {
        var clock = HybridLogicalClock(last: HybridTimestamp(rawValue: .max - 1))
        #expect(clock.tick(wallMillis: 0).rawValue == .max)
        #expect(clock.tick(wallMillis: .max).rawValue == .max)
        clock.observe(HybridTimestamp(rawValue: 1))
        #expect(clock.last.rawValue == .max)
    }

    @Test("coordinates outside ±90/±180 degrees, infinite or NaN are refused, not converted")
    func coordinates() {
        #expect(Coordinates(latitude: 45.75, longitude: 4.85) == Coordinates(latitudeMicrodegrees: 45_750_000, longitudeMicrodegrees: 4_850_000))
        #expect(Coordinates(latitude: 90, longitude: -180) != nil)
        for (lat, lon) in [(90.000001, 0.0), (0, 180.5), (1e10, 0), (.nan, 0), (0, .infinity), (-.infinity, 0)] {
            #expect(Coordinates(latitude: lat, longitude: lon) == nil)
        }
    }

    @Test("sync varints at 0, 1, max − 1, max round-trip; longer than 64 bits is refused")
    func varints() throws {
        for value in extremes(UInt64.self) {
            // A ping carries a fixed u64; the count of a want is a varint.
            #expect(try SyncMessage.decode(SyncMessage.ping(value).encoded()) == .known(.ping(value)))
            var bytes: [UInt8] = [SyncMessage.MessageType.want.rawValue]
            var v = value
            while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
            // No ids follow: any count but 0 is more than what is left.
            if value == 0 {
                #expect(try SyncMessage.decode(bytes) == .known(.want([])))
            } else {
                #expect(throws: SyncMessageError.truncated) { try SyncMessage.decode(bytes) }
            }
        }
        let eleven: [UInt8] = [SyncMessage.MessageType.want.rawValue] + [UInt8](repeating: 0xFF, count: 10) + [0x01]
        #expect(throws: SyncMessageError.malformed("varint over 64 bits")) { try SyncMessage.decode(eleven) }
    }

    @Test("an envelope length at 0, 1, max − 1, max inside an envelopes message")
    func envelopeLengths() throws {
        for length in extremes(UInt64.self) {
            var bytes: [UInt8] = [SyncMessage.MessageType.envelopes.rawValue, 1]
            var v = length
            while v >= 0x80 { bytes.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
            bytes.append(UInt8(v))
            switch length {
            case 0: #expect(try SyncMessage.decode(bytes) == .known(.envelopes([[]])))
            case 1: #expect(throws: SyncMessageError.truncated) { try SyncMessage.decode(bytes) }
            default: #expect(throws: SyncMessageError.tooLarge("an envelope of \(length) bytes")) { try SyncMessage.decode(bytes) }
            }
        }
    }

    @Test("hello's 16-bit fields at 0, 1, max − 1, max", arguments: extremes(UInt16.self))
    func helloFields(value: UInt16) throws {
        let hello = SyncMessage.Hello(version: value, minimumVersion: value, name: "Les Tilleuls", maximumBatch: value)
        #expect(try SyncMessage.decode(SyncMessage.hello(hello).encoded()) == .known(.hello(hello)))
    }

    @Test("reconciliation bounds whose timestamps overflow, and absurd counts, are refused")
    func reconciliationBounds() throws {
        let machine = ReconciliationStateMachine(set: SyncItemSet([]), crypto: SodiumCrypto())
        func varint(_ value: UInt64) -> [UInt8] {
            var out: [UInt8] = [], v = value
            while v >= 0x80 { out.append(UInt8(truncatingIfNeeded: v) | 0x80); v >>= 7 }
            return out + [UInt8(v)]
        }
        // One skip range with the bound timestamp coded as `code` (code − 1 is the delta).
        for code in extremes(UInt64.self) {
            // 0 is the infinite bound; the others are timestamps 0, 2^64 − 3 and 2^64 − 2, all
            // below the infinite bound's 2^64 − 1: each is a range to skip.
            let message = [ReconciliationStateMachine.version] + varint(code) + [0] + varint(0)
            #expect(try machine.respond(to: message).isDone == false)
        }
        // Two bounds whose sum passes 2^64 − 1.
        let overflow = [ReconciliationStateMachine.version] + varint(.max) + [0] + varint(0) + varint(.max) + [0] + varint(0)
        #expect(throws: SyncMessageError.malformed("range bound timestamp overflows")) { try machine.respond(to: overflow) }
        // An id list whose count is 2^64 − 1.
        let count = [ReconciliationStateMachine.version] + varint(0) + [0] + varint(2) + varint(.max)
        #expect(throws: SyncMessageError.truncated) { try machine.respond(to: count) }
        // An id prefix longer than an id.
        let prefix = [ReconciliationStateMachine.version] + varint(0) + [33] + [UInt8](repeating: 0, count: 33) + varint(0)
        #expect(throws: SyncMessageError.malformed("id prefix over 32 bytes")) { try machine.respond(to: prefix) }
    }
}
