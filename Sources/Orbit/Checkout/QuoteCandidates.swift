extension QuoteEvaluator {
    /// An offer that passed every check, with what it would take off. Trivial to copy but for the offer: stacking
    /// adjusts candidates in place, and their line amounts live in ``Candidates``.
    struct Candidate: Sendable {
        let offer: OfferRule
        var total: Int64
        /// Whether its amounts per line are in ``Candidates/amounts``; false while the offer's plan can still work them
        /// out from `total` (over the lines of its filter slot).
        var hasLines = false
        let coupon: String?
        var note: Note?
    }

    /// Why an applied offer takes less than its own calculation, put into words only for offers that apply.
    enum Note: Sendable {
        case budgetNearlySpent(left: Int64)
        case reduced

        func text(currency: Currency) -> String {
            switch self {
            case .budgetNearlySpent(let left): "budget nearly spent: \(Money(minorUnits: left, currency: currency)) left"
            case .reduced: "reduced: other offers already took its lines to zero"
            }
        }
    }

    /// The candidates of one quote, with their line amounts in one flat buffer (a run of `lineCount` for each
    /// candidate, in candidate order) and their points multipliers in another: no arrays per offer.
    struct Candidates: Sendable {
        let lineCount: Int
        var all: [Candidate] = []
        private(set) var amounts: [Int64]
        private(set) var multipliers: [(candidate: Int, multiplier: PointsMultiplier)] = []

        /// Room for `capacity` candidates.
        init(lineCount: Int, capacity: Int) {
            self.lineCount = lineCount
            all.reserveCapacity(capacity)
            amounts = Array(repeating: 0, count: lineCount * capacity)
        }

        var indices: Range<Int> { all.indices }
        subscript(index: Int) -> Candidate {
            _read { yield all[index] }
            _modify { yield &all[index] }
        }

        mutating func append(_ candidate: Candidate) { all.append(candidate) }

        /// Adds an offer whose discount `outcome` worked out line by line.
        mutating func append(_ offer: OfferRule, outcome: DiscountOutcome, coupon: String? = nil) {
            for multiplier in outcome.multipliers { multipliers.append((all.count, multiplier)) }
            let start = all.count * lineCount
            amounts[start..<start + lineCount] = outcome.lineAmounts[...]
            all.append(Candidate(offer: offer, total: outcome.total, hasLines: true, coupon: coupon))
        }

        /// Candidate `index`'s amount per line (zero while it has none).
        mutating func withLines<T>(of index: Int, _ body: (UnsafeMutableBufferPointer<Int64>) -> T) -> T {
            all[index].hasLines = true
            let start = index * lineCount
            return amounts.withUnsafeMutableBufferPointer { body(UnsafeMutableBufferPointer(rebasing: $0[start..<start + lineCount])) }
        }

        /// `lineTotals` less the amounts per line of the candidates `winners`: what each line costs after their
        /// discounts.
        func remaining(_ lineTotals: [Int64], after winners: [Int]) -> [Int64] {
            var remaining = lineTotals
            remaining.withUnsafeMutableBufferPointer { remaining in
                amounts.withUnsafeBufferPointer { amounts in
                    for index in winners where all[index].hasLines {
                        let start = index * lineCount
                        for line in 0..<lineCount { remaining[line] -= amounts[start + line] }
                    }
                }
            }
            return remaining
        }

        /// Candidate `index`'s amount per line; empty when it has none.
        func lines(of index: Int) -> ArraySlice<Int64> {
            guard all[index].hasLines else { return [] }
            return amounts[index * lineCount..<(index + 1) * lineCount]
        }
    }

    /// The offers that won a quote, as its evaluation left them: candidates with their line amounts in one buffer.
    /// ``AppliedOffers`` makes them into ``AppliedOffer`` values when someone reads them.
    struct Winners: Sendable {
        let candidates: Candidates
        /// The candidates that applied, in the order they were considered.
        let indices: [Int]
        /// Points multipliers' extra points, by candidate; empty when no multiplier applied.
        let extraPoints: [Int: Int64]
        let currency: Currency

        /// The applied offers, whose line discounts are views of one buffer.
        func offers() -> [AppliedOffer] {
            var lineDiscounts: [LineDiscount] = []
            lineDiscounts.reserveCapacity(indices.reduce(0) { $0 + candidates.lines(of: $1).count { $0 > 0 } })
            var ranges: [Range<Int>] = []
            ranges.reserveCapacity(indices.count)
            for index in indices {
                let first = lineDiscounts.count
                for (line, amount) in candidates.lines(of: index).enumerated() where amount > 0 {
                    lineDiscounts.append(LineDiscount(line: line + 1, amount: amount))
                }
                ranges.append(first..<lineDiscounts.count)
            }
            return zip(indices, ranges).map { index, range in
                let winner = candidates[index]
                return AppliedOffer(
                    offer: winner.offer.name, title: winner.offer.title, discount: winner.total,
                    lines: LineDiscounts(lineDiscounts[range]), extraPoints: extraPoints[index] ?? 0, coupon: winner.coupon,
                    note: winner.note?.text(currency: currency))
            }
        }
    }
}
