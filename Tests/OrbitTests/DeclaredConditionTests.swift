import Foundation
import Logging
import Testing

@testable import Orbit

/// Segments and tiers declared as conditions (`spent = { at_least = eur(500), days = 365 }`) instead of `when`.
@Suite("Declared segment and tier conditions")
struct DeclaredConditionTests {
    private func load(_ source: String) throws -> RuleBook {
        try RuleBook(
            sources: [("rules/x.lua", source)], logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
    }

    private static let start = Instant(iso8601: "2026-01-01T00:00:00Z")!

    /// A customer with an order of `amounts[i]` cents on each day of `days[i]` after the start.
    private static func customer(_ id: String, orders: [(day: Int, cents: Int64)], points: Int64 = 0) -> Customer {
        var customer = Customer(id: id, signedUpAt: start)
        let euro = Currency(code: "EUR")!
        for (index, order) in orders.enumerated() {
            customer.orders.append(
                OrderSummary(
                    orderID: "\(id)-\(index)", at: start.adding(days: order.day),
                    total: Money(minorUnits: order.cents, currency: euro)))
        }
        if points > 0 { customer.wallet.add(PointsBatch(entryID: "\(id)-p", remaining: points, expiresAt: nil)) }
        return customer
    }

    @Test("declared conditions give the same tiers and segments as the same conditions written as when functions")
    func sameAsWhen() throws {
        let declared = try load(
            """
            segment "vip" { spent = { at_least = eur(500), days = 365 } }
            segment "at-risk" { orders = { at_least = 2 }, days_since_last_order = { at_least = 61 } }
            segment "one-timer" { orders = { at_least = 1, at_most = 1 }, days_since_last_order = { at_least = 31 } }
            segment "recent-few" { orders = { at_most = 2, days = 90 }, spent = { at_least = 1 } }
            segment "saver" { points = { at_least = 100, at_most = 500 } }
            tiers {
              { name = "silver" },
              { name = "gold", orders = { at_least = 3 } },
              { name = "platinum", spent = { at_least = eur(2000), days = 365 } },
            }
            """)
        let written = try load(
            """
            segment "vip" { when = function(c) return c:spent{ days = 365 } >= eur(500) end }
            segment "at-risk" { when = function(c) return c.order_count >= 2 and (c.days_since_last_order or 0) >= 61 end }
            segment "one-timer" { when = function(c) return c.order_count == 1 and (c.days_since_last_order or 0) >= 31 end }
            segment "recent-few" { when = function(c) return c:orders{ days = 90 } <= 2 and c.lifetime_spend >= 1 end }
            segment "saver" { when = function(c) return c.points >= 100 and c.points <= 500 end }
            tiers {
              { name = "silver" },
              { name = "gold", when = function(c) return c.order_count >= 3 end },
              { name = "platinum", when = function(c) return c:spent{ days = 365 } >= eur(2000) end },
            }
            """)
        let customers = [
            Self.customer("none", orders: []),
            Self.customer("one-recent", orders: [(0, 4999)]),
            Self.customer("two", orders: [(0, 30000), (20, 25000)]),
            Self.customer("big", orders: [(0, 150_000), (100, 60_000), (200, 1000)], points: 300),
            Self.customer("old-big", orders: [(0, 300_000)], points: 800),
            Self.customer("many", orders: (0..<8).map { ($0 * 15, 9000) }, points: 100),
        ]
        var memberships = 0
        for customer in customers {
            for day in [0, 10, 30, 31, 60, 61, 89, 120, 200, 364, 365, 366, 500] {
                let now = Self.start.adding(days: day)
                guard customer.lastOrderAt.map({ $0 <= now }) ?? true else { continue }
                let expected = try written.standing(of: customer, at: now)
                let found = try declared.standing(of: customer, at: now)
                #expect(found.tier == expected.tier, "\(customer.id) on day \(day)")
                #expect(found.segments == expected.segments, "\(customer.id) on day \(day)")
                memberships += found.segments.count
            }
        }
        #expect(memberships > 20)  // the customers and days above reach every segment, not only "not a member"
    }

    @Test("days since the last order: a customer without orders meets no bound on it, at most included")
    func noOrders() throws {
        let book = try load(#"segment "quiet" { days_since_last_order = { at_most = 1000 } }"#)
        #expect(try book.segments(of: Self.customer("none", orders: []), at: Self.start.adding(days: 5)).isEmpty)
        #expect(
            try book.segments(of: Self.customer("one", orders: [(0, 100)]), at: Self.start.adding(days: 5)) == ["quiet"])
    }

    @Test("with conditions and when, when is asked only of customers who meet the conditions")
    func whenAfterConditions() throws {
        // This when fails for a customer without orders (nil > 5); the condition keeps them from reaching it.
        let book = try load(
            #"segment "lapsed" { orders = { at_least = 1 }, when = function(c) return c.days_since_last_order > 5 end }"#)
        let now = Self.start.adding(days: 10)
        #expect(try book.segments(of: Self.customer("none", orders: []), at: now).isEmpty)
        #expect(try book.segments(of: Self.customer("one", orders: [(0, 100)]), at: now) == ["lapsed"])
        #expect(try book.segments(of: Self.customer("fresh", orders: [(9, 100)]), at: now).isEmpty)
    }

    @Test(".explain shows each declared condition with the customer's value, and does not call when after a miss")
    func explanation() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orbit-declared-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        try #"segment "lapsed" { orders = { at_least = 1 }, when = function(c) return c.days_since_last_order > 5 end }"#
            .write(to: directory.appendingPathComponent("segments.lua"), atomically: true, encoding: .utf8)
        let store = MemoryStore()
        try await store.apply([
            EventCommit(
                eventID: "s", eventType: "signup", customerID: "new", at: Self.start,
                customer: Self.customer("new", orders: [])),
            EventCommit(
                eventID: "p", eventType: "purchase", customerID: "old", at: Self.start,
                customer: Self.customer("old", orders: [(0, 100)])),
        ])
        let console = try await RuleConsole(
            rules: directory.path, store: store, now: Self.start.adding(days: 10),
            logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        #expect(
            await console.handle(".explain new lapsed").output == """
                segment "lapsed" for "new" at 2026-01-11T00:00:00Z: not a member
                  \(directory.path)/segments.lua:1
                  orders = 0 (at least 1: not met)
                  when(c) not called: a condition above is not met
                """)
        #expect(
            await console.handle(".explain old lapsed").output == """
                segment "lapsed" for "old" at 2026-01-11T00:00:00Z: member
                  \(directory.path)/segments.lua:1
                  orders = 1 (at least 1: met)
                  c.days_since_last_order = 10
                  when(c) returned true
                """)
    }

    @Test("a tier with declared conditions after one asking as many points is reachable for orbit check")
    func checkedTiers() throws {
        let source = """
            tiers {
              { name = "silver" },
              { name = "platinum", spent = { at_least = eur(2000), days = 365 } },
            }
            """
        let checker = RuleChecker(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        let diagnostics = try checker.check([(name: "rules/tiers.lua", source: source)])
        #expect(diagnostics.isEmpty, "\(diagnostics)")
    }
}
