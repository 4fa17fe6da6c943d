import Testing

@testable import Orbit

/// Every metric against numbers worked out by hand (in the comments) on a small fixture.
///
/// Fixture (EUR, 2026, a customer = ordered in the 30 days before the date, monthly periods Jan–Mar):
///
/// | customer | orders |
/// |---|---|
/// | A | Dec 20 10.00, Jan 10 20.00, Feb 15 30.00 |
/// | B | Jan 5 40.00, Jan 25 10.00 |
/// | C | Feb 1 50.00 |
/// | D | Nov 1 5.00 |
/// | E | Mar 10 25.00 |
/// | F | Jan 15 10.00, Mar 3 15.00 |
///
/// Active at a boundary t = an order in [t − 30 d, t):
/// Jan 1 [Dec 2, Jan 1): A → 1. Feb 1 [Jan 2, Feb 1): A, B, F → 3 (C's Feb 1 order is not before Feb 1).
/// Mar 1 [Jan 30, Mar 1): A (Feb 15), C (Feb 1) → 2. Apr 1 [Mar 2, Apr 1): E, F → 2.
@Suite struct RetentionMetricsTests {
    static func customer(_ id: String, _ orders: [(String, Int64)]) -> Customer {
        var customer = Customer(id: id, signedUpAt: at(orders[0].0))
        for (index, order) in orders.enumerated() {
            customer.orders.append(
                OrderSummary(orderID: "\(id)-\(index)", at: at(order.0), total: Money(minorUnits: order.1, currency: .eur)))
        }
        return customer
    }

    static let customers = [
        customer("A", [("2025-12-20", 1000), ("2026-01-10", 2000), ("2026-02-15", 3000)]),
        customer("B", [("2026-01-05", 4000), ("2026-01-25", 1000)]),
        customer("C", [("2026-02-01", 5000)]),
        customer("D", [("2025-11-01", 500)]),
        customer("E", [("2026-03-10", 2500)]),
        customer("F", [("2026-01-15", 1000), ("2026-03-03", 1500)]),
    ]

    static let settings = RetentionSettings(activeWindowDays: 30)
    static let periods = ReportPeriod.periods(from: at("2026-01-01"), to: at("2026-04-01"), length: .month)

    /// Earned 10 before the range, 100 in Jan, 50 in Feb; 30 redeemed in Feb; 20 expired in Mar.
    static let points = [
        PointsMovement(kind: .earn, points: 10, at: at("2025-12-20")),
        PointsMovement(kind: .earn, points: 100, at: at("2026-01-10")),
        PointsMovement(kind: .earn, points: 50, at: at("2026-02-15")),
        PointsMovement(kind: .redeem, points: -30, at: at("2026-02-20")),
        PointsMovement(kind: .expire, points: -20, at: at("2026-03-05")),
    ]

    /// Jan: A 10 then 6 (the 6 counts), B 9, C 8. Feb: A 10, B 10, C 0. Mar: none.
    static let surveys = [
        ("A", "2026-01-03", 10), ("A", "2026-01-20", 6), ("B", "2026-01-07", 9), ("C", "2026-01-30", 8),
        ("A", "2026-02-03", 10), ("B", "2026-02-04", 10), ("C", "2026-02-05", 0),
    ].enumerated().map { SurveyResponse(eventID: "s\($0.offset)", customerID: $0.element.0, at: at($0.element.1), score: $0.element.2) }

    static func compute(_ periods: [ReportPeriod], discounts: [Int64]) -> [PeriodMetrics] {
        RetentionMetrics.compute(
            customers: customers, periods: periods, currency: .eur, settings: settings, points: points,
            discounts: discounts, surveys: surveys)
    }

    static func eur(_ minorUnits: Int64) -> Money { Money(minorUnits: minorUnits, currency: .eur) }

