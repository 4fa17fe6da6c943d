/// Points issued, redeemed and expired per period, and the liability left at each period's end.
public struct PointsLiability: Hashable, Sendable, Codable {
    public var period: String
    public var issued: Int64
    /// Positive numbers of points.
    public var redeemed: Int64
    public var expired: Int64
    /// Issued − redeemed − expired over all history up to the period's end.
    public var outstanding: Int64
    /// `outstanding` × point value.
    public var value: Money

    /// One row per period.
    public static func series(
        _ movements: [PointsMovement], periods: [ReportPeriod], settings: RetentionSettings, currency: Currency
    ) -> [PointsLiability] {
        let boundaries = periods.map(\.start) + (periods.last.map { [$0.end] } ?? [])
        var rows = periods.map {
            PointsLiability(
                period: $0.label, issued: 0, redeemed: 0, expired: 0, outstanding: 0, value: .zero(currency))
        }
        var before: Int64 = 0
        for movement in movements {
            if let index = RetentionMetrics.periodIndex(of: movement.at, boundaries: boundaries) {
                let flow = PointsFlow(movement.kind, movement.points)
                rows[index].issued += flow.issued
                rows[index].redeemed += flow.spent
                rows[index].expired += flow.expired
            } else if let first = boundaries.first, movement.at < first {
                before += movement.points
            }
        }
        var outstanding = before
        for index in rows.indices {
            outstanding += rows[index].issued - rows[index].redeemed - rows[index].expired
            rows[index].outstanding = outstanding
            rows[index].value = Money(minorUnits: settings.cost(ofPoints: outstanding), currency: currency)
        }
        return rows
    }
}

/// Members of each segment at the end of each period, from the recorded entries and exits.
public struct SegmentSizes: Hashable, Sendable, Codable {
    public var periods: [String]
    /// By segment name: members at the end of each period.
    public var sizes: [String: [Int]]

    public static func series(_ changes: [SegmentChange], periods: [ReportPeriod]) -> SegmentSizes {
        var sizes: [String: [Int]] = [:]
        let ordered = changes.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
        for segment in Set(changes.map(\.segment)) { sizes[segment] = [Int](repeating: 0, count: periods.count) }
        var current: [String: Int] = [:]
        var next = 0
        for (index, period) in periods.enumerated() {
            while next < ordered.count, ordered[next].element.at < period.end {
                let change = ordered[next].element
                current[change.segment, default: 0] += change.entered ? 1 : -1
                next += 1
            }
            for (segment, count) in current { sizes[segment]?[index] = count }
        }
        return SegmentSizes(periods: periods.map(\.label), sizes: sizes)
    }
}
