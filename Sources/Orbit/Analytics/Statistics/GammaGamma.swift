import Foundation

/// What the Gamma-Gamma spend model reads of a customer with repeat purchases.
public struct SpendSummary: Hashable, Sendable {
    /// Repeat purchases x (at least 1).
    public var frequency: Int
    /// m̄ₓ: the mean value of the repeat purchases, in major units of the currency (positive).
    public var averageValue: Double

    public init(frequency: Int, averageValue: Double) {
        self.frequency = frequency
        self.averageValue = averageValue
    }
}

/// Gamma-Gamma parameters (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013): an order's value is
/// Gamma(p, ν) with ν ~ Gamma(q, γ) across customers; γ in major units of the currency.
public struct GammaGammaParameters: Hashable, Sendable, Codable {
    public var p: Double
    public var q: Double
    public var gamma: Double
    /// The log-likelihood of the data at these parameters.
    public var logLikelihood: Double
    /// How many customers the fit saw.
    public var customers: Int

    public init(p: Double, q: Double, gamma: Double, logLikelihood: Double = 0, customers: Int = 0) {
        self.p = p
        self.q = q
        self.gamma = gamma
        self.logLikelihood = logLikelihood
        self.customers = customers
    }

    /// E[M]: the mean order value across customers, pγ / (q − 1); nil when q ≤ 1 (the mean is infinite).
    public var populationMean: Double? { q > 1 ? p * gamma / (q - 1) : nil }

    /// E[M | p, q, γ, m̄ₓ, x] = p (γ + x m̄ₓ) / (p x + q − 1): the customer's expected order value, a weighted mean
    /// of the population mean and their own. Without repeat purchases: the population mean.
    public func expectedOrderValue(_ customer: SpendSummary?) -> Double? {
        guard let customer, customer.frequency > 0 else { return populationMean }
        let x = Double(customer.frequency)
        let denominator = p * x + q - 1
        guard denominator > 0 else { return nil }
        return p * (gamma + x * customer.averageValue) / denominator
    }
}

/// Fits the Gamma-Gamma spend model by maximum likelihood.
public enum GammaGamma {
    /// The maximum-likelihood parameters for `customers` (those with repeat purchases of positive mean value).
    ///
    /// - Throws: ``AnalyticsError`` when fewer than two customers qualify.
    public static func fit(_ customers: [SpendSummary]) throws(AnalyticsError) -> GammaGammaParameters {
        let usable = customers.filter { $0.frequency > 0 && $0.averageValue > 0 }
        guard usable.count >= 2 else {
            throw AnalyticsError("cannot fit Gamma-Gamma: fewer than two customers with repeat orders of some value")
        }
        let x = usable.map { Double($0.frequency) }
        let logValue = usable.map { log($0.averageValue) }
        let logX = x.map { log($0) }
        let spent = zip(x, usable).map { $0 * $1.averageValue }
        let meanValue = usable.reduce(0) { $0 + $1.averageValue } / Double(usable.count)
        func logLikelihood(_ logParameters: [Double]) -> Double {
            let p = exp(logParameters[0])
            let q = exp(logParameters[1])
            let gamma = exp(logParameters[2])
            var total = 0.0
            let constant = q * log(gamma) - lgamma(q)
            for index in x.indices {
                let px = p * x[index]
                total += lgamma(px + q) - lgamma(px) + constant + (px - 1) * logValue[index] + px * logX[index]
                    - (px + q) * log(spent[index] + gamma)
            }
            return total.isNaN ? -.infinity : total
        }
        let best = NelderMead().minimize({ -logLikelihood($0) }, from: [0, log(2), log(meanValue)])
        let p = best.point.map { exp($0) }
        return GammaGammaParameters(p: p[0], q: p[1], gamma: p[2], logLikelihood: -best.value, customers: usable.count)
    }
}
