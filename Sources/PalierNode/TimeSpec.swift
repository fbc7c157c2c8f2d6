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

    /// `2026-12-24 18:30` in the local time zone, for listings. Plain arithmetic (no date
    /// formatter: a listing of many posts formats two dates a row).
    public static func format(_ millis: UInt64, timeZone: TimeZone = .current) -> String {
        let shown = min(millis, latestShown)
        let offset = Int64(timeZone.secondsFromGMT(for: date(shown)))
        // Near the last instant a four-digit year can show, an eastern offset would pass it.
        let local = min(Int64(shown / 1000) + offset, Int64(latestShown / 1000))
        let t = civil(seconds: max(local, 0))
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2)) \(pad(t.hour, 2)):\(pad(t.minute, 2))"
    }

    /// A length of time as a person says it: "45 s", "12 min", "3 h 20 min", "4 days".
    public static func duration(millis: UInt64) -> String {
        let seconds = millis / 1000
        switch seconds {
        case ..<60: return "\(seconds) s"
        case ..<3_600: return "\(seconds / 60) min"
        case ..<86_400: return seconds % 3_600 < 60 ? "\(seconds / 3_600) h" : "\(seconds / 3_600) h \(seconds % 3_600 / 60) min"
        default: return seconds / 86_400 == 1 ? L("1 day", "1 jour") : L("\(seconds / 86_400) days", "\(seconds / 86_400) jours")
        }
    }

    /// "12 min ago", or the date when it is a week or more ago; "just now" for a time not yet
    /// past (a neighbour's clock ahead of ours).
    public static func ago(millis: UInt64, now: UInt64) -> String {
        guard now > millis else { return L("just now", "à l'instant") }
        let elapsed = now - millis
        return elapsed >= 7 * 86_400_000 ? L("on \(format(millis))", "le \(format(millis))")
            : L("\(duration(millis: elapsed)) ago", "il y a \(duration(millis: elapsed))")
    }

    /// ISO 8601 in UTC with milliseconds, for JSON output.
    public static func iso8601(_ millis: UInt64) -> String {
        let shown = min(millis, latestShown)
        let t = civil(seconds: Int64(shown / 1000))
        return "\(pad(t.year, 4))-\(pad(t.month, 2))-\(pad(t.day, 2))T\(pad(t.hour, 2)):\(pad(t.minute, 2)):\(pad(t.second, 2)).\(pad(Int64(shown % 1000), 3))Z"
    }

    /// The proleptic Gregorian date and time of `seconds` after 1970-01-01T00:00:00 (days to
    /// civil date as in Howard Hinnant's `civil_from_days`, for days ≥ 0).
    static func civil(seconds: Int64) -> (year: Int64, month: Int64, day: Int64, hour: Int64, minute: Int64, second: Int64) {
        let days = seconds / 86_400
        let rest = seconds % 86_400
        let z = days + 719_468
        let era = z / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        return (year, month, day, rest / 3_600, rest % 3_600 / 60, rest % 60)
    }

    private static func pad(_ value: Int64, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }

    static func date(_ millis: UInt64) -> Date {
        Date(timeIntervalSince1970: Double(min(millis, latestShown)) / 1000)
    }
}
