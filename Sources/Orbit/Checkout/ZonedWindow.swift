public import Foundation

/// A time window a marketer writes in local time (`"2026-11-27 00:00"` to `"2026-11-30 23:59"`, Europe/Berlin),
/// converted once to UTC instants. The end minute is included: `to = "… 23:59"` runs until 23:59:59.999 local.
///
/// Local times are resolved with the zone's rules for that date, so a window across a daylight-saving change is
/// exactly as long as the wall clock says. A local time that does not exist (the hour skipped in spring) means the
/// first instant after the gap; one that exists twice (the hour repeated in autumn) means its first occurrence.
public struct ZonedWindow: Hashable, Sendable {
    public let from: Instant
    /// The last millisecond inside the window.
    public let through: Instant
    public let zone: TimeZone
    /// The window as written, for explanations: `2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin`.
    public let text: String

    /// Parses `from`/`to` (`YYYY-MM-DD HH:MM` or `YYYY-MM-DD`, local to `zone`).
    public init(from: String, to: String, zone zoneName: String) throws(ZonedTimeError) {
        let zone = try Self.zone(named: zoneName)
        self.zone = zone
        self.from = try Self.instant(from, in: zone, endOfPeriod: false)
        self.through = try Self.instant(to, in: zone, endOfPeriod: true)
        guard self.from <= self.through else {
            throw ZonedTimeError("window ends (\(to)) before it starts (\(from))")
        }
        text = "\(from)–\(to) \(zoneName)"
    }

    static let utc = TimeZone(identifier: "UTC")!

    /// Whether `instant` is inside the window.
    public func contains(_ instant: Instant) -> Bool { instant >= from && instant <= through }

    /// The time zone called `name` (IANA, e.g. `Europe/Berlin`), or an error naming it.
    static func zone(named name: String) throws(ZonedTimeError) -> TimeZone {
        guard name.contains("/") || name == "UTC", let zone = TimeZone(identifier: name) else {
            throw ZonedTimeError("unknown time zone '\(name)'; use an IANA name like Europe/Berlin")
        }
        return zone
    }

    /// `2026-11-27 00:00` in `zone` as an instant. With `endOfPeriod` the last millisecond of that minute (or day,
    /// when no time is given).
    static func instant(_ text: String, in zone: TimeZone, endOfPeriod: Bool) throws(ZonedTimeError) -> Instant {
        let parts = text.split(separator: " ", omittingEmptySubsequences: true)
        let dateParts = parts.first.map { $0.split(separator: "-").map { Int($0) } } ?? []
        let timeParts = parts.count > 1 ? parts[1].split(separator: ":").map { Int($0) } : []
        guard parts.count <= 2, dateParts.count == 3, let year = dateParts[0], let month = dateParts[1],
            let day = dateParts[2], (1...12).contains(month), (1...31).contains(day),
            parts.count == 1 || (timeParts.count == 2 && timeParts.allSatisfy { $0 != nil }),
            timeParts.isEmpty || ((0...23).contains(timeParts[0]!) && (0...59).contains(timeParts[1]!))
        else {
            throw ZonedTimeError("'\(text)' is not a local time like \"2026-11-27 00:00\"")
        }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        var components = DateComponents(year: year, month: month, day: day)
        components.hour = timeParts.isEmpty ? 0 : timeParts[0]
        components.minute = timeParts.isEmpty ? 0 : timeParts[1]
        guard calendar.date(from: components).map({ calendar.component(.day, from: $0) == day }) ?? false,
            let start = calendar.nextDate(
                after: Date(timeIntervalSince1970: Double(Self.utcGuess(year, month, day) - 3 * 86_400)),
                matching: components, matchingPolicy: .nextTime, repeatedTimePolicy: .first, direction: .forward)
        else {
            throw ZonedTimeError("'\(text)' is not a date of the calendar")
        }
        var milliseconds = Int64((start.timeIntervalSince1970 * 1000).rounded())
        if endOfPeriod {
            let next = calendar.date(byAdding: timeParts.isEmpty ? .day : .minute, value: 1, to: start) ?? start
            milliseconds = Int64((next.timeIntervalSince1970 * 1000).rounded()) - 1
        }
        return Instant(millisecondsSinceEpoch: milliseconds)
    }

    /// Seconds since the epoch of midnight UTC of a date: a starting point for searching the local time.
    private static func utcGuess(_ year: Int, _ month: Int, _ day: Int) -> Int64 {
        CivilDate.days(year: Int64(year), month: Int64(month), day: Int64(day)) * 86_400
    }

    /// `instant` as local time in `zone`: `2026-11-27 00:00`.
    static func localText(_ instant: Instant, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = zone
        let date = Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        return "\(c.year ?? 0)-\(twoDigits(c.month))-\(twoDigits(c.day)) \(twoDigits(c.hour)):\(twoDigits(c.minute))"
    }
}

/// A calendar period for caps (`per_period = { day = 100 }`), counted in the offer's zone.
public enum CapPeriod: String, Hashable, Sendable, CaseIterable {
    case day, week, month

    /// The key of the period containing `instant` in `zone`: `2026-11-27`, `2026-W48`, `2026-11`.
    func key(of instant: Instant, in zone: TimeZone) -> String {
        var calendar = Calendar(identifier: .iso8601)
        calendar.timeZone = zone
        let date = Date(timeIntervalSince1970: Double(instant.millisecondsSinceEpoch) / 1000)
        switch self {
        case .day:
            let c = calendar.dateComponents([.year, .month, .day], from: date)
            return "\(c.year ?? 0)-\(twoDigits(c.month))-\(twoDigits(c.day))"
        case .week:
            let c = calendar.dateComponents([.yearForWeekOfYear, .weekOfYear], from: date)
            return "\(c.yearForWeekOfYear ?? 0)-W\(twoDigits(c.weekOfYear))"
        case .month:
            let c = calendar.dateComponents([.year, .month], from: date)
            return "\(c.year ?? 0)-\(twoDigits(c.month))"
        }
    }
}

/// `7` as `07`; a missing component as `??`.
private func twoDigits(_ value: Int?) -> String {
    guard let value else { return "??" }
    return value < 10 ? "0\(value)" : "\(value)"
}

/// A local time or zone a rule gave cannot be understood.
public struct ZonedTimeError: Error, Hashable, Sendable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
