import Foundation
import PalierCore
import PalierCrypto
@testable import PalierNode
import PalierTestSupport
import Testing

/// Numbers people type (durations, dates, configuration) at their extremes: refused with a
/// sentence, never wrapped, never a trap.
@Suite struct OutsideNumberTests {
    let clock = ManualClock(Fixtures.epoch)

    @Test("durations and dates at the edges of 64 bits are refused")
    func timeSpecExtremes() throws {
        for now in extremes(UInt64.self) {
            for count in extremes(UInt64.self) where count > 0 {
                let text = "\(count)m"
                let (product, overflow) = count.multipliedReportingOverflow(by: 60_000)
                let (sum, past) = now.addingReportingOverflow(product)
                if overflow || past {
                    #expect(refusal { try TimeSpec.parse(text, now: now) } == NodeError.invalidTime(text).description)
                } else {
                    #expect(try TimeSpec.parse(text, now: now) == sum)
                }
            }
        }
        for text in ["0d", "99999999999999999999d", "-1d"] {
            #expect(refusal { try TimeSpec.parse(text, now: 0) } == NodeError.invalidTime(text).description)
        }
        #expect(refusal { try TimeSpec.parse("1969-12-31", now: 0, timeZone: TimeZone(identifier: "UTC")!) } != nil)
    }

    func refusal(_ body: () throws -> UInt64) -> String? {
        do { _ = try body(); return nil } catch { return "\(error)" }
    }

    @Test("listing dates far outside a lifetime formats them without a trap")
    func formattingExtremes() {
        for millis in extremes(UInt64.self) {
            #expect(!TimeSpec.format(millis).isEmpty)
            #expect(!TimeSpec.iso8601(millis).isEmpty)
        }
    }

    @Test("configuration numbers outside their ranges are refused with the key and the range; the edges are accepted")
    func configurationRanges() throws {
        func problem(_ change: (inout NodeConfiguration) -> Void) -> String? {
            var configuration = NodeConfiguration(buildingName: "Les Tilleuls")
            change(&configuration)
            return configuration.problem
        }
        #expect(problem { _ in } == nil)
        #expect(problem { $0.sync.port = 99999 } == "sync.port is 99999, it must lie between 0 and 65535")
        #expect(problem { $0.sync.port = -1 } == "sync.port is -1, it must lie between 0 and 65535")
        #expect(problem { $0.sync.port = 65535 } == nil)
        #expect(problem { $0.sync.port = 0 } == nil)
        #expect(problem { $0.feed.kioskPort = Int.max } == "feed.kioskPort is 9223372036854775807, it must lie between 0 and 65535")
        #expect(problem { $0.feed.eventLeadDays = Int.max } == "feed.eventLeadDays is 9223372036854775807, it must lie between 0 and 90")
        #expect(problem { $0.feed.eventLeadDays = 90 } == nil)
        #expect(problem { $0.feed.promoShare = 5 } == "feed.promoShare is 5, it must lie between 0 and 0.95")
        #expect(problem { $0.sync.reconcileSeconds = 0 } == "sync.reconcileSeconds is 0, it must lie between 1 and 86400")
        #expect(problem { $0.sync.reconcileSeconds = Int.min } != nil)
        #expect(problem { $0.latitude = 4500; $0.longitude = 0 } == "latitude is 4500, it must lie between -90 and 90")
        #expect(problem { $0.latitude = 45 } == "latitude and longitude must be given together")
    }

    @Test("a node whose config.json holds an out-of-range port does not open, and says which key")
    func outOfRangeConfigurationRefusedAtOpen() throws {
        let directory = NodeDirectory(path: makeTemporaryDirectory().appendingPathComponent(".palier").path)
        let node = try BuildingNode.initialise(directory, configuration: NodeConfiguration(buildingName: "Les Tilleuls"), clock: clock)
        var json = try String(contentsOf: node.directory.configurationFile, encoding: .utf8)
        json = json.replacingOccurrences(of: "\"port\" : 7481", with: "\"port\" : 99999")
        try json.write(to: node.directory.configurationFile, atomically: true, encoding: .utf8)
        let error = #expect(throws: NodeError.self) { try BuildingNode.open(directory, clock: clock) }
        #expect(error?.description.contains("sync.port is 99999, it must lie between 0 and 65535") == true)
    }

    @Test("init refuses coordinates off the globe before writing anything")
    func initRefusesBadCoordinates() throws {
        let root = makeTemporaryDirectory().appendingPathComponent(".palier")
        let directory = NodeDirectory(path: root.path)
        let configuration = NodeConfiguration(buildingName: "Les Tilleuls", latitude: 1e10, longitude: 0)
        let error = #expect(throws: NodeError.self) { try BuildingNode.initialise(directory, configuration: configuration, clock: clock) }
        #expect(error?.description.contains("latitude is 10000000000, it must lie between -90 and 90") == true)
        #expect(!FileManager.default.fileExists(atPath: root.path))
    }
}

/// Dates are formatted by arithmetic: it must agree with Foundation's formatters.
@Suite struct DateFormattingTests {
    @Test(arguments: [UInt64(0), 1, 951_782_400_000, 1_709_164_800_000, 1_798_761_599_999, 4_107_542_400_000, 253_402_300_799_999, UInt64.max])
    func agreesWithFoundation(millis: UInt64) {
        for zone in [TimeZone(identifier: "UTC")!, TimeZone(identifier: "Europe/Paris")!, TimeZone(identifier: "America/New_York")!] {
            let shown = min(millis, TimeSpec.latestShown)
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = zone
            formatter.dateFormat = "yyyy-MM-dd HH:mm"
            let date = Date(timeIntervalSince1970: Double(shown / 1000))
            if Int64(shown / 1000) + Int64(zone.secondsFromGMT(for: date)) <= Int64(TimeSpec.latestShown / 1000),
               Int64(shown / 1000) + Int64(zone.secondsFromGMT(for: date)) >= 0 {
                #expect(TimeSpec.format(millis, timeZone: zone) == formatter.string(from: date), "\(millis) in \(zone.identifier)")
            }
        }
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let shown = min(millis, TimeSpec.latestShown)
        let expected = iso.string(from: Date(timeIntervalSince1970: Double(shown / 1000) + Double(shown % 1000) / 1000))
        #expect(TimeSpec.iso8601(millis) == expected)
    }
}
