/// Monthly acquisition cohorts: customers by the UTC month of their first order, followed month by month.
public struct CohortTable: Hashable, Sendable, Codable {
    /// One acquisition month.
    public struct Cohort: Hashable, Sendable, Codable {
        /// `1997-01`.
        public var month: String
        /// Customers whose first order is in the month.
        public var customers: Int
        /// By months since acquisition (0 = the acquisition month), up to the report's last month: customers with an
        /// order in that month.
        public var active: [Int]
        /// `active` as % of `customers`, two decimals.
        public var retention: [Double]
        /// Revenue of the cohort's orders in each month.
        public var revenue: [Money]
    }

    public var cohorts: [Cohort]
    /// By months since acquisition: customers active / customers of the cohorts old enough to have that month, in %
    /// (the retention curve of all cohorts together).
    public var retentionCurve: [Double]

    /// Cohorts acquired in `[from, to)`, followed until `to` (orders on or after `to` are not counted).
    public static func monthly(customers: [Customer], from: Instant, to: Instant, currency: Currency) -> CohortTable {
        guard from < to else { return CohortTable(cohorts: [], retentionCurve: []) }
        let lastMonth = monthIndex(of: Instant(millisecondsSinceEpoch: to.millisecondsSinceEpoch - 1))
        var sizes: [Int64: Int] = [:]
        var active: [Int64: [Int]] = [:]
        var revenue: [Int64: [Int64]] = [:]
        for customer in customers {
            let orders = customer.ordersByTime
            guard let first = orders.first, first.at >= from, first.at < to else { continue }
            let cohort = monthIndex(of: first.at)
            let width = Int(lastMonth - cohort) + 1
            sizes[cohort, default: 0] += 1
            if active[cohort] == nil {
                active[cohort] = [Int](repeating: 0, count: width)
                revenue[cohort] = [Int64](repeating: 0, count: width)
            }
            var lastOffset = -1
            for order in orders {
                guard order.at < to else { break }
                let offset = Int(monthIndex(of: order.at) - cohort)
                revenue[cohort]?[offset] += order.total.minorUnits
                if offset != lastOffset {
                    active[cohort]?[offset] += 1
                    lastOffset = offset
                }
            }
        }
        var curveActive: [Int] = []
        var curveBase: [Int] = []
        let cohorts = sizes.keys.sorted().map { key -> Cohort in
            let size = sizes[key] ?? 0
            let counts = active[key] ?? []
            for (offset, count) in counts.enumerated() {
                if offset == curveActive.count {
                    curveActive.append(0)
                    curveBase.append(0)
                }
                curveActive[offset] += count
                curveBase[offset] += size
            }
            return Cohort(
                month: label(of: key), customers: size, active: counts,
                retention: counts.map { RetentionMetrics.percent($0, of: size) ?? 0 },
                revenue: (revenue[key] ?? []).map { Money(minorUnits: $0, currency: currency) })
        }
        return CohortTable(
            cohorts: cohorts,
            retentionCurve: zip(curveActive, curveBase).map { RetentionMetrics.percent($0, of: $1) ?? 0 })
    }

    /// Months since year 0 of the instant's UTC month.
    private static func monthIndex(of instant: Instant) -> Int64 {
        let (year, month, _) = CivilDate.fromDays(
            instant.millisecondsSinceEpoch.floorDivided(by: Instant.millisecondsPerDay).quotient)
        return year * 12 + month - 1
    }

    private static func label(of index: Int64) -> String {
        let month = index % 12 + 1
        return "\(index / 12)-\(month < 10 ? "0" : "")\(month)"
    }
}
