/// What one refund gives back, computed from the order as committed and the refunds before it. Every share is
/// computed on running totals (what all refunds so far give back, minus what earlier ones gave), so partial refunds
/// that end up covering the whole order give back exactly what a full refund would.
struct RefundPlan {
    let orderID: String
    let order: OrderRecord
    let lines: [RefundLine]
    let refundedQuantities: [Int64]
    let totals: RefundTotals
    /// This refund's share.
    let amount: Int64
    let money: Int64
    let pointsReversed: Int64
    let pointsReturned: Int64
    let discountRestored: [String: Int64]

    init(order: OrderRecord, lines requested: [RefundLine]?) throws(CheckoutError) {
        orderID = order.orderID
        self.order = order
        let quote = order.quote
        var refunded = order.refundedQuantities
        let lines =
            requested
            ?? quote.lines.indices.compactMap { index in
                let left = quote.lines[index].qty - refunded[index]
                return left > 0 ? RefundLine(line: index + 1, qty: left) : nil
            }
        guard !lines.isEmpty else {
            throw .invalidRefund("order '\(order.orderID)' is already fully refunded")
        }
        for line in lines {
            guard (1...quote.lines.count).contains(line.line) else {
                throw .invalidRefund("order '\(order.orderID)' has no line \(line.line) (it has \(quote.lines.count))")
            }
            let index = line.line - 1
            let left = quote.lines[index].qty - refunded[index]
            guard line.qty >= 1, line.qty <= left else {
                throw .invalidRefund(
                    "line \(line.line) of order '\(order.orderID)': cannot refund \(line.qty) of \(quote.lines[index].qty) "
                        + "units (\(left) left to refund)")
            }
            refunded[index] += line.qty
        }
        self.lines = lines
        refundedQuantities = refunded
        // Net value of every unit refunded so far, line by line on running quantities.
        var cumulativeAmount: Int64 = 0
        for (index, line) in quote.lines.enumerated() {
            cumulativeAmount += Self.share(line.net, refunded[index], of: line.qty)
        }
        var totals = order.refunded
        amount = cumulativeAmount - totals.amount
        totals.amount = cumulativeAmount
        let money = Self.share(quote.totalDue, cumulativeAmount, of: quote.total)
        self.money = money - totals.money
        totals.money = money
        let reversed = Self.share(order.pointsEarned, cumulativeAmount, of: quote.total)
        pointsReversed = reversed - totals.pointsReversed
        totals.pointsReversed = reversed
        let returned = Self.share(order.pointsRedeemed, cumulativeAmount, of: quote.total)
        pointsReturned = returned - totals.pointsReturned
        totals.pointsReturned = returned
        var restored: [String: Int64] = [:]
        for offer in quote.applied {
            // The offer's discount on the refunded units, line by line.
            var cumulative: Int64 = 0
            for line in offer.lines {
                cumulative += Self.share(line.amount, refunded[line.line - 1], of: quote.lines[line.line - 1].qty)
            }
            restored[offer.offer] = cumulative - (totals.discountRestored[offer.offer] ?? 0)
            totals.discountRestored[offer.offer] = cumulative
        }
        discountRestored = restored
        self.totals = totals
    }

    /// `part / whole` of `value`, rounded down (the whole of it when part == whole).
    static func share(_ value: Int64, _ part: Int64, of whole: Int64) -> Int64 {
        guard whole > 0 else { return part > 0 ? value : 0 }
        return whole.dividingFullWidth(value.multipliedFullWidth(by: part)).quotient
    }

    private var isFull: Bool { zip(refundedQuantities, order.quote.lines).allSatisfy { $0 == $1.qty } }

    /// Offers whose use this refund gives back: those that say so, when the order is now fully refunded.
    func restoredOffers(rules: CheckoutRules) -> [String] {
        guard isFull else { return [] }
        return order.quote.applied.map(\.offer).filter { name in
            name != ReferralProgramme.offerName && (rules.offer(named: name)?.restoreOnRefund ?? true)
        }
    }

    /// The claims this refund gives back: the refunded share of each offer's discount from its budget, and — when the
    /// order is now fully refunded — the uses of offers and coupons, for offers that restore on refund.
    func releasedClaims(rules: CheckoutRules) -> [UsageClaim] {
        var claims: [UsageClaim] = []
        let restoring = Set(restoredOffers(rules: rules))
        for (offer, amount) in discountRestored.sorted(by: { $0.key < $1.key }) where amount > 0 {
            // The referral discount has no budget to give back to.
            guard offer != ReferralProgramme.offerName, rules.offer(named: offer)?.restoreOnRefund ?? true else { continue }
            claims.append(UsageClaim(key: UsageKey.offerDiscount(offer), amount: -amount, limit: nil, offer: offer))
        }
        for claim in order.claims where restoring.contains(claim.offer) && claim.key != UsageKey.offerDiscount(claim.offer) {
            claims.append(UsageClaim(key: claim.key, amount: -claim.amount, limit: nil, offer: claim.offer))
        }
        return claims
    }
}
