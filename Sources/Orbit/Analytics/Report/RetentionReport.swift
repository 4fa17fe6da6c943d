/// Everything `orbit report` shows, as data: metrics per period and over the whole range, cohorts, segment sizes,
/// points liability, offer performance, an optional campaign comparison and the last fit's predictions.
public struct RetentionReport: Hashable, Sendable, Codable {
    public var from: Instant
    public var to: Instant
    /// Nil: the range is one period.
    public var periodLength: PeriodLength?
    public var currency: Currency
    public var settings: RetentionSettings
    /// The whole range as one period.
    public var total: PeriodMetrics
    public var periods: [PeriodMetrics]
    public var cohorts: CohortTable
    public var segmentSizes: SegmentSizes
    public var pointsLiability: [PointsLiability]
    public var offers: [OfferPerformance]
    public var campaign: CampaignComparison?
    public var predictions: PredictionSummary?
}

/// The last fit, summarised for a report.
public struct PredictionSummary: Hashable, Sendable, Codable {
    public var calibrationEnd: Instant
    public var horizonDays: Int
    public var purchases: BGNBDParameters
    public var spend: GammaGammaParameters?
    public var customers: Int
    /// Mean P(alive), two decimals.
    public var meanPAlive: Double
    /// Customers by P(alive) in tenths: [0, 0.1), [0.1, 0.2), … [0.9, 1].
    public var pAliveHistogram: [Int]
    /// Sum over customers, two decimals.
    public var expectedPurchases: Double
    public var predictedCLV: Money?

    init(_ set: PredictionSet) {
        calibrationEnd = set.calibrationEnd
        horizonDays = set.horizonDays
        purchases = set.purchases
        spend = set.spend
        customers = set.customers.count
        var histogram = [Int](repeating: 0, count: 10)
        var pAlive = 0.0
        var purchasesTotal = 0.0
        var clv: Int64 = 0
        for prediction in set.customers.values {
            histogram[min(9, max(0, Int(prediction.pAlive * 10)))] += 1
            pAlive += prediction.pAlive
            purchasesTotal += prediction.expectedPurchases
            clv += prediction.predictedCLV?.minorUnits ?? 0
        }
        pAliveHistogram = histogram
        meanPAlive = set.customers.isEmpty ? 0 : RetentionMetrics.rounded(pAlive / Double(set.customers.count))
        expectedPurchases = RetentionMetrics.rounded(purchasesTotal)
        predictedCLV = set.spend == nil ? nil : set.currency.map { Money(minorUnits: clv, currency: $0) }
    }
}

/// What to report on.
public struct ReportRequest: Sendable {
    /// Start of the range (inclusive); default: the day of the first order.
    public var from: Instant?
    /// End of the range (exclusive); default: the day after the last order.
    public var to: Instant?
    /// Nil: the whole range as one period.
    public var period: PeriodLength?
    public var activeWindowDays = 365
    /// What one point costs, in major units (`0.01`); default one minor unit.
    public var pointValue: String?
    /// A campaign and its holdout group, with the campaign's cost when known.
    public var campaign: (campaign: CustomerGroup, holdout: CustomerGroup, cost: String?)?

    public init(from: Instant? = nil, to: Instant? = nil, period: PeriodLength? = nil) {
        self.from = from
        self.to = to
        self.period = period
    }
}

extension RetentionReport {
    /// Reads what the report needs from `store` and computes it.
    ///
    /// - Throws: ``AnalyticsError`` for a request that cannot be answered (no orders, an empty range, orders in
    ///   several currencies, a bad point value or group); the store's errors as they are.
    public static func build(from store: any Store, request: ReportRequest) async throws -> RetentionReport {
        let customers = try await store.allCustomers()
        guard let currency = try Money.currency(of: customers) else {
            throw AnalyticsError("the store has no orders yet: nothing to report")
        }
        guard request.activeWindowDays > 0 else {
            throw AnalyticsError("the active window must be at least one day, got \(request.activeWindowDays)")
        }
        let firstOrder = customers.compactMap(\.firstOrderAt).min() ?? Instant(millisecondsSinceEpoch: 0)
        let lastOrder = customers.compactMap(\.lastOrderAt).max() ?? firstOrder
        let from = request.from ?? PeriodLength.day.start(of: firstOrder)
        let to = request.to ?? PeriodLength.day.next(after: PeriodLength.day.start(of: lastOrder))
        guard from < to else { throw AnalyticsError("the range is empty: --from \(from) is not before --to \(to)") }
        var settings = RetentionSettings(activeWindowDays: request.activeWindowDays)
        if let text = request.pointValue {
            settings.pointValueMilliMinorUnits = try RetentionSettings.pointValue(parsing: text, currency: currency)
        }
        let periods = ReportPeriod.periods(from: from, to: to, length: request.period)
        let whole = ReportPeriod.periods(from: from, to: to, length: nil)
        var discounts: [Int64] = []
        for period in periods {
            discounts.append(try await discountTotal(store, period, currency))
        }
        let points = try await store.pointsMovements()
        let surveys = try await store.surveyResponses()
        let total = RetentionMetrics.compute(
            customers: customers, periods: whole, currency: currency, settings: settings, points: points,
            discounts: [try await discountTotal(store, whole[0], currency)], surveys: surveys)[0]
        var campaign: CampaignComparison?
        if let request = request.campaign {
            var cost: Money?
            if let text = request.cost {
                cost = Money(
                    minorUnits: try Money.parseAmount(text, digits: currency.minorUnitDigits, what: "the campaign cost"),
                    currency: currency)
            }
            campaign = try CampaignComparison.compare(
                request.campaign, against: request.holdout, customers: customers, from: from, to: to,
                currency: currency, cost: cost)
        }
        return RetentionReport(
            from: from, to: to, periodLength: request.period, currency: currency, settings: settings, total: total,
            periods: RetentionMetrics.compute(
                customers: customers, periods: periods, currency: currency, settings: settings, points: points,
                discounts: discounts, surveys: surveys),
            cohorts: CohortTable.monthly(customers: customers, from: from, to: to, currency: currency),
            segmentSizes: SegmentSizes.series(try await store.segmentChanges(), periods: periods),
            pointsLiability: PointsLiability.series(points, periods: periods, settings: settings, currency: currency),
            offers: try await store.offerPerformance(during: from..<to), campaign: campaign,
            predictions: try await store.predictions().map(PredictionSummary.init))
    }

    private static func discountTotal(_ store: any Store, _ period: ReportPeriod, _ currency: Currency) async throws
        -> Int64
    {
        var total: Int64 = 0
        for offer in try await store.offerPerformance(during: period.start..<period.end) {
            guard offer.discountCost.currency == currency else {
                throw AnalyticsError("offer '\(offer.offer)' gave discounts in \(offer.discountCost.currency), orders are in \(currency)")
            }
            total += offer.discountCost.minorUnits
        }
        return total
    }
}
