/// The retention metrics of one period (definitions in docs/analytics.md). Percentages are 0…100 with two decimals;
/// nil where the denominator is zero.
public struct PeriodMetrics: Hashable, Sendable, Codable {
    public var period: ReportPeriod
    /// S: customers at the start (ordered within the active window before it).
    public var customersAtStart: Int
    /// E: customers at the end.
    public var customersAtEnd: Int
    /// N: customers whose first order is in the period.
    public var newCustomers: Int
    /// CRR = (E − N) / S × 100.
    public var retentionRate: Double?
    /// 100 − CRR.
    public var churnRate: Double?
    /// Customers with an order in the period.
    public var buyers: Int
    /// Buyers with another order before or in the period.
    public var repeatBuyers: Int
    /// repeat buyers / buyers × 100.
    public var repeatPurchaseRate: Double?
    public var orders: Int
    /// Orders net of refunds.
    public var revenue: Money
    /// orders / buyers.
    public var purchaseFrequency: Double?
    /// revenue / orders.
    public var averageOrderValue: Money?
    /// Revenue of all orders before the period's end / customers with an order before it.
    public var historicalCLV: Money?
    public var pointsIssued: Int64
    /// Discounts given by offers in the period (from the checkout).
    public var discounts: Money
    /// discounts + points issued × point value.
    public var retentionCost: Money
    /// retention cost / E.
    public var retentionCostPerActiveCustomer: Money?
    /// Customers whose survey score counts (their last in the period).
    public var surveyResponses: Int
    /// % promoters (9–10) − % detractors (0–6).
    public var netPromoterScore: Double?
}

/// Computes ``PeriodMetrics`` from customers' orders, the ledger, discounts and survey scores.
public enum RetentionMetrics {
    /// The metrics of each of `periods` (contiguous, in order), in `currency`.
    ///
    /// - Parameters:
    ///   - discounts: discounts given in each period, in minor units (one per period; missing ones count as 0).
    public static func compute(
        customers: [Customer], periods: [ReportPeriod], currency: Currency, settings: RetentionSettings,
        points: [PointsMovement] = [], discounts: [Int64] = [], surveys: [SurveyResponse] = []
    ) -> [PeriodMetrics] {
        guard let rangeStart = periods.first?.start, let rangeEnd = periods.last?.end else { return [] }
        let boundaries = periods.map(\.start) + [rangeEnd]
        let count = periods.count
        let window = Int64(settings.activeWindowDays) * Instant.millisecondsPerDay
        var activeChanges = [Int](repeating: 0, count: count + 2)
        var newCustomers = [Int](repeating: 0, count: count)
        var buyers = [Int](repeating: 0, count: count)
        var repeatBuyers = [Int](repeating: 0, count: count)
        var orders = [Int](repeating: 0, count: count)
        var revenue = [Int64](repeating: 0, count: count)
        // Revenue and customers acquired before the range, then per period (cumulated below for historical CLV).
        var revenueBefore: Int64 = 0
        var acquiredBefore = 0
        var acquired = [Int](repeating: 0, count: count)

        for customer in customers where !customer.orders.isEmpty {
            let history = customer.ordersByTime
            // An order at o makes the customer active at every t in (o, o + window]: merge those intervals and
            // mark the boundaries they cover in a difference array (cost per interval, not per boundary).
            var intervalStart = history[0].at.millisecondsSinceEpoch
            var intervalEnd = intervalStart + window
            for order in history.dropFirst() {
                let at = order.at.millisecondsSinceEpoch
                if at <= intervalEnd {
                    intervalEnd = at + window
                } else {
                    markActive(after: intervalStart, through: intervalEnd, boundaries: boundaries, in: &activeChanges)
                    intervalStart = at
                    intervalEnd = at + window
                }
            }
            markActive(after: intervalStart, through: intervalEnd, boundaries: boundaries, in: &activeChanges)
            var period = 0
            var ordersBefore = 0
            var lastBuyerPeriod = -1
            var ordersInPeriod = 0
            for (position, order) in history.enumerated() {
                guard order.at < rangeEnd else { break }
                guard order.at >= rangeStart else {
                    revenueBefore += order.total.minorUnits
                    if position == 0 { acquiredBefore += 1 }
                    ordersBefore += 1
                    continue
                }
                while boundaries[period + 1] <= order.at { period += 1 }
                if position == 0 {
                    newCustomers[period] += 1
                    acquired[period] += 1
                }
                orders[period] += 1
                revenue[period] += order.total.minorUnits
                if lastBuyerPeriod != period {
                    lastBuyerPeriod = period
                    ordersInPeriod = 0
                    buyers[period] += 1
                    if position > 0 { repeatBuyers[period] += 1 }
                }
                ordersInPeriod += 1
                if ordersInPeriod == 2, position == 1 { repeatBuyers[period] += 1 }
            }
        }

        var active = [Int](repeating: 0, count: count + 1)
        var running = 0
        for index in 0...count {
            running += activeChanges[index]
            active[index] = running
        }

        var issued = [Int64](repeating: 0, count: count)
        for movement in points where movement.kind == .earn {
            if let index = periodIndex(of: movement.at, boundaries: boundaries) { issued[index] += movement.points }
        }
        var lastScores = [[String: Int]](repeating: [:], count: count)
        for response in surveys.sorted(by: { $0.at < $1.at }) {
            if let index = periodIndex(of: response.at, boundaries: boundaries) {
                lastScores[index][response.customerID] = response.score
            }
        }

        var metrics: [PeriodMetrics] = []
        var cumulativeRevenue = revenueBefore
        var cumulativeCustomers = acquiredBefore
        for index in 0..<count {
            cumulativeRevenue += revenue[index]
            cumulativeCustomers += acquired[index]
            let start = active[index]
            let end = active[index + 1]
            let retention = percent(end - newCustomers[index], of: start)
            let cost = (index < discounts.count ? discounts[index] : 0) + settings.cost(ofPoints: issued[index])
            let scores = lastScores[index].values
            let promoters = scores.filter { $0 >= 9 }.count
            let detractors = scores.filter { $0 <= 6 }.count
            metrics.append(
                PeriodMetrics(
                    period: periods[index], customersAtStart: start, customersAtEnd: end,
                    newCustomers: newCustomers[index], retentionRate: retention,
                    churnRate: retention.map { rounded(100 - $0) }, buyers: buyers[index],
                    repeatBuyers: repeatBuyers[index], repeatPurchaseRate: percent(repeatBuyers[index], of: buyers[index]),
                    orders: orders[index], revenue: Money(minorUnits: revenue[index], currency: currency),
                    purchaseFrequency: buyers[index] > 0 ? rounded(Double(orders[index]) / Double(buyers[index])) : nil,
                    averageOrderValue: average(revenue[index], over: orders[index], currency),
                    historicalCLV: average(cumulativeRevenue, over: cumulativeCustomers, currency),
                    pointsIssued: issued[index],
                    discounts: Money(minorUnits: index < discounts.count ? discounts[index] : 0, currency: currency),
                    retentionCost: Money(minorUnits: cost, currency: currency),
                    retentionCostPerActiveCustomer: average(cost, over: end, currency),
                    surveyResponses: scores.count,
                    netPromoterScore: scores.isEmpty ? nil : rounded(Double(promoters - detractors) * 100 / Double(scores.count))))
        }
        return metrics
    }

