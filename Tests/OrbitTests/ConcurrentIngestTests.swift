import Logging
import Testing

@testable import Orbit

/// A memory store whose writes take a while (they yield before applying), so that without serialisation other
/// ingestions would run in the gap, as they would with a real database.
final class YieldingStore: Store {
    let base = MemoryStore()

    func customer(_ id: String) async throws -> Customer? { await base.customer(id) }
    func allCustomers() async throws -> [Customer] { await base.allCustomers() }
    func appliedEventIDs(among ids: [String]) async throws -> Set<String> { await base.appliedEventIDs(among: ids) }
    func apply(_ commits: [EventCommit]) async throws {
        for _ in 0..<20 { await Task.yield() }
        try await base.apply(commits)
    }
    func ledger(customerID: String) async throws -> [PointsEntry] { await base.ledger(customerID: customerID) }
    func messages(customerID: String) async throws -> [OutboxMessage] { await base.messages(customerID: customerID) }
    func segments(customerID: String) async throws -> Set<String> { await base.segments(customerID: customerID) }
    func forget(customerID: String) async throws -> Bool { await base.forget(customerID: customerID) }
    func totals() async throws -> StoreTotals { await base.totals() }
    func order(_ orderID: String) async throws -> OrderRecord? { await base.order(orderID) }
    func refund(_ refundID: String) async throws -> RefundRecord? { await base.refund(refundID) }
    func usage(keys: [String]?) async throws -> [String: Int64] { await base.usage(keys: keys) }
    func coupons() async throws -> [Coupon] { await base.coupons() }
    func customerVersions() async throws -> [String: Int64] { await base.customerVersions() }
    func pointsMovements() async throws -> [PointsMovement] { await base.pointsMovements() }
    func segmentChanges() async throws -> [SegmentChange] { await base.segmentChanges() }
    func surveyResponses() async throws -> [SurveyResponse] { await base.surveyResponses() }
    func offerPerformance(during interval: Range<Instant>) async throws -> [OfferPerformance] {
        await base.offerPerformance(during: interval)
    }
    func savePredictions(_ predictions: PredictionSet) async throws { await base.savePredictions(predictions) }
    func predictions() async throws -> PredictionSet? { await base.predictions() }
}

@Suite("Concurrent ingestion")
struct ConcurrentIngestTests {
    /// Everything a run leaves that must not depend on how calls interleaved.
    struct Outcome: Equatable {
        var orders: Set<String>
        var balance: Int64
        var earned: Int64
        var tier: String?
        var ledgerEntries: Int
        var totals: StoreTotals
    }

    static func outcome(of engine: Engine, _ store: YieldingStore) async throws -> Outcome {
        let customer = try #require(try await engine.customer("c-1"))
        #expect(try await store.customer("c-1") == customer)
        return Outcome(
            orders: Set(customer.orders.map(\.orderID)), balance: customer.pointsBalance, earned: customer.pointsEarned,
            tier: customer.tier, ledgerEntries: try await store.ledger(customerID: "c-1").count,
            totals: try await store.totals())
    }

    static func engine(over store: YieldingStore) throws -> Engine {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let book = try RuleBook(sources: [("rules/points.lua", EngineTests.points)], logger: logger)
        return Engine(rules: book, store: store, clock: ManualClock(at("2026-01-01T00:00:00Z")), logger: logger)
    }

    @Test("many concurrent ingests for one customer end as the same events ingested one by one")
    func concurrentEqualsSequential() async throws {
        let events = (0..<40).map { purchase("e-\($0)", "c-1", "2026-01-02T10:00:00Z", cents: 1_000 + Int64($0)) }

        let sequentialStore = YieldingStore()
        let sequential = try Self.engine(over: sequentialStore)
        for event in events { _ = try await sequential.ingest(event) }

        let store = YieldingStore()
        let engine = try Self.engine(over: store)
        let applied = try await withThrowingTaskGroup(of: IngestOutcome.Status.self) { group in
            for event in events { group.addTask { try await engine.ingest(event).status } }
            return try await group.reduce(into: 0) { count, status in count += status == .applied ? 1 : 0 }
        }
        #expect(applied == events.count)
        let outcome = try await Self.outcome(of: engine, store)
        #expect(outcome == (try await Self.outcome(of: sequential, sequentialStore)))
        #expect(outcome.orders.count == events.count)
    }
}
