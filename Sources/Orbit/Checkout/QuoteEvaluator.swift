import Foundation
import LuaRuntime

/// A quote and what committing it would consume.
struct QuoteEvaluation {
    var quote: Quote
    /// Counters the order consumes (uses, budget, coupon uses), with their limits.
    var claims: [UsageClaim]
    /// The purchase event the order becomes: what earning rules and handlers see.
    var purchase: Event
}

/// Prices one cart for one customer at one instant: every offer in priority order, each explained when it does not
/// apply; stacking resolved; points to earn and to pay with. Reads the rules and the checkout state, changes nothing.
struct QuoteEvaluator {
    let book: RuleBook
    let request: CheckoutRequest
    let customer: Customer
    let now: Instant
    let state: CheckoutState
    /// Instructions a rule function taking the cart may use: a base plus a share per line, so that a big cart never
    /// fails where a small one passes.
    static let instructionsPerLine = 50_000

    /// A candidate: an offer that passed every check, with what it would take off.
    private struct Candidate {
        var offer: OfferRule
        var outcome: DiscountOutcome
        var coupon: String?
        var note: String?
    }

    func evaluate() throws -> QuoteEvaluation {
        let cart = request.cart
        try cart.validate()
        if let currency = customer.orders.first?.total.currency, currency != cart.currency {
            throw CheckoutError.currencyMismatch(
                "the cart is in \(cart.currency), customer '\(customer.id)' has orders in \(currency)")
        }
        guard request.points >= 0 else {
            throw CheckoutError.invalidRequest("points to pay with must be 0 or more, got \(request.points)")
        }
        let calculator = DiscountCalculator(cart: cart)
        let view = CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book)
        let cartView = CartView(cart: cart)
        var session = LuaSession(book: book, view: view, cartView: cartView, lines: cart.lines.count)

