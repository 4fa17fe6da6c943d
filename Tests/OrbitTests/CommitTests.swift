import Testing

@testable import Orbit

@Suite("Checkout: commit, caps, coupons, referral, refunds")
struct CommitTests {
    static let loyalty = """
        earn "points-per-euro" { on = "purchase", points = function(e) return e.total // 100 end, expires = { days = 365 } }
        pay_with_points { points = 100, worth = eur(1), max_percent = 50, min_points = 100 }
        """

    @Test("commit records the order, its points and its offer uses; the same order id returns the first result")
    func commitAndIdempotency() async throws {
        let fixture = try EngineFixture([
            "rules/loyalty.lua": Self.loyalty,
            "rules/offers.lua": #"offer "ten" { discount = percent_off(10), per_customer = 1 }"#,
        ])
        let order = request("anna", cart(("A1", "shoes", 2, 5000)))
        let first = try await fixture.engine.commit(orderID: "o-1", order)
        #expect(first.isNew)
        #expect(first.quote.totalDue == 9000)
        #expect(first.pointsEarned == 90)
        let customer = try #require(try await fixture.engine.customer("anna"))
        #expect(customer.orders.map(\.total.minorUnits) == [9000])
        #expect(customer.pointsBalance == 90)
        let again = try await fixture.engine.commit(orderID: "o-1", order)
        #expect(!again.isNew)
        #expect(again.quote == first.quote)
        #expect(try await fixture.engine.customer("anna")?.pointsBalance == 90)
        await #expect(throws: CheckoutError.orderConflict("order 'o-1' was committed before with a different customer, cart, coupons or points")) {
            try await fixture.engine.commit(orderID: "o-1", request("anna", cart(("A1", "shoes", 3, 5000))))
        }
        // per_customer = 1: the second order of anna gets no discount, and says why.
        let second = try await fixture.engine.commit(orderID: "o-2", order)
        #expect(second.quote.discount == 0)
        #expect(second.quote.rejection("ten")?.detail == "cap reached: 1 per customer, used 1")
    }

    @Test("paying with points: bounded by balance and the share the programme allows")
    func pointsPayment() async throws {
        let fixture = try EngineFixture(["rules/loyalty.lua": Self.loyalty])
        _ = try await fixture.engine.commit(orderID: "o-1", request("anna", cart(("A", "x", 1, 50_000))))
        #expect(try await fixture.engine.customer("anna")?.pointsBalance == 500)
        // Asks for 10,000 points on a 6 € cart: half of it (3 €, 300 points) at most.
        let quote = try await fixture.engine.quote(request("anna", cart(("B", "x", 1, 600)), points: 10_000))
        #expect(quote.pointsToRedeem == 300)
        #expect(quote.pointsValue == 300)
        #expect(quote.totalDue == 300)
        let receipt = try await fixture.engine.commit(orderID: "o-2", request("anna", cart(("B", "x", 1, 600)), points: 10_000))
        #expect(receipt.pointsRedeemed == 300)
        // 500 − 300 redeemed + 3 earned on the 3 € paid.
        #expect(try await fixture.engine.customer("anna")?.pointsBalance == 203)
        // Below the minimum of 100 points nothing is redeemed.
        let small = try await fixture.engine.quote(request("anna", cart(("C", "x", 1, 100)), points: 500))
        #expect(small.pointsToRedeem == 0)
    }

    @Test("coupons: unknown, expired, used up, someone else's — each explained; commit refuses a bad coupon")
    func coupons() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "welcome" { coupon = true, discount = amount_off(eur(5)) }
            coupon "WELCOME5" { offer = "welcome", uses = 1 }
            coupon "OLD" { offer = "welcome", expires = "2025-12-31 23:59", zone = "Europe/Berlin" }
            offer "win-back" { coupon = true, discount = percent_off(15) }
            on "inactive" { days = 30 } (function(c)
              send("email", "win-back", { code = issue_coupon{ offer = "win-back", valid_days = 14 } })
            end)
            """
        ])
        let basket = cart(("A", "x", 1, 2000))
        let none = try await fixture.engine.quote(request("anna", basket))
        #expect(none.rejection("welcome")?.reason == .couponRequired)
        let unknown = try await fixture.engine.quote(request("anna", basket, coupons: ["NOPE"]))
        #expect(unknown.rejectedCoupons == [CouponRejection(code: "NOPE", reason: .couponUnknown, detail: "coupon NOPE is unknown")])
        let expired = try await fixture.engine.quote(request("anna", basket, coupons: ["OLD"]))
        #expect(expired.rejection("welcome")?.reason == .couponExpired)
        let good = try await fixture.engine.commit(orderID: "o-1", request("anna", basket, coupons: ["WELCOME5"]))
        #expect(good.quote.applied("welcome")?.coupon == "WELCOME5")
        let used = try await fixture.engine.quote(request("ben", basket, coupons: ["WELCOME5"]))
        #expect(used.rejection("welcome")?.detail == "coupon WELCOME5 is used up (1 use)")
        await #expect(throws: CheckoutError.couponRejected(code: "WELCOME5", reason: "coupon WELCOME5 is used up (1 use)")) {
            try await fixture.engine.commit(orderID: "o-2", request("ben", basket, coupons: ["WELCOME5"]))
        }
        #expect(try await fixture.engine.customer("ben") == nil)
        // A rule issues anna a personal win-back coupon after 30 days without an order.
        _ = try await fixture.engine.ingest(
            Event(id: "c-1", type: "consent", customerID: "anna", at: fixture.clock.now(), data: ["consent": .object(["email": .bool(true)])]))
        try await fixture.engine.advance(to: at("2026-02-01T00:00:00Z"))
        let message = try #require(await fixture.store.messages(customerID: "anna").first)
        guard case .string(let code)? = message.data["code"] else { Issue.record("no code in \(message)"); return }
        #expect(code.hasPrefix("WINBAC-"))
        let notYours = try await fixture.engine.quote(request("ben", basket, coupons: [code]), at: at("2026-02-02T00:00:00Z"))
        #expect(notYours.rejection("win-back")?.reason == .couponNotYours)
        let hers = try await fixture.engine.quote(request("anna", basket, coupons: [code]), at: at("2026-02-02T00:00:00Z"))
        #expect(hers.applied("win-back")?.discount == 300)
        let late = try await fixture.engine.quote(request("anna", basket, coupons: [code]), at: at("2026-02-20T00:00:00Z"))
        #expect(late.rejection("win-back")?.reason == .couponExpired)
    }

    @Test("caps per period and in total, and a budget that shrinks the last discount then stops it")
    func capsAndBudgets() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "daily" { discount = amount_off(eur(1)), per_day = 2, window = { from = "2026-01-01", to = "2026-12-31", zone = "Europe/Berlin" } }
            offer "limited" { discount = amount_off(eur(2)), total_uses = 3 }
            offer "budgeted" { discount = amount_off(eur(4)), budget = eur(10) }
            """
        ])
        var totals: [Int64] = []
        for number in 1...4 {
            let receipt = try await fixture.engine.commit(orderID: "o-\(number)", request("c-\(number)", cart(("A", "x", 1, 5000))))
            totals.append(receipt.quote.discount)
        }
        // daily: 2 per Berlin day; limited: 3 in all; budgeted: 4 + 4 + 2 (what is left) + 0.
        #expect(totals == [700, 700, 400, 0])
        let last = try await fixture.engine.quote(request("x", cart(("A", "x", 1, 5000))))
        #expect(last.rejection("daily")?.detail == "cap reached: 2 per day (2026-01-01)")
        #expect(last.rejection("limited")?.detail == "cap reached: 3 uses in total")
        #expect(last.rejection("budgeted")?.detail == "budget of 10.00 EUR spent")
        // Midnight in Berlin (23:00 UTC) opens a new day.
        fixture.clock.advance(to: at("2026-01-01T23:00:00Z"))
        let nextDay = try await fixture.engine.quote(request("x", cart(("A", "x", 1, 5000))))
        #expect(nextDay.applied("daily") != nil)
        #expect(await fixture.store.usage(keys: ["offer/budgeted/discount"]) == ["offer/budgeted/discount": 1000])
        // Reports read the offers' performance from the orders.
        let performance = await fixture.store.offerPerformance(during: at("2026-01-01T00:00:00Z")..<at("2026-01-02T00:00:00Z"))
        let budgeted = try #require(performance.first { $0.offer == "budgeted" })
        #expect(budgeted.uses == 3)
        #expect(budgeted.discountCost.minorUnits == 1000)
        #expect(budgeted.budget?.minorUnits == 1000)
        #expect(budgeted.budgetLeft?.minorUnits == 0)
        #expect(performance.map(\.offer) == ["budgeted", "daily", "limited"])
    }

    @Test("referral: the referee's first order is discounted; the referrer is rewarded after N days unless refunded")
    func referral() async throws {
        let fixture = try EngineFixture([
            "rules/referral.lua": """
            referral {
              referee = { discount = percent_off(10), first_order_only = true },
              referrer = { points = 500, after_days = 14 },
            }
            """
        ])
        _ = try await fixture.engine.ingest(Event(id: "s-1", type: "signup", customerID: "anna", at: at("2026-01-01T00:00:00Z")))
        let code = try #require(try await fixture.engine.customer("anna")?.referralCode)
        let own = try await fixture.engine.quote(request("anna", cart(("A", "x", 1, 1000)), referral: code))
        #expect(own.rejection("referral")?.detail == "not eligible: a customer cannot refer themselves")
        let ben = try await fixture.engine.commit(orderID: "o-ben", request("ben", cart(("A", "x", 1, 1000)), referral: code))
        #expect(ben.quote.applied("referral")?.discount == 100)
        #expect(try await fixture.engine.customer("ben")?.referrer == "anna")
        let twice = try await fixture.engine.quote(request("ben", cart(("A", "x", 1, 1000)), referral: code))
        #expect(twice.rejection("referral")?.detail == "not eligible: first order only (customer has 1 orders)")
        _ = try await fixture.engine.commit(orderID: "o-cleo", request("cleo", cart(("A", "x", 1, 1000)), referral: code))
        // Cleo returns her order within 14 days: that reward is cancelled; Ben's is paid on day 14.
        fixture.clock.advance(to: at("2026-01-05T00:00:00Z"))
        let refund = try await fixture.engine.refund(orderID: "o-cleo", refundID: "r-cleo")
        #expect(refund.referralCancelled)
        try await fixture.engine.advance(to: at("2026-01-20T00:00:00Z"))
        let anna = try #require(try await fixture.engine.customer("anna"))
        #expect(anna.pointsBalance == 500)
        #expect(anna.pendingReferralRewards.isEmpty)
    }

    @Test("refunds: partial then full add up exactly; points taken back and given back; uses and budget restored")
    func refunds() async throws {
        let fixture = try EngineFixture([
            "rules/loyalty.lua": Self.loyalty,
            "rules/offers.lua": #"offer "third" { discount = percent_off(33), per_customer = 1, budget = eur(100) }"#,
        ])
        _ = try await fixture.engine.ingest(purchase("e-0", "anna", "2026-01-01T00:00:00Z", cents: 100_000))
        // 1000 points. Now 3 × 33.33 € and 1 × 10 € with 33 % off, paying 1000 points (10 €).
        let basket = cart(("A", "x", 3, 3333), ("B", "y", 1, 1000))
        let receipt = try await fixture.engine.commit(orderID: "o-1", request("anna", basket, points: 1000))
        let quote = receipt.quote
        #expect(quote.discount == 3629)  // 10999 × 33 % = 3629.67 → 3629
        #expect(quote.pointsToRedeem == 1000)
        #expect(quote.totalDue == 10999 - 3629 - 1000)
        let earned = receipt.pointsEarned
        #expect(earned == 63)
        await #expect(throws: CheckoutError.invalidRefund("line 1 of order 'o-1': cannot refund 4 of 3 units (3 left to refund)")) {
            try await fixture.engine.refund(orderID: "o-1", refundID: "r-x", lines: [RefundLine(line: 1, qty: 4)])
        }
        await #expect(throws: CheckoutError.invalidRefund("unknown order 'o-9'")) {
            try await fixture.engine.refund(orderID: "o-9", refundID: "r-y")
        }
        let first = try await fixture.engine.refund(orderID: "o-1", refundID: "r-1", lines: [RefundLine(line: 1, qty: 1)])
        let again = try await fixture.engine.refund(orderID: "o-1", refundID: "r-1", lines: [RefundLine(line: 1, qty: 1)])
        #expect(!again.isNew)
        #expect(again.amount == first.amount)
        #expect(first.restoredOffers.isEmpty)
        let rest = try await fixture.engine.refund(orderID: "o-1", refundID: "r-2")
        #expect(first.amount + rest.amount == quote.total)
        #expect(first.money + rest.money == quote.totalDue)
        #expect(first.pointsReturned + rest.pointsReturned == 1000)
        #expect(first.pointsReversed + rest.pointsReversed == earned)
        #expect(rest.restoredOffers == ["third"])
        let anna = try #require(try await fixture.engine.customer("anna"))
        #expect(anna.orders.last?.total.minorUnits == 0)
        #expect(anna.pointsBalance == 1000)  // what she had before the order
        // The per-customer use and the budget are back: the offer applies again.
        let usage = await fixture.store.usage(keys: ["offer/third/customer/anna", "offer/third/discount"])
        #expect(usage == ["offer/third/customer/anna": 0, "offer/third/discount": 0])
        // The entries a refund makes say which order in words; those a rule made have the rule as their reason.
        let ledger = await fixture.store.ledger(customerID: "anna")
        #expect(ledger.filter { $0.kind == .reverse || $0.kind == .restore }.map(\.reason) == [
            "order o-1 refunded", "points paid on order o-1 given back",
            "order o-1 refunded", "points paid on order o-1 given back",
        ])
        #expect(ledger.filter { $0.kind == .earn }.allSatisfy { $0.rule != nil && $0.reason == nil })
        await #expect(throws: CheckoutError.invalidRefund("order 'o-1' is already fully refunded")) {
            try await fixture.engine.refund(orderID: "o-1", refundID: "r-3")
        }
    }

    @Test("a price that changed between quote and commit is refused when the caller says what it expects")
    func expectedTotal() async throws {
        let fixture = try EngineFixture(["rules/offers.lua": #"offer "one" { discount = amount_off(eur(5)), total_uses = 1 }"#])
        let basket = cart(("A", "x", 1, 2000))
        let quoted = try await fixture.engine.quote(request("anna", basket))
        _ = try await fixture.engine.commit(orderID: "o-ben", request("ben", basket))
        await #expect(throws: CheckoutError.priceChanged(expected: Money(minorUnits: 1500, currency: .eur), actual: Money(minorUnits: 2000, currency: .eur))) {
            try await fixture.engine.commit(orderID: "o-anna", request("anna", basket), expectedTotal: quoted.totalDue)
        }
        #expect(try await fixture.engine.customer("anna") == nil)
    }

    @Test("a refused commit leaves the lapses it ran scheduled: they run with the next operation")
    func refusedCommitKeepsLapses() async throws {
        let fixture = try EngineFixture([
            "rules/points.lua": #"earn "per-euro" { on = "purchase", points = function(e, c) return e.total // 100 end, expires = { days = 30 } }"#
        ])
        _ = try await fixture.engine.ingest(purchase("e-1", "anna", "2026-01-02T00:00:00Z", cents: 2000))
        fixture.clock.advance(to: at("2026-02-10T00:00:00Z"))
        // Anna's points expired on February 1st: the commit's evaluation runs that lapse first, then is refused.
        await #expect(throws: CheckoutError.self) {
            try await fixture.engine.commit(orderID: "o-ben", request("ben", cart(("A", "x", 1, 2000))), expectedTotal: 1)
        }
        #expect(try await fixture.engine.advance() == 1)
        #expect(await fixture.store.ledger(customerID: "anna").map(\.kind) == [.earn, .expire])
    }

    @Test("the same order id committed twice at once: one commit, the other gets its receipt")
    func concurrentSameOrderID() async throws {
        let fixture = try EngineFixture(["rules/offers.lua": #"offer "ten" { discount = percent_off(10) }"#])
        let order = request("anna", cart(("A1", "shoes", 2, 5000)))
        let results = await withTaskGroup(of: String.self) { group in
            for _ in 0..<2 {
                group.addTask {
                    do { return "new=\(try await fixture.engine.commit(orderID: "o-1", order).isNew)" } catch { return "\(error)" }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(results.sorted() == ["new=false", "new=true"])
        #expect(try await fixture.engine.customer("anna")?.orderCount == 1)
    }

    @Test("a retry of an order id with other coupons or points is a conflict, not the first receipt")
    func retryWithOtherCoupons() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": #"offer "w" { coupon = true, discount = amount_off(eur(1)) } coupon "W" { offer = "w", uses = 9 }"#
        ])
        _ = try await fixture.engine.commit(orderID: "o-1", request("anna", cart(("A", "x", 1, 1000))))
        await #expect(throws: CheckoutError.self) {
            try await fixture.engine.commit(orderID: "o-1", request("anna", cart(("A", "x", 1, 1000)), coupons: ["W"]))
        }
    }

    @Test("overlapping stackable offers are counted as far as the lines go when they compete with an exclusive one")
    func stackCountedAfterLineCaps() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "a" { discount = percent_off(80, { category = "shoes" }) }
            offer "b" { discount = percent_off(80, { category = "shoes" }) }
            offer "c" { discount = percent_off(70), exclusive = true }
            """
        ])
        let quote = try await fixture.engine.quote(request("x", cart(("S", "shoes", 1, 10000), ("T", "shirts", 1, 10000))))
        // The stack really gives 100 € (a line cannot go below zero); the exclusive offer gives 140 €.
        #expect(quote.applied.map(\.offer) == ["c"])
        #expect(quote.discount == 14000)
    }

    @Test("a partial refund keeps the referral reward pending; the referral discount has no budget to restore")
    func partialRefundKeepsReferral() async throws {
        let fixture = try EngineFixture([
            "rules/referral.lua": """
            referral { referee = { discount = percent_off(10) }, referrer = { points = 500, after_days = 14 } }
            """
        ])
        _ = try await fixture.engine.ingest(Event(id: "s-1", type: "signup", customerID: "anna", at: at("2026-01-01T00:00:00Z")))
        let code = try #require(try await fixture.engine.customer("anna")?.referralCode)
        _ = try await fixture.engine.commit(
            orderID: "o-ben", request("ben", cart(("A", "x", 1, 1000), ("B", "y", 1, 100)), referral: code))
        let refund = try await fixture.engine.refund(orderID: "o-ben", refundID: "r-1", lines: [RefundLine(line: 2, qty: 1)])
        #expect(!refund.referralCancelled)
        #expect(await fixture.store.usage(keys: ["offer/referral/discount"]).isEmpty)
        try await fixture.engine.advance(to: at("2026-01-16T00:00:00Z"))
        #expect(try await fixture.engine.customer("anna")?.pointsBalance == 500)
    }

    @Test("paying with points takes no more points than the value they pay")
    func pointsRounding() async throws {
        let fixture = try EngineFixture([
            "rules/points.lua": """
            earn "welcome" { on = "signup", points = 5000 }
            pay_with_points { points = 1000, worth = eur(1) }
            """
        ])
        _ = try await fixture.engine.ingest(Event(id: "s-1", type: "signup", customerID: "anna", at: at("2026-01-01T00:00:00Z")))
        let quote = try await fixture.engine.quote(request("anna", cart(("A", "x", 1, 2000)), points: 1005))
        #expect(quote.pointsValue == 100)
        #expect(quote.pointsToRedeem == 1000)
    }

    @Test("a points multiplier adds points on the share of the order it covers, quoted and then committed")
    func pointsMultiplier() async throws {
        let fixture = try EngineFixture([
            "rules/loyalty.lua": Self.loyalty,
            "rules/offers.lua": #"offer "double-outdoor" { discount = points_multiplier(2, { category = "outdoor" }) }"#,
        ])
        let basket = request("anna", cart(("TENT", "outdoor", 1, 5000), ("MUG", "kitchen", 1, 5000)))
        let quote = try await fixture.engine.quote(basket)
        // 100 points for 100 EUR; the outdoor half earns them twice: 50 more.
        #expect(quote.pointsToEarn == 150)
        #expect(quote.applied("double-outdoor")?.extraPoints == 50)
        #expect(quote.discount == 0)
        let receipt = try await fixture.engine.commit(orderID: "o-1", basket)
        #expect(receipt.pointsEarned == 150)
        #expect(try await fixture.engine.customer("anna")?.pointsBalance == 150)
        #expect(await fixture.store.ledger(customerID: "anna").compactMap(\.rule).sorted() == ["offer 'double-outdoor'", "points-per-euro"])
    }
}
