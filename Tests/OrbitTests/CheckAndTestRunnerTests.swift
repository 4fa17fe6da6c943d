import Foundation
import Logging
import Testing

@testable import Orbit

@Suite("orbit check")
struct RuleCheckerTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    private func check(_ files: [(String, String)]) throws -> [String] {
        try RuleChecker(logger: logger).check(files.map { (name: $0.0, source: $0.1) })
            .map { "\($0.file):\($0.line):\($0.column): \($0.severity.rawValue): \($0.message)" }
    }

    @Test("the loyalty example is clean")
    func example() throws {
        let sources = try RuleSources(path: ConsoleTests.loyalty)
        #expect(try RuleChecker(logger: logger).check(sources.files).isEmpty)
    }

    @Test("unknown globals, with scopes: locals, parameters, loop variables and file globals are known")
    func names() throws {
        let source = """
            local bonus = 100
            limit = eur(50)
            local function helper(x) return x + bonus end
            on "purchase" (function(e, c)
              for index, item in ipairs(e.items or {}) do tag(item.sku .. index) end
              if e.total > limit then awrad(helper(1)) end
              local t = { award = 1, taag = 2 }
              print(string.format("%d", t.award), undefined_thing)
            end)
            """
        #expect(
            try check([("r.lua", source)]) == [
                "r.lua:6:27: error: unknown name 'awrad' (did you mean 'award'?)",
                "r.lua:8:39: error: unknown name 'undefined_thing'",
            ])
    }

    @Test("customer fields are checked where a form passes the customer; other tables are not")
    func customerFields() throws {
        let source = """
            segment "vip" { when = function(c) return c:spnt{ days = 365 } > 0 and c.order_count > 1 end }
            earn "p" { on = "purchase", points = function(e, customer) return e.totl + customer.pionts end }
            on "inactive" { days = 30 } (function(k) if k.consent.email then tag(k.nme) end end)
            tiers { { name = "a" }, { name = "b", when = function(c) return c:has_tag("x") end } }
            """
        #expect(
            try check([("r.lua", source)]) == [
                "r.lua:1:45: error: the customer has no field 'spnt' (did you mean 'spent'?)",
                "r.lua:2:85: error: the customer has no field 'pionts' (did you mean 'points'?)",
                "r.lua:3:72: error: the customer has no field 'nme'",
            ])
    }

    @Test("syntax errors point at the token Lua names; the other files are still checked")
    func syntax() throws {
        #expect(
            try check([("a.lua", "on \"signup\" (function(e, c)\n  award(100\nend)\n"), ("b.lua", "tga(\"x\")\n")]) == [
                "a.lua:3:1: error: ')' expected (to close '(' at line 2) near 'end'",
                "b.lua:1:1: error: unknown name 'tga' (did you mean 'tag'?)",
            ])
    }

    @Test("duplicate names, unreachable and overlapping tiers, event types that look like typos")
    func semantics() throws {
        #expect(
            try check([
                ("a.lua", "segment \"x\" { when = function(c) return true end }"),
                ("b.lua", "segment \"x\" { when = function(c) return false end }"),
            ])
                == ["b.lua:1:1: error: segment: segment 'x' is defined twice (first at a.lua:1)"])
        let tiers = """
            tiers {
              { name = "silver" },
              { name = "gold", min_points = 1000 },
              { name = "gold-plus", min_points = 1000, when = function(c) return c:spent() > 0 end },
              { name = "platinum", min_points = 1000 },
            }
            on "purchse" (function(e, c) end)
            """
        #expect(
            try check([("t.lua", tiers)]) == [
                "t.lua:3:12: error: tier 'gold' can never be reached: 'platinum' comes after it and needs no more (min_points 1000)",
                "t.lua:4:12: error: tier 'gold-plus' can never be reached: 'platinum' comes after it and needs no more (min_points 1000)",
                "t.lua:7:4: warning: unknown event type 'purchse' (did you mean 'purchase'?); custom types are fine when the shop sends them",
            ])
    }

    @Test("a purchase handler whose conditions no purchase meets is an error")
    func impossiblePurchaseConditions() throws {
        let handlers = """
            on "purchase" { orders = { at_most = 0 } } (function(e, c) end)
            on "purchase" {
              days_since_last_order = { at_least = 30 },
            } (function(e, c) end)
            on "purchase" { orders = { at_most = 1 }, days_since_last_order = { at_most = 0 } } (function(e, c) end)
            on "inactive" { days = 30, days_since_last_order = { at_least = 30 } } (function(c) end)
            """
        #expect(
            try check([("h.lua", handlers)]) == [
                "h.lua:1:17: error: on purchase (h.lua:1) can never run: orders at most 0: the purchase is counted before handlers run",
                "h.lua:3:3: error: on purchase (h.lua:2) can never run: days_since_last_order at least 30: the purchase is the "
                    + "last order (0 days); tag customers when they lapse (on \"inactive\") and ask for the tag",
            ])
    }

    @Test("a diagnostic renders with its source line and a caret")
    func rendering() {
        let diagnostic = Diagnostic(.error, file: "r.lua", line: 2, column: 5, "unknown name 'x'")
        #expect(diagnostic.rendered(source: "a\nb = x\n") == "r.lua:2:5: error: unknown name 'x'\nb = x\n    ^")
    }
}

@Suite("orbit test runner")
struct RuleTestRunnerTests {
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    @Test("the loyalty example's tests pass")
    func example() async throws {
        let sources = try RuleSources(path: ConsoleTests.loyalty)
        let runner = RuleTestRunner(sources: sources, logger: logger)
        var results: [TestResult] = []
        for file in try RuleSources.testFiles(at: ConsoleTests.loyalty) {
            results += await runner.run(testFile: file.name, source: file.source)
        }
        #expect(results.allSatisfy { $0.passed }, "\(results.flatMap(\.failures))")
        #expect(TestResult.summary(results) == "8 passed, 0 failed")
    }

    @Test("failures say expected and actual with file and line; every failing step is reported")
    func failures() async throws {
        let sources = RuleSources(files: [
            ("rules/p.lua", #"earn "p" { on = "purchase", points = function(e) return e.total // 100 end }"#)
        ])
        let test = """
            test "passes" (function()
              event{ type = "purchase", customer = "anna", total = eur(10) }
              expect.points("anna", 10)
            end)

            test "fails twice" (function()
              event{ type = "purchase", customer = "anna", total = eur(10) }
              expect.points("anna", 11)
              expect.effect{ kind = "tag" }
              expect.segment("anna", "vip")
            end)

            test "typo" (function() expect.pionts("anna", 1) end)
            """
        let results = await RuleTestRunner(sources: sources, logger: logger).run(
            testFile: "rules/p_test.lua", source: test)
        #expect(results.map(\.name) == ["passes", "fails twice", "typo"])
        #expect(results[0].passed)
        #expect(
            results[1].failures == [
                #"rules/p_test.lua:8: expect.points("anna", 11): expected 11 points, got 10"#,
                #"rules/p_test.lua:9: expect.effect{kind = "tag"}: no such effect; the last event had: award 10 points (p)"#,
                #"rules/p_test.lua:10: expect.segment("anna", "vip"): unknown segment 'vip'"#,
            ])
        #expect(
            results[2].failures == ["rules/p_test.lua:13: unknown expectation 'expect.pionts' (did you mean 'points'?)"]
        )
        #expect(TestResult.summary(results) == "1 passed, 2 failed")
    }
}
