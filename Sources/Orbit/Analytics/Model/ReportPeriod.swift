/// The length of the periods a report is broken into: calendar periods in UTC (weeks start on Monday, ISO 8601).
public enum PeriodLength: String, Hashable, Sendable, Codable, CaseIterable {
    case day, week, month, quarter

    /// The start of the period that contains `instant`.
    public func start(of instant: Instant) -> Instant {
        let day = instant.millisecondsSinceEpoch.floorDivided(by: Instant.millisecondsPerDay).quotient
        switch self {
        case .day: return Self.instant(day: day)
        case .week: return Self.instant(day: day - (day + 3).floorDivided(by: 7).remainder)
        case .month, .quarter:
            let (year, month, _) = CivilDate.fromDays(day)
            let first = self == .month ? month : (month - 1) / 3 * 3 + 1
            return Self.instant(day: CivilDate.days(year: year, month: first, day: 1))
        }
    }

    /// The start of the next period, given the start of one.
    public func next(after start: Instant) -> Instant {
        let day = start.millisecondsSinceEpoch.floorDivided(by: Instant.millisecondsPerDay).quotient
        switch self {
        case .day: return Self.instant(day: day + 1)
        case .week: return Self.instant(day: day + 7)
        case .month, .quarter:
            let (year, month, _) = CivilDate.fromDays(day)
            let months = month - 1 + (self == .month ? 1 : 3)
            return Self.instant(day: CivilDate.days(year: year + months / 12, month: months % 12 + 1, day: 1))
        }
    }

    /// `2026-11-20`, `2026-W47`, `2026-11`, `2026-Q4` for the period starting at `start`.
    public func label(of start: Instant) -> String {
        let day = start.millisecondsSinceEpoch.floorDivided(by: Instant.millisecondsPerDay).quotient
        let (year, month, dayOfMonth) = CivilDate.fromDays(day)
        switch self {
        case .day: return "\(year)-\(Self.two(month))-\(Self.two(dayOfMonth))"
        case .month: return "\(year)-\(Self.two(month))"
        case .quarter: return "\(year)-Q\((month - 1) / 3 + 1)"
        case .week:
            // The ISO week-year is the year of the week's Thursday.
            let thursday = day + 3
            let (isoYear, _, _) = CivilDate.fromDays(thursday)
            let week = (thursday - CivilDate.days(year: isoYear, month: 1, day: 1)) / 7 + 1
            return "\(isoYear)-W\(Self.two(week))"
        }
    }

    private static func instant(day: Int64) -> Instant {
        Instant(millisecondsSinceEpoch: day * Instant.millisecondsPerDay)
    }

    private static func two(_ value: Int64) -> String { value < 10 ? "0\(value)" : "\(value)" }
}

/// One period of a report: `[start, end)`.
public struct ReportPeriod: Hashable, Sendable, Codable {
    public var label: String
    /// Inclusive.
    public var start: Instant
    /// Exclusive.
    public var end: Instant

    public init(label: String, start: Instant, end: Instant) {
        self.label = label
        self.start = start
        self.end = end
    }

    /// The calendar periods of `length` that cover `[from, to)`, the first and last cut to the range; the whole
    /// range as one period (labelled with its dates) when `length` is nil.
    public static func periods(from: Instant, to: Instant, length: PeriodLength?) -> [ReportPeriod] {
        guard from < to else { return [] }
        guard let length else {
            return [ReportPeriod(label: "\(PeriodLength.day.label(of: from)) – \(PeriodLength.day.label(of: to))", start: from, end: to)]
        }
        var periods: [ReportPeriod] = []
        var start = length.start(of: from)
        while start < to {
            let next = length.next(after: start)
            periods.append(ReportPeriod(label: length.label(of: start), start: max(start, from), end: min(next, to)))
            start = next
        }
        return periods
    }
}