        var rejections: [OfferRejection] = []
        var candidates: [Candidate] = []
        let (coupons, couponRejections) = couponsByOffer()
        for offer in book.checkout.offers {
            do {
                switch try consider(offer, coupon: coupons[offer.name], calculator: calculator, session: &session) {
                case .success(let candidate): candidates.append(candidate)
                case .failure(let rejection): rejections.append(rejection)
                }
            } catch {
                rejections.append(OfferRejection(offer: offer.name, reason: .ruleFailed, detail: "\(error)"))
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
        let winners = resolveStacking(candidates, rejections: &rejections)
        if !winners.contains(where: { $0.offer.name == ReferralProgramme.offerName }) { referrer = nil }
        return try finish(
            winners, rejections: rejections, couponRejections: couponRejections, referrer: referrer, calculator: calculator)
    }

    // MARK: One offer

    private func consider(
        _ offer: OfferRule, coupon: Result<String, OfferRejection>?, calculator: DiscountCalculator,
        session: inout LuaSession
    ) throws -> Result<Candidate, OfferRejection> {
        func reject(_ reason: OfferRejection.Reason, _ detail: String) -> Result<Candidate, OfferRejection> {
            .failure(OfferRejection(offer: offer.name, reason: reason, detail: detail))
        }
        if let window = offer.window, !window.contains(now) {
            return reject(.outsideWindow, "outside window \(window.text) (now \(session.localNow(in: window.zone)))")
        }
        if offer.currency != request.cart.currency {
            return reject(.currency, "the offer is in \(offer.currency), the cart in \(request.cart.currency)")
        }
        var couponCode: String?
        if offer.requiresCoupon {
            switch coupon {
            case nil: return reject(.couponRequired, "needs a coupon")
            case .failure(let rejection)?: return .failure(rejection)
            case .success(let code)?: couponCode = code
            }
        }
        if let reason = try ineligibility(of: offer, session: &session) { return reject(.notEligible, "not eligible: \(reason)") }
        if let reason = capReached(offer) { return reject(.capReached, reason) }
        var remainingBudget: Int64?
        if let budget = offer.budget {
            let left = budget - state.used(UsageKey.offerDiscount(offer.name))
            guard left > 0 else {
                return reject(.budgetSpent, "budget of \(money(budget)) spent")
            }
            remainingBudget = left
        }
        var outcome: DiscountOutcome
        switch offer.discount {
        case .fixed(let rules): outcome = calculator.outcome(of: rules)
        case .computed(let function):
            let rules = try session.discount(function, offer: offer)
            outcome = rules.isEmpty ? calculator.outcome(of: []) : calculator.outcome(of: rules)
            if rules.isEmpty { outcome.shortfall = "discount() gave no discount for this cart" }
        }
        if outcome.isEmpty { return reject(.noDiscount, outcome.shortfall ?? "nothing to take off") }
        var note: String?
        if let left = remainingBudget, outcome.total > left {
            outcome.lineAmounts = DiscountCalculator.spread(
                left, weights: outcome.lineAmounts, over: Array(outcome.lineAmounts.indices))
            note = "budget nearly spent: \(money(left)) left"
        }
        return .success(Candidate(offer: offer, outcome: outcome, coupon: couponCode, note: note))
    }

    /// The first eligibility condition the customer fails, in words; nil when eligible.
    private func ineligibility(of offer: OfferRule, session: inout LuaSession) throws -> String? {
        let rules = offer.eligibility
        if rules.firstOrderOnly, customer.orderCount > 0 {
            return "first order only (customer has \(customer.orderCount) orders)"
        }
        if let minimum = rules.minimumOrders, customer.orderCount < minimum {
            return "needs \(minimum) orders before (customer has \(customer.orderCount))"
        }
        if let tier = rules.minimumTier, let needed = book.tiers.firstIndex(where: { $0.name == tier }) {
            let held = customer.tier.flatMap { name in book.tiers.firstIndex { $0.name == name } }
            if held.map({ $0 < needed }) ?? true {
                return "tier \(tier) or higher (customer is \(customer.tier ?? "in no tier"))"
            }
        }
        if let segment = rules.segment, try !book.isMember(session.view, of: segment) {
            return "segment \(segment) (customer is not in it)"
        }
        if let function = rules.function {
            let (eligible, reason) = try session.eligible(function, offer: offer)
            if !eligible { return reason ?? "eligible() returned false (\(offer.location))" }
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
            let zone = offer.window?.zone ?? .gmt
            let key = period.key(of: now, in: zone)
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
        if outcome.isEmpty { return reject(.noDiscount, outcome.shortfall ?? "nothing to take off") }
        let offer = OfferRule(
            name: name, title: "Referral discount", window: nil, eligibility: .init(), discount: .fixed(programme.refereeDiscount),
            priority: 0, stacking: .stackable, perCustomer: nil, totalUses: nil, perPeriod: nil, budget: nil,
            currency: request.cart.currency, requiresCoupon: false, restoreOnRefund: true, location: programme.location)
        return .success((Candidate(offer: offer, outcome: outcome, coupon: nil, note: nil), referrer))
    }

    // MARK: Stacking

    /// Groups keep their best offer; then the best exclusive offer competes with the sum of the stackable ones (as
    /// far as the lines can take it) and the larger saving wins (the stackable offers on a tie).
    private func resolveStacking(_ candidates: [Candidate], rejections: inout [OfferRejection]) -> [Candidate] {
        var bestOfGroup: [String: Candidate] = [:]
        for candidate in candidates {
            guard case .group(let group) = candidate.offer.stacking else { continue }
            if let best = bestOfGroup[group], best.outcome.total >= candidate.outcome.total { continue }
            bestOfGroup[group] = candidate
        }
        var stackable: [Candidate] = []
        var exclusive: Candidate?
        var exclusives: [Candidate] = []
        for candidate in candidates {
            switch candidate.offer.stacking {
            case .stackable: stackable.append(candidate)
            case .group(let group):
                let best = bestOfGroup[group]!
                if best.offer.name == candidate.offer.name {
                    stackable.append(candidate)
                } else {
                    rejections.append(
                        OfferRejection(
                            offer: candidate.offer.name, reason: .beatenInGroup,
                            detail: "group \(group): offer '\(best.offer.name)' saves more (\(money(best.outcome.total)) "
                                + "vs \(money(candidate.outcome.total)))"))
                }
            case .exclusive:
                exclusives.append(candidate)
                if exclusive.map({ candidate.outcome.total > $0.outcome.total }) ?? true { exclusive = candidate }
            }
        }
        // What the stack really saves: together, offers cannot take a line below zero.
        var room = DiscountCalculator(cart: request.cart).lineTotals
        var stacked: Int64 = 0
        for candidate in stackable {
            let amounts = Self.fit(candidate.outcome.lineAmounts, into: room)
            for index in amounts.indices { room[index] -= amounts[index] }
            stacked += amounts.reduce(0, +)
        }
        if let best = exclusive, best.outcome.total > stacked {
            for candidate in stackable + exclusives where candidate.offer.name != best.offer.name {
                rejections.append(
                    OfferRejection(
                        offer: candidate.offer.name, reason: .beatenByExclusive,
                        detail: "beaten by exclusive offer '\(best.offer.name)' (saves \(money(best.outcome.total)), "
                            + (candidate.offer.stacking == .exclusive
                                ? "this offer \(money(candidate.outcome.total)))"
                                : "the stackable offers together \(money(stacked)))")))
            }
            return [best]
        }
        for candidate in exclusives {
            rejections.append(
                OfferRejection(
                    offer: candidate.offer.name, reason: .stackedOffersSaveMore,
                    detail: "exclusive offer saves \(money(candidate.outcome.total)); the stackable offers together "
                        + "save \(money(stacked))"))
        }
        return stackable
    }

    // MARK: Totals and points

    private func finish(
        _ winners: [Candidate], rejections: [OfferRejection], couponRejections: [CouponRejection], referrer: String?,
        calculator: DiscountCalculator
    ) throws -> QuoteEvaluation {
        let cart = request.cart
        var remaining = calculator.lineTotals
        var applied: [AppliedOffer] = []
        var claims: [UsageClaim] = []
        var multipliers: [(index: Int, thousandths: Int64, filter: LineFilter)] = []
        for winner in winners {
            var note = winner.note
            let amounts = Self.fit(winner.outcome.lineAmounts, into: remaining)
            if amounts.reduce(0, +) < winner.outcome.total {
                note = note ?? "reduced: the lines it covers were already discounted by other offers"
            }
            var lines: [LineDiscount] = []
            for (index, amount) in amounts.enumerated() where amount > 0 {
                remaining[index] -= amount
                lines.append(LineDiscount(line: index + 1, amount: amount))
            }
            let total = amounts.reduce(0, +)
            for multiplier in winner.outcome.multipliers {
                multipliers.append((applied.count, multiplier.thousandths, multiplier.filter))
            }
            applied.append(
                AppliedOffer(
                    offer: winner.offer.name, title: winner.offer.title, discount: total, lines: lines, extraPoints: 0,
                    coupon: winner.coupon, note: note))
            claims += self.claims(for: winner.offer, discount: total, coupon: winner.coupon)
        }
        var quoted: [QuotedLine] = []
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
            total: Money(minorUnits: total - value, currency: cart.currency), items: cart.lines,
            data: [
                "discount": .integer(subtotal - total), "points_redeemed": .integer(redeem),
                "offers": .array(applied.map { .string($0.offer) }),
            ])
        if let referrer { purchase.data["referrer"] = .string(referrer) }
        let basePoints = try pointsEarned(by: purchase)
        var extra: Int64 = 0
        for multiplier in multipliers {
            let matchedNet = cart.lines.indices.filter { multiplier.filter.matches(cart.lines[$0]) }
                .reduce(Int64(0)) { $0 + remaining[$1] }
            guard total > 0, matchedNet > 0 else { continue }
            let share = total.dividingFullWidth(basePoints.multipliedFullWidth(by: matchedNet)).quotient
            let points = share * (multiplier.thousandths - 1000) / 1000
            applied[multiplier.index].extraPoints += points
            extra += points
        }
        let quote = Quote(
            customerID: customer.id, at: now, currency: cart.currency, lines: quoted, applied: applied,
            notApplied: ordered(rejections), rejectedCoupons: couponRejections, subtotal: subtotal,
            discount: subtotal - total, total: total, pointsToEarn: basePoints + extra, pointsToRedeem: redeem,
            pointsValue: value, totalDue: total - value, referrer: referrer)
        return QuoteEvaluation(quote: quote, claims: claims, purchase: purchase)
    }

    /// Line amounts capped by what is left of each line; what a capped line cannot take goes to the offer's other
    /// lines with room left, in proportion to that room.
    static func fit(_ wanted: [Int64], into remaining: [Int64]) -> [Int64] {
        var amounts = zip(wanted, remaining).map { min($0, $1) }
        var leftover = wanted.reduce(0, +) - amounts.reduce(0, +)
        while leftover > 0 {
            let open = wanted.indices.filter { wanted[$0] > 0 && remaining[$0] > amounts[$0] }
            guard !open.isEmpty else { break }
            let room = remaining.indices.map { remaining[$0] - amounts[$0] }
            let extra = DiscountCalculator.spread(min(leftover, open.reduce(0) { $0 + room[$1] }), weights: room, over: open)
            for index in open { amounts[index] += min(extra[index], room[index]) }
            let given = open.reduce(Int64(0)) { $0 + min(extra[$1], room[$1]) }
            guard given > 0 else { break }
            leftover -= given
        }
        return amounts
    }

    /// Rejections in the order offers are considered (priority, then name), the referral last.
    private func ordered(_ rejections: [OfferRejection]) -> [OfferRejection] {
        let position = Dictionary(
            uniqueKeysWithValues: book.checkout.offers.enumerated().map { ($0.element.name, $0.offset) })
        return rejections.sorted { (position[$0.offer] ?? .max) < (position[$1.offer] ?? .max) }
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
            let key = period.key(of: now, in: offer.window?.zone ?? .gmt)
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
        let points = min(request.points, customer.pointsBalance, limit)
        guard points >= payment.minimumPoints, points > 0 else { return (0, 0) }
        return (points, payment.value(of: points))
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

    private func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: request.cart.currency) }
}

