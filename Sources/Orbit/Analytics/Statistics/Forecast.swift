import Foundation

/// `orbit fit`: BG/NBD and Gamma-Gamma fitted on the customers' order histories, and what they predict for each
/// customer over a horizon.
public enum Forecast {
    /// Fits both models on the orders up to `calibrationEnd` and predicts, for every customer with an order,
    /// P(alive), expected purchases and order value, and CLV over the `horizonDays` after it.
    ///
    /// The spend model is optional: when it cannot be fitted (fewer than two customers with repeat orders of some
    /// value), order value and CLV are nil and the purchase predictions stand.
    ///
    /// - Throws: ``AnalyticsError`` when the purchase model cannot be fitted or `horizonDays` is not positive.
    public static func run(_ customers: [Customer], calibrationEnd: Instant, horizonDays: Int)
        throws(AnalyticsError) -> PredictionSet
    {
        guard horizonDays > 0 else { throw AnalyticsError("the horizon must be at least one day, got \(horizonDays)") }
        let history = try PurchaseHistory(customers, calibrationEnd: calibrationEnd)
        let purchases = try BGNBD.fit(history.entries.map(\.purchases))
        let spend = try? GammaGamma.fit(history.entries.compactMap(\.spend))
        let weeks = Double(horizonDays) / 7
        let scale = Double(DecimalAmount.powerOfTen(history.currency?.minorUnitDigits ?? 2))
        var predictions: [String: CustomerPrediction] = [:]
        predictions.reserveCapacity(history.entries.count)
        for entry in history.entries {
            let expected = purchases.expectedPurchases(inWeeks: weeks, given: entry.purchases) ?? 0
            var orderValue: Money?
            var clv: Money?
            if let currency = history.currency, let value = spend?.expectedOrderValue(entry.spend) {
                orderValue = Money.estimate(value * scale, currency: currency)
                clv = orderValue.flatMap { _ in Money.estimate(value * scale * expected, currency: currency) }
            }
            predictions[entry.customerID] = CustomerPrediction(
                pAlive: purchases.probabilityAlive(entry.purchases), expectedPurchases: expected,
                expectedOrderValue: orderValue, predictedCLV: clv)
        }
        return PredictionSet(
            calibrationEnd: calibrationEnd, horizonDays: horizonDays, purchases: purchases, spend: spend,
            currency: history.currency, customers: predictions)
    }
}
