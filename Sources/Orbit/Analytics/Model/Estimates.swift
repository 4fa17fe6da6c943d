extension Money {
    /// A statistical estimate in minor units (a `Double` from a model) as money, rounded to the nearest minor unit;
    /// nil when it is not finite or beyond what `Int64` holds.
    static func estimate(_ minorUnits: Double, currency: Currency) -> Money? {
        guard minorUnits.isFinite, abs(minorUnits) < 9e18 else { return nil }
        return Money(minorUnits: Int64(minorUnits.rounded()), currency: currency)
    }
}
