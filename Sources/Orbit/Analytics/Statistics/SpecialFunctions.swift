import Foundation

/// The special functions the purchase models need beyond Foundation's `lgamma`, on `Double` (statistics, never money).
enum SpecialFunctions {
    /// ln(eˣ + eʸ) without overflow; −∞ stands for a missing term.
    static func logAddExp(_ x: Double, _ y: Double) -> Double {
        if x == -.infinity { return y }
        if y == -.infinity { return x }
        let high = max(x, y)
        return high + log1p(exp(min(x, y) - high))
    }

    /// Gauss's hypergeometric function ₂F₁(a, b; c; z) by its power series, for 0 ≤ z < 1 and c > 0
    /// (what the BG/NBD conditional expectation needs: z = t / (α + T + t)). Nil when the series does not converge
    /// within `maximumTerms`.
    static func hypergeometric2F1(_ a: Double, _ b: Double, _ c: Double, _ z: Double, maximumTerms: Int = 100_000)
        -> Double?
    {
        guard c > 0, z >= 0, z < 1 else { return nil }
        var term = 1.0
        var sum = 1.0
        for k in 0..<maximumTerms {
            let n = Double(k)
            term *= (a + n) * (b + n) / ((c + n) * (n + 1)) * z
            sum += term
            if abs(term) <= 1e-15 * abs(sum) { return sum }
        }
        return nil
    }
}