    @Test("CRR, churn, repeat rate, frequency, AOV, historical CLV, retention cost and NPS per month")
    func monthly() throws {
        let metrics = Self.compute(Self.periods, discounts: [0, 500, 0])
        try #require(metrics.count == 3)
        let (jan, feb, mar) = (metrics[0], metrics[1], metrics[2])

        // January: S 1, E 3, N 2 (B, F) → CRR (3 − 2) / 1 = 100 %, churn 0 %.
        #expect([jan.customersAtStart, jan.customersAtEnd, jan.newCustomers] == [1, 3, 2])
        #expect(jan.retentionRate == 100 && jan.churnRate == 0)
        // Buyers A, B, F; repeat: A (ordered in Dec), B (two orders in Jan); F's only order is its first → 2/3.
        #expect(jan.buyers == 3 && jan.repeatBuyers == 2 && jan.repeatPurchaseRate == 66.67)
        // 4 orders, 80.00 → AOV 20.00, frequency 4/3.
        #expect(jan.orders == 4 && jan.revenue == Self.eur(8000) && jan.averageOrderValue == Self.eur(2000))
        #expect(jan.purchaseFrequency == 1.33)
        // Historical CLV: orders before Feb 1 (D 5 + A 10 + 20 + B 50 + F 10 = 95.00) / 4 customers = 23.75.
        #expect(jan.historicalCLV == Self.eur(2375))
        // Retention cost: 100 points × 0.01 + no discounts = 1.00, over E = 3 → 0.33.
        #expect(jan.pointsIssued == 100 && jan.retentionCost == Self.eur(100))
        #expect(jan.retentionCostPerActiveCustomer == Self.eur(33))
        // NPS: last scores A 6 (detractor), B 9 (promoter), C 8 → (1 − 1) / 3 = 0.
        #expect(jan.surveyResponses == 3 && jan.netPromoterScore == 0)

        // February: S 3, E 2, N 1 (C) → CRR (2 − 1) / 3 = 33.33 %, churn 66.67 %.
        #expect([feb.customersAtStart, feb.customersAtEnd, feb.newCustomers] == [3, 2, 1])
        #expect(feb.retentionRate == 33.33 && feb.churnRate == 66.67)
        // Buyers A (repeat), C (first order) → 50 %; 2 orders, 80.00 → AOV 40.00, frequency 1.
        #expect(feb.repeatPurchaseRate == 50 && feb.averageOrderValue == Self.eur(4000) && feb.purchaseFrequency == 1)
        // CLV: 95 + 30 + 50 = 175.00 over A, B, C, D, F = 35.00.
        #expect(feb.historicalCLV == Self.eur(3500))
        // Cost: 5.00 discounts + 50 points (0.50) = 5.50 over E = 2 → 2.75.
        #expect(feb.discounts == Self.eur(500) && feb.retentionCostPerActiveCustomer == Self.eur(275))
        // NPS: A 10, B 10 promoters, C 0 detractor → (2 − 1) / 3 = 33.33.
        #expect(feb.netPromoterScore == 33.33)

        // March: S 2, E 2, N 1 (E) → CRR 50 %; buyers E, F (repeat) → 50 %; 40.00 over 2 orders → 20.00.
        #expect(mar.retentionRate == 50 && mar.churnRate == 50 && mar.repeatPurchaseRate == 50)
        #expect(mar.revenue == Self.eur(4000) && mar.averageOrderValue == Self.eur(2000))
        // CLV: 215.00 / 6 = 35.833… → 35.83. No points, no discounts → 0.00 per active customer. No surveys.
        #expect(mar.historicalCLV == Self.eur(3583) && mar.retentionCostPerActiveCustomer == Self.eur(0))
        #expect(mar.netPromoterScore == nil && mar.surveyResponses == 0)
    }

    @Test("the whole range as one period; CRR can go below zero when new customers lapse within it")
    func wholeRange() throws {
        let whole = ReportPeriod.periods(from: at("2026-01-01"), to: at("2026-04-01"), length: nil)
        let total = try #require(Self.compute(whole, discounts: [500]).first)
        // S 1 (Jan 1), E 2 (Apr 1), N 4 (B, C, E, F) → (2 − 4) / 1 = −200 %, churn 300 %.
        #expect(total.retentionRate == -200 && total.churnRate == 300)
        // Buyers A, B, C, E, F; repeat A, B, F → 60 %. 8 orders, 200.00 → AOV 25.00, frequency 1.6.
        #expect(total.repeatPurchaseRate == 60 && total.orders == 8 && total.averageOrderValue == Self.eur(2500))
        #expect(total.purchaseFrequency == 1.6)
        // 150 points (1.50) + 5.00 = 6.50 over E = 2 → 3.25. NPS on last scores A 10, B 10, C 0 → 33.33.
        #expect(total.retentionCostPerActiveCustomer == Self.eur(325) && total.netPromoterScore == 33.33)
        // No customer at the start: no CRR.
        let empty = RetentionMetrics.compute(
            customers: [], periods: whole, currency: .eur, settings: Self.settings)
        #expect(empty[0].retentionRate == nil && empty[0].averageOrderValue == nil)
    }

