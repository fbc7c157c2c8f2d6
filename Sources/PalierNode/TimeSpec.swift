import Foundation
import PalierCore

/// Times as people type them on the command line: a duration from now (`90m`, `36h`, `7d`,
/// `2w`) or a date, optionally with a time, in the local time zone unless an offset is given
/// (`2026-12-24`, `2026-12-24T18:30`, `2026-12-24 18:30`, `2026-12-24T18:30:00+01:00`).
public enum TimeSpec {
    /// Unix milliseconds for `text`, relative durations counted from `now`.
    public static func parse(_ text: String, now: UInt64, timeZone: TimeZone = .current) throws(NodeError) -> UInt64 {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let unit = trimmed.last, let factor = unitMillis[unit], let count = UInt64(trimmed.dropLast()), count > 0 {
            let (product, overflow) = count.multipliedReportingOverflow(by: factor)
            let (sum, past) = now.addingReportingOverflow(product)
            guard !overflow, !past else { throw .invalidTime(text) }
            return sum
        }
        if let date = date(trimmed, timeZone: timeZone) {
            let millis = date.timeIntervalSince1970 * 1000
            // `UInt64(_:)` traps outside its range: a year 600,000,000 must be an error, not a crash.
            guard millis > 0, let exact = UInt64(exactly: millis.rounded(.down)) else { throw .invalidTime(text) }
            return exact
        }
        throw .invalidTime(text)
    }

    static let unitMillis: [Character: UInt64] = ["m": 60_000, "h": 3_600_000, "d": 86_400_000, "w": 604_800_000]

    static func date(_ text: String, timeZone: TimeZone) -> Date? {
        let iso = ISO8601DateFormatter()
        iso.formatOptions = [.withInternetDateTime]
        if let date = iso.date(from: text) { return date }
        for format in ["yyyy-MM-dd'T'HH:mm:ss", "yyyy-MM-dd'T'HH:mm", "yyyy-MM-dd HH:mm", "yyyy-MM-dd"] {
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = timeZone
            formatter.dateFormat = format
            formatter.isLenient = false
            if let date = formatter.date(from: text) { return date }
        }
        return nil
    }

    /// The last instant a four-digit year can show (9999-12-31T23:59:59.999Z). Times in
    /// envelopes may lie anywhere up to 2^64 − 1 ms; later ones are shown as this instant, since
    /// date formatters print nothing for them.
    public static let latestShown: UInt64 = 253_402_300_799_999

    /// `2026-12-24 18:30` in the local time zone, for listings.
    public static func format(_ millis: UInt64, timeZone: TimeZone = .current) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date(millis))
    }

    /// ISO 8601 in UTC with milliseconds, for JSON output.
    public static func iso8601(_ millis: UInt64) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date(millis))
    }

    static func date(_ millis: UInt64) -> Date {
        Date(timeIntervalSince1970: Double(min(millis, latestShown)) / 1000)
    }
}
