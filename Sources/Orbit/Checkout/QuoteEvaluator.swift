import Foundation
import LuaRuntime

/// A quote and what committing it would consume.
struct QuoteEvaluation {
    var quote: Quote
    /// Counters the order consumes (uses, budget, coupon uses), with their limits. Empty for quotes only.
    var claims: [UsageClaim]
    /// The purchase event the order becomes: what earning rules and handlers see.
    var purchase: Event
}

/// Prices one cart for one customer at one instant: every offer in priority order, each explained when it does not
/// apply; stacking resolved; points to earn and to pay with. Reads the rules and the checkout state, changes nothing.
///
/// Built for speed on the hot path of a checkout: declared percent and amount offers are computed from per-filter
/// totals shared by every offer on the same filter, line amounts are worked out only for offers that can apply, and
/// explanations are put into words only when someone reads them.
struct QuoteEvaluator {
    let book: RuleBook
    let request: CheckoutRequest
    let customer: Customer
    let now: Instant
    let state: CheckoutState
    /// Instructions a rule function taking the cart may use: a base plus a share per line, so that a big cart never
    /// fails where a small one passes.
    static let instructionsPerLine = 50_000

    /// An offer that passed every check, with what it would take off. Stacking adjusts candidates in place, in the
    /// one array they live in.
    private struct Candidate {
        let offer: OfferRule
        var total: Int64
        /// Per line; nil while the offer's plan can still work them out from `total`.
        var lineAmounts: [Int64]?
        let multipliers: [PointsMultiplier]
        /// For plan offers: the lines the plan's filter matches.
        let matched: MatchedLines?
        let coupon: String?
        var note: String?

        init(
            offer: OfferRule, total: Int64, lineAmounts: [Int64]? = nil, multipliers: [PointsMultiplier] = [],
            matched: MatchedLines? = nil, coupon: String? = nil
        ) {
            self.offer = offer
            self.total = total
            self.lineAmounts = lineAmounts
            self.multipliers = multipliers
            self.matched = matched
            self.coupon = coupon
        }
    }

    /// Evaluates the quote; with `forCommit`, also the claims and the purchase event a commit needs.
    func evaluate(forCommit: Bool = false) throws -> QuoteEvaluation {
        let cart = request.cart
        try cart.validate()
        if let currency = customer.orders.first?.total.currency, currency != cart.currency {
            throw CheckoutError.currencyMismatch(
                "the cart is in \(cart.currency), customer '\(customer.id)' has orders in \(currency)")
        }
        guard request.points >= 0 else {
            throw CheckoutError.invalidRequest("points to pay with must be 0 or more, got \(request.points)")
        }
        // Every Lua call made while pricing this cart gets a budget that grows with the cart.
        let lua = book.lua
        let limits = lua.limits
        if book.checkout.callsLua {
            lua.limits.instructions = limits.instructions + cart.lines.count * Self.instructionsPerLine
        }
        defer { if book.checkout.callsLua { lua.limits = limits } }
        var calculator = DiscountCalculator(cart: cart, filterSlots: book.checkout.filterSlotCount)
        var session = LuaSession(book: book, customer: customer, now: now, cart: cart)
        var rejections: [OfferRejection] = []
        rejections.reserveCapacity(book.checkout.offers.count + 1)
        var candidates: [Candidate] = []
        candidates.reserveCapacity(book.checkout.offers.count + 1)
        let (coupons, couponRejections) = couponsByOffer()
        for offer in book.checkout.offers {
            do {
                switch try consider(
                    offer, coupon: coupons.isEmpty ? nil : coupons[offer.name], calculator: &calculator, session: &session)
                {
                case .success(let candidate): candidates.append(candidate)
                case .failure(let rejection): rejections.append(rejection)
                }
            } catch {
                rejections.append(reject(offer, .ruleFailed, .text("\(error)")))
            }
        }
        var referrer: String?
        if let code = request.referralCode {
            switch referralCandidate(code: code, calculator: calculator) {
            case .success(let (candidate, id)):
                candidates.append(candidate)
                referrer = id
            case .failure(let rejection): rejections.append(rejection)
            }
        }
        let winners = resolveStacking(&candidates, calculator: calculator, rejections: &rejections)
        if !winners.contains(where: { candidates[$0].offer.name == ReferralProgramme.offerName }) { referrer = nil }
        return try finish(
            winners.map { candidates[$0] }, rejections: rejections, couponRejections: couponRejections, referrer: referrer,
            calculator: calculator, forCommit: forCommit)
    }

