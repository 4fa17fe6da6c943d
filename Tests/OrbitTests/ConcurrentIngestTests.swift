import Logging
import Synchronization
import Testing

@testable import Orbit

/// A memory store whose writes take a while (they yield before applying), so that without serialisation other
/// ingestions would run in the gap, as they would with a real database. It can be told to refuse writes.
final class YieldingStore: Store {
    let base = MemoryStore()
    /// How many of the next writes to refuse (a full disk, say).
    let refusals = Atomic<Int>(0)
    /// Every commit written, in order.
    let written = Mutex<[EventCommit]>([])

    func customer(_ id: String) async throws -> Customer? { await base.customer(id) }
    func allCustomers() async throws -> [Customer] { await base.allCustomers() }
    func appliedEventIDs(among ids: [String]) async throws -> Set<String> { await base.appliedEventIDs(among: ids) }
    func apply(_ commits: [EventCommit]) async throws {
        for _ in 0..<20 { await Task.yield() }
        if refusals.load(ordering: .relaxed) > 0 {
            refusals.subtract(1, ordering: .relaxed)
            throw StoreError("disk full")
        }
        try await base.apply(commits)
        written.withLock { $0 += commits }
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

    /// Purchases of three customers, a day apart; `repeating` adds an event id seen earlier.
    static func purchases(_ days: ClosedRange<Int>, repeating: String? = nil) -> [Event] {
        var events = days.flatMap { day in
            ["c-1", "c-2", "c-3"].map { customer in
                purchase("\(customer)-\(day)", customer, "2026-01-\(10 + day)T10:00:00Z", cents: 2_500 * Int64(day))
            }
        }
        if let repeating { events.insert(purchase(repeating, "c-1", "2026-01-11T10:00:00Z", cents: 1), at: 0) }
        return events
    }

    @Test(
        "overlapped ingestion ends as plain ingestion, and knows the events of the batch still being written",
        .timeLimit(.minutes(1)))
    func overlappedEqualsPlain() async throws {
        let batches = [Self.purchases(1...2), Self.purchases(3...4, repeating: "c-1-2"), Self.purchases(5...6)]
        let plainStore = YieldingStore()
        let plain = try Self.engine(over: plainStore)
        for batch in batches { _ = try await plain.ingest(batch) }

        let store = YieldingStore()
        let engine = try Self.engine(over: store)
        var notifications = engine.notifications.makeAsyncIterator()
        var pending: [Engine.PendingIngest] = []
        for batch in batches { pending.append(try await engine.ingestOverlapped(batch)) }
        var statuses: [IngestOutcome.Status] = []
        for batch in pending { statuses += try await batch.durable().map(\.status) }
        // Every batch's notifications are out once it is durable, in order.
        var awarded: [Int64] = []
        while awarded.count < 6, let notification = await notifications.next() {
            if case .pointsAwarded("c-1", let points, _) = notification { awarded.append(points) }
        }
        #expect(awarded == [25, 50, 75, 200, 250, 300], "day × 25 points; gold (× 2) once 100 are earned")
        #expect(statuses.filter { $0 == .duplicate }.count == 1, "c-1-2 is written by the batch before")
        #expect(statuses.filter { $0 == .applied }.count == 18)
        for customer in ["c-1", "c-2", "c-3"] {
            #expect(try await store.customer(customer) == (try await plainStore.customer(customer)))
            #expect(try await store.ledger(customerID: customer) == (try await plainStore.ledger(customerID: customer)))
        }
        #expect(try await store.totals() == (try await plainStore.totals()))
    }

    @Test("a refused overlapped write applies nothing of its batch or later ones; the engine reads the store again")
    func overlappedWriteRefused() async throws {
        let store = YieldingStore()
        let engine = try Self.engine(over: store)
        let first = try await engine.ingestOverlapped(Self.purchases(1...1))
        _ = try await first.durable()
        store.refusals.store(1, ordering: .relaxed)
        let refused = try await engine.ingestOverlapped(Self.purchases(2...2))
        // Only duplicates of the events being written: nothing to write, but durable only if that write is.
        let repeated = try await engine.ingestOverlapped(Self.purchases(2...2))
        // The rules run ahead of the store: the next batch waits behind the refused write, and fails with it.
        let after = try await engine.ingestOverlapped(Self.purchases(3...3))
        await #expect(throws: StoreError.self) { try await refused.durable() }
        await #expect(throws: StoreError.self) { try await repeated.durable() }
        await #expect(throws: StoreError.self) { try await after.durable() }
        // Once the store has refused, ingesting more finds out before running any rules.
        await #expect(throws: StoreError.self) { try await engine.ingestOverlapped(Self.purchases(3...3)) }
        // Only the first day is anywhere: in the store, and in what the engine answers.
        #expect(try await store.totals().events == 3)
        let customer = try #require(try await engine.customer("c-1"))
        #expect(customer.orderCount == 1)
        #expect(customer == (try await store.customer("c-1")))
        #expect(await engine.activity.pointsIssued == 3 * 25, "counters forget the refused batch too")
        // Ingesting the same events again completes the history.
        let again = try await engine.ingest(Self.purchases(2...3))
        #expect(again.allSatisfy { $0.status == .applied })
        #expect(try await engine.customer("c-1")?.orderCount == 3)
    }
}
