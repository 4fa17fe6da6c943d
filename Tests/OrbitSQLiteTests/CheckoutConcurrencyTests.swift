import Foundation
import Logging
import Orbit
import OrbitSQLite
import Testing

/// Two engines (as two processes would) over one real SQLite file, committing at once against the last use of a
/// coupon and the last euros of a budget.
@Suite("Checkout under concurrency on a SQLite file")
struct CheckoutConcurrencyTests {
    static let rules = """
        offer "budgeted" { discount = amount_off(eur(4)), budget = eur(10) }
        offer "once" { coupon = true, discount = amount_off(eur(1)) }
        coupon "LAST" { offer = "once", uses = 1 }
        """

    static func engines(at path: String) throws -> [Engine] {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let clock = ManualClock(Instant(iso8601: "2026-11-27T10:00:00Z")!)
        return try (0..<2).map { _ in
            Engine(
                rules: try RuleBook(sources: [("rules/offers.lua", rules)], logger: logger),
                store: try SQLiteStore(path: path), clock: clock, logger: logger)
        }
    }

    static func basket(_ customer: String, coupons: [String] = []) -> CheckoutRequest {
        CheckoutRequest(
            customerID: customer, cart: Cart(currency: .eur, lines: [LineItem(sku: "A", quantity: 1, price: 2000)]),
            coupons: coupons)
    }

    @Test("the budget is never overspent: 24 orders at once spend exactly 10 €")
    func budget() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let engines = try Self.engines(at: path)
            let receipts = try await withThrowingTaskGroup(of: OrderReceipt.self) { group in
                for number in 0..<24 {
                    group.addTask {
                        try await engines[number % 2].commit(orderID: "o-\(number)", Self.basket("c-\(number)"))
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let discounts = receipts.map { $0.quote.applied.first { $0.offer == "budgeted" }?.discount ?? 0 }
            #expect(discounts.reduce(0, +) == 1000)
            #expect(discounts.filter { $0 > 0 }.sorted() == [200, 400, 400])
            let store = try SQLiteStore(path: path)
            #expect(try await store.usage(keys: ["offer/budgeted/discount"]) == ["offer/budgeted/discount": 1000])
            #expect(try await store.totals().customers == 24)
        }
    }

    @Test("the last use of a coupon goes to exactly one of 12 orders; the others are refused and change nothing")
    func lastCouponUse() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let engines = try Self.engines(at: path)
            let outcomes = await withTaskGroup(of: Bool.self) { group in
                for number in 0..<12 {
                    group.addTask {
                        do {
                            _ = try await engines[number % 2].commit(
                                orderID: "o-\(number)", Self.basket("c-\(number)", coupons: ["LAST"]))
                            return true
                        } catch let error as CheckoutError {
                            guard case .couponRejected(code: "LAST", _) = error else { return false }
                            return false
                        } catch {
                            Issue.record("unexpected \(error)")
                            return false
                        }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.filter { $0 }.count == 1)
            let store = try SQLiteStore(path: path)
            #expect(try await store.usage(keys: ["coupon/LAST/uses"]) == ["coupon/LAST/uses": 1])
            #expect(try await store.totals().customers == 1)
        }
    }

    @Test("the same order id at once on two engines: one commits, the other gets its receipt")
    func sameOrderTwoEngines() async throws {
        try await withTemporaryDirectory { directory in
            let engines = try Self.engines(at: databasePath(in: directory))
            let basket = Self.basket("anna")
            let results = await withTaskGroup(of: String.self) { group in
                for engine in engines {
                    group.addTask {
                        do { return "new=\(try await engine.commit(orderID: "o-1", basket).isNew)" } catch { return "\(error)" }
                    }
                }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(results.sorted() == ["new=false", "new=true"])
        }
    }

    @Test("two engines on one file never spend the same points twice nor lose an order: a stale engine reloads")
    func pointsAcrossEngines() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
            let clock = ManualClock(Instant(iso8601: "2026-11-27T10:00:00Z")!)
            let rules = """
                earn "welcome" { on = "signup", points = 500 }
                pay_with_points { points = 100, worth = eur(1), max_percent = 100 }
                """
            let engines = try (0..<2).map { _ in
                Engine(
                    rules: try RuleBook(sources: [("rules/p.lua", rules)], logger: logger),
                    store: try SQLiteStore(path: path), clock: clock, logger: logger)
            }
            _ = try await engines[0].ingest(Event(id: "s-1", type: "signup", customerID: "anna", at: clock.now()))
            let basket = CheckoutRequest(
                customerID: "anna", cart: Cart(currency: .eur, lines: [LineItem(sku: "A", quantity: 1, price: 2000)]),
                points: 400)
            // The second engine loads anna with 500 points, then the first spends 400 of them.
            #expect(try await engines[1].quote(basket).pointsToRedeem == 400)
            let first = try await engines[0].commit(orderID: "o-1", basket)
            let second = try await engines[1].commit(orderID: "o-2", basket)
            #expect(first.pointsRedeemed == 400)
            #expect(second.pointsRedeemed == 100)
            let stored = try #require(try await SQLiteStore(path: path).customer("anna"))
            #expect(stored.orderCount == 2)
            #expect(stored.pointsBalance == 0)
            // A customer forgotten by another process is not written back with its personal data.
            _ = try await engines[0].ingest(
                Event(id: "c-1", type: "profile", customerID: "ben", at: clock.now(), data: ["attributes": .object(["city": .string("Berlin")])]))
            #expect(try await SQLiteStore(path: path).forget(customerID: "ben"))
            _ = try await engines[0].ingest(Event(id: "v-1", type: "visit", customerID: "ben", at: clock.now()))
            #expect(try await SQLiteStore(path: path).customer("ben")?.attributes.isEmpty == true)
        }
    }
}