    private func reject(_ offer: OfferRule, _ reason: OfferRejection.Reason, _ explanation: RejectionExplanation)
        -> OfferRejection
    {
        OfferRejection(offer: offer.name, reason: reason, explanation: explanation, position: offer.position)
    }

    private func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: request.cart.currency) }

    // MARK: One offer

    private func consider(
        _ offer: OfferRule, coupon: Result<String, OfferRejection>?, calculator: inout DiscountCalculator,
        session: inout LuaSession
    ) throws -> Result<Candidate, OfferRejection> {
        if let window = offer.window, !window.contains(now) {
            return .failure(reject(offer, .outsideWindow, .outsideWindow(window, now: now)))
        }
        if offer.currency != request.cart.currency {
            return .failure(
                reject(offer, .currency, .text("the offer is in \(offer.currency), the cart in \(request.cart.currency)")))
        }
        var couponCode: String?
        if offer.requiresCoupon {
            switch coupon {
            case nil: return .failure(reject(offer, .couponRequired, .text("needs a coupon")))
            case .failure(var rejection)?:
                rejection.position = offer.position
                return .failure(rejection)
            case .success(let code)?: couponCode = code
            }
        }
        if let reason = try ineligibility(of: offer, session: &session) {
            return .failure(reject(offer, .notEligible, reason))
        }
        if let reason = capReached(offer) { return .failure(reject(offer, .capReached, .text(reason))) }
        var remainingBudget: Int64?
        if let budget = offer.budget {
            let left = budget - state.used(UsageKey.offerDiscount(offer.name))
            guard left > 0 else { return .failure(reject(offer, .budgetSpent, .text("budget of \(money(budget)) spent"))) }
            remainingBudget = left
        }
        var candidate: Candidate
        if let plan = offer.plan {
            let matched = calculator.matched(plan.filter, slot: offer.filterSlot)
            switch plan.discount(matched: matched, currency: request.cart.currency) {
            case .failure(let error): return .failure(reject(offer, .noDiscount, .shortfall(error.shortfall)))
            case .success(let amount):
                if amount == 0 { return .failure(reject(offer, .noDiscount, .text("the discount rounds to nothing"))) }
                candidate = Candidate(offer: offer, total: amount, matched: matched, coupon: couponCode)
            }
        } else {
            let outcome: DiscountOutcome
            switch offer.discount {
            case .fixed(let rules): outcome = calculator.outcome(of: rules)
            case .computed(let function):
                let rules = try session.discount(function, offer: offer)
                if rules.isEmpty {
                    return .failure(reject(offer, .noDiscount, .text("discount() gave no discount for this cart")))
                }
                outcome = calculator.outcome(of: rules)
            }
            if outcome.isEmpty {
                return .failure(reject(offer, .noDiscount, .shortfall(outcome.shortfall ?? .text("nothing to take off"))))
            }
            candidate = Candidate(
                offer: offer, total: outcome.total, lineAmounts: outcome.lineAmounts, multipliers: outcome.multipliers,
                coupon: couponCode)
        }
        if let left = remainingBudget, candidate.total > left {
            let amounts = lines(of: candidate, calculator: calculator)
            candidate.lineAmounts = DiscountCalculator.spread(left, weights: amounts.map { $0 > 0 ? $0 : -1 })
            candidate.total = left
            candidate.note = "budget nearly spent: \(money(left)) left"
        }
        return .success(candidate)
    }

    /// The candidate's amount per line, worked out from its plan when it has none yet.
    private func lines(of candidate: Candidate, calculator: DiscountCalculator) -> [Int64] {
        if let amounts = candidate.lineAmounts { return amounts }
        return calculator.spread(candidate.total, over: candidate.matched!)
    }

    /// The first eligibility condition the customer fails; nil when eligible.
    private func ineligibility(of offer: OfferRule, session: inout LuaSession) throws -> RejectionExplanation? {
        let rules = offer.eligibility
        if rules.firstOrderOnly, customer.orderCount > 0 {
            return .text("not eligible: first order only (customer has \(customer.orderCount) orders)")
        }
        if let minimum = rules.minimumOrders, customer.orderCount < minimum {
            return .text("not eligible: needs \(minimum) orders before (customer has \(customer.orderCount))")
        }
        if let tier = rules.minimumTier, let needed = book.tiers.firstIndex(where: { $0.name == tier }) {
            let held = customer.tier.flatMap { name in book.tiers.firstIndex { $0.name == name } }
            if held.map({ $0 < needed }) ?? true { return .tier(needed: tier, held: customer.tier) }
        }
        if let segment = rules.segment, try !book.isMember(session.view, of: segment) {
            return .text("not eligible: segment \(segment) (customer is not in it)")
        }
        if let function = rules.function {
            let (eligible, reason) = try session.eligible(function, offer: offer)
            if !eligible { return .text("not eligible: " + (reason ?? "eligible() returned false (\(offer.location))")) }
        }
        return nil
    }

    /// Which cap the order would exceed, in words; nil when none.
    private func capReached(_ offer: OfferRule) -> String? {
        if let cap = offer.perCustomer, state.used(UsageKey.offerCustomer(offer.name, customer.id)) >= cap {
            return "cap reached: \(cap) per customer, used \(state.used(UsageKey.offerCustomer(offer.name, customer.id)))"
        }
        if let cap = offer.totalUses, state.used(UsageKey.offerUses(offer.name)) >= cap {
            return "cap reached: \(cap) uses in total"
        }
        if let (period, cap) = offer.perPeriod {
            let key = period.key(of: now, in: offer.zone)
            if state.used(UsageKey.offerPeriod(offer.name, period, key)) >= cap {
                return "cap reached: \(cap) per \(period.rawValue) (\(key))"
            }
        }
        return nil
    }

    // MARK: Coupons and referral

    /// For each offer, the coupon given for it (or why the coupon given for it cannot be used).
    private func couponsByOffer() -> (byOffer: [String: Result<String, OfferRejection>], rejected: [CouponRejection]) {
        var byOffer: [String: Result<String, OfferRejection>] = [:]
        var rejected: [CouponRejection] = []
        for code in request.coupons {
            guard let coupon = state.coupons[code] ?? book.checkout.declaredCoupons[code]?.coupon else {
                rejected.append(CouponRejection(code: code, reason: .couponUnknown, detail: "coupon \(code) is unknown"))
                continue
            }
            if case .success? = byOffer[coupon.offer] { continue }  // one coupon per offer is enough
            let problem: (OfferRejection.Reason, String)?
            if let expiry = coupon.expiresAt, now > expiry {
                problem = (.couponExpired, "coupon \(code) expired at \(expiry)")
            } else if let owner = coupon.customerID, owner != customer.id {
                problem = (.couponNotYours, "coupon \(code) belongs to another customer")
            } else if state.used(UsageKey.couponUses(code)) >= coupon.uses {
                problem = (.couponUsed, "coupon \(code) is used up (\(coupon.uses) use\(coupon.uses == 1 ? "" : "s"))")
            } else if let cap = coupon.perCustomer, state.used(UsageKey.couponCustomer(code, customer.id)) >= cap {
                problem = (.couponUsed, "coupon \(code) already used by this customer")
            } else {
                problem = nil
            }
            if let (reason, detail) = problem {
                // Explained once, as the reason its offer did not apply.
                byOffer[coupon.offer] = .failure(OfferRejection(offer: coupon.offer, reason: reason, detail: detail))
            } else if book.checkout.offer(named: coupon.offer) == nil {
                rejected.append(
                    CouponRejection(code: code, reason: .couponUnknown, detail: "coupon \(code) is for an offer that no longer exists"))
            } else {
                byOffer[coupon.offer] = .success(code)
            }
        }
        return (byOffer, rejected)
    }

    /// The referee's discount, when `code` is another customer's referral code and this customer may use it.
    private func referralCandidate(code: String, calculator: DiscountCalculator)
        -> Result<(Candidate, String), OfferRejection>
    {
        let name = ReferralProgramme.offerName
        func reject(_ reason: OfferRejection.Reason, _ detail: String) -> Result<(Candidate, String), OfferRejection> {
            .failure(OfferRejection(offer: name, reason: reason, detail: detail))
        }
        guard let programme = book.checkout.referral else {
            return reject(.couponUnknown, "referral code \(code): this programme has no referrals")
        }
        guard let referrer = state.referralCodes[code] else {
            return reject(.couponUnknown, "referral code \(code) is unknown")
        }
        if referrer == customer.id { return reject(.notEligible, "not eligible: a customer cannot refer themselves") }
        if let existing = customer.referrer, existing != referrer {
            return reject(.notEligible, "not eligible: customer was already referred by someone else")
        }
        if programme.firstOrderOnly, customer.orderCount > 0 {
            return reject(.notEligible, "not eligible: first order only (customer has \(customer.orderCount) orders)")
        }
        let outcome = calculator.outcome(of: programme.refereeDiscount)
        if outcome.isEmpty { return reject(.noDiscount, (outcome.shortfall ?? .text("nothing to take off")).text) }
        let offer = OfferRule(
            name: name, title: "Referral discount", window: nil, eligibility: .init(), discount: .fixed(programme.refereeDiscount),
            priority: 0, stacking: .stackable, perCustomer: nil, totalUses: nil, perPeriod: nil, budget: nil,
            currency: request.cart.currency, requiresCoupon: false, restoreOnRefund: true, location: programme.location)
        offer.position = book.checkout.offers.count
        return .success(
            (Candidate(offer: offer, total: outcome.total, lineAmounts: outcome.lineAmounts, multipliers: outcome.multipliers), referrer))
    }

    // MARK: Stacking

    /// Groups keep their best offer; then the best exclusive offer competes with the sum of the stackable ones (as
    /// far as the lines can take it: together, offers never take a line below zero) and the larger saving wins (the
    /// stackable offers on a tie). Returns the winners with their line amounts fitted.
    private func resolveStacking(
        _ candidates: inout [Candidate], calculator: DiscountCalculator, rejections: inout [OfferRejection]
    ) -> [Int] {
        var bestOfGroup: [String: Int] = [:]
        for (index, candidate) in candidates.enumerated() {
            guard case .group(let group) = candidate.offer.stacking else { continue }
            if let best = bestOfGroup[group], candidates[best].total >= candidate.total { continue }
            bestOfGroup[group] = index
        }
        var stackable: [Int] = []
        var exclusives: [Int] = []
        var exclusive: Int?
        for (index, candidate) in candidates.enumerated() {
            switch candidate.offer.stacking {
            case .stackable: stackable.append(index)
            case .group(let group):
                let best = bestOfGroup[group]!
                if best == index {
                    stackable.append(index)
                } else {
                    rejections.append(
                        reject(
                            candidate.offer, .beatenInGroup,
                            .beatenInGroup(
                                group: group, winner: candidates[best].offer.name, saves: money(candidates[best].total),
                                this: money(candidate.total))))
                }
            case .exclusive:
                exclusives.append(index)
                if exclusive.map({ candidate.total > candidates[$0].total }) ?? true { exclusive = index }
            }
        }
        var room = calculator.lineTotals
        // The stackable offers as they would apply, before deciding: fitted in place, under what is left of each line.
        let proposed = stackable.map { candidates[$0].total }
        var stacked: Int64 = 0
        for index in stackable {
            let amounts = Self.fit(lines(of: candidates[index], calculator: calculator), into: &room)
            let total = amounts.reduce(0, +)
            if total < candidates[index].total {
                candidates[index].note = candidates[index].note ?? "reduced: other offers already took its lines to zero"
            }
            candidates[index].lineAmounts = amounts
            candidates[index].total = total
            stacked += total
        }
        if let best = exclusive, candidates[best].total > stacked {
            let winner = candidates[best]
            for (position, index) in stackable.enumerated() {
                rejections.append(
                    reject(
                        candidates[index].offer, .beatenByExclusive,
                        .beatenByExclusive(
                            winner: winner.offer.name, saves: money(winner.total), stacked: money(stacked),
                            this: money(proposed[position]))))
            }
            for index in exclusives where index != best {
                rejections.append(
                    reject(
                        candidates[index].offer, .beatenByExclusive,
                        .beatenByExclusive(
                            winner: winner.offer.name, saves: money(winner.total), stacked: nil,
                            this: money(candidates[index].total))))
            }
            candidates[best].lineAmounts = lines(of: winner, calculator: calculator)
            return [best]
        }
        for index in exclusives {
            rejections.append(
                reject(
                    candidates[index].offer, .stackedOffersSaveMore,
                    .stackedSaveMore(this: money(candidates[index].total), stacked: money(stacked))))
        }
        return stackable
    }

    /// Line amounts capped by what is left of each line (`room`, updated); what a full line cannot take goes to the
    /// offer's other lines with room left, in proportion to that room.
    static func fit(_ wanted: [Int64], into room: inout [Int64]) -> [Int64] {
        if !wanted.indices.contains(where: { wanted[$0] > room[$0] }) {
            for index in room.indices { room[index] -= wanted[index] }
            return wanted
        }
        var amounts = wanted
        var leftover: Int64 = 0
        for index in amounts.indices where amounts[index] > room[index] {
            leftover += amounts[index] - room[index]
            amounts[index] = room[index]
        }
        while leftover > 0 {
            let space = room.indices.map { wanted[$0] > 0 ? room[$0] - amounts[$0] : -1 }
            let available = space.reduce(Int64(0)) { $0 + max(0, $1) }
            guard available > 0 else { break }
            let extra = DiscountCalculator.spread(min(leftover, available), weights: space)
            var given: Int64 = 0
            for index in amounts.indices where space[index] > 0 {
                let taken = min(extra[index], space[index])
                amounts[index] += taken
                given += taken
            }
            guard given > 0 else { break }
            leftover -= given
        }
        for index in room.indices { room[index] -= amounts[index] }
        return amounts
    }

    // MARK: Totals and points

    private func finish(
        _ winners: [Candidate], rejections: [OfferRejection], couponRejections: [CouponRejection], referrer: String?,
        calculator: DiscountCalculator, forCommit: Bool
    ) throws -> QuoteEvaluation {
        let cart = request.cart
        var remaining = calculator.lineTotals
        var applied: [AppliedOffer] = []
        applied.reserveCapacity(winners.count)
        var claims: [UsageClaim] = []
        var multipliers: [(index: Int, multiplier: PointsMultiplier)] = []
        for winner in winners {
            let amounts = winner.lineAmounts ?? []
            var lines: [LineDiscount] = []
            lines.reserveCapacity(amounts.count { $0 > 0 })
            for (index, amount) in amounts.enumerated() where amount > 0 {
                remaining[index] -= amount
                lines.append(LineDiscount(line: index + 1, amount: amount))
            }
            let note = winner.note
            for multiplier in winner.multipliers {
                multipliers.append((applied.count, multiplier))
            }
            applied.append(
                AppliedOffer(
                    offer: winner.offer.name, title: winner.offer.title, discount: winner.total, lines: lines,
                    extraPoints: 0, coupon: winner.coupon, note: note))
            if forCommit { claims += self.claims(for: winner.offer, discount: winner.total, coupon: winner.coupon) }
        }
        var quoted: [QuotedLine] = []
        quoted.reserveCapacity(cart.lines.count)
        for (index, line) in cart.lines.enumerated() {
            let total = calculator.lineTotals[index]
            quoted.append(
                QuotedLine(
                    line: index + 1, sku: line.sku, category: line.category, qty: line.quantity, price: line.price,
                    total: total, discount: total - remaining[index], net: remaining[index]))
        }
        let subtotal = calculator.lineTotals.reduce(0, +)
        let total = remaining.reduce(0, +)
        let (redeem, value) = try pointsPayment(total: total)
        var purchase = Event(
            id: "order", type: "purchase", customerID: customer.id, at: now,
            total: Money(minorUnits: total - value, currency: cart.currency), items: cart.lines)
        if forCommit || book.handlesEvents(of: "purchase") {
            purchase.data = [
                "discount": .integer(subtotal - total), "points_redeemed": .integer(redeem),
                "offers": .array(applied.map { .string($0.offer) }),
            ]
            if let referrer { purchase.data["referrer"] = .string(referrer) }
        }
        let basePoints = try pointsEarned(by: purchase)
        var extra: Int64 = 0
        for (index, multiplier) in multipliers {
            let matchedNet = cart.lines.indices.filter { multiplier.filter.matches(cart.lines[$0]) }
                .reduce(Int64(0)) { $0 + remaining[$1] }
            guard total > 0, matchedNet > 0 else { continue }
            let share = total.dividingFullWidth(basePoints.multipliedFullWidth(by: matchedNet)).quotient
            let points = share * (multiplier.thousandths - 1000) / 1000
            applied[index].extraPoints += points
            extra += points
        }
        let quote = Quote(
            customerID: customer.id, at: now, currency: cart.currency, lines: quoted, applied: applied,
            notApplied: Self.inOfferOrder(rejections), rejectedCoupons: couponRejections,
            subtotal: subtotal, discount: subtotal - total, total: total, pointsToEarn: basePoints + extra,
            pointsToRedeem: redeem, pointsValue: value, totalDue: total - value, referrer: referrer)
        return QuoteEvaluation(quote: quote, claims: claims, purchase: purchase)
    }

    /// Rejections in the order offers are considered: most already are (stacking appends the rest at the end), so
    /// the two ordered runs are merged rather than sorted.
    private static func inOfferOrder(_ rejections: [OfferRejection]) -> [OfferRejection] {
        guard let split = rejections.indices.dropFirst().first(where: { rejections[$0].position < rejections[$0 - 1].position })
        else { return rejections }
        let late = rejections[split...].sorted { $0.position < $1.position }
        var merged: [OfferRejection] = []
        merged.reserveCapacity(rejections.count)
        var first = rejections[..<split].makeIterator()
        var second = late.makeIterator()
        var a = first.next()
        var b = second.next()
        while let left = a ?? b {
            if let x = a, let y = b, y.position < x.position {
                merged.append(y)
                b = second.next()
            } else if a != nil {
                merged.append(left)
                a = first.next()
            } else {
                merged.append(left)
                b = second.next()
            }
        }
        return merged
    }

    /// The counters an applied offer consumes, each with its limit.
    private func claims(for offer: OfferRule, discount: Int64, coupon: String?) -> [UsageClaim] {
        guard offer.name != ReferralProgramme.offerName else { return [] }
        var claims = [
            UsageClaim(key: UsageKey.offerUses(offer.name), amount: 1, limit: offer.totalUses, offer: offer.name),
            UsageClaim(key: UsageKey.offerDiscount(offer.name), amount: discount, limit: offer.budget, offer: offer.name),
        ]
        if let cap = offer.perCustomer {
            claims.append(UsageClaim(key: UsageKey.offerCustomer(offer.name, customer.id), amount: 1, limit: cap, offer: offer.name))
        }
        if let (period, cap) = offer.perPeriod {
            let key = period.key(of: now, in: offer.zone)
            claims.append(UsageClaim(key: UsageKey.offerPeriod(offer.name, period, key), amount: 1, limit: cap, offer: offer.name))
        }
        if let code = coupon, let definition = state.coupons[code] ?? book.checkout.declaredCoupons[code]?.coupon {
            claims.append(UsageClaim(key: UsageKey.couponUses(code), amount: 1, limit: definition.uses, offer: offer.name))
            if let cap = definition.perCustomer {
                claims.append(UsageClaim(key: UsageKey.couponCustomer(code, customer.id), amount: 1, limit: cap, offer: offer.name))
            }
        }
        return claims
    }

    /// Points to pay with and what they pay: the points asked for, bounded by the balance, the programme's share of
    /// the total and its minimum.
    private func pointsPayment(total: Int64) throws -> (points: Int64, value: Int64) {
        guard request.points > 0 else { return (0, 0) }
        guard let payment = book.checkout.pointsPayment else {
            throw CheckoutError.invalidRequest("this programme does not take points as payment (no pay_with_points)")
        }
        let limit = payment.points(worth: total * payment.maximumPercent / 100)
        let asked = min(request.points, customer.pointsBalance, limit)
        guard asked >= payment.minimumPoints, asked > 0 else { return (0, 0) }
        let value = payment.value(of: asked)
        // No more points than the value needs: 1,005 points at 1,000 per euro pay 1 EUR and cost 1,000.
        let points = min(asked, payment.points(toPay: value))
        return (points, value)
    }

    /// The points the earning rules and handlers would award for `purchase` (a dry run of the rules).
    private func pointsEarned(by purchase: Event) throws -> Int64 {
        guard book.handlesEvents(of: purchase.type) else { return 0 }
        var after = customer
        after.orders.append(OrderSummary(orderID: purchase.id, at: now, total: purchase.total!))
        let effects = try book.effects(of: purchase, for: after, at: now)
        return effects.reduce(0) { total, proposed in
            if case .awardPoints(let points, _) = proposed.effect { total + points } else { total }
        }
    }
}