    /// Adds one to the boundaries t with `start` < t ≤ `end` (milliseconds), as a difference array.
    private static func markActive(after start: Int64, through end: Int64, boundaries: [Instant], in changes: inout [Int]) {
        let first = firstIndex(in: boundaries) { $0.millisecondsSinceEpoch > start }
        let afterLast = firstIndex(in: boundaries) { $0.millisecondsSinceEpoch > end }
        guard first < afterLast else { return }
        changes[first] += 1
        changes[afterLast] -= 1
    }

    /// The first index of sorted `boundaries` where `isPast` holds (its count when nowhere).
    private static func firstIndex(in boundaries: [Instant], where isPast: (Instant) -> Bool) -> Int {
        var low = 0
        var high = boundaries.count
        while low < high {
            let middle = (low + high) / 2
            if isPast(boundaries[middle]) { high = middle } else { low = middle + 1 }
        }
        return low
    }

    /// The index of the period containing `instant`, or nil outside the range.
    static func periodIndex(of instant: Instant, boundaries: [Instant]) -> Int? {
        guard let first = boundaries.first, let last = boundaries.last, instant >= first, instant < last else {
            return nil
        }
        var low = 0
        var high = boundaries.count - 1
        while high - low > 1 {
            let middle = (low + high) / 2
            if boundaries[middle] <= instant { low = middle } else { high = middle }
        }
        return low
    }

    static func percent(_ part: Int, of whole: Int) -> Double? {
        whole > 0 ? rounded(Double(part) * 100 / Double(whole)) : nil
    }

    /// Two decimals: what reports show.
    static func rounded(_ value: Double) -> Double { (value * 100).rounded() / 100 }

    private static func average(_ total: Int64, over count: Int, _ currency: Currency) -> Money? {
        count > 0 ? Money(minorUnits: Money.roundedQuotient(total, Int64(count)), currency: currency) : nil
    }
}
