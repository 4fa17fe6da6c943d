/// Customers' order histories summarised for the purchase and spend models. Purchases are counted by UTC day
/// (several orders on one day are one purchase of their summed value, as in the CDNOW literature); time is in weeks.
public struct PurchaseHistory: Sendable {
    /// One customer with at least one order on or before the calibration end.
    public struct Entry: Sendable {
        public var customerID: String
        public var purchases: PurchaseSummary
        /// For customers with repeat purchases: how many and their mean value (major units).
        public var spend: SpendSummary?
    }

    public let entries: [Entry]
    /// The currency of the orders; nil when there are none.
    public let currency: Currency?

    /// Summarises `customers` at `calibrationEnd`: orders on later days are ignored.
    ///
    /// - Throws: ``AnalyticsError`` when orders are in more than one currency.
    public init(_ customers: [Customer], calibrationEnd: Instant) throws(AnalyticsError) {
        let endDay = Self.day(of: calibrationEnd)
        var entries: [Entry] = []
        entries.reserveCapacity(customers.count)
        var currency: Currency?
        for customer in customers {
            var days: [(day: Int64, total: Int64)] = []
            for order in customer.ordersByTime {
                let day = Self.day(of: order.at)
                guard day <= endDay else { break }
                if let known = currency, known != order.total.currency {
                    throw AnalyticsError(
                        "orders are in \(known) and \(order.total.currency): the models need a single currency")
                }
                currency = order.total.currency
                if let last = days.last, last.day == day {
                    days[days.count - 1].total += order.total.minorUnits
                } else {
                    days.append((day, order.total.minorUnits))
                }
            }
            guard let first = days.first, let last = days.last else { continue }
            let frequency = days.count - 1
            let scale = Double(DecimalAmount.powerOfTen(currency?.minorUnitDigits ?? 2))
            let repeatTotal = days.dropFirst().reduce(0) { $0 + $1.total }
            entries.append(
                Entry(
                    customerID: customer.id,
                    purchases: PurchaseSummary(
                        frequency: frequency, recency: Double(last.day - first.day) / 7,
                        age: Double(endDay - first.day) / 7),
                    spend: frequency > 0
                        ? SpendSummary(frequency: frequency, averageValue: Double(repeatTotal) / Double(frequency) / scale)
                        : nil))
        }
        self.entries = entries
        self.currency = currency
    }

    private static func day(of instant: Instant) -> Int64 {
        instant.millisecondsSinceEpoch.floorDivided(by: Instant.millisecondsPerDay).quotient
    }
}