/// Calls a quote makes into Lua: the customer and cart userdata made once, on first use, and every call under an
/// instruction budget that grows with the cart.
struct LuaSession {
    let book: RuleBook
    let customer: Customer
    let now: Instant
    let cart: Cart
    private var customerView: CustomerView?
    private var references: (customer: LuaReference, cart: LuaReference)?

    init(book: RuleBook, customer: Customer, now: Instant, cart: Cart) {
        self.book = book
        self.customer = customer
        self.now = now
        self.cart = cart
    }

    /// The customer as rules see them, made on first use (segments and functions need it; declared offers do not).
    var view: CustomerView {
        mutating get {
            if let customerView { return customerView }
            let made = CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book)
            customerView = made
            return made
        }
    }

    private mutating func objects() throws -> (customer: LuaReference, cart: LuaReference) {
        if let references { return references }
        let made = (try book.luaObject(for: view), try book.lua.reference(to: CartView(cart: cart), as: book.cartType))
        references = made
        return made
    }

    /// `eligible(c, cart)`: whether it holds, and the reason it gave when it does not (`return false, "why"`).
    mutating func eligible(_ function: LuaFunction, offer: OfferRule) throws -> (Bool, String?) {
        let (customer, cart) = try objects()
        return try call(offer, "eligible") {
            try book.lua.call(function) { stack in
                stack.push(customer)
                stack.push(cart)
            } results: { results in
                (try results.value(at: 1).isTruthy, try results.value(at: 2).stringValue)
            }
        }
    }

    /// `discount(cart, c)`: the discounts it returns (none for nil or false).
    mutating func discount(_ function: LuaFunction, offer: OfferRule) throws -> [DiscountRule] {
        let (customer, cart) = try objects()
        let value = try call(offer, "discount") {
            try book.lua.call(function) { stack in
                stack.push(cart)
                stack.push(customer)
            } results: { try $0.value(at: 1) }
        }
        if !value.isTruthy { return [] }
        do {
            return try DiscountDecoder.rules(from: value)
        } catch {
            throw RuleError(
                rule: "offer '\(offer.name)'",
                underlying: LuaError(kind: .runtime, chunk: offer.location.file, line: offer.location.line, message: "discount(): \(error)"))
        }
    }

    private func call<T>(_ offer: OfferRule, _ function: String, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LuaError {
            throw RuleError(rule: "offer '\(offer.name)' \(function)", underlying: error)
        }
    }
}
