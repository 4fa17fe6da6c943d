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
    /// The position of the customer's tier among the rule book's tiers, lowest first; nil without a tier.
    private let heldTierRank: Int?
    /// Instructions a rule function taking the cart may use: a base plus a share per line, so that a big cart never
    /// fails where a small one passes.
    static let instructionsPerLine = 50_000

    init(book: RuleBook, request: CheckoutRequest, customer: Customer, now: Instant, state: CheckoutState) {
        self.book = book
        self.request = request
        self.customer = customer
        self.now = now
        self.state = state
        heldTierRank = customer.tier.flatMap { name in book.tiers.firstIndex { $0.name == name } }
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
        var session: LuaSession?
        var rejections = Rejections(capacity: book.checkout.offers.count + 1)
        var candidates = Candidates(lineCount: cart.lines.count, capacity: book.checkout.offers.count + 1)
        let (coupons, couponRejections) = couponsByOffer()
        for offer in book.checkout.offers {
            do {
                if let rejection = try consider(
                    offer, coupons: coupons, into: &candidates, calculator: &calculator, session: &session)
                {
                    rejections.insert(rejection)
                }
            } catch {
                rejections.insert(reject(offer, .ruleFailed, .text("\(error)")))
            }
        }
        var referrer: String?
        if let code = request.referralCode {
            switch referralCandidate(code: code, calculator: calculator) {
            case .success(let (offer, outcome, id)):
                candidates.append(offer, outcome: outcome)
                referrer = id
            case .failure(let rejection): rejections.insert(rejection)
            }
        }
        let winners = resolveStacking(&candidates, calculator: calculator, rejections: &rejections)
        if !winners.contains(where: { candidates[$0].offer.name == ReferralProgramme.offerName }) { referrer = nil }
        return try finish(
            winners, of: candidates, rejections: rejections.all, couponRejections: couponRejections, referrer: referrer,
            calculator: calculator, forCommit: forCommit)
    }

    /// Rejections in the order offers are considered: those of the offer checks arrive in that order, those of
    /// stacking later, and each is inserted at its place (moving rejections copies no references).
    private struct Rejections {
        private(set) var all: [OfferRejection] = []
        /// The position of the last rejection.
        private var lastPosition = Int.min

        init(capacity: Int) { all.reserveCapacity(capacity) }

        mutating func insert(_ rejection: consuming OfferRejection) {
            guard rejection.position < lastPosition else {
                lastPosition = rejection.position
                return all.append(rejection)
            }
            all.insert(rejection, at: all.firstIndex { $0.position > rejection.position }!)
        }
    }

    private func reject(_ offer: OfferRule, _ reason: OfferRejection.Reason, _ explanation: RejectionExplanation)
        -> OfferRejection
    {
        OfferRejection(offer: offer.name, reason: reason, explanation: explanation, position: offer.position)
    }

    private func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: request.cart.currency) }

    // MARK: One offer

    /// Adds `offer` to `candidates` when it passes every check; otherwise returns why it does not apply.
    private func consider(
        _ offer: OfferRule, coupons: [String: Result<String, OfferRejection>], into candidates: inout Candidates,
        calculator: inout DiscountCalculator, session: inout LuaSession?
    ) throws -> OfferRejection? {
        if !offer.isOpen(at: now) {
            return reject(offer, .outsideWindow, .outsideWindow(offer, now: now))
        }
        if offer.currency != request.cart.currency {
            return reject(offer, .currency, .text("the offer is in \(offer.currency), the cart in \(request.cart.currency)"))
        }
        var couponCode: String?
        if offer.requiresCoupon {
            switch coupons[offer.name] {
            case nil: return reject(offer, .couponRequired, .text("needs a coupon"))
            case .failure(var rejection)?:
                rejection.position = offer.position
                return rejection
            case .success(let code)?: couponCode = code
            }
        }
        if let reason = try ineligibility(of: offer, session: &session) { return reject(offer, .notEligible, reason) }
        if let reason = capReached(offer) { return reject(offer, .capReached, .text(reason)) }
        var remainingBudget: Int64?
        if let budget = offer.budget {
            let left = budget - state.used(UsageKey.offerDiscount(offer.name))
            guard left > 0 else { return reject(offer, .budgetSpent, .text("budget of \(money(budget)) spent")) }
            remainingBudget = left
        }
        if let plan = offer.plan {
            let matched = calculator.matched(plan.filter, slot: offer.filterSlot)
            guard let amount = plan.discount(matched: matched) else {
                return reject(offer, .noDiscount, matched.count == 0 ? .noMatch(offer) : .belowMinimum(offer, has: matched.total))
            }
            if amount == 0 { return reject(offer, .noDiscount, .text("the discount rounds to nothing")) }
            candidates.append(Candidate(offer: offer, total: amount, coupon: couponCode))
        } else {
            let outcome: DiscountOutcome
            switch offer.discount {
            case .fixed(let rules): outcome = calculator.outcome(of: rules)
            case .computed(let function):
                let rules = try withSession(&session) { try $0.discount(function, offer: offer) }
                if rules.isEmpty { return reject(offer, .noDiscount, .text("discount() gave no discount for this cart")) }
                outcome = calculator.outcome(of: rules)
            }
            if outcome.isEmpty {
                return reject(offer, .noDiscount, .shortfall(outcome.shortfall ?? .text("nothing to take off")))
            }
            candidates.append(offer, outcome: outcome, coupon: couponCode)
        }
        if let left = remainingBudget, let index = candidates.indices.last, candidates[index].total > left {
            withLines(of: index, in: &candidates, calculator: calculator) { lines in
                let weights = lines.map { $0 > 0 ? $0 : -1 }
                lines.update(repeating: 0)
                DiscountCalculator.spread(left, weights: weights, into: lines)
            }
            candidates[index].total = left
            candidates[index].note = .budgetNearlySpent(left: left)
        }
        return nil
    }

    /// Candidate `index`'s amount per line, worked out from its plan when it has none yet.
    private func withLines<T>(
        of index: Int, in candidates: inout Candidates, calculator: DiscountCalculator,
        _ body: (UnsafeMutableBufferPointer<Int64>) -> T
    ) -> T {
        let planned = !candidates[index].hasLines
        let total = candidates[index].total
        let slot = candidates[index].offer.filterSlot
        return candidates.withLines(of: index) { lines in
            if planned { calculator.spread(total, over: calculator.matched(slot: slot), into: lines) }
            return body(lines)
        }
    }

    /// `body` with the quote's Lua session, made on first use: quotes of declared offers never need one.
    private func withSession<T>(_ session: inout LuaSession?, _ body: (inout LuaSession) throws -> T) rethrows -> T {
        if session == nil { session = LuaSession(book: book, customer: customer, now: now, cart: request.cart) }
        return try body(&session!)
    }

    /// The first eligibility condition the customer fails; nil when eligible.
    private func ineligibility(of offer: OfferRule, session: inout LuaSession?) throws -> RejectionExplanation? {
        // The fields are read in place: a copy of the conditions would retain and release their strings per offer.
        if offer.eligibility.firstOrderOnly, customer.orderCount > 0 {
            return .text("not eligible: first order only (customer has \(customer.orderCount) orders)")
        }
        if let minimum = offer.eligibility.minimumOrders, customer.orderCount < minimum {
            return .text("not eligible: needs \(minimum) orders before (customer has \(customer.orderCount))")
        }
        if let needed = offer.minimumTierRank, heldTierRank.map({ $0 < needed }) ?? true {
            return .tier(offer, held: customer.tier)
        }
        if let segment = offer.eligibility.segment, try !withSession(&session, { try book.isMember($0.view, of: segment) }) {
            return .text("not eligible: segment \(segment) (customer is not in it)")
        }
        if let function = offer.eligibility.function {
            let (eligible, reason) = try withSession(&session) { try $0.eligible(function, offer: offer) }
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
        -> Result<(offer: OfferRule, outcome: DiscountOutcome, referrer: String), OfferRejection>
    {
        let name = ReferralProgramme.offerName
        func reject(_ reason: OfferRejection.Reason, _ detail: String)
            -> Result<(offer: OfferRule, outcome: DiscountOutcome, referrer: String), OfferRejection>
        {
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
        return .success((offer, outcome, referrer))
    }

    // MARK: Stacking

    /// Groups keep their best offer; then the best exclusive offer competes with the sum of the stackable ones (as
    /// far as the lines can take it: together, offers never take a line below zero) and the larger saving wins (the
    /// stackable offers on a tie). Returns the winners with their line amounts fitted.
    private func resolveStacking(
        _ candidates: inout Candidates, calculator: DiscountCalculator, rejections: inout Rejections
    ) -> [Int] {
        var bestOfGroup: [String: Int] = [:]
        for index in candidates.indices {
            guard case .group(let group) = candidates[index].offer.stacking else { continue }
            if let best = bestOfGroup[group], candidates[best].total >= candidates[index].total { continue }
            bestOfGroup[group] = index
        }
        var stackable: [Int] = []
        stackable.reserveCapacity(candidates.all.count)
        var exclusives: [Int] = []
        var exclusive: Int?
        for index in candidates.indices {
            switch candidates[index].offer.stacking {
            case .stackable: stackable.append(index)
            case .group(let group):
                let best = bestOfGroup[group]!
                if best == index {
                    stackable.append(index)
                } else {
                    let offer = candidates[index].offer
                    rejections.insert(
                        reject(
                            offer, .beatenInGroup,
                            .beatenInGroup(
                                offer, winner: candidates[best].offer, saves: candidates[best].total,
                                this: candidates[index].total)))
                }
            case .exclusive:
                exclusives.append(index)
                if exclusive.map({ candidates[index].total > candidates[$0].total }) ?? true { exclusive = index }
            }
        }
        // The stackable offers as they would apply, before deciding: fitted in place, under what is left of each line
        // (what they proposed is kept for explanations when an exclusive offer is in the running).
        var room = calculator.lineTotals
        let proposed = exclusive == nil ? [] : stackable.map { candidates[$0].total }
        var stacked: Int64 = 0
        for index in stackable {
            let total = withLines(of: index, in: &candidates, calculator: calculator) { lines in
                Self.fit(lines, into: &room)
                return lines.reduce(0, +)
            }
            if total < candidates[index].total, candidates[index].note == nil { candidates[index].note = .reduced }
            candidates[index].total = total
            stacked += total
        }
        if let best = exclusive, candidates[best].total > stacked {
            let winner = candidates[best].offer
            let saves = candidates[best].total
            for (position, index) in stackable.enumerated() {
                let offer = candidates[index].offer
                rejections.insert(
                    reject(
                        offer, .beatenByExclusive,
                        .beatenByExclusive(offer, winner: winner, saves: saves, stacked: stacked, this: proposed[position])))
            }
            for index in exclusives where index != best {
                let offer = candidates[index].offer
                rejections.insert(
                    reject(
                        offer, .beatenByExclusive,
                        .beatenByExclusive(offer, winner: winner, saves: saves, stacked: nil, this: candidates[index].total)))
            }
            withLines(of: best, in: &candidates, calculator: calculator) { _ in }
            return [best]
        }
        for index in exclusives {
            let offer = candidates[index].offer
            rejections.insert(
                reject(offer, .stackedOffersSaveMore, .stackedSaveMore(offer, this: candidates[index].total, stacked: stacked)))
        }
        return stackable
    }

    /// Caps an offer's line amounts (`amounts`, changed in place) by what is left of each line (`room`, updated); what
    /// a full line cannot take goes to the offer's other lines with room left, in proportion to that room.
    static func fit(_ amounts: UnsafeMutableBufferPointer<Int64>, into room: inout [Int64]) {
        if !Self.fits(amounts, into: room) {
            let wanted = Array(amounts)
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
        }
        room.withUnsafeMutableBufferPointer { room in
            for index in room.indices { room[index] -= amounts[index] }
        }
    }

    /// Whether no line of `amounts` takes more than is left of it (`room`).
    private static func fits(_ amounts: UnsafeMutableBufferPointer<Int64>, into room: [Int64]) -> Bool {
        for index in 0..<amounts.count where amounts[index] > room[index] { return false }
        return true
    }

    // MARK: Totals and points

    private func finish(
        _ winners: [Int], of candidates: Candidates, rejections: [OfferRejection], couponRejections: [CouponRejection],
        referrer: String?, calculator: DiscountCalculator, forCommit: Bool
    ) throws -> QuoteEvaluation {
        let cart = request.cart
        let remaining = candidates.remaining(calculator.lineTotals, after: winners)
        let claims = forCommit ? winners.flatMap { self.claims(for: candidates[$0]) } : []
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
                "offers": .array(winners.map { .string(candidates[$0].offer.name) }),
            ]
            if let referrer { purchase.data["referrer"] = .string(referrer) }
        }
        let basePoints = try pointsEarned(by: purchase)
        var extra: Int64 = 0
        var extraPoints: [Int: Int64] = [:]
        for (candidate, multiplier) in candidates.multipliers where winners.contains(candidate) {
            let matchedNet = cart.lines.indices.filter { multiplier.filter.matches(cart.lines[$0]) }
                .reduce(Int64(0)) { $0 + remaining[$1] }
            guard total > 0, matchedNet > 0 else { continue }
            let share = total.dividingFullWidth(basePoints.multipliedFullWidth(by: matchedNet)).quotient
            let points = share * (multiplier.thousandths - 1000) / 1000
            extraPoints[candidate, default: 0] += points
            extra += points
        }
        let applied = Winners(candidates: candidates, indices: winners, extraPoints: extraPoints, currency: cart.currency)
        let quote = Quote(
            customerID: customer.id, at: now, currency: cart.currency, lines: quoted, appliedOffers: AppliedOffers(applied),
            notApplied: rejections, rejectedCoupons: couponRejections,
            subtotal: subtotal, discount: subtotal - total, total: total, pointsToEarn: basePoints + extra,
            pointsToRedeem: redeem, pointsValue: value, totalDue: total - value, referrer: referrer)
        return QuoteEvaluation(quote: quote, claims: claims, purchase: purchase)
    }

    /// The counters an applied offer consumes, each with its limit.
    private func claims(for winner: Candidate) -> [UsageClaim] {
        let (offer, discount, coupon) = (winner.offer, winner.total, winner.coupon)
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
