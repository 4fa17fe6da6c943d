import Foundation
import LuaRuntime

/// The checkout in rule tests. `order{ id = "o-1", customer = "anna", lines = { … } }` commits an order at the
/// test's clock (caps, budgets, coupons and points are consumed as in the shop); `expect.quote{ … }` prices a cart
/// and compares; `refund{ order = "o-1" }` refunds an order. `order` and `expect.quote` describe the cart as
/// `orbit quote` reads it, as a Lua table: `customer`, `lines` (each `sku`, `category`, `qty` (default 1), `price`),
/// `coupons`, `points`, `referral_code` and `currency` (default EUR). A coupon issued during the test is written
/// `issued_coupon("win-back")`: the latest one issued to the customer for that offer.
extension TestRun {
    static let requestFields = ["customer", "currency", "lines", "coupons", "points", "referral_code"]

    /// The request a step's table describes; `extra` are the step's own fields.
    func checkoutRequest(_ value: LuaValue, step: String, extra: [String]) async throws -> CheckoutRequest {
        guard case .object(var fields)? = JSONValue(value) else {
            throw TestFailure(
                "\(step) needs a table: \(step){ customer = \"anna\", "
                    + "lines = { { sku = \"RUN-42\", price = eur(129.99) } } }"
            )
        }
        let allowed = Self.requestFields + extra
        for name in fields.keys.sorted() where !allowed.contains(name) {
            throw TestFailure("\(step): unknown field '\(name)'\(Suggestion.didYouMean(name, among: allowed))")
        }
        for name in Self.requestFields + extra where !Self.requestFields.contains(name) { fields[name] = nil }
        fields["currency"] = fields["currency"] ?? .string("EUR")
        if case .object(let empty)? = fields["coupons"], empty.isEmpty { fields["coupons"] = .array([]) }
        if case .array(let lines)? = fields["lines"] {
            fields["lines"] = .array(
                lines.map { line in
                    guard case .object(var line) = line, line["qty"] == nil else { return line }
                    line["qty"] = .integer(1)
                    return .object(line)
                })
        }
        if case .array(let coupons)? = fields["coupons"] {
            var codes: [JSONValue] = []
            for coupon in coupons {
                guard case .object(let marker) = coupon, case .string(let offer)? = marker["issued_coupon"] else {
                    codes.append(coupon)
                    continue
                }
                guard case .string(let customer)? = fields["customer"] else {
                    throw TestFailure("\(step): issued_coupon needs customer = \"…\" beside it")
                }
                codes.append(.string(try await issuedCoupon(offer, to: customer)))
            }
            fields["coupons"] = .array(codes)
        }
        do {
            return try CheckoutRequest(json: try JSONEncoder().encode(JSONValue.object(fields)))
        } catch {
            throw TestFailure("\(step): \(error)")
        }
    }

    /// The latest coupon for `offer` issued to `customer` so far.
    private func issuedCoupon(_ offer: String, to customer: String) async throws -> String {
        let coupons = await store.coupons().filter { $0.offer == offer && $0.customerID == customer }
        let never = Instant(millisecondsSinceEpoch: 0)
        guard let latest = coupons.max(by: { ($0.issuedAt ?? never) < ($1.issuedAt ?? never) }) else {
            throw TestFailure("no coupon for offer '\(offer)' was issued to '\(customer)' so far")
        }
        return latest.code
    }

    /// `order{ id = "o-1", customer = "anna", lines = { … } }`: commits the order. A refused order fails the test,
    /// unless `expect.rejected` follows.
    func order(_ value: LuaValue, next: TestStep?) async throws -> String? {
        guard let id = value["id"].stringValue, !id.isEmpty else {
            throw TestFailure(
                "order needs id = \"…\": the order id, e.g. order{ id = \"o-1\", customer = \"anna\", … }")
        }
        let request = try await checkoutRequest(value, step: "order", extra: ["id"])
        lastOutcome = nil
        do {
            _ = try await currentEngine().commit(orderID: id, request)
        } catch let error as CheckoutError {
            lastOutcome = IngestOutcome(
                eventID: "order:\(id)", status: .rejected(reason: error.description), effects: [])
            return next?.kind == "expect.rejected" ? nil : "order refused: \(error)"
        }
        return nil
    }

