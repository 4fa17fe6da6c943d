import Foundation
import Testing

@testable import Orbit

/// BG/NBD and Gamma-Gamma: the published CDNOW fit, the model's formulas against hand computations, and recovery
/// of known parameters from data drawn from the model.
@Suite struct PurchaseModelTests {
    static func cdnowSummaries() throws -> [PurchaseSummary] {
        let text = try String(contentsOfFile: try InputTests.fixture("cdnow_customers_summary.csv"), encoding: .utf8)
        return try text.split(separator: "\n").dropFirst().map { line in
            let fields = line.split(separator: ",")
            return PurchaseSummary(
                frequency: try #require(Int(fields[1])), recency: try #require(Double(fields[2])),
                age: try #require(Double(fields[3])))
        }
    }

    @Test("BG/NBD on CDNOW reproduces Fader, Hardie & Lee (2005): r 0.243, α 4.414, a 0.793, b 2.426 within 0.5 %")
    func publishedFit() throws {
        let summaries = try Self.cdnowSummaries()
        #expect(summaries.count == 2357)
        let fit = try BGNBD.fit(summaries)
        for (value, published) in [(fit.r, 0.243), (fit.alpha, 4.414), (fit.a, 0.793), (fit.b, 2.426)] {
            #expect(abs(value - published) / published < 0.005, "\(value) vs published \(published)")
        }
        // The paper reports LL = −9582.4 at its estimates: the likelihood itself, evaluated there, and at the optimum.
        let published = BGNBDParameters(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426)
        #expect(abs(BGNBD.logLikelihood(summaries, at: published) - -9582.4) < 0.1)
        #expect(abs(fit.logLikelihood - -9582.4) < 0.1)
        #expect(fit.logLikelihood >= BGNBD.logLikelihood(summaries, at: published))
    }

    @Test("₂F₁ and log-sum-exp against closed forms")
    func specialFunctions() throws {
        // ₂F₁(1, 1; 2; z) = −ln(1 − z) / z; ₂F₁(a, b; b; z) = (1 − z)^−a.
        let half = try #require(SpecialFunctions.hypergeometric2F1(1, 1, 2, 0.5))
        #expect(abs(half - 2 * log(2.0)) < 1e-12)
        let power = try #require(SpecialFunctions.hypergeometric2F1(0.7, 3, 3, 0.9))
        #expect(abs(power - pow(0.1, -0.7)) < 1e-9)
        #expect(SpecialFunctions.hypergeometric2F1(1, 1, 2, 1) == nil)
        #expect(abs(SpecialFunctions.logAddExp(log(2.0), log(3.0)) - log(5.0)) < 1e-12)
        #expect(SpecialFunctions.logAddExp(-.infinity, 1) == 1)
        #expect(SpecialFunctions.logAddExp(1000, 1000) == 1000 + log(2.0))
    }

    @Test("P(alive) and expected purchases follow FHL 2005 eq. 10 and 11 (hand-computed)")
    func conditionalFormulas() throws {
        let model = BGNBDParameters(r: 1, alpha: 1, a: 2, b: 3)
        // x = 0: alive with probability 1.
        #expect(model.probabilityAlive(PurchaseSummary(frequency: 0, recency: 0, age: 5)) == 1)
        // x = 1, t_x = 1, T = 3: odds dead = a/(b+x−1) · ((α+T)/(α+t_x))^(r+x) = 2/3 · (4/2)² = 8/3,
        // P(alive) = 1 / (1 + 8/3) = 3/11.
        let customer = PurchaseSummary(frequency: 1, recency: 1, age: 3)
        #expect(abs(model.probabilityAlive(customer) - 3.0 / 11.0) < 1e-12)
        // E[Y(t)] with t = 4: c = a+b+x−1 = 5, z = t/(α+T+t) = 4/8 = ½; ₂F₁(r+x, b+x; c; z) = ₂F₁(2, 4; 5; ½)
        // = Σₖ (2)ₖ(4)ₖ / ((5)ₖ k!) ½ᵏ, summed here to 60 terms (the rest is below 1e-13).
        var series = 0.0
        var term = 1.0
        for k in 0..<60 {
            series += term
            let n = Double(k)
            term *= (2 + n) * (4 + n) / ((5 + n) * (n + 1)) * 0.5
        }
        // E = (c/(a−1)) · (1 − ((α+T)/(α+T+t))^(r+x) · ₂F₁) / (1 + odds dead) = 5 · (1 − ¼ · F) / (11/3).
        let expected = 5 * (1 - 0.25 * series) / (11.0 / 3.0)
        let computed = try #require(model.expectedPurchases(inWeeks: 4, given: customer))
        #expect(abs(computed - expected) < 1e-9)
        #expect(model.expectedPurchases(inWeeks: 0, given: customer) == 0)
    }

    @Test("Gamma-Gamma: expected order value is p(γ + x m̄)/(px + q − 1) (hand-computed)")
    func gammaGammaFormulas() {
        let model = GammaGammaParameters(p: 6, q: 4, gamma: 15)
        // Population mean pγ/(q−1) = 6·15/3 = 30; with x = 2 orders of mean 50: 6·(15 + 100)/(12 + 3) = 46.
        #expect(model.populationMean == 30)
        #expect(model.expectedOrderValue(nil) == 30)
        #expect(model.expectedOrderValue(SpendSummary(frequency: 2, averageValue: 50)) == 46)
        #expect(GammaGammaParameters(p: 1, q: 1, gamma: 1).populationMean == nil)
        #expect(throws: AnalyticsError.self) { try GammaGamma.fit([SpendSummary(frequency: 1, averageValue: 3)]) }
    }

    /// The CDNOW 1-in-10 sample as customers with USD orders (several orders of one day stay separate orders).
    static func cdnowSampleCustomers() throws -> [Customer] {
        let path = InputTests.exampleData.appendingPathComponent("CDNOW_sample.txt").path
        var customers: [String: Customer] = [:]
        for (index, line) in try String(contentsOfFile: path, encoding: .utf8).split(whereSeparator: \.isNewline).enumerated() {
            let fields = line.split(whereSeparator: \.isWhitespace)
            let day = String(fields[2])
            let date: String = day.prefix(4) + "-" + day.dropFirst(4).prefix(2) + "-" + day.suffix(2)
            let at = try #require(Instant(iso8601: date))
            let cents: Int64 = try #require(Int64(String(fields[4]).replacingOccurrences(of: ".", with: "")))
            let id = String(fields[1])
            var customer = customers[id] ?? Customer(id: id, signedUpAt: at)
            let total = Money(minorUnits: cents, currency: .usd)
            customer.orders.append(OrderSummary(orderID: "\(index)", at: at, total: total))
            customers[id] = customer
        }
        return customers.values.sorted { $0.id < $1.id }
    }

    @Test("Gamma-Gamma on the CDNOW sample (calibration to 1997-09-30) gives lifetimes' p 6.25, q 3.74, γ 15.44")
    func gammaGammaCDNOW() throws {
        let end = try #require(Instant(iso8601: "1997-09-30"))
        let history = try PurchaseHistory(try Self.cdnowSampleCustomers(), calibrationEnd: end)
        #expect(history.entries.count == 2357)
        // The BG/NBD summaries built from the transactions are the published summary file's.
        let fromTransactions = history.entries.map(\.purchases)
        let published = try Self.cdnowSummaries()
        let repeats: Int = fromTransactions.reduce(0) { $0 + $1.frequency }
        let publishedRepeats: Int = published.reduce(0) { $0 + $1.frequency }
        #expect(repeats == publishedRepeats)
        let age: Double = fromTransactions.reduce(0) { $0 + $1.age }
        let publishedAge: Double = published.reduce(0) { $0 + $1.age }
        // The file rounds weeks to two decimals.
        #expect(abs(age - publishedAge) < 2357 * 0.005)
        let spend = history.entries.compactMap(\.spend)
        #expect(spend.count == 946)
        let fit = try GammaGamma.fit(spend)
        for (value, reference) in [(fit.p, 6.25), (fit.q, 3.74), (fit.gamma, 15.44)] {
            #expect(abs(value - reference) / reference < 0.005, "\(value) vs \(reference)")
        }
    }

    @Test("BG/NBD refuses data it cannot identify")
    func refusals() {
        #expect(throws: AnalyticsError("cannot fit BG/NBD: no customers with orders")) { try BGNBD.fit([]) }
        #expect(throws: AnalyticsError("cannot fit BG/NBD: no customer made a repeat purchase")) {
            try BGNBD.fit([PurchaseSummary(frequency: 0, recency: 0, age: 3)])
        }
    }
}
