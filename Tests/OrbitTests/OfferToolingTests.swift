import Foundation
import Logging
import Testing

@testable import Orbit

/// The tooling for the checkout language: `.quote` and `.explain` of offers in the REPL, offer checks, and
/// `expect.quote` / `order` in rule tests.
@Suite("Offer tooling")
struct OfferToolingTests {
    static let offers = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/offers/rules").path
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Anna (gold after a 349 EUR coat in September, referral code ANNA10) and Cleo, as the offers example leaves them.
    private func console() async throws -> (RuleConsole, MemoryStore) {
        let store = MemoryStore()
        let engine = Engine(
            rules: try RuleSources(path: Self.offers).book(logger: logger), store: store,
            clock: ManualClock(at("2026-09-20T10:00:00Z")), logger: logger)
        _ = try await engine.ingest([
            Event(id: "s1", type: "signup", customerID: "anna", at: at("2026-09-01T09:00:00Z")),
            Event(id: "s2", type: "signup", customerID: "cleo", at: at("2026-09-05T09:00:00Z")),
        ])
        let coat = CheckoutRequest(
            customerID: "anna",
            cart: Cart(
                currency: Currency(code: "EUR")!,
                lines: [LineItem(sku: "COAT", category: "coats", quantity: 1, price: 34900)]))
        _ = try await engine.commit(orderID: "anna-1", coat)
        let console = try await RuleConsole(
            rules: Self.offers, store: store, now: at("2026-11-27T09:00:00Z"), logger: logger)
        return (console, store)
    }