    /// `refund{ order = "o-1" }` refunds what is left of an order; `lines = { { line = 1, qty = 1 } }` refunds some
    /// units (lines numbered from 1). `id` defaults to a new refund id. A refused refund fails the test, unless
    /// `expect.rejected` follows.
    func refund(_ value: LuaValue, next: TestStep?) async throws -> String? {
        let allowed = ["order", "id", "lines"]
        if case .map(let fields) = value {
            for key in fields.keys.compactMap(\.stringValue).sorted() where !allowed.contains(key) {
                throw TestFailure("refund: unknown field '\(key)'\(Suggestion.didYouMean(key, among: allowed))")
            }
        }
        guard let order = value["order"].stringValue else {
            throw TestFailure(
                "refund needs order = \"…\": refund{ order = \"o-1\", lines = { { line = 1, qty = 1 } } }")
        }
        var lines: [RefundLine]?
        if case .array(let items) = value["lines"] {
            lines = try items.map { item in
                guard let line = item["line"].integerValue, let qty = item["qty"].integerValue else {
                    throw TestFailure("refund: each line is { line = 1, qty = 1 } (lines numbered from 1)")
                }
                return RefundLine(line: Int(line), qty: qty)
            }
        }
        refunds += 1
        lastOutcome = nil
        do {
            _ = try await currentEngine().refund(
                orderID: order, refundID: value["id"].stringValue ?? "test-refund-\(refunds)", lines: lines)
        } catch let error as CheckoutError {
            lastOutcome = IngestOutcome(
                eventID: "refund:\(order)", status: .rejected(reason: error.description), effects: [])
            return next?.kind == "expect.rejected" ? nil : "refund refused: \(error)"
        }
        return nil
    }
}

/// `expect.quote{ customer = "anna", lines = { … }, discount = eur(26), total = …, applied = { "black-week" },
/// not_applied = { ["win-back"] = "coupon_required" } }`: prices the cart now and compares every expectation given.
enum QuoteExpectation {
    /// Amounts of the quote an expectation may name.
    static let amounts: [(name: String, value: @Sendable (Quote) -> Int64)] = [
        ("subtotal", \.subtotal), ("discount", \.discount), ("total", \.total), ("total_due", \.totalDue),
        ("points_to_earn", \.pointsToEarn), ("points_to_redeem", \.pointsToRedeem), ("points_value", \.pointsValue),
    ]
    static let fields = amounts.map(\.name) + ["applied", "not_applied"]

    static func check(_ run: TestRun, _ arguments: [LuaValue]) async throws -> String? {
        let expected = arguments.first ?? .nil
        let request = try await run.checkoutRequest(expected, step: "expect.quote", extra: fields)
        let quote = try await run.currentEngine().quote(request)
        let money = { (amount: Int64) in Money(minorUnits: amount, currency: quote.currency).description }
        var differences: [String] = []
        for (name, value) in amounts {
            guard let wanted = expected[.string(name)].integerValue else { continue }
            let actual = value(quote)
            let show = name.hasPrefix("points") ? { "\($0)" } : money
            if actual != wanted { differences.append("expected \(name) \(show(wanted)), got \(show(actual))") }
        }
        differences += appliedDifferences(expected["applied"], quote, money)
        differences += notAppliedDifferences(expected["not_applied"], quote)
        return differences.isEmpty ? nil : differences.joined(separator: "; ")
    }

    /// `applied = { "a", "b" }` (exactly these offers) or `{ a = eur(5) }` (exactly these, with these discounts).
    private static func appliedDifferences(_ value: LuaValue, _ quote: Quote, _ money: (Int64) -> String) -> [String] {
        var wanted: [String: Int64?] = [:]
        switch value {
        case .nil: return []
        case .array(let names): for name in names { wanted[name.stringValue ?? name.description] = .some(nil) }
        case .map(let pairs):
            for (name, amount) in pairs { wanted[name.stringValue ?? name.description] = amount.integerValue }
        default: return ["applied must be a list of offer names or a table of offer = discount"]
        }
        let actual = quote.applied.map(\.offer)
        if Set(wanted.keys) != Set(actual) {
            let missing = wanted.keys.filter { !actual.contains($0) }.sorted().map { name in
                quote.notApplied.first { $0.offer == name }.map { "\(name): \($0.reason.rawValue): \($0.detail)" }
                    ?? "\(name): not considered"
            }
            return [
                "expected applied {\(wanted.keys.sorted().joined(separator: ", "))}, "
                    + "got {\(actual.joined(separator: ", "))}"
                    + (missing.isEmpty ? "" : " (\(missing.joined(separator: "; ")))")
            ]
        }
        return quote.applied.compactMap { offer in
            guard let amount = wanted[offer.offer] ?? nil, amount != offer.discount else { return nil }
            return "expected \(offer.offer) to take off \(money(amount)), got \(money(offer.discount))"
        }
    }

    /// `not_applied = { ["win-back"] = "coupon_required" }`: each named offer was not applied, for that reason code.
    private static func notAppliedDifferences(_ value: LuaValue, _ quote: Quote) -> [String] {
        guard case .map(let pairs) = value else {
            return value == .nil || value == .array([])
                ? [] : ["not_applied must be a table of offer = \"reason_code\""]
        }
        return pairs.compactMap { key, reason -> (String, String)? in
            let name = key.stringValue ?? key.description
            let code = reason.stringValue ?? reason.description
            guard let rejection = quote.notApplied.first(where: { $0.offer == name }) else {
                let state = quote.applied.contains { $0.offer == name } ? "it applied" : "it was not considered"
                return (name, "expected \(name) not applied (\(code)), but \(state)")
            }
            guard rejection.reason.rawValue != code else { return nil }
            return (
                name, "expected \(name) not applied for \(code), got \(rejection.reason.rawValue): \(rejection.detail)"
            )
        }.sorted { $0.0 < $1.0 }.map(\.1)
    }
}
