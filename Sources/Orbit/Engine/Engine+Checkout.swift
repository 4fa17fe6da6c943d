import Logging

/// Checkout: quote a cart, commit an order, refund it. Offers, caps, budgets and coupons are consumed atomically with
/// the order; the store refuses a commit that would overspend any of them, whoever else is committing.
extension Engine {
    /// Prices `request` at `instant` (default: the clock's now). Changes nothing.
    public func quote(_ request: CheckoutRequest, at instant: Instant? = nil) async throws -> Quote {
        try await loadIfNeeded()
        let now = instant ?? clock.now()
        let customer = customers[request.customerID] ?? Evaluation.newCustomer(request.customerID, at: now, rules: rules)
        return try QuoteEvaluator(book: rules, request: request, customer: customer, now: now, state: checkoutState)
            .evaluate().quote
    }

    /// Commits an order: re-evaluates the quote now, then records the order, its points (earned and paid with), the
    /// uses of its offers and coupons and their budget share, all in one transaction.
    ///
    /// The same `orderID` again returns the first result and applies nothing; with a different request (customer,
    /// cart, coupons, points or referral code) it throws
    /// ``CheckoutError/orderConflict(_:)``. A coupon that cannot be used throws; so does a total other than
    /// `expectedTotal` (minor units due) when given — then nothing is committed.
    public func commit(orderID: String, _ request: CheckoutRequest, expectedTotal: Int64? = nil) async throws
        -> OrderReceipt
    {
        guard !orderID.isEmpty else { throw CheckoutError.invalidRequest("order id must not be empty") }
        return try await serial.withLock {
            try await retryingStale { try await commitSerially(orderID: orderID, request, expectedTotal: expectedTotal) }
        }
    }

    /// `commit`, holding the engine's lock: nothing else reads or writes state in between.
    private func commitSerially(orderID: String, _ request: CheckoutRequest, expectedTotal: Int64?) async throws
        -> OrderReceipt
    {
        try await loadSerially()
        for attempt in 1...5 {
            if let existing = try await store.order(orderID) { return try receipt(of: existing, for: request) }
            do {
                return try await commitNew(orderID: orderID, request, expectedTotal: expectedTotal)
            } catch let error as UsageLimitExceeded where attempt < 5 {
                // Another process took a use or budget first: read the counters again and re-evaluate.
                logger.info("checkout claim refused, re-evaluating", metadata: ["order": "\(orderID)", "key": "\(error.key)"])
                checkoutState.usage.merge(try await store.usage(keys: nil)) { _, stored in stored }
            } catch let error as StaleCustomer {
                throw error
            } catch {
                // Another process may have committed the same order id first: then that is the result.
                if let existing = try await store.order(orderID) { return try receipt(of: existing, for: request) }
                throw error
            }
        }
        throw CheckoutError.invalidRequest("order '\(orderID)' could not be committed: usage limits kept changing under it (5 attempts)")
    }

    /// The receipt of an order committed before, when `request` is the same order.
    private func receipt(of existing: OrderRecord, for request: CheckoutRequest) throws -> OrderReceipt {
        guard existing.customerID == request.customerID, existing.requestFingerprint == request.fingerprint else {
            throw CheckoutError.orderConflict(
                "order '\(existing.orderID)' was committed before with a different customer, cart, coupons or points")
        }
        return OrderReceipt(
            orderID: existing.orderID, quote: existing.quote, pointsEarned: existing.pointsEarned,
            pointsRedeemed: existing.pointsRedeemed, isNew: false)
    }

    private func commitNew(orderID: String, _ request: CheckoutRequest, expectedTotal: Int64?) async throws
        -> OrderReceipt
    {
        let now = clock.now()
        var (batch, receipt) = try evaluating { evaluation in
            evaluation.runLapses(through: now)
            return try evaluateOrder(orderID: orderID, request, expectedTotal: expectedTotal, at: now, in: &evaluation)
        }
        try await commit(&batch)
        return receipt
    }

