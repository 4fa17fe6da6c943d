import Foundation
import Logging
import Orbit
import OrbitSQLite
import Testing

/// Lapses (expiries, `inactive` handlers) leave no event-id row: what guards them against running twice is the
/// customer's own state, across restarts and across engines sharing one file.
@Suite("Lapses on a SQLite file")
struct LapseTests {
    static let rules = """
        earn "per-euro" { on = "purchase", points = function(e, c) return e.total // 100 end, expires = { days = 30 } }
        on "inactive" { days = 10 } (function(c) award(5) end)
        """

    static func engine(at path: String) throws -> Engine {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        return Engine(
            rules: try RuleBook(sources: [("rules/loyalty.lua", rules)], logger: logger),
            store: try SQLiteStore(path: path), clock: ManualClock(instant()), logger: logger)
    }

    static func purchase(_ id: String, _ customer: String, days: Int) -> Event {
        Event(
            id: id, type: "purchase", customerID: customer, at: instant(days: days),
            total: Money(minorUnits: 2000, currency: .eur), orderID: "o-\(id)")
    }

    @Test("a lapse runs once: not again after a restart, nor on a second engine that held the customer before")
    func lapsesRunOnce() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let first = try Self.engine(at: path)
            let second = try Self.engine(at: path)
            _ = try await first.ingest([Self.purchase("p-1", "ann", days: 0), Self.purchase("p-2", "ben", days: 0)])
            #expect(try await second.customer("ann") != nil, "the second engine holds ann as she was before her lapses")

            #expect(try await first.advance(to: instant(days: 40)) == 4, "inactive at day 10, expiry at day 30, each")
            let ledger = try await SQLiteStore(path: path).ledger(customerID: "ann")
            #expect(ledger.map(\.kind) == [.earn, .earn, .expire])
            #expect(ledger.map(\.points) == [20, 5, -20])
            #expect(try await SQLiteStore(path: path).totals().events == 2, "only the purchases are remembered by id")

            // The second engine's state is stale: the store refuses its lapses, it reads the file again and finds
            // nothing due.
            #expect(try await second.advance(to: instant(days: 40)) == 0)
            // A restarted engine finds nothing due either.
            #expect(try await Self.engine(at: path).advance(to: instant(days: 40)) == 0)
            #expect(try await SQLiteStore(path: path).ledger(customerID: "ann") == ledger)
            #expect(try await SQLiteStore(path: path).ledger(customerID: "ben").count == 3)
        }
    }
}
