/// What the fitted models predict for one customer (see docs/analytics.md). Rules read it as `c.p_alive`,
/// `c.expected_purchases`, `c.expected_order_value` and `c.predicted_clv`.
public struct CustomerPrediction: Hashable, Sendable, Codable {
    /// BG/NBD probability that the customer is still active at the calibration end (0…1).
    public var pAlive: Double
    /// BG/NBD expected number of purchases (purchase days) in the horizon after the calibration end.
    public var expectedPurchases: Double
    /// Gamma-Gamma expected value of one order (the population mean for customers without repeat orders); nil when
    /// the spend model could not be fitted.
    public var expectedOrderValue: Money?
    /// Expected purchases × expected order value over the horizon, undiscounted; nil with `expectedOrderValue`.
    public var predictedCLV: Money?

    public init(pAlive: Double, expectedPurchases: Double, expectedOrderValue: Money?, predictedCLV: Money?) {
        self.pAlive = pAlive
        self.expectedPurchases = expectedPurchases
        self.expectedOrderValue = expectedOrderValue
        self.predictedCLV = predictedCLV
    }
}

/// The parameters of one `orbit fit` and what they predict for every customer with an order.
public struct PredictionSet: Hashable, Sendable, Codable {
    /// Last instant of the calibration period: orders after it were not used.
    public var calibrationEnd: Instant
    /// The horizon of `expectedPurchases` and `predictedCLV`, in days after `calibrationEnd`.
    public var horizonDays: Int
    /// BG/NBD parameters, time in weeks.
    public var purchases: BGNBDParameters
    /// Gamma-Gamma parameters (γ in major units of `currency`); nil when fewer than two customers had repeat orders
    /// with a positive value.
    public var spend: GammaGammaParameters?
    /// The currency of the order values; nil when no customer had an order.
    public var currency: Currency?
    /// By customer id.
    public var customers: [String: CustomerPrediction]

    public init(
        calibrationEnd: Instant, horizonDays: Int, purchases: BGNBDParameters, spend: GammaGammaParameters?,
        currency: Currency?, customers: [String: CustomerPrediction]
    ) {
        self.calibrationEnd = calibrationEnd
        self.horizonDays = horizonDays
        self.purchases = purchases
        self.spend = spend
        self.currency = currency
        self.customers = customers
    }
}
