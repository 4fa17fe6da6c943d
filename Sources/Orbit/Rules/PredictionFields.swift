import LuaRuntime

extension CustomerView {
    /// `c.p_alive`, `c.expected_purchases` (over the fit's horizon), `c.expected_order_value` and `c.predicted_clv`
    /// (money in minor units, like `eur(…)`): what the last `orbit fit` predicted; nil before a fit and for
    /// customers without orders at the fit.
    static func addPredictionFields(to type: LuaObjectType<CustomerView>) {
        type.field("p_alive") { view in view.customer.prediction.map { .number($0.pAlive) } ?? .nil }
        type.field("expected_purchases") { view in
            view.customer.prediction.map { .number($0.expectedPurchases) } ?? .nil
        }
        type.field("expected_order_value") { view in
            view.customer.prediction?.expectedOrderValue.map { .integer($0.minorUnits) } ?? .nil
        }
        type.field("predicted_clv") { view in
            view.customer.prediction?.predictedCLV.map { .integer($0.minorUnits) } ?? .nil
        }
    }
}
