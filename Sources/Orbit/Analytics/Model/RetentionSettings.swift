/// What a retention report assumes, with the defaults docs/analytics.md explains.
public struct RetentionSettings: Hashable, Sendable, Codable {
    /// A customer "is a customer" at an instant t when they ordered in `[t − activeWindowDays, t)`.
    public var activeWindowDays: Int
    /// What one point costs the shop, in thousandths of a minor unit (1000 = one cent per point in EUR).
    public var pointValueMilliMinorUnits: Int64

    public init(activeWindowDays: Int = 365, pointValueMilliMinorUnits: Int64 = 1000) {
        self.activeWindowDays = activeWindowDays
        self.pointValueMilliMinorUnits = pointValueMilliMinorUnits
    }

    /// Parses a point value in major units (`0.01` = one cent per point), with up to three decimals more than the
    /// currency has.
    ///
    /// - Throws: ``AnalyticsError`` naming the problem.
    public static func pointValue(parsing text: String, currency: Currency) throws(AnalyticsError) -> Int64 {
        try Money.parseAmount(text, digits: currency.minorUnitDigits + 3, what: "the point value")
    }

    /// The cost of `points` in minor units, rounded to the nearest minor unit.
    func cost(ofPoints points: Int64) -> Int64 {
        let (product, overflow) = points.multipliedReportingOverflow(by: pointValueMilliMinorUnits)
        guard !overflow else { return Int64((Double(points) * Double(pointValueMilliMinorUnits) / 1000).rounded()) }
        return Money.roundedQuotient(product, 1000)
    }
}

extension Money {
    /// A decimal amount in major units (`12.50`) as an integer with `digits` decimals.
    static func parseAmount(_ text: String, digits: Int, what: String) throws(AnalyticsError) -> Int64 {
        do {
            return try DecimalAmount.parseDecimal(Substring(text), digits: digits, separator: UInt8(ascii: "."))
        } catch {
            throw AnalyticsError("\(what) \(error.message)")
        }
    }

    /// `numerator / denominator` rounded to the nearest integer, halves away from zero (`denominator` > 0).
    static func roundedQuotient(_ numerator: Int64, _ denominator: Int64) -> Int64 {
        let (quotient, remainder) = numerator.quotientAndRemainder(dividingBy: denominator)
        guard remainder.magnitude * 2 >= denominator.magnitude else { return quotient }
        return numerator < 0 ? quotient - 1 : quotient + 1
    }

    /// The single currency of `customers`' orders; nil when there are no orders.
    ///
    /// - Throws: ``AnalyticsError`` when orders are in several currencies.
    static func currency(of customers: [Customer]) throws(AnalyticsError) -> Currency? {
        var found: Currency?
        for customer in customers {
            guard let currency = customer.orders.first?.total.currency else { continue }
            if let known = found, known != currency {
                throw AnalyticsError("orders are in \(known) and \(currency): a report covers one currency")
            }
            found = currency
        }
        return found
    }
}