    @Test("monthly cohorts: retention % and revenue by months since the first order; the retention curve")
    func cohorts() {
        let table = CohortTable.monthly(customers: Self.customers, from: at("2026-01-01"), to: at("2026-04-01"), currency: .eur)
        // A and D were acquired before the range. Jan: B, F; Feb: C; Mar: E.
        #expect(table.cohorts.map(\.month) == ["2026-01", "2026-02", "2026-03"])
        #expect(table.cohorts.map(\.customers) == [2, 1, 1])
        // Jan cohort: both order in Jan, nobody in Feb, F in Mar → 100, 0, 50 %; revenue 60.00, 0, 15.00.
        #expect(table.cohorts[0].active == [2, 0, 1] && table.cohorts[0].retention == [100, 0, 50])
        #expect(table.cohorts[0].revenue == [Self.eur(6000), Self.eur(0), Self.eur(1500)])
        #expect(table.cohorts[1].retention == [100, 0] && table.cohorts[2].retention == [100])
        // Curve: m0 4/4, m1 (0 + 0)/(2 + 1), m2 1/2.
        #expect(table.retentionCurve == [100, 0, 50])
        // Orders out of time order (a customer built by hand) give the same answers.
        let shuffled = Self.customers.map { customer in
            var copy = customer
            copy.orders.reverse()
            return copy
        }
        #expect(CohortTable.monthly(customers: shuffled, from: at("2026-01-01"), to: at("2026-04-01"), currency: .eur) == table)
        #expect(
            RetentionMetrics.compute(customers: shuffled, periods: Self.periods, currency: .eur, settings: Self.settings)
                == RetentionMetrics.compute(customers: Self.customers, periods: Self.periods, currency: .eur, settings: Self.settings))
    }

    @Test("points liability: issued, redeemed, expired per period and outstanding including earlier history")
    func pointsLiability() {
        let rows = PointsLiability.series(Self.points, periods: Self.periods, settings: Self.settings, currency: .eur)
        #expect(rows.map(\.issued) == [100, 50, 0])
        #expect(rows.map(\.redeemed) == [0, 30, 0])
        #expect(rows.map(\.expired) == [0, 0, 20])
        // 10 before the range; +100 → 110; +50 − 30 → 130; −20 → 110; at 0.01 per point.
        #expect(rows.map(\.outstanding) == [110, 130, 110])
        #expect(rows.map(\.value) == [Self.eur(110), Self.eur(130), Self.eur(110)])
    }

    @Test("segment sizes at each period end from entries and exits")
    func segmentSizes() {
        let changes = [
            SegmentChange(customerID: "A", segment: "vip", at: at("2026-01-05"), entered: true),
            SegmentChange(customerID: "B", segment: "vip", at: at("2026-01-06"), entered: true),
            SegmentChange(customerID: "A", segment: "vip", at: at("2026-02-10"), entered: false),
            SegmentChange(customerID: "A", segment: "at-risk", at: at("2026-02-10"), entered: true),
            SegmentChange(customerID: "C", segment: "vip", at: at("2026-04-02"), entered: true),
        ]
        let sizes = SegmentSizes.series(changes, periods: Self.periods)
        #expect(sizes.periods == ["2026-01", "2026-02", "2026-03"])
        #expect(sizes.sizes == ["vip": [2, 1, 1], "at-risk": [0, 1, 1]])
    }

    @Test("point values parse exactly; bad ones are refused")
    func pointValues() throws {
        #expect(try RetentionSettings.pointValue(parsing: "0.01", currency: .eur) == 1000)
        #expect(try RetentionSettings.pointValue(parsing: "0.005", currency: .eur) == 500)
        // Half a cent per point: 3 points cost 1.5 cents → 2 (halves away from zero).
        #expect(RetentionSettings(pointValueMilliMinorUnits: 500).cost(ofPoints: 3) == 2)
        #expect(throws: AnalyticsError.self) { try RetentionSettings.pointValue(parsing: "a lot", currency: .eur) }
    }
}
