import Foundation

/// One customer's purchase history as the BG/NBD model reads it (Fader, Hardie & Lee 2005): time in weeks.
public struct PurchaseSummary: Hashable, Sendable {
    /// Repeat purchases x: purchase days after the first.
    public var frequency: Int
    /// t_x: weeks from the first purchase to the last (0 without repeat purchases).
    public var recency: Double
    /// T: weeks from the first purchase to the end of the calibration period.
    public var age: Double

    public init(frequency: Int, recency: Double, age: Double) {
        self.frequency = frequency
        self.recency = recency
        self.age = age
    }
}

/// The four BG/NBD parameters: purchase rates are Gamma(r, α) across customers (α in weeks), the probability of
/// dropping out after a purchase is Beta(a, b).
public struct BGNBDParameters: Hashable, Sendable, Codable {
    public var r: Double
    public var alpha: Double
    public var a: Double
    public var b: Double
    /// The log-likelihood of the data at these parameters.
    public var logLikelihood: Double
    /// How many customers the fit saw.
    public var customers: Int

    public init(r: Double, alpha: Double, a: Double, b: Double, logLikelihood: Double = 0, customers: Int = 0) {
        self.r = r
        self.alpha = alpha
        self.a = a
        self.b = b
        self.logLikelihood = logLikelihood
        self.customers = customers
    }

    /// P(alive | x, t_x, T): the probability the customer has not dropped out by the end of the calibration period.
    /// Customers without repeat purchases are alive with probability 1 in this model (they cannot have dropped out
    /// before a repeat purchase).
    public func probabilityAlive(_ customer: PurchaseSummary) -> Double {
        guard customer.frequency > 0 else { return 1 }
        return 1 / (1 + exp(logOddsDead(customer)))
    }

    /// E[Y(t) | x, t_x, T]: expected purchases in the `weeks` after the calibration end (FHL 2005, eq. 10).
    /// Nil when ₂F₁'s series does not converge (α + T tiny against `weeks`).
    public func expectedPurchases(inWeeks weeks: Double, given customer: PurchaseSummary) -> Double? {
        guard weeks > 0 else { return 0 }
        let x = Double(customer.frequency)
        let big = alpha + customer.age
        let c = a + b + x - 1
        guard c > 0, abs(a - 1) > 1e-9,
            let series = SpecialFunctions.hypergeometric2F1(r + x, b + x, c, weeks / (big + weeks))
        else { return nil }
        let numerator = (c / (a - 1)) * (1 - exp((r + x) * log(big / (big + weeks))) * series)
        let denominator = customer.frequency > 0 ? 1 + exp(logOddsDead(customer)) : 1
        let value = numerator / denominator
        return value.isFinite ? max(0, value) : nil
    }

    /// ln[(a / (b + x − 1)) ((α + T) / (α + t_x))^(r + x)], for x > 0.
    private func logOddsDead(_ customer: PurchaseSummary) -> Double {
        let x = Double(customer.frequency)
        return log(a) - log(b + x - 1) + (r + x) * (log(alpha + customer.age) - log(alpha + customer.recency))
    }
}

/// Fits the BG/NBD model by maximum likelihood.
public enum BGNBD {
    /// The maximum-likelihood parameters for `customers` (Nelder–Mead on the logarithms of the parameters, so they
    /// stay positive). Customers with identical summaries are evaluated once, weighted by their count.
    ///
    /// - Throws: ``AnalyticsError`` when there are no customers, or nobody ever made a repeat purchase (the drop-out
    ///   process is then not identified).
    public static func fit(_ customers: [PurchaseSummary]) throws(AnalyticsError) -> BGNBDParameters {
        guard !customers.isEmpty else { throw AnalyticsError("cannot fit BG/NBD: no customers with orders") }
        guard customers.contains(where: { $0.frequency > 0 }) else {
            throw AnalyticsError("cannot fit BG/NBD: no customer made a repeat purchase")
        }
        let data = GroupedSummaries(customers)
        let meanAge = customers.reduce(0) { $0 + $1.age } / Double(customers.count)
        let start = [0.0, log(max(1, meanAge / 10)), 0.0, 0.0]
        let best = NelderMead().minimize({ -data.logLikelihood(logParameters: $0) }, from: start)
        let p = best.point.map { exp($0) }
        return BGNBDParameters(
            r: p[0], alpha: p[1], a: p[2], b: p[3], logLikelihood: -best.value, customers: customers.count)
    }

    /// The log-likelihood of `customers` at `parameters` (FHL 2005, eq. 6).
    public static func logLikelihood(_ customers: [PurchaseSummary], at parameters: BGNBDParameters) -> Double {
        GroupedSummaries(customers).logLikelihood(
            logParameters: [parameters.r, parameters.alpha, parameters.a, parameters.b].map { log($0) })
    }
}

/// Distinct summaries with their counts, laid out for the likelihood's inner loop; the terms that depend only on
/// x are computed once per distinct x.
private struct GroupedSummaries {
    var frequencyIndex: [Int] = []
    var recency: [Double] = []
    var age: [Double] = []
    var weight: [Double] = []
    var frequencies: [Int] = []

    init(_ customers: [PurchaseSummary]) {
        var counts: [PurchaseSummary: Int] = [:]
        for customer in customers { counts[customer, default: 0] += 1 }
        frequencies = Set(counts.keys.map(\.frequency)).sorted()
        let indexOf = Dictionary(uniqueKeysWithValues: frequencies.enumerated().map { ($1, $0) })
        for (summary, count) in counts {
            frequencyIndex.append(indexOf[summary.frequency] ?? 0)
            recency.append(summary.recency)
            age.append(summary.age)
            weight.append(Double(count))
        }
    }

    func logLikelihood(logParameters: [Double]) -> Double {
        let r = exp(logParameters[0])
        let alpha = exp(logParameters[1])
        let a = exp(logParameters[2])
        let b = exp(logParameters[3])
        let constant = r * log(alpha) + lgamma(a + b) - lgamma(b) - lgamma(r)
        var common = [Double](repeating: 0, count: frequencies.count)
        var dropOut = [Double](repeating: -.infinity, count: frequencies.count)
        for (index, frequency) in frequencies.enumerated() {
            let x = Double(frequency)
            common[index] = constant + lgamma(r + x) + lgamma(b + x) - lgamma(a + b + x)
            if frequency > 0 { dropOut[index] = log(a) - log(b + x - 1) }
        }
        var total = 0.0
        for group in weight.indices {
            let index = frequencyIndex[group]
            let exponent = r + Double(frequencies[index])
            let stillAlive = -exponent * log(alpha + age[group])
            let droppedOut = dropOut[index] == -.infinity
                ? -Double.infinity : dropOut[index] - exponent * log(alpha + recency[group])
            total += weight[group] * (common[index] + SpecialFunctions.logAddExp(stillAlive, droppedOut))
        }
        return total.isNaN ? -.infinity : total
    }
}

/// A model could not be fitted or a metric could not be computed from the data given; says why.
public struct AnalyticsError: Error, Sendable, CustomStringConvertible, Equatable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