    @Test(".quote prices a cart with every offer's reason and commits nothing")
    func quote() async throws {
        let (console, store) = try await console()
        let before = await store.totals()
        let output = await console.handle(
            #".quote {"customer":"anna","currency":"EUR","lines":[{"sku":"RUN-42","category":"shoes","qty":1,"price":12999}]}"#
        ).output
        #expect(
            output == """
                Quote for anna at 2026-11-27T09:00:00Z (EUR)
                  # sku            qty      price      total   discount        net
                  1 RUN-42           1     129.99     129.99      32.48      97.51
                Applied:
                  black-week               -25.99
                  gold-5                   -6.49
                Not applied:
                  socks-3-for-2            needs 3 items of category socks, the cart has 0
                  spend-and-save           group seasonal: offer 'black-week' saves more (25.99 EUR vs 10.00 EUR)
                  win-back                 needs a coupon
                Subtotal 129.99  discount 32.48  total 97.51  due 97.51 EUR  points to earn 97
                (a quote: nothing committed)
                """)
        #expect(await store.totals() == before)
        #expect(await console.handle(".quote {").output == "error: invalid request: not valid JSON")
        #expect(await console.handle(".quote").output.hasPrefix("error: usage: .quote {\"customer\""))
    }

    @Test(".explain CUSTOMER OFFER shows each condition with the values it saw, and the verdict")
    func explain() async throws {
        let (console, _) = try await console()
        _ = await console.handle(".at 2026-11-26T22:30:00Z")
        #expect(
            await console.handle(".explain anna black-week").output == """
                offer "black-week" for "anna" at 2026-11-26T22:30:00Z: not eligible
                  \(Self.offers)/black-week.lua:2  Black Week: 20 % off shoes
                  window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin: now 2026-11-26 23:30 there (not met)
                  currency EUR: the cart must be in EUR
                  per_customer 1: used 0 by this customer (met)
                  budget 5000.00 EUR: 0.00 EUR given, 5000.00 EUR left (met)
                  verdict: not eligible: outside the window
                """)
        #expect(
            await console.handle(".explain cleo gold-5").output.hasSuffix(
                """
                  tier gold or higher: customer is silver (not met)
                  verdict: not eligible: tier gold or higher
                """))
        #expect(
            await console.handle(".explain cleo win-back").output.contains(
                "coupon required: none this customer can use (not met)"))
        #expect(
            await console.handle(".explain anna black-wek").output
                == "error: no segment, tier, offer or handler named 'black-wek' (did you mean 'black-week'?)")
    }

    @Test("an eligible function is explained with the values it read")
    func explainFunction() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "orbit-offer-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try """
        offer "loyal" {
          eligible = function(c, cart) return c.order_count >= 2 and cart.subtotal >= 0 end,
          discount = percent_off(5),
        }
        """.write(to: directory.appendingPathComponent("o.lua"), atomically: true, encoding: .utf8)
        let (_, store) = try await console()
        let console = try await RuleConsole(
            rules: directory.path, store: store, now: at("2026-11-27T09:00:00Z"), logger: logger)
        let output = await console.handle(".explain anna loyal").output
        #expect(
            output.contains("  eligible(c, cart) with an empty cart returned false (not met)\n    c.order_count = 1"))
        #expect(
            output.hasSuffix(
                "verdict: not eligible: eligible() returned false (with an empty cart; .quote tries a cart)"))
    }

    @Test("Tab completes offer names")
    func completion() async throws {
        let (console, _) = try await console()
        #expect(console.completions(for: ".explain anna black") == ["black-week"])
        #expect(console.completions(for: "x = \"win") == ["win-back"])
        #expect(console.completions(for: ".quo") == ["quote"])
    }

    private func check(_ files: [(String, String)], now: Instant? = nil) throws -> [String] {
        try RuleChecker(logger: logger, now: now).check(files.map { (name: $0.0, source: $0.1) })
            .map { "\($0.file):\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" }
    }

    @Test("check: windows that end before they start and coupons declared twice, at their file and line")
    func loadErrors() throws {
        let inverted = """
            -- spring sale
            offer "spring" {
              window = { from = "2026-04-30 00:00", to = "2026-04-01 23:59", zone = "Europe/Berlin" },
              discount = percent_off(10),
            }
            """
        #expect(
            try check([("o.lua", inverted)]) == [
                "o.lua:2:1: error: offer: offer 'spring': window: window ends (2026-04-01 23:59) before it starts (2026-04-30 00:00)"
            ])
        let twice = """
            offer "welcome" { coupon = true, discount = amount_off(eur(5)) }
            coupon "HALLO5" { offer = "welcome" }
            coupon "HALLO5" { offer = "welcome", uses = 100 }
            """
        #expect(
            try check([("c.lua", twice)]) == [
                "c.lua:3:1: error: coupon: coupon 'HALLO5' is defined twice (first at c.lua:2)"
            ])
    }

    @Test("check: customer and cart fields inside offers; a coupon issued by a rule makes a coupon offer reachable")
    func offerNames() throws {
        let source = """
            offer "win-back" { coupon = true, discount = percent_off(15) }
            offer "big" {
              eligible = function(c, cart) return c.order_count > 0 and cart:hass{ category = "shoes" } end,
              discount = function(cart, c) return amount_off(cart.item_count > 2 and eur(10) or eur(5)) end,
            }
            on "inactive" { days = 75 } (function(c) send("email", "win-back", { code = issue_coupon{ offer = "win-back" } }) end)
            """
        #expect(
            try check([("o.lua", source)]) == [
                "o.lua:3:66: error: the cart has no field 'hass' (did you mean 'has'?)"
            ])
    }

    @Test("check: the offers example is clean before Black Week, and warns when it is over")
    func example() throws {
        let files = try RuleSources(path: Self.offers).files
        #expect(try RuleChecker(logger: logger, now: at("2026-11-01T00:00:00Z")).check(files).isEmpty)
        let after = try RuleChecker(logger: logger, now: at("2026-12-01T00:00:00+01:00")).check(files)
        #expect(
            after.map(\.message) == [
                "offer 'black-week': its window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin is over (now 2026-12-01 00:00 there): it can no longer apply"
            ])
    }

    @Test("orbit test: the offers example's tests pass")
    func exampleTests() async throws {
        let runner = RuleTestRunner(sources: try RuleSources(path: Self.offers), logger: logger)
        var results: [TestResult] = []
        for file in try RuleSources.testFiles(at: Self.offers) {
            results += await runner.run(testFile: file.name, source: file.source)
        }
        #expect(results.allSatisfy { $0.passed }, "\(results.flatMap(\.failures))")
        #expect(TestResult.summary(results) == "8 passed, 0 failed")
    }
}
