import Foundation
import Logging
import Synchronization
import Testing

@testable import Orbit

/// Large batches are evaluated on several rule books at once, customers split between them; what they make must not
/// depend on it.
@Suite("Evaluation on several threads")
struct ParallelEvaluationTests {
    static let rules = """
        earn "per-euro" { on = "purchase", points = function(e, c) return e.total // 100 end, expires = { days = 30 } }
        tiers {
          { name = "member" },
          { name = "regular", when = function(c) return c:orders{ days = 60 } >= 3 end },
        }
        segment "big-spender" { description = "100 EUR in 30 days", when = function(c) return c:spent{ days = 30 } >= eur(100) end }
        on "purchase" (function(e, c)
          if e.total >= eur(50) then issue_coupon{ offer = "thanks", valid_days = 30 } end
          if c.order_count == 2 then send("email", "second-order") end
        end)
        on "inactive" { days = 10 } (function(c) award(5); tag("lapsed") end)
        offer "thanks" { coupon = true, discount = percent_off(10) }
        """

    static func engine(threads: Int, store: YieldingStore) throws -> Engine {
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let book = try RuleBook(sources: [("rules/loyalty.lua", rules)], logger: logger)
        return Engine(
            rules: book, store: store, clock: ManualClock(at("2026-01-01T00:00:00Z")), logger: logger,
            evaluationThreads: threads)
    }

    /// 60 customers' histories, one customer after the other (time goes back between them, as in a shop's export),
    /// most events at midnight so that many lapses fall due at the same instant; with a consent event each, a
    /// repeated event id and an event older than its customer's last.
    static var events: [Event] {
        var events: [Event] = []
        for customer in 0..<60 {
            let id = "c-\(customer)"
            events.append(
                Event(
                    id: "consent-\(customer)", type: "consent", customerID: id, at: day(customer % 7),
                    data: ["consent": .object(["email": .bool(customer % 3 != 0)])]))
            for order in 0..<(3 + customer % 6) {
                let days = customer % 7 + order * (5 + customer % 9)
                events.append(
                    Event(
                        id: "p-\(customer)-\(order)", type: "purchase", customerID: id, at: day(days),
                        total: Money(minorUnits: Int64(1_500 + (customer * 37 + order * 1_130) % 9_000), currency: .eur),
                        orderID: "o-\(customer)-\(order)"))
            }
            if customer % 10 == 4 { events.append(events[events.count - 2]) }
            if customer % 10 == 7 {
                events.append(
                    Event(
                        id: "late-\(customer)", type: "purchase", customerID: id, at: day(0),
                        total: Money(minorUnits: 900, currency: .eur), orderID: "late-\(customer)"))
            }
        }
        return events
    }

    static func day(_ days: Int) -> Instant { at("2026-01-01T00:00:00Z").adding(days: days) }

    /// Ingests `events` in batches of 200, then moves time on; returns the outcomes and every notification.
    static func run(_ events: [Event], threads: Int, store: YieldingStore) async throws
        -> (outcomes: [IngestOutcome], notifications: [EngineNotification])
    {
        let engine = try engine(threads: threads, store: store)
        var stream = engine.notifications.makeAsyncIterator()
        var outcomes: [IngestOutcome] = []
        for start in stride(from: 0, to: events.count, by: 200) {
            outcomes += try await engine.ingest(Array(events[start..<min(start + 200, events.count)]))
        }
        try await engine.advance(to: day(200))
        // A last event whose notification says that all before it were read.
        let last = Event(
            id: "last", type: "purchase", customerID: "zz", at: day(200), total: Money(minorUnits: 100, currency: .eur))
        _ = try await engine.ingest(last)
        var notifications: [EngineNotification] = []
        while let notification = await stream.next() {
            notifications.append(notification)
            if notification == .pointsAwarded(customerID: "zz", points: 1, rule: "per-euro") { break }
        }
        return (outcomes, notifications)
    }

    @Test("concurrentMap runs every index at the same time and returns the results in index order")
    func concurrentMapRunsAtOnce() {
        // Each index waits until every index has started: run one after another, or fewer at once than there are
        // indices (Dispatch's shared pool runs as many as there are cores), the first would wait in vain.
        let count = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = Atomic<Int>(0)
        let results = concurrentMap(count: count) { index -> String in
            started.add(1, ordering: .relaxed)
            for _ in 0..<5_000 where started.load(ordering: .relaxed) < count { Thread.sleep(forTimeInterval: 0.001) }
            return started.load(ordering: .relaxed) == count ? "index \(index)" : "index \(index) ran alone"
        }
        #expect(results == (0..<count).map { "index \($0)" })
        #expect(concurrentMap(count: 1) { $0 * 2 } == [0])
        #expect(concurrentMap(count: 0) { $0 }.isEmpty)
    }