    /// Evaluates a new order at `now` into `evaluation`: the order's purchase and, with a referral, the referrer's
    /// pending reward.
    private func evaluateOrder(
        orderID: String, _ request: CheckoutRequest, expectedTotal: Int64?, at now: Instant,
        in evaluation: inout Evaluation
    ) throws -> OrderReceipt {
        let customer = evaluation.current(request.customerID) ?? evaluation.newCustomer(request.customerID, at: now)
        let quoteEvaluation = try QuoteEvaluator(
            book: rules, request: request, customer: customer, now: now, state: checkoutState
        ).evaluate(forCommit: true)
        let quote = quoteEvaluation.quote
        if let rejected = quote.rejectedCoupons.first {
            throw CheckoutError.couponRejected(code: rejected.code, reason: rejected.detail)
        }
        for code in request.coupons where !quote.applied.contains(where: { $0.coupon == code }) {
            let reason = quote.notApplied.first { rejection in
                (checkoutState.coupons[code]?.offer ?? rules.checkout.declaredCoupons[code]?.coupon.offer) == rejection.offer
            }
            throw CheckoutError.couponRejected(code: code, reason: reason?.detail ?? "its offer does not apply to this cart")
        }
        if let expectedTotal, expectedTotal != quote.totalDue {
            throw CheckoutError.priceChanged(
                expected: Money(minorUnits: expectedTotal, currency: quote.currency), actual: quote.amountDue)
        }
        var purchase = quoteEvaluation.purchase
        purchase.id = "order:\(orderID)"
        purchase.orderID = orderID
        var result = try evaluation.apply(purchase) { customer, context in
            if quote.pointsToRedeem > 0 {
                try evaluation.applyEffects(
                    [ProposedEffect(effect: .deductPoints(quote.pointsToRedeem), rule: "checkout", file: "checkout", line: nil)],
                    to: &customer, context: &context, depth: 0)
            }
            if let referrer = quote.referrer, customer.referrer == nil { customer.referrer = referrer }
            for offer in quote.applied where offer.extraPoints > 0 {
                evaluation.award(offer.extraPoints, expiresAt: nil, rule: "offer '\(offer.offer)'", to: &customer, context: &context)
            }
        }
        let earned = result.commit.ledger.filter { $0.kind == .earn }.reduce(0) { $0 + $1.points }
        result.commit.claims = quoteEvaluation.claims
        result.commit.order = OrderRecord(
            orderID: orderID, customerID: request.customerID, at: now, requestFingerprint: request.fingerprint,
            quote: quote, claims: quoteEvaluation.claims, pointsEarned: earned, pointsRedeemed: quote.pointsToRedeem,
            refundedQuantities: Array(repeating: 0, count: request.cart.lines.count))
        evaluation.merge(result)
        if let referrer = quote.referrer, let programme = rules.checkout.referral,
            var referring = evaluation.current(referrer)
        {
            referring.pendingReferralRewards.append(
                PendingReferralReward(
                    orderID: orderID, refereeID: request.customerID, dueAt: now.adding(days: programme.afterDays),
                    points: programme.referrerPoints, expiresAfterDays: programme.pointsExpireAfterDays))
            try evaluation.mergeHostChange(of: referring, eventID: "referral:\(orderID)", type: "referral-pending", at: now)
        }
        return OrderReceipt(
            orderID: orderID, quote: quote, pointsEarned: earned, pointsRedeemed: quote.pointsToRedeem, isNew: true)
    }

    /// Refunds `lines` of an order (all that is left when nil) under `refundID`: the money of the refunded units
    /// after discounts, earned points taken back and redeemed points given back in proportion, offers' uses and
    /// budget share restored as each offer says, and a pending referral reward cancelled. The same `refundID` again
    /// returns the first result.
    public func refund(orderID: String, refundID: String, lines: [RefundLine]? = nil) async throws -> RefundRecord {
        guard !refundID.isEmpty else { throw CheckoutError.invalidRequest("refund id must not be empty") }
        return try await serial.withLock {
            try await retryingStale { try await refundSerially(orderID: orderID, refundID: refundID, lines: lines) }
        }
    }

    /// `refund`, holding the engine's lock.
    private func refundSerially(orderID: String, refundID: String, lines: [RefundLine]?) async throws -> RefundRecord {
        try await loadSerially()
        if var existing = try await store.refund(refundID) {
            guard existing.orderID == orderID, lines == nil || lines == existing.lines else {
                throw CheckoutError.invalidRefund("refund '\(refundID)' was applied before to other lines or another order")
            }
            existing.isNew = false
            return existing
        }
        guard var order = try await store.order(orderID) else {
            throw CheckoutError.invalidRefund("unknown order '\(orderID)'")
        }
        let now = clock.now()
        let plan = try RefundPlan(order: order, lines: lines)
        var (batch, record) = try evaluating { evaluation in
            evaluation.runLapses(through: now)
            return try evaluateRefund(plan, of: &order, refundID: refundID, at: now, in: &evaluation)
        }
        try await commit(&batch)
        return record
    }

