import Foundation
import LuaRuntime
import Testing

@testable import Orbit

func cart(_ lines: (sku: String, category: String, qty: Int64, price: Int64)...) -> Cart {
    Cart(currency: .eur, lines: lines.map { LineItem(sku: $0.sku, category: $0.category, quantity: $0.qty, price: $0.price) })
}

func request(_ customer: String, _ cart: Cart, coupons: [String] = [], points: Int64 = 0, referral: String? = nil)
    -> CheckoutRequest
{
    CheckoutRequest(customerID: customer, cart: cart, coupons: coupons, points: points, referralCode: referral)
}

extension Quote {
    func rejection(_ offer: String) -> OfferRejection? { notApplied.first { $0.offer == offer } }
    func applied(_ offer: String) -> AppliedOffer? { applied.first { $0.offer == offer } }
}

@Suite("Checkout: offers and quotes")
struct QuoteTests {
    static let shoes = cart(("A1", "shoes", 2, 4999), ("B1", "bags", 1, 3000))

    @Test("percent off matching lines: rounded down, spread over the lines, lines sum to the total")
    func percentOff() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "shoes-15" { discount = percent_off(15, { category = "shoes" }) }
            offer "everything-3" { discount = percent_off(3) }
            """
        ])
        let quote = try await fixture.engine.quote(request("c-1", cart(("A1", "shoes", 1, 3333), ("A2", "shoes", 1, 6667), ("B1", "bags", 1, 1001))))
        // shoes: 10000 × 15 % = 1500, spread 3333:6667 → 499.95/1000.05 → 500 and 1000 (largest remainder).
        let shoes = try #require(quote.applied("shoes-15"))
        #expect(shoes.discount == 1500)
        #expect(shoes.lines == [LineDiscount(line: 1, amount: 500), LineDiscount(line: 2, amount: 1000)])
        // everything: 11001 × 3 % = 330.03 → 330, spread 3333:6667:1001 → 99.99/200.01/30.03 → 100, 200, 30.
        let everything = try #require(quote.applied("everything-3"))
        #expect(everything.discount == 330)
        #expect(everything.lines.map(\.amount) == [100, 200, 30])
        #expect(quote.discount == 1830)
        #expect(quote.lines.map(\.discount).reduce(0, +) == quote.discount)
        #expect(quote.total == 11001 - 1830)
        #expect(quote.notApplied.isEmpty)
    }

    @Test("applied offers are made when first read: equality and JSON are the same read or not, and they can be set")
    func appliedOffersOnRead() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "shoes-15" { discount = percent_off(15, { category = "shoes" }) }
            offer "double-points" { discount = points_multiplier(2) }
            """
        ])
        let cart = Self.shoes
        let read = try await fixture.engine.quote(request("c-1", cart))
        #expect(read.applied.map(\.offer) == ["double-points", "shoes-15"])
        let unread = try await fixture.engine.quote(request("c-1", cart))
        #expect(unread == read)
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let json = try encoder.encode(try await fixture.engine.quote(request("c-1", cart)))
        #expect(json == (try encoder.encode(read)))
        #expect(try JSONDecoder().decode(Quote.self, from: json) == read)
        var changed = read
        changed.applied.removeAll { $0.offer == "shoes-15" }
        #expect(changed.applied.map(\.offer) == ["double-points"])
        #expect(changed != read)
        #expect(read.applied.count == 2)
    }

    @Test("amount off, thresholds, buy X get Y, free item: amounts and reasons when they do not apply")
    func discountKinds() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "bags-5" { discount = amount_off(eur(5), { category = "bags", min_subtotal = eur(50) }) }
            offer "ladder" { discount = best_of { amount_off(eur(5), { min_subtotal = eur(50) }), amount_off(eur(15), { min_subtotal = eur(100) }) } }
            offer "socks-3-for-2" { discount = buy_x_get_y { buy = 2, get = 1, category = "socks" } }
            offer "free-tote" { discount = free_item { sku = "TOTE" } }
            """
        ])
        let quote = try await fixture.engine.quote(
            request("c-1", cart(("S1", "socks", 2, 500), ("S2", "socks", 2, 400), ("TOTE", "gifts", 1, 990), ("B1", "bags", 1, 3000))))
        // subtotal 1000 + 800 + 990 + 3000 = 5790 → the 50 € step of the ladder.
        #expect(quote.applied("ladder")?.discount == 500)
        // 4 socks: one group of 3 → the cheapest unit (400) free.
        #expect(quote.applied("socks-3-for-2")?.lines == [LineDiscount(line: 2, amount: 400)])
        #expect(quote.applied("free-tote")?.discount == 990)
        let bags = try #require(quote.rejection("bags-5"))
        #expect(bags.reason == .noDiscount)
        #expect(bags.detail == "needs 50.00 EUR of category bags, the cart has 30.00 EUR")
    }

    @Test("windows are local to their zone, correct across the DST change, and explained in it")
    func windows() async throws {
        // 2026-03-29: Europe/Berlin springs from 02:00 CET (+01) to 03:00 CEST (+02).
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "spring" {
              window = { from = "2026-03-28 00:00", to = "2026-03-29 23:59", zone = "Europe/Berlin" },
              discount = percent_off(10),
            }
            """
        ])
        let window = try ZonedWindow(from: "2026-03-28 00:00", to: "2026-03-29 23:59", zone: "Europe/Berlin")
        #expect(window.from == at("2026-03-27T23:00:00Z"))
        #expect(window.through == at("2026-03-29T21:59:59.999Z"))
        let inside = try await fixture.engine.quote(request("c", Self.shoes), at: at("2026-03-29T21:59:00Z"))
        #expect(inside.applied("spring") != nil)
        let after = try await fixture.engine.quote(request("c", Self.shoes), at: at("2026-03-29T22:00:00Z"))
        #expect(after.rejection("spring")?.reason == .outsideWindow)
        #expect(
            after.rejection("spring")?.detail
                == "outside window 2026-03-28 00:00–2026-03-29 23:59 Europe/Berlin (now 2026-03-30 00:00)")
        let before = try await fixture.engine.quote(request("c", Self.shoes), at: at("2026-03-27T22:59:59Z"))
        #expect(before.rejection("spring")?.reason == .outsideWindow)
        // Autumn: 2026-10-25 03:00 CEST → 02:00 CET; a window ending at 02:30 ends at its first occurrence.
        let autumn = try ZonedWindow(from: "2026-10-25 00:00", to: "2026-10-25 02:30", zone: "Europe/Berlin")
        #expect(autumn.from == at("2026-10-24T22:00:00Z"))
        #expect(autumn.through == at("2026-10-25T00:30:59.999Z"))
        // A local time in the spring gap means the first instant after it.
        let gap = try ZonedWindow(from: "2026-03-29 02:30", to: "2026-03-29 04:00", zone: "Europe/Berlin")
        #expect(gap.from == at("2026-03-29T01:00:00Z"))
        #expect(throws: ZonedTimeError.self) { try ZonedWindow(from: "2026-11-30", to: "2026-11-27", zone: "Europe/Berlin") }
        #expect(throws: ZonedTimeError.self) { try ZonedWindow(from: "2026-11-27", to: "2026-11-30", zone: "Mars/Olympus") }
        #expect(throws: ZonedTimeError.self) { try ZonedWindow(from: "2026-02-30", to: "2026-03-01", zone: "Europe/Berlin") }
    }

    @Test("eligibility: segment, tier, first order, function with its own reason; each explained")
    func eligibility() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            segment "vip" { when = function(c) return c:spent{ days = 365 } >= eur(500) end }
            tiers { { name = "silver" }, { name = "gold", min_points = 1000 } }
            earn "points" { on = "purchase", points = function(e) return e.total // 100 end }
            offer "vip-10" { segment = "vip", discount = percent_off(10) }
            offer "gold-5" { tier = "gold", discount = percent_off(5) }
            offer "welcome" { first_order = true, discount = amount_off(eur(5)) }
            offer "big-carts" {
              eligible = function(c, cart)
                if cart.item_count < 5 then return false, "needs 5 items, cart has " .. cart.item_count end
                return true
              end,
              discount = amount_off(eur(1)),
            }
            """
        ])
        let quote = try await fixture.engine.quote(request("new", Self.shoes))
        #expect(quote.rejection("vip-10")?.detail == "not eligible: segment vip (customer is not in it)")
        #expect(quote.rejection("gold-5")?.detail == "not eligible: tier gold or higher (customer is in no tier)")
        #expect(quote.applied("welcome")?.discount == 500)
        #expect(quote.rejection("big-carts")?.detail == "not eligible: needs 5 items, cart has 3")
        _ = try await fixture.engine.ingest(purchase("e-1", "anna", "2026-01-01T10:00:00Z", cents: 120_000))
        let anna = try await fixture.engine.quote(request("anna", Self.shoes), at: at("2026-01-02T00:00:00Z"))
        #expect(anna.applied("vip-10") != nil)
        #expect(anna.applied("gold-5") != nil)
        #expect(anna.rejection("welcome")?.detail == "not eligible: first order only (customer has 1 orders)")
    }

    @Test("stacking: groups keep their best, the best exclusive competes with the stacked sum")
    func stacking() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "small" { discount = amount_off(eur(3)), group = "seasonal" }
            offer "large" { discount = amount_off(eur(8)), group = "seasonal" }
            offer "extra" { discount = amount_off(eur(4)) }
            offer "mega" { discount = amount_off(eur(11)), exclusive = true }
            offer "huge" { discount = amount_off(eur(20)), exclusive = true, tier = "gold" }
            tiers { { name = "silver" }, { name = "gold", min_points = 10 } }
            """
        ])
        let quote = try await fixture.engine.quote(request("c", Self.shoes))
        // stacked: large 8 + extra 4 = 12 > mega 11.
        #expect(quote.applied.map(\.offer).sorted() == ["extra", "large"])
        #expect(quote.rejection("small")?.reason == .beatenInGroup)
        #expect(quote.rejection("small")?.detail == "group seasonal: offer 'large' saves more (8.00 EUR vs 3.00 EUR)")
        #expect(quote.rejection("mega")?.reason == .stackedOffersSaveMore)
        #expect(quote.discount == 1200)
    }

    @Test("an exclusive offer that saves more than the stack wins alone")
    func exclusiveWins() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "a" { discount = amount_off(eur(3)) }
            offer "b" { discount = amount_off(eur(4)) }
            offer "black-week" { discount = percent_off(20), exclusive = true, priority = 10 }
            """
        ])
        let quote = try await fixture.engine.quote(request("c", Self.shoes))
        #expect(quote.applied.map(\.offer) == ["black-week"])
        #expect(quote.discount == 2599)  // 12998 × 20 % = 2599.6 → 2599
        #expect(
            quote.rejection("a")?.detail
                == "beaten by exclusive offer 'black-week' (saves 25.99 EUR, the stackable offers together 7.00 EUR)")
        #expect(quote.notApplied.map(\.offer) == ["a", "b"])
    }

    @Test("a discount function sees the cart; a big cart gets a budget that grows with it")
    func discountFunctionsScaleWithTheCart() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "every-third-line" {
              discount = function(cart, c)
                local skus = {}
                for i, line in ipairs(cart.lines) do
                  -- deliberately heavy work per line
                  local text = ""
                  for k = 1, 200 do text = line.sku .. k end
                  if i % 3 == 0 then skus[#skus + 1] = line.sku end
                end
                if #skus == 0 then return nil end
                return percent_off(10, { sku = skus })
              end,
            }
            """
        ], limits: LuaLimits(instructions: 200_000))
        let small = try await fixture.engine.quote(request("c", Cart(currency: .eur, lines: (1...3).map { LineItem(sku: "S\($0)", quantity: 1, price: 1000) })))
        #expect(small.applied("every-third-line")?.discount == 100)
        let big = Cart(currency: .eur, lines: (1...200).map { LineItem(sku: "S\($0)", quantity: 1, price: 1000) })
        let quote = try await fixture.engine.quote(request("c", big))
        #expect(quote.applied("every-third-line")?.discount == 6_600)
        #expect(quote.notApplied.isEmpty)
    }

    @Test("a rule that fails is reported for its offer; the quote goes on")
    func failingRule() async throws {
        let fixture = try EngineFixture([
            "rules/offers.lua": """
            offer "broken" {
              discount = function(cart) return cart.nope.x end,
            }
            offer "fine" { discount = amount_off(eur(1)) }
            """
        ])
        let quote = try await fixture.engine.quote(request("c", Self.shoes))
        #expect(quote.applied("fine") != nil)
        let broken = try #require(quote.rejection("broken"))
        #expect(broken.reason == .ruleFailed)
        #expect(broken.detail.contains("rules/offers.lua:2"))
        #expect(broken.detail.contains("nope"))
    }

    @Test("bad carts are refused with what, where and why")
    func badCarts() async throws {
        let fixture = try EngineFixture(["rules/offers.lua": #"offer "x" { discount = percent_off(10) }"#])
        await #expect(throws: CheckoutError.invalidCart("line 1 (sku A): qty must be a whole number from 1 to 1000000, got -1")) {
            try await fixture.engine.quote(request("c", cart(("A", "x", -1, 100))))
        }
        await #expect(throws: CheckoutError.invalidCart("line 2 (sku B): price must be minor units from 0 to 100000000000, got -5")) {
            try await fixture.engine.quote(request("c", cart(("A", "x", 1, 100), ("B", "x", 1, -5))))
        }
        await #expect(throws: CheckoutError.invalidCart("the cart has no lines")) {
            try await fixture.engine.quote(request("c", Cart(currency: .eur, lines: [])))
        }
        _ = try await fixture.engine.ingest(purchase("e-1", "c", "2026-01-01T10:00:00Z", cents: 100))
        await #expect(throws: CheckoutError.currencyMismatch("the cart is in USD, customer 'c' has orders in EUR")) {
            try await fixture.engine.quote(request("c", Cart(currency: .usd, lines: [LineItem(sku: "A", quantity: 1, price: 1)])))
        }
    }

    @Test("malformed offers fail to load with file:line and a hint")
    func malformedOffers() throws {
        func load(_ source: String) -> String {
            do {
                _ = try EngineFixture(["rules/bad.lua": source])
                return "loaded"
            } catch {
                return "\(error)"
            }
        }
        #expect(load(#"offer "x" { discount = percent_off(10), exlusive = true }"#).contains("rules/bad.lua:1"))
        #expect(load(#"offer "x" { discount = percent_off(10), exlusive = true }"#).contains("did you mean 'exclusive'"))
        #expect(load(#"offer "x" { discount = percent_off(150) }"#).contains("percent must be a number above 0 and at most 100"))
        #expect(load(#"offer "x" { discount = { kind = "percent_off" } }"#).contains("discount must be percent_off"))
        #expect(
            load(
                #"""
                offer "x" {
                  window = { from = "2026-11-30 00:00", to = "2026-11-27 23:59", zone = "Europe/Berlin" },
                  discount = percent_off(10),
                }
                """#
            ).contains("window ends (2026-11-27 23:59) before it starts (2026-11-30 00:00)"))
        #expect(load(#"offer "x" { segment = "vipp", discount = percent_off(10) }"#).contains("unknown segment 'vipp'"))
        #expect(load(#"coupon "SAVE" { offer = "nope" }"#).contains("rules/bad.lua:1: coupon 'SAVE': unknown offer 'nope'"))
    }
}