    @Test("two threads make the same commits, outcomes and notifications, in the same order, as one")
    func sameAsOneThread() async throws {
        let events = Self.events
        #expect(events.count > 400, "batches large enough to be split")
        let (oneStore, twoStore) = (YieldingStore(), YieldingStore())
        let one = try await Self.run(events, threads: 1, store: oneStore)
        let two = try await Self.run(events, threads: 2, store: twoStore)

        let written = oneStore.written.withLock { $0 }
        #expect(twoStore.written.withLock { $0 } == written)
        #expect(two.outcomes == one.outcomes)
        #expect(two.notifications == one.notifications)
        // What the run must have exercised for the comparison to mean something.
        #expect(one.outcomes.filter { $0.status == .duplicate }.count == 6)
        #expect(one.outcomes.filter { if case .rejected = $0.status { true } else { false } }.count == 6)
        let lapses = written.filter { $0.eventType == "lapse" }
        #expect(lapses.count > 100)
        #expect(Set(lapses.map(\.at)).count < lapses.count / 4, "many lapses due at the same instant")
        #expect(written.contains { !$0.coupons.isEmpty } && written.contains { !$0.messages.isEmpty })
        #expect(written.contains { $0.tierChange != nil } && written.contains { $0.segments != nil })
        #expect(Set(written.map { LapseSchedules.shard(of: $0.customerID, among: 2) }) == [0, 1])
    }

    @Test("ids that are equal as strings but not as bytes are one customer, on one thread or two")
    func canonicallyEquivalentIDs() async throws {
        // "å" as one character and as "a" with a combining ring: equal strings, different UTF-8.
        let (composed, decomposed) = ("ann\u{e5}", "anna\u{30a}")
        #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8))
        var events = (0..<140).map { Event(id: "f-\($0)", type: "consent", customerID: "f-\($0)", at: Self.day(0)) }
        for (index, id) in [composed, decomposed, composed].enumerated() {
            events.append(
                Event(
                    id: "p-\(index)", type: "purchase", customerID: id, at: Self.day(index + 1),
                    total: Money(minorUnits: 2_000, currency: .eur), orderID: "o-\(index)"))
        }
        var runs: [(written: [EventCommit], lapses: Int, customer: Customer?)] = []
        for threads in [1, 2] {
            let store = YieldingStore()
            let engine = try Self.engine(threads: threads, store: store)
            _ = try await engine.ingest(events)
            let lapses = try await engine.advance(to: Self.day(60))
            runs.append((store.written.withLock { $0 }, lapses, try await engine.customer(decomposed)))
        }
        #expect(runs[0].customer?.orders.count == 3)
        #expect(runs[0].customer?.pointsBalance == 5, "the points expired; the 10-day inactivity handler awarded 5")
        #expect(runs[1].written == runs[0].written)
        #expect(runs[1].lapses == runs[0].lapses)
        #expect(runs[1].customer == runs[0].customer)
    }

    @Test("a coupon code issued twice in one batch is issued once; the second effect says it exists")
    func couponIssuedOncePerBatch() async throws {
        let store = YieldingStore()
        let engine = try Self.engine(threads: 2, store: store)
        // The same customer, instant and rule make the same code (see RuleEvaluation.couponCode).
        let twice = (0..<2).map { order in
            Event(
                id: "p-\(order)", type: "purchase", customerID: "c-1", at: Self.day(1),
                total: Money(minorUnits: 6_000, currency: .eur), orderID: "o-\(order)")
        }
        let outcomes = try await engine.ingest(twice)
        #expect(outcomes.map(\.status) == [.applied, .applied])
        #expect(outcomes[0].effects.contains { $0.kind == "coupon" })
        #expect(outcomes[1].effects.contains { $0.kind == "skipped" && $0.detail.hasSuffix("exists") })
        #expect(try await store.coupons().count == 1)
    }

    @Test("shards that issued the same coupon code do not merge (one evaluation then decides)")
    func sharedCouponCodeRefusesMerge() throws {
        func batch(_ codes: [String]) -> Engine.Batch {
            var batch = Engine.Batch()
            batch.couponCodes = Set(codes)
            return batch
        }
        var distinct = [batch(["A-1"]), batch(["B-1"])]
        #expect(Engine.Batch.merging(&distinct)?.couponCodes == ["A-1", "B-1"])
        var shared = [batch(["A-1", "C-1"]), batch(["C-1"])]
        #expect(Engine.Batch.merging(&shared) == nil)
    }
}
