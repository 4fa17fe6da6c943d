import Foundation
import Logging
import Testing

@testable import Orbit

/// The engine of `orbit repl`, driven line by line.
@Suite("REPL console")
struct ConsoleTests {
    static let loyalty = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/loyalty/rules").path
    let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })

    /// A store with anna (two orders, 510 EUR) and ben (one order), as the engine leaves them.
    private func store() async throws -> MemoryStore {
        let store = MemoryStore()
        let engine = Engine(
            rules: try RuleSources(path: Self.loyalty).book(logger: logger), store: store,
            clock: ManualClock(at("2026-03-01T00:00:00Z")), logger: logger)
        _ = try await engine.ingest([
            purchase("e1", "anna", "2026-02-01T10:00:00Z", cents: 45000),
            purchase("e2", "anna", "2026-02-20T10:00:00Z", cents: 6000),
            purchase("e3", "ben", "2026-02-21T10:00:00Z", cents: 2500),
        ])
        return store
    }

    /// A new empty directory for rule files; the caller removes it.
    private static func rulesDirectory() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orbit-console-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return directory
    }

    private func console(_ store: MemoryStore? = nil, rules: String? = ConsoleTests.loyalty) async throws -> RuleConsole
    {
        let store = if let store { store } else { try await self.store() }
        return try await RuleConsole(rules: rules, store: store, now: at("2026-03-01T12:00:00Z"), logger: logger)
    }

    @Test("expressions show their value; globals persist; tables are rendered as Lua")
    func expressions() async throws {
        let console = try await console()
        #expect(await console.handle("eur(49.99)").output == "4999")
        #expect(await console.handle("limit = eur(500)").output == "")
        #expect(await console.handle("limit // 100, 'x'").output == "500\t\"x\"")
        #expect(await console.handle("{ 1, 2, name = 'vip' }").output == "{ [1] = 1, [2] = 2, name = \"vip\" }")
        #expect(await console.handle("{ 'a', 'b' }").output == "{ \"a\", \"b\" }")
        let long = await console.handle("{ first = string.rep('x', 40), second = string.rep('y', 40) }").output
        #expect(
            long
                == "{\n  first = \"\(String(repeating: "x", count: 40))\",\n  second = \"\(String(repeating: "y", count: 40))\",\n}"
        )
    }

    @Test("an incomplete statement asks for more lines")
    func multiLine() async throws {
        let console = try await console()
        #expect(await console.handle("function double(x)") == RuleConsole.Reply(output: "", needsMore: true))
        #expect(console.prompt == "...> ")
        #expect(await console.handle("  return x * 2").needsMore)
        #expect(await console.handle("end") == RuleConsole.Reply(output: "", needsMore: false))
        #expect(await console.handle("double(21)").output == "42")
        #expect(console.prompt == "orbit> ")
    }

    @Test("no error ends the session")
    func errors() async throws {
        let console = try await console()
        #expect(await console.handle("error('boom')").output == "error: stdin:1: boom")
        #expect(await console.handle("while true do end").output.contains("instruction limit"))
        #expect(await console.handle("x = = 1").output.hasPrefix("error: stdin:1:"))
        #expect(await console.handle("award(10)").output.contains("inside an on"))
        #expect(await console.handle(".nope").output == "error: unknown command '.nope'; .help lists them")
        #expect(await console.handle(".segmnt vip").output.contains("did you mean 'segment'?"))
        #expect(await console.handle(".explain anna").output == "error: usage: .explain CUSTOMER NAME")
        #expect(await console.handle(".customer nobody").output == "error: no customer 'nobody' in the store")
        #expect(await console.handle(".simulate {").output.hasPrefix("error: malformed JSON"))
        #expect(await console.handle("1 + 1").output == "2")
    }

    @Test(".customer binds c; customer(id) returns the view rules see")
    func customers() async throws {
        let console = try await console()
        let shown = await console.handle(".customer anna").output
        #expect(shown.hasPrefix("customer \"anna\" at 2026-03-01T12:00:00Z (now bound to c)"))
        #expect(shown.contains("  order_count            2"))
        #expect(shown.hasSuffix("  segments               vip"))
        #expect(await console.handle("c:spent{ days = 365 }").output == "51000")
        #expect(await console.handle("customer('ben').order_count").output == "1")
        #expect(await console.handle("c").output == "customer \"anna\"")
    }

    @Test(".segment counts members; .explain shows every value the condition read")
    func segmentsAndExplain() async throws {
        let console = try await console()
        #expect(
            await console.handle(".segment vip").output
                == "segment \"vip\": 1 of 2 customer(s) at 2026-03-01T12:00:00Z\n  anna")
        let explanation = await console.handle(".explain ben vip").output
        #expect(
            explanation == """
                segment "vip" for "ben" at 2026-03-01T12:00:00Z: not a member
                  \(Self.loyalty)/segments.lua:4  Spent 500 EUR or more in the last year
                  spent in the last 365 days = 2500 (at least 50000: not met)
                """)
        let tier = await console.handle(".explain anna gold").output
        #expect(tier.contains("min_points 1000: points earned 610 (not met)"))
        let platinum = await console.handle(".explain anna platinum").output
        #expect(platinum.contains("\n  spent in the last 365 days = 51000 (at least 200000: not met)\n  qualifies: no"))
        #expect(
            await console.handle(".explain anna vp").output
                == "error: no segment, tier, offer or handler named 'vp' (did you mean 'vip'?)")
    }

    @Test(".simulate shows the effects and commits nothing")
    func simulate() async throws {
        let store = try await store()
        let console = try await console(store)
        let before = await store.totals()
        let output = await console.handle(#".simulate {"type": "purchase", "customer": "ben", "total": 50000}"#).output
        #expect(
            output == """
                purchase for "ben" at 2026-03-01T12:00:00Z (simulated, nothing stored)
                  award 500 points  (points-per-euro)
                  points 125 → 625
                  enters segment "vip"
                """)
        #expect(await store.totals() == before)
        #expect(await store.customer("ben")?.pointsBalance == 125)
    }

    @Test(".explain shows the tier and consent tables a condition read, with their contents")
    func explainSharedTables() async throws {
        let directory = try Self.rulesDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"""
            tiers { { name = "silver" } }
            segment "reachable" { when = function(c) return c.tier.name == "silver" and c.consent.email end }
            """#.write(to: directory.appendingPathComponent("segments.lua"), atomically: true, encoding: .utf8)
        let console = try await console(try await store(), rules: directory.path)
        let explanation = await console.handle(".explain anna reachable").output
        #expect(explanation.contains("\n  c.tier = {multiplier = 1.0, name = \"silver\"}\n"))
        #expect(explanation.contains("\n  c.consent = {email = false, push = false, sms = false, whatsapp = false}\n"))
    }

    @Test(".rules lists every rule with its place, and a handler's conditions")
    func ruleListing() async throws {
        let console = try await console(try await store())
        let listing = await console.handle(".rules").output.split(separator: "\n").map(String.init)
        #expect(listing.contains { $0.hasPrefix("on purchase (") && $0.hasSuffix("welcome.lua:10)  for orders at most 1") })
        #expect(listing.contains { $0.hasPrefix("on purchase (") && $0.hasSuffix("winback.lua:10)  for tagged winback") })
        #expect(listing.contains { $0.hasPrefix("on inactive 90d (") && $0.hasSuffix("winback.lua:2)") })
    }

    @Test(".explain tells whether a handler, named by its place, would run for a customer, condition by condition")
    func explainHandler() async throws {
        let console = try await console(try await store())
        let output = await console.handle(".explain anna winback.lua:10").output
        #expect(output.hasPrefix("on purchase ("))
        #expect(output.contains("winback.lua:10) for \"anna\" at 2026-03-01T12:00:00Z: would not run\n  tagged winback (not met)"))
        let unconditioned = await console.handle(".explain anna winback.lua:2").output
        #expect(unconditioned.hasSuffix("would run\n  no conditions: it runs for every inactive event"))
        let unknown = await console.handle(".explain anna winback.lua:11").output
        #expect(unknown.hasPrefix("error: no segment, tier, offer or handler named 'winback.lua:11'"))
    }

    @Test(".reload keeps the old rules when a file is broken")
    func reload() async throws {
        let directory = try Self.rulesDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("segments.lua")
        try #"segment "big" { when = function(c) return c.order_count >= 2 end }"#.write(
            to: file, atomically: true, encoding: .utf8)
        let store = try await store()
        let console = try await console(store, rules: directory.path)
        #expect(await console.handle(".segment big").output.hasPrefix("segment \"big\": 1 of 2"))
        try #"segment "big" { when = function(c) return c.order_count >= 2 end"#.write(
            to: file, atomically: true, encoding: .utf8)
        let failed = await console.handle(".reload").output
        #expect(failed.hasPrefix("error: \(file.path):1:"))
        #expect(failed.hasSuffix("kept the rules loaded before"))
        #expect(await console.handle(".segment big").output.hasPrefix("segment \"big\": 1 of 2"))
        try #"segment "small" { when = function(c) return c.order_count == 1 end }"#.write(
            to: file, atomically: true, encoding: .utf8)
        #expect(await console.handle(".reload").output.hasPrefix("loaded 1 file(s): 1 segment(s)"))
        #expect(await console.handle(".segment small").output.hasSuffix("\n  ben"))
        // Another process writes to the store: .reload reads the customers again.
        let engine = Engine(
            rules: try RuleSources(path: directory.path).book(logger: logger), store: store,
            clock: ManualClock(at("2026-03-01T00:00:00Z")), logger: logger)
        _ = try await engine.ingest(purchase("e4", "cleo", "2026-02-25T10:00:00Z", cents: 1000))
        #expect(await console.handle(".segment small").output.hasSuffix("\n  ben"))
        _ = await console.handle(".reload")
        #expect(await console.handle(".segment small").output.hasSuffix("\n  ben, cleo"))
    }

    @Test("completion offers commands, API names, rule names and customer fields")
    func completion() async throws {
        let console = try await console()
        #expect(console.completions(for: ".se") == ["segment"])
        #expect(console.completions(for: "aw") == ["award"])
        #expect(console.completions(for: "c:sp") == ["spent"])
        #expect(console.completions(for: "c.days_") == ["days_since_last_order", "days_since_signup"])
        #expect(console.completions(for: ".explain anna pl") == ["platinum"])
        #expect(console.completions(for: "c:in_segment(\"at") == ["at-risk"])
        _ = await console.handle("winback_days = 90")
        #expect(console.completions(for: "winb") == ["winback_days"])
    }
}
