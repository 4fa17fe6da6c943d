import LuaRuntime

/// `.explain CUSTOMER OFFER`: each condition a quote checks before an offer's discount, in the quote's order, with
/// the values it saw (the window in its zone, the coupons the customer could use, the values `eligible` read, caps and
/// budget as the store counts them), and the verdict. The discount and stacking depend on the cart: `.quote` shows
/// them.
extension RuleConsole {
    /// One condition: what it says, whether it holds (nil: not decided without a cart), and lines under it.
    private struct Condition {
        var text: String
        var holds: Bool?
        var details: [String] = []
        /// How the verdict names it when it fails.
        var failure: String
    }

    static func explainOffer(_ console: RuleConsole, _ customer: Customer, _ name: String) async throws -> String? {
        guard let offer = console.session.book.checkout.offer(named: name) else { return nil }
        let usage = try await console.store.usage(keys: nil)
        let issued = try await console.store.coupons()
        let conditions = try console.conditions(of: offer, for: customer, usage: usage, issued: issued)
        let failed = conditions.first { $0.holds == false }
        var lines = [
            "offer \"\(name)\" for \"\(customer.id)\" at \(console.now): "
                + (failed == nil ? "eligible" : "not eligible"),
            "  \(offer.location)" + (offer.title.map { "  \($0)" } ?? ""),
        ]
        for condition in conditions {
            let mark = condition.holds.map { $0 ? "(met)" : "(not met)" } ?? ""
            lines.append("  \(condition.text) \(mark)".trimmingTrailingSpaces)
            lines += condition.details.map { "    " + $0.trimmingLeadingSpaces }
        }
        if let failed {
            lines.append("  verdict: not eligible: \(failed.failure)")
        } else {
            lines.append("  verdict: eligible; the discount and stacking depend on the cart (.quote CART_JSON)")
        }
        return lines.joined(separator: "\n")
    }

    private func conditions(
        of offer: OfferRule, for customer: Customer, usage: [String: Int64], issued: [Coupon]
    ) throws -> [Condition] {
        let book = session.book
        func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: offer.currency) }
        var conditions: [Condition] = []
        if let window = offer.window {
            let inside = window.contains(now)
            conditions.append(
                Condition(
                    text: "window \(window.text): now \(ZonedWindow.localText(now, in: window.zone)) there",
                    holds: inside, failure: "outside the window"))
        }
        conditions.append(
            Condition(
                text: "currency \(offer.currency): the cart must be in \(offer.currency)",
                holds: nil, failure: ""))
        if offer.requiresCoupon {
            conditions.append(couponCondition(offer, customer: customer, usage: usage, issued: issued))
        }
        let rules = offer.eligibility
        if rules.firstOrderOnly {
            conditions.append(
                Condition(
                    text: "first order only: customer has \(customer.orderCount) order(s)",
                    holds: customer.orderCount == 0, failure: "first order only"))
        }
        if let minimum = rules.minimumOrders {
            conditions.append(
                Condition(
                    text: "min_orders \(minimum): customer has \(customer.orderCount) order(s)",
                    holds: customer.orderCount >= minimum, failure: "needs \(minimum) orders before"))
        }
        if let tier = rules.minimumTier, let needed = book.tiers.firstIndex(where: { $0.name == tier }) {
            let held = customer.tier.flatMap { name in book.tiers.firstIndex { $0.name == name } }
            conditions.append(
                Condition(
                    text: "tier \(tier) or higher: customer is \(customer.tier ?? "in no tier")",
                    holds: held.map { $0 >= needed } ?? false, failure: "tier \(tier) or higher"))
        }
        if let name = rules.segment, let segment = book.segments.first(where: { $0.name == name }) {
            let (member, reasons) = try session.checking(
                segment.conditions, then: segment.predicate, of: customer, at: now)
            conditions.append(
                Condition(
                    text: "segment \(name): \(member ? "member" : "not a member")", holds: member, details: reasons,
                    failure: "segment \(name)"))
        }
        if let function = rules.function {
            let empty = Cart(currency: offer.currency, lines: [])
            let (result, reads) = try session.recording(function, customer: customer, at: now, cart: empty)
            conditions.append(
                Condition(
                    text: "eligible(c, cart) with an empty cart returned \(result)", holds: result.isTruthy,
                    details: reads, failure: "eligible() returned \(result) (with an empty cart; .quote tries a cart)"))
        }
        func used(_ key: String) -> Int64 { usage[key] ?? 0 }
        if let cap = offer.perCustomer {
            let count = used(UsageKey.offerCustomer(offer.name, customer.id))
            conditions.append(
                Condition(
                    text: "per_customer \(cap): used \(count) by this customer", holds: count < cap,
                    failure: "cap of \(cap) per customer reached"))
        }
        if let cap = offer.totalUses {
            let count = used(UsageKey.offerUses(offer.name))
            conditions.append(
                Condition(
                    text: "total_uses \(cap): used \(count)", holds: count < cap, failure: "cap of \(cap) uses reached")
            )
        }
        if let (period, cap) = offer.perPeriod {
            let key = period.key(of: now, in: offer.zone)
            let count = used(UsageKey.offerPeriod(offer.name, period, key))
            conditions.append(
                Condition(
                    text: "per_\(period.rawValue) \(cap): used \(count) in \(key)", holds: count < cap,
                    failure: "cap of \(cap) per \(period.rawValue) reached (\(key))"))
        }
        if let budget = offer.budget {
            let spent = used(UsageKey.offerDiscount(offer.name))
            conditions.append(
                Condition(
                    text: "budget \(money(budget)): \(money(spent)) given, \(money(max(0, budget - spent))) left",
                    holds: spent < budget, failure: "budget spent"))
        }
        return conditions
    }

    /// The coupons that would unlock `offer` for `customer` now: declared ones and those issued to them.
    private func couponCondition(_ offer: OfferRule, customer: Customer, usage: [String: Int64], issued: [Coupon])
        -> Condition
    {
        let declared = session.book.checkout.declaredCoupons.values.map(\.coupon)
        var usable: [String] = []
        var details: [String] = []
        for coupon in (declared + issued).filter({ $0.offer == offer.name }).sorted(by: { $0.code < $1.code })
        where coupon.customerID == nil || coupon.customerID == customer.id {
            let uses = usage[UsageKey.couponUses(coupon.code)] ?? 0
            let mine = usage[UsageKey.couponCustomer(coupon.code, customer.id)] ?? 0
            let problem: String? =
                if let expiry = coupon.expiresAt, now > expiry {
                    "expired at \(expiry)"
                } else if uses >= coupon.uses {
                    "used up (\(coupon.uses) use(s))"
                } else if let cap = coupon.perCustomer, mine >= cap {
                    "already used by this customer"
                } else {
                    nil
                }
            let owner = coupon.customerID == nil ? "declared" : "issued to \(customer.id)"
            let expiry = coupon.expiresAt.map { ", valid until \($0)" } ?? ""
            details.append("  \(coupon.code) (\(owner)\(expiry)): \(problem ?? "usable")")
            if problem == nil { usable.append(coupon.code) }
        }
        return Condition(
            text: usable.isEmpty
                ? "coupon required: none this customer can use"
                : "coupon required: the cart must carry one of \(usable.joined(separator: ", "))",
            holds: !usable.isEmpty, details: details, failure: "needs a coupon, and the customer has none to use")
    }
}

extension String {
    fileprivate var trimmingLeadingSpaces: String { String(drop { $0 == " " }) }

    fileprivate var trimmingTrailingSpaces: String {
        var text = self
        while text.last == " " { text.removeLast() }
        return text
    }
}
