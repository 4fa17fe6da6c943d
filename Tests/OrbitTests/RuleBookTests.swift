import Logging
import LuaRuntime
import Testing

@testable import Orbit

@Suite("The rule language")
struct RuleBookTests {
    private func load(_ files: [(String, String)]) throws -> RuleBook {
        try RuleBook(sources: files, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    private func loadError(_ source: String, file: String = "rules/x.lua") -> String? {
        do {
            _ = try load([(file, source)])
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test("definitions are collected with their names and order")
    func definitions() throws {
        let book = try load([
            ("rules/a.lua", #"segment "vip" { description = "big spenders", when = function(c) return true end }"#),
            ("rules/b.lua", """
                earn "per-euro" { on = "purchase", points = 1 }
                tiers { { name = "silver" }, { name = "gold", min_points = 10, multiplier = 1.5 } }
                on "purchase" (function(e, c) end)
                on "inactive" { days = 30 } (function(c) end)
                """),
        ])
        #expect(book.segmentNames == ["vip"])
        #expect(book.earnRuleNames == ["per-euro"])
        #expect(book.tierNames == ["silver", "gold"])
        #expect(book.handlerNames == ["on purchase (rules/b.lua:3)", "on inactive 30d (rules/b.lua:4)"])
    }

    @Test("a mistyped field gets a did-you-mean, at the rule's line")
    func unknownField() {
        let error = loadError("\nsegment \"vip\" {\n  wen = function(c) return true end,\n}")
        #expect(error == "rules/x.lua:2: segment 'vip': unknown field 'wen' (did you mean 'when'?)")
    }

    @Test("malformed definitions say what is wrong and where", arguments: [
        (#"segment "vip" {}"#,
         "rules/x.lua:1: segment 'vip' needs conditions: orders, spent, days_since_last_order, points, tagged "
            + "(spent = { at_least = eur(500), days = 365 }) or when = function(c) ... end"),
        (#"segment "vip" { spent = { at_leest = 5 } }"#,
         "rules/x.lua:1: segment 'vip': spent: unknown field 'at_leest' (did you mean 'at_least'?)"),
        (#"segment "vip" { points = { at_least = 5, days = 30 } }"#,
         "rules/x.lua:1: segment 'vip': points: unknown field 'days' (fields: at_least, at_most)"),
        (#"segment "vip" { orders = { days = 30 } }"#,
         "rules/x.lua:1: segment 'vip': orders needs at_least or at_most: orders = { at_least = 2, days = 365 }"),
        (#"segment "vip" { orders = { at_least = 3, at_most = 2 } }"#,
         "rules/x.lua:1: segment 'vip': orders: at_least 3 is above at_most 2: nobody can meet it"),
        (#"segment "vip" { spent = { at_least = 10.5 } }"#,
         "rules/x.lua:1: segment 'vip': spent: at_least must be a whole number of at least 0, got 10.5"),
        (#"segment "vip" { spent = 500 }"#,
         "rules/x.lua:1: segment 'vip': spent needs a table: spent = { at_least = 2, days = 365 }"),
        (#"tiers { { name = "silver" }, { min_points = 1000, mulitplier = 1.25 } }"#,
         "rules/x.lua:1: tier '#2': unknown field 'mulitplier' (did you mean 'multiplier'?)"),
        (#"tiers { { name = "silver" }, { min_points = 1000 } }"#, "rules/x.lua:1: tier #2 needs a name"),
        (#"tiers { { name = "gold", orders = { at_least = 1, days = 0 } } }"#,
         "rules/x.lua:1: tier 'gold': orders.days must be a whole number of days above 0, got 0"),
        (#"earn "x" { on = "purchase", points = 1.5 }"#,
         "rules/x.lua:1: earn 'x' needs points = <whole number>, points = { per = eur(1) } or points = function(e, c) ... end"),
        (#"earn "x" { on = "purchase", points = { per = 0 } }"#,
         "rules/x.lua:1: earn 'x': points.per must be a whole amount above 0 in cents, like eur(1)"),
        (#"earn "x" { on = "purchase", points = { pre = 100 } }"#,
         "rules/x.lua:1: earn 'x': points: unknown field 'pre' (did you mean 'per'?)"),
        (#"earn "x" { on = "purchase", points = { per = 100, tier_multiplier = "yes" } }"#,
         "rules/x.lua:1: earn 'x': points.tier_multiplier must be true or false"),
        (#"on "inactive" (function(c) end)"#,
         #"rules/x.lua:1: on "inactive" needs the number of days: on "inactive" { days = 90 } (function(c) ... end)"#),
        (#"on "inactive" { days = 0 } (function(c) end)"#,
         "rules/x.lua:1: on 'inactive': days must be a whole number of days above 0, got 0"),
        (#"on "purchase" { days = 3 } (function(e, c) end)"#,
         #"rules/x.lua:1: on "purchase": days is for on "inactive" { days = N } only"#),
        (#"on "purchase" { order = { at_most = 1 } } (function(e, c) end)"#,
         #"rules/x.lua:1: on "purchase": unknown field 'order' (did you mean 'orders'?)"#),
        (#"on "purchase" { tagged = { 3 } } (function(e, c) end)"#,
         "rules/x.lua:1: on 'purchase': tagged needs tags as text, got 3"),
        (#"on "purchase" { tagged = "vip" } (42)"#,
         #"rules/x.lua:1: on "purchase" { ... } needs a function: on "purchase" { ... } (function(e, c) ... end)"#),
        (#"on "purchase" { tagged = "vip" }"#,
         #"rules/x.lua:1: on "purchase" { ... } needs its function after the table: on "purchase" { ... } (function(e, c) ... end)"#),
        ("on \"inactive\" { days = 5 }\non \"purchase\" { tagged = \"vip\" } (function(e, c) end)",
         #"rules/x.lua:2: on: the on "inactive" { ... } needs its function after the table: on "inactive" { ... } (function(c) ... end) (at rules/x.lua:1)"#),
        (#"segment "s" { tagged = {} }"#,
         #"rules/x.lua:1: segment 's': tagged needs a tag or a list of tags: tagged = "winback""#),
        (#"tiers { { name = "a", min_points = 10 }, { name = "b", min_points = 5 } }"#,
         "rules/x.lua:1: tiers: tier 'b': min_points 5 is below the tier before it (10); list tiers lowest first"),
        ("segment \"a\" { when = function() end }\nsegment \"a\" { when = function() end }",
         "rules/x.lua:2: segment: segment 'a' is defined twice (first at rules/x.lua:1)"),
        (#"award(10)"#, "rules/x.lua:1: award: award() proposes an effect: call it inside an on \"...\" handler, not while rules load or in a segment, tier or earn condition"),
        ("local x = ", "rules/x.lua:1: unexpected symbol near <eof>"),
    ])
    func malformed(source: String, expected: String) {
        #expect(loadError(source) == expected)
    }

    @Test("points = { per = … }: a point per whole amount of the total, times the tier's multiplier in whole numbers")
    func pointsPerAmount() throws {
        let book = try load([
            ("rules/points.lua", """
                earn "per-euro" { on = "purchase", points = { per = eur(1) } }
                earn "per-ten" { on = "purchase", points = { per = eur(10), tier_multiplier = false } }
                earn "per-review" { on = "review", points = { per = eur(1) } }
                tiers { { name = "member" }, { name = "gold", min_points = 10, multiplier = 1.15 } }
                """)
        ])
        var customer = Customer(id: "c-1", signedUpAt: at("2026-01-01T00:00:00Z"))
        func points(_ event: Event) throws -> [String: Int64] {
            var points: [String: Int64] = [:]
            for proposed in try book.effects(of: event, for: customer, at: event.at) {
                if case .awardPoints(let value, _) = proposed.effect { points[proposed.rule] = value }
            }
            return points
        }
        let purchase = Event(
            id: "e-1", type: "purchase", customerID: "c-1", at: at("2026-01-02T00:00:00Z"),
            total: Money(minorUnits: 10_099, currency: .eur))
        customer.tier = "member"
        #expect(try points(purchase) == ["per-euro": 100, "per-ten": 10])
        // 100 × 1.15 is 114.99999999999999 in floating point; in thousandths it is 115.
        customer.tier = "gold"
        #expect(try points(purchase) == ["per-euro": 115, "per-ten": 10])
        let review = Event(id: "e-2", type: "review", customerID: "c-1", at: at("2026-01-02T00:00:00Z"))
        #expect(try points(review) == [:], "no total, no points")
    }

    @Test("a handler with conditions runs only for customers who meet them; segments can ask for tags")
    func handlerConditions() throws {
        let book = try load([
            ("rules/x.lua", """
                on "purchase" { orders = { at_most = 1 } } (function(e, c) award(100) end)
                on "purchase" { tagged = { "winback", "vip" } } (function(e, c) untag("winback") end)
                on "inactive" { days = 30, orders = { at_least = 2 } } (function(c) tag("lapsed-regular") end)
                segment "won-back" { tagged = "winback", orders = { at_least = 1 } }
                """)
        ])
        var customer = Customer(id: "c-1", signedUpAt: at("2026-01-01T00:00:00Z"))
        let now = at("2026-01-10T00:00:00Z")
        let purchase = Event(
            id: "e-1", type: "purchase", customerID: "c-1", at: now, total: Money(minorUnits: 500, currency: .eur))
        func order(_ index: Int) -> OrderSummary {
            OrderSummary(orderID: "o-\(index)", at: now, total: Money(minorUnits: 500, currency: .eur))
        }
        customer.orders = [order(1)]
        #expect(try book.effects(of: purchase, for: customer, at: now).map(\.rule) == ["on purchase (rules/x.lua:1)"])
        customer.orders.append(order(2))
        customer.tags = ["winback"]
        #expect(try book.effects(of: purchase, for: customer, at: now).isEmpty, "one of two tags is not enough")
        #expect(try book.segments(of: customer, at: now) == ["won-back"])
        customer.tags = ["winback", "vip"]
        #expect(try book.effects(of: purchase, for: customer, at: now).map(\.rule) == ["on purchase (rules/x.lua:2)"])
        let inactive = try #require(book.inactiveHandlers.first)
        #expect(try book.effects(ofInactive: inactive, for: customer, at: now).count == 1)
        customer.orders = [order(1)]
        #expect(try book.effects(ofInactive: inactive, for: customer, at: now).isEmpty)
        #expect(try book.effects(of: purchase, for: customer, at: now).count == 2, "the first order, still tagged")
    }

    @Test("a rule's runtime error names the file, the line and the rule")
    func runtimeErrorNamesRule() throws {
        let book = try load([("rules/vip.lua", "segment \"vip\" {\n  when = function(c) return c.spend > 1 end,\n}")])
        let customer = Customer(id: "c", signedUpAt: at("2026-01-01T00:00:00Z"))
        #expect(throws: RuleError.self) { try book.segments(of: customer, at: at("2026-01-02T00:00:00Z")) }
        do {
            _ = try book.segments(of: customer, at: at("2026-01-02T00:00:00Z"))
        } catch {
            #expect("\(error)" == "rules/vip.lua:2: in segment 'vip': customer has no field 'spend'")
        }
    }

    @Test("set() refuses values JSON cannot hold, so a store never meets them")
    func setRefusesNonFiniteNumbers() async throws {
        let fixture = try EngineFixture(["rules/set.lua": #"on "visit" (function(e, c) set("ratio", 0/0) end)"#])
        let outcome = try await fixture.engine.ingest(
            Event(id: "v", type: "visit", customerID: "c", at: at("2026-01-01T00:00:00Z")))
        guard case .rejected(let reason) = outcome.status else {
            Issue.record("expected a rejection")
            return
        }
        #expect(reason.hasSuffix("bad argument #2 to 'set' (a value JSON can hold expected)"))
    }

    @Test("eur() turns euros into cents exactly")
    func eur() throws {
        let book = try load([])
        #expect(try book.lua.run("return eur(500), eur(49.99), eur(0.1) + eur(0.2)", chunkName: "e.lua") == [50000, 4999, 30])
    }
}