/// Calls a quote makes into Lua: the customer and cart userdata made once, on first use, and every call under an
/// instruction budget that grows with the cart.
struct LuaSession {
    let book: RuleBook
    let view: CustomerView
    let cartView: CartView
    let lines: Int
    private var references: (customer: LuaReference, cart: LuaReference)?
    /// The quote's instant as local time, per zone (explanations of windows).
    private var localTimes: [String: String] = [:]

    init(book: RuleBook, view: CustomerView, cartView: CartView, lines: Int) {
        self.book = book
        self.view = view
        self.cartView = cartView
        self.lines = lines
    }

    /// The quote's instant as local time in `zone`, computed once per zone.
    mutating func localNow(in zone: TimeZone) -> String {
        if let text = localTimes[zone.identifier] { return text }
        let text = ZonedWindow.localText(view.now, in: zone)
        localTimes[zone.identifier] = text
        return text
    }

    private mutating func objects() throws -> (customer: LuaReference, cart: LuaReference) {
        if let references { return references }
        let made = (try book.luaObject(for: view), try book.lua.reference(to: cartView, as: book.cartType))
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
        let lua = book.lua
        let limits = lua.limits
        lua.limits.instructions = limits.instructions + lines * QuoteEvaluator.instructionsPerLine
        defer { lua.limits = limits }
        do {
            return try body()
        } catch let error as LuaError {
            throw RuleError(rule: "offer '\(offer.name)' \(function)", underlying: error)
        }
    }
}