    /// Evaluates the refund `plan` of `order` at `now` into `evaluation`: the refund's own commit and, when it
    /// returns the whole order, the cancelled referral reward.
    private func evaluateRefund(
        _ plan: RefundPlan, of order: inout OrderRecord, refundID: String, at now: Instant,
        in evaluation: inout Evaluation
    ) throws -> RefundRecord {
        let orderID = order.orderID
        let event = Event(
            id: "refund:\(refundID)", type: "refund", customerID: order.customerID, at: now,
            total: Money(minorUnits: plan.money, currency: order.quote.currency), orderID: orderID,
            data: ["refund": .string(refundID), "points_reversed": .integer(plan.pointsReversed)])
        var uncollected: Int64 = 0
        var result = try evaluation.apply(event) { customer, context in
            uncollected = self.reverse(plan, of: &customer, context: &context)
        }
        order.refundedQuantities = plan.refundedQuantities
        order.refunded = plan.totals
        order.refundIDs.append(refundID)
        var record = RefundRecord(
            refundID: refundID, orderID: orderID, customerID: order.customerID, at: now, lines: plan.lines,
            amount: plan.amount, money: plan.money, currency: order.quote.currency,
            pointsReversed: plan.pointsReversed - uncollected, pointsUncollected: uncollected,
            pointsReturned: plan.pointsReturned, restoredOffers: plan.restoredOffers(rules: rules.checkout),
            referralCancelled: false)
        // A referral reward is cancelled when the referee's order is returned in full.
        var referring = order.isFullyRefunded ? order.quote.referrer.flatMap { evaluation.current($0) } : nil
        if let index = referring?.pendingReferralRewards.firstIndex(where: { $0.orderID == orderID }) {
            referring?.pendingReferralRewards.remove(at: index)
            record.referralCancelled = true
        }
        result.commit.claims = plan.releasedClaims(rules: rules.checkout)
        result.commit.order = order
        result.commit.refund = record
        evaluation.merge(result)
        if record.referralCancelled, let referring {
            try evaluation.mergeHostChange(
                of: referring, eventID: "referral-cancel:\(refundID)", type: "referral-cancelled", at: now)
        }
        return record
    }

    // MARK: Pieces the engine calls

    /// Takes back earned points (as far as the balance allows) and gives back redeemed ones. Returns the points that
    /// could not be taken back.
    private func reverse(_ plan: RefundPlan, of customer: inout Customer, context: inout ApplyContext) -> Int64 {
        let takeable = min(plan.pointsReversed, customer.pointsBalance)
        if takeable > 0, customer.wallet.spend(takeable) {
            context.ledger.append(
                PointsEntry(
                    id: context.nextID(), customerID: customer.id, kind: .reverse, points: -takeable, at: context.at,
                    expiresAt: nil, rule: "refund", eventID: context.eventID, reason: "order \(plan.orderID) refunded"))
            customer.pointsEarned -= takeable
            context.notify(.pointsSpent(customerID: customer.id, points: takeable, rule: "refund"))
        }
        if plan.pointsReturned > 0 {
            let entryID = context.nextID()
            context.ledger.append(
                PointsEntry(
                    id: entryID, customerID: customer.id, kind: .restore, points: plan.pointsReturned, at: context.at,
                    expiresAt: nil, rule: "refund", eventID: context.eventID,
                    reason: "points paid on order \(plan.orderID) given back"))
            customer.wallet.add(PointsBatch(entryID: entryID, remaining: plan.pointsReturned, expiresAt: nil))
            context.notify(.pointsAwarded(customerID: customer.id, points: plan.pointsReturned, rule: "refund"))
        }
        context.applied.append(AppliedEffect(rule: "refund", kind: "refund", detail: "order \(plan.orderID)"))
        return plan.pointsReversed - takeable
    }
}

/// Referral codes: one per customer, derived from the id so that replays make the same codes.
enum ReferralCode {
    static func make(for customerID: String) -> String {
        "REF-" + StableHash.code("referral\u{0}\(customerID)", alphabet: Array("23456789ABCDEFGHJKMNPQRSTUVWXYZ"), length: 8)
    }
}
