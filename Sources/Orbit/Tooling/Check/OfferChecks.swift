import Foundation

/// `orbit check` for the checkout language: offers that can never apply or no longer can, coupons that cannot be
/// used, budgets that one order spends. Windows that end before they start, unknown zones and coupon codes declared
/// twice already stop the rule book from loading (the load pass reports them).
extension RuleChecker {
    static let offerPass: Pass = { context in
        guard let book = context.book else { return [] }
        return OfferChecks(context: context, checkout: book.checkout).diagnostics
    }
}

private struct OfferChecks {
    let context: RuleChecker.Context
    let checkout: CheckoutRules

    var diagnostics: [Diagnostic] {
        checkout.offers.flatMap(offerFindings)
            + checkout.declaredCoupons.values.sorted { $0.coupon.code < $1.coupon.code }
            .flatMap { couponFindings($0.coupon, $0.location) }
    }

    private func finding(
        _ severity: Diagnostic.Severity, at location: RuleLocation, near text: String, _ message: String
    ) -> Diagnostic {
        let (line, column) = context.locate(text, in: location.file, from: location.line)
        return Diagnostic(severity, file: location.file, line: line, column: column, message)
    }

    private func offerFindings(_ offer: OfferRule) -> [Diagnostic] {
        var found: [Diagnostic] = []
        let location = offer.location
        if let window = offer.window, let now = context.now, window.through < now {
            found.append(
                finding(
                    .warning, at: location, near: "window",
                    "offer '\(offer.name)': its window \(window.text) is over (now "
                        + "\(ZonedWindow.localText(now, in: window.zone)) there): it can no longer apply"))
        }
        if offer.requiresCoupon, !checkout.declaredCoupons.values.contains(where: { $0.coupon.offer == offer.name }),
            let issued = Self.issuedOffers(in: context.files), !issued.contains(offer.name)
        {
            found.append(
                finding(
                    .error, at: location, near: "coupon",
                    "offer '\(offer.name)' needs a coupon, but no coupon is declared for it and no rule issues one "
                        + "(issue_coupon{ offer = \"\(offer.name)\" }): it can never apply"))
        }
        if offer.eligibility.firstOrderOnly, let minimum = offer.eligibility.minimumOrders {
            found.append(
                finding(
                    .error, at: location, near: "min_orders",
                    "offer '\(offer.name)': first_order and min_orders = \(minimum) contradict each other: "
                        + "it can never apply"))
        }
        if let budget = offer.budget, case .fixed(let rules) = offer.discount, let full = Self.fullDiscount(rules),
            budget < full
        {
            let money = { Money(minorUnits: $0, currency: offer.currency) }
            found.append(
                finding(
                    .warning, at: location, near: "budget",
                    "offer '\(offer.name)': the budget \(money(budget)) is less than one full discount "
                        + "(\(money(full))): the first order that uses it gets only the budget, and then it is spent"))
        }
        return found
    }

    private func couponFindings(_ coupon: Coupon, _ location: RuleLocation) -> [Diagnostic] {
        guard let expiry = coupon.expiresAt else { return [] }
        if let now = context.now, expiry < now {
            return [
                finding(
                    .warning, at: location, near: "expires",
                    "coupon '\(coupon.code)' expired at \(expiry), before now (\(now)): it can no longer be used")
            ]
        }
        if let window = checkout.offer(named: coupon.offer)?.window, expiry < window.from {
            return [
                finding(
                    .warning, at: location, near: "expires",
                    "coupon '\(coupon.code)' expires at \(expiry), before offer '\(coupon.offer)' starts "
                        + "(\(window.text)): it can never be used")
            ]
        }
        return []
    }

    /// What a discount takes off an order that gets it in full: the amount of `amount_off`, the percentage of
    /// `min_subtotal` for `percent_off`; for several (a list, `best_of`), the smallest. Nil when it can be as small as
    /// a cent (a percentage without a minimum, a multi-buy, a free item).
    static func fullDiscount(_ rules: [DiscountRule]) -> Int64? {
        var amounts: [Int64] = []
        for rule in rules {
            switch rule {
            case .amountOff(let amount, _, _): amounts.append(amount)
            case .percentOff(let hundredths, _, let minimum) where minimum > 0:
                amounts.append(minimum * hundredths / 10_000)
            case .bestOf(let options):
                guard let amount = fullDiscount(options) else { return nil }
                amounts.append(amount)
            case .pointsMultiplier: continue
            default: return nil
            }
        }
        return amounts.min()
    }

    /// The offers `issue_coupon{ offer = "…" }` names across the files; nil when one call names its offer some other
    /// way (a variable), so that any offer might get coupons.
    static func issuedOffers(in files: [(name: String, source: String)]) -> Set<String>? {
        var offers = Set<String>()
        for file in files {
            let tokens = LuaScanner.tokens(of: file.source)
            for (index, token) in tokens.enumerated() where token.kind == .name && token.text == "issue_coupon" {
                var cursor = index + 1
                if cursor < tokens.count, tokens[cursor].isSymbol("(") { cursor += 1 }
                guard cursor < tokens.count, tokens[cursor].isSymbol("{") else { return nil }
                var depth = 0
                var offer: String?
                while cursor < tokens.count {
                    let current = tokens[cursor]
                    if current.isSymbol("{") { depth += 1 }
                    if current.isSymbol("}") {
                        depth -= 1
                        if depth == 0 { break }
                    }
                    if depth == 1, current.kind == .name, current.text == "offer", cursor + 2 < tokens.count,
                        tokens[cursor + 1].isSymbol("=")
                    {
                        guard tokens[cursor + 2].kind == .string,
                            cursor + 3 < tokens.count,
                            tokens[cursor + 3].isSymbol(",") || tokens[cursor + 3].isSymbol("}")
                        else { return nil }
                        offer = tokens[cursor + 2].text
                    }
                    cursor += 1
                }
                guard let offer else { return nil }
                offers.insert(offer)
            }
        }
        return offers
    }
}
