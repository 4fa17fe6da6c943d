import Foundation
import GRDB
import GRDBSQLite
import Orbit
import Synchronization
import Testing

@testable import OrbitSQLite

@Suite("SQLiteStore")
struct SQLiteStoreTests {
    static let customerIDs = ["ada", "bob", "carol", "nobody"]

    @Test func roundTripsCustomersLedgerOutboxAndSegments() async throws {
        try await withTemporaryDirectory { directory in
            let commits = try sampleCommits()
            let store = try SQLiteStore(path: databasePath(in: directory))
            try await store.apply(commits)

            let ada = try #require(try await store.customer("ada"))
            #expect(ada == commits[4].customer)
            #expect(ada.attributes["score"] == .number(2.5))
            #expect(ada.consent == [.email: true, .sms: false])
            #expect(try await store.customer("nobody") == nil)
            #expect(try await store.allCustomers().map(\.id) == ["ada", "bob", "carol"])

            let ledger = try await store.ledger(customerID: "ada")
            #expect(ledger == commits[2].ledger + commits[4].ledger)
            #expect(try await store.ledger(customerID: "bob") == commits[3].ledger + commits[5].ledger)
            #expect(try await store.ledger(customerID: "nobody").isEmpty)

            #expect(try await store.messages(customerID: "ada") == commits[0].messages + commits[2].messages)
            #expect(try await store.messages(customerID: "bob").isEmpty)

            #expect(try await store.segments(customerID: "ada") == ["buyers"])
            #expect(try await store.segments(customerID: "bob") == ["buyers"])
            #expect(try await store.segments(customerID: "carol").isEmpty)

            #expect(try await store.appliedEventIDs(among: ["e-1", "e-9", "expire:e-4#0"]) == ["e-1", "expire:e-4#0"])
            #expect(try await store.appliedEventIDs(among: []).isEmpty)
        }
    }

    @Test func matchesMemoryStoreForTheSameCommits() async throws {
        try await withTemporaryDirectory { directory in
            // Two batches, split mid-customer, to cover state carried across transactions.
            let (expected, actual) = try await snapshotsOfBothStores(
                try sampleCommits(), splitAfter: 3, in: directory, customers: Self.customerIDs)
            #expect(actual == expected)
            #expect(actual.totals.customers == 3)
            #expect(actual.totals.events == 7)
            #expect(actual.totals.pointsIssued == 620)
            #expect(actual.totals.pointsSpent == 200)
            #expect(actual.totals.pointsExpired == 20)
            #expect(actual.totals.messages == 2)
            #expect(actual.totals.tierCounts == ["silver": 1, "none": 2])
            #expect(actual.totals.segmentSizes == ["buyers": 2])
        }
    }

    @Test("a batch written after another waits for it, and is not written when that one failed")
    func appliesAfterItsPredecessor() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: databasePath(in: directory))
            let commits = try (0..<10).map { try syntheticCommit($0, customers: 5) }
            let failed = Task<Void, any Error> { throw StoreError("disk full") }
            await #expect(throws: StoreError.self) { try await store.apply(commits, after: failed) }
            #expect(try await store.totals().events == 0)
            let first = Task<Void, any Error> { try await store.apply(Array(commits[..<5])) }
            try await store.apply(Array(commits[5...]), after: first)
            #expect(try await store.totals().events == 10)
            // A batch that cannot be encoded either reports the failed write before it: that error came first.
            var unencodable = try syntheticCommit(10, customers: 5)
            unencodable.customer.attributes["score"] = .number(.nan)
            let error = await #expect(throws: StoreError.self) { try await store.apply([unencodable], after: failed) }
            #expect(error?.message == "disk full")
        }
    }

    @Test func rejectsAnEventAppliedInAnEarlierBatch() async throws {
        try await withTemporaryDirectory { directory in
            let commits = try sampleCommits()
            let store = try SQLiteStore(path: databasePath(in: directory))
            try await store.apply(Array(commits.prefix(4)))
            let before = try await Snapshot(store, customers: Self.customerIDs)

            // e-5 and e-6 are new, e-2 is a repeat: nothing of the batch may stay.
            let error = await #expect(throws: StoreError.self) {
                try await store.apply([commits[4], commits[6], commits[1]])
            }
            #expect(error?.message == "event 'e-2' was already applied")
            #expect(try await Snapshot(store, customers: Self.customerIDs) == before)
            #expect(try await store.appliedEventIDs(among: ["e-5", "e-6"]).isEmpty)
            #expect(try await store.customer("carol") == nil)

            // The store still works after the rollback.
            try await store.apply([commits[4], commits[6]])
            #expect(try await store.totals().events == 6)
        }
    }

    /// The writer binds text where the encoded batch holds it: an empty text must stay empty, not become NULL.
    @Test func emptyTextIsStoredAsEmptyText() async throws {
        try await withTemporaryDirectory { directory in
            let entry = try ledgerEntry(
                "e-1#0", customer: "ada", kind: .earn, points: 5, at: instant(), rule: "", event: "e-1", reason: "")
            let commit = EventCommit(
                eventID: "e-1", eventType: "adjust", customerID: "ada", at: instant(),
                customer: Customer(id: "ada", signedUpAt: instant()), ledger: [entry])
            let store = try SQLiteStore(path: databasePath(in: directory))
            try await store.apply([commit])
            let stored = try await store.ledger(customerID: "ada")
            #expect(stored == [entry])
            #expect(stored.first?.reason == "")
            #expect(stored.first?.rule == "")
        }
    }

    @Test func rejectsAnEventTwiceInOneBatch() async throws {
        try await withTemporaryDirectory { directory in
            let commits = try sampleCommits()
            let store = try SQLiteStore(path: databasePath(in: directory))
            let error = await #expect(throws: StoreError.self) {
                try await store.apply([commits[0], commits[1], commits[2], commits[0]])
            }
            #expect(error?.message == "event 'e-1' was already applied")
            let totals = try await store.totals()
            #expect(totals == StoreTotals())
            #expect(try await store.allCustomers().isEmpty)
            #expect(try await store.ledger(customerID: "ada").isEmpty)
            #expect(try await store.messages(customerID: "ada").isEmpty)
            #expect(try await store.segments(customerID: "ada").isEmpty)
        }
    }

    /// Large enough that the writer inserts most rows 32 at a time. Most segment changes come from what the engine
    /// knew (as the engine's own commits say); now and then a commit does not say what the segments were, and its
    /// changes are worked out against the stored membership, after every change before it.
    @Test func aLargeBatchMatchesMemoryStoreRowForRow() async throws {
        try await withTemporaryDirectory { directory in
            var memberships: [String: Set<String>] = [:]
            let commits = try (0..<700).map { index in
                var commit = try syntheticCommit(index, customers: 13, segmentsEvery: 50)
                if index % 50 != 0, index % 3 == 0 {
                    // What the engine knew, and the other way round now.
                    let previous = memberships[commit.customerID] ?? []
                    commit.previousSegments = previous
                    commit.segments = previous.isEmpty ? ["buyers"] : []
                }
                if let segments = commit.segments { memberships[commit.customerID] = segments }
                return commit
            }
            let ids = (0..<13).map { "c-\($0)" }
            let (expected, actual) = try await snapshotsOfBothStores(commits, splitAfter: 333, in: directory, customers: ids)
            #expect(actual == expected)
            #expect(expected.ledgers[0].count == 2 * 54)
            #expect(expected.totals.events == 700)
            #expect(expected.segmentChanges.count > 200)
        }
    }

    /// A survey response is keyed by its event, like the applied event: a repeated survey fills its group of 32
    /// before the event's own, and the error still names the event.
    @Test func aRepeatedSurveyIsReportedAsAnEventAlreadyApplied() async throws {
        try await withTemporaryDirectory { directory in
            func commit(_ index: Int, survey: Bool) -> EventCommit {
                let customer = Customer(id: "s-\(index % 7)", signedUpAt: instant())
                let response = SurveyResponse(eventID: "sv-\(index)", customerID: customer.id, at: instant(), score: 9)
                return EventCommit(
                    eventID: "sv-\(index)", eventType: survey ? "survey" : "visit", customerID: customer.id,
                    at: instant(), customer: customer, surveyResponse: survey ? response : nil)
            }
            let store = try SQLiteStore(path: databasePath(in: directory))
            let first = (0..<10).map { commit($0, survey: true) }
            try await store.apply(first)
            // 8 commits without a survey, then 31 surveys and a repeat: the survey group fills first.
            let second =
                (100..<108).map { commit($0, survey: false) } + (200..<231).map { commit($0, survey: true) } + [first[3]]
                + (300..<340).map { commit($0, survey: true) }
            let error = await #expect(throws: StoreError.self) { try await store.apply(second) }
            #expect(error?.message == "event 'sv-3' was already applied")
            #expect(try await store.totals().events == 10)
            #expect(try await store.surveyResponses().count == 10)
        }
    }

    /// An interruption (or an I/O error) can end the transaction in the middle of a group: nothing of the batch may
    /// be saved after it, by retrying rows or by the statements that follow.
    @Test func aWriteInterruptedMidBatchSavesNothing() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: databasePath(in: directory))
            let ledgerRowsLeft = Mutex(Int.max)
            try await store.writer.write { db in
                nonisolated(unsafe) let connection = db.sqliteConnection
                db.add(
                    function: DatabaseFunction("interrupt_at_row", argumentCount: 0, pure: false) { _ in
                        if ledgerRowsLeft.withLock({ $0 -= 1; return $0 == 0 }) { sqlite3_interrupt(connection) }
                        return 0
                    })
                try db.execute(
                    sql: "CREATE TEMP TRIGGER interrupt BEFORE INSERT ON main.ledger BEGIN SELECT interrupt_at_row(); END")
            }
            ledgerRowsLeft.withLock { $0 = 40 }  // in the second group of ledger rows
            let commits = try (0..<200).map { try syntheticCommit($0, customers: 20, segmentsEvery: 1_000) }
            await #expect(throws: StoreError.self) { try await store.apply(commits) }
            #expect(try await store.totals() == StoreTotals())
            let ledgerRows = try await store.writer.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM ledger") }
            #expect(ledgerRows == 0)
        }
    }

    @Test func aBatchFailingMidwayLeavesNoPartialRows() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: databasePath(in: directory))
            let first = try (0..<100).map { try syntheticCommit($0, customers: 50) }
            try await store.apply(first)
            let ids = (0..<60).map { "c-\($0)" }
            let before = try await Snapshot(store, customers: ids)

            // 500 new commits with ledger, outbox, segment and effect rows, then a repeat, then more.
            var second = try (100..<600).map { try syntheticCommit($0, customers: 60, segmentsEvery: 100) }
            second.insert(first[42], at: 130)
            // The repeat lies amid rows the writer inserts 32 at a time: the error still names it.
            let error = await #expect(throws: StoreError.self) { try await store.apply(second) }
            #expect(error?.message == "event 'e-42' was already applied")
            #expect(try await Snapshot(store, customers: ids) == before)
            #expect(try await store.totals().events == 100)
        }
    }

    @Test func stateSurvivesReopeningTheFile() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let commits = try sampleCommits()
            let expected: Snapshot
            do {
                let store = try SQLiteStore(path: path)
                try await store.apply(Array(commits.prefix(5)))
                try await store.apply(Array(commits.dropFirst(5)))
                expected = try await Snapshot(store, customers: Self.customerIDs)
            }
            let reopened = try SQLiteStore(path: path)
            #expect(try await Snapshot(reopened, customers: Self.customerIDs) == expected)
            #expect(try await reopened.appliedEventIDs(among: commits.map(\.eventID)).count == commits.count)
            // The idempotency guard is durable too.
            await #expect(throws: StoreError.self) { try await reopened.apply([commits[3]]) }
        }
    }

    @Test func migrationsRunOnce() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            do {
                let store = try SQLiteStore(path: path)
                #expect(try await store.schemaVersions() == ["v1-initial", "v2-checkout", "v3-analytics", "v4-customer-versions"])
                try await store.apply(try sampleCommits())
            }
            // Opening again neither re-runs the migration (CREATE TABLE would fail) nor loses data.
            let again = try SQLiteStore(path: path)
            let concurrently = try SQLiteStore(path: path)
            #expect(try await again.schemaVersions() == ["v1-initial", "v2-checkout", "v3-analytics", "v4-customer-versions"])
            #expect(try await concurrently.schemaVersions() == ["v1-initial", "v2-checkout", "v3-analytics", "v4-customer-versions"])
            #expect(try await again.totals().events == 7)
        }
    }

    @Test func forgetErasesPersonalDataAndKeepsTotals() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let commits = try sampleCommits()
            let memory = MemoryStore()
            try await memory.apply(commits)
            let store = try SQLiteStore(path: path)
            try await store.apply(commits)
            let before = try #require(try await store.customer("ada"))
            let ledgerBefore = try await store.ledger(customerID: "ada")
            let totalsBefore = try await store.totals()

            #expect(try await store.forget(customerID: "ada"))
            #expect(await memory.forget(customerID: "ada"))
            #expect(try await store.forget(customerID: "nobody") == false)

            let ada = try #require(try await store.customer("ada"))
            #expect(ada == before.forgotten())
            #expect(ada.isForgotten)
            #expect(ada.attributes.isEmpty && ada.tags.isEmpty && ada.consent.isEmpty)
            #expect(ada.referralCode == nil && ada.referrer == nil)
            #expect(ada.orders == before.orders)
            #expect(ada.lifetimeSpend == 50_000)
            #expect(ada.pointsBalance == before.pointsBalance)
            #expect(ada.tier == "silver")
            #expect(try await store.ledger(customerID: "ada") == ledgerBefore)
            let messages = try await store.messages(customerID: "ada")
            #expect(messages.count == 2)
            #expect(messages.allSatisfy { $0.data.isEmpty })
            #expect(messages.map(\.template) == ["welcome", "tier-up"])
            #expect(try await store.totals() == totalsBefore)
            // Other customers are untouched.
            #expect(try await store.customer("bob") == commits[5].customer)

            #expect(try await Snapshot(store, customers: Self.customerIDs)
                == Snapshot(memory, customers: Self.customerIDs))
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.customer("ada") == ada)
        }
    }

    @Test func canonicallyEquivalentIdsAreOneCustomerAndOneEvent() async throws {
        try await withTemporaryDirectory { directory in
            let composed = "jos\u{E9}"
            let decomposed = "jose\u{301}"
            let customer = Customer(id: composed, signedUpAt: instant())
            let memory = MemoryStore()
            let store = try SQLiteStore(path: databasePath(in: directory))
            let signup = EventCommit(
                eventID: "signup-\(composed)", eventType: "signup", customerID: composed, at: instant(),
                customer: customer, segments: ["new"]
            )
            try await memory.apply([signup])
            try await store.apply([signup])
            #expect(try await store.customer(decomposed) == customer)
            #expect(try await store.segments(customerID: decomposed) == ["new"])
            #expect(try await store.appliedEventIDs(among: ["signup-\(decomposed)"]) == ["signup-\(decomposed)"])

            var repeated = signup
            repeated.eventID = "signup-\(decomposed)"
            await #expect(throws: StoreError.self) { try await memory.apply([repeated]) }
            await #expect(throws: StoreError.self) { try await store.apply([repeated]) }
            #expect(try await store.totals() == memory.totals())
        }
    }

    @Test func customerBlobsRoundTripTrickyValues() async throws {
        try await withTemporaryDirectory { directory in
            let tricky: [String: JSONValue] = [
                "quote\"key": .string("say \"hi\" \\ back\\slash\nnew\tline\r\u{1}\u{1F}\u{7F} é 😀 \u{301}"),
                "integers": .array([.integer(.min), .integer(.max), .integer(0), .integer(-7), .integer(42)]),
                "floats": .array([.number(2.5), .number(-1e-300), .number(1.5e300), .number(0.1), .number(-3.25)]),
                "nested": .object(["a": .array([.object([:]), .array([]), .null, .bool(true), .bool(false)])]),
                "empty": .string(""),
            ]
            var customer = Customer(id: "tricky \"one\"", signedUpAt: instant())
            customer.attributes = tricky
            customer.tags = ["a\"b", "c\\d", "ü"]
            customer.consent = [.email: true, .push: false, .sms: true, .whatsapp: false]
            customer.referralCode = "R\n1"
            customer.orders = [try order("o\"1", at: instant(minutes: 1), cents: -5)]
            customer.inactiveLapsesFired = [30: instant(days: 9), 90: instant(days: 1)]
            customer.pointsEarned = 1_234
            // Points a rule made expire in ten million days: year 29404, which must read back.
            customer.wallet.add(try batch("e#0", remaining: 5, expiresAt: instant().adding(days: 10_000_000)))
            let message = try outboxMessage(
                "m#0", customer: customer.id, channel: .whatsapp, template: "t", data: tricky, at: instant(), rule: "r"
            )
            let commit = EventCommit(
                eventID: "e", eventType: "custom", customerID: customer.id, at: instant(), customer: customer,
                messages: [message]
            )
            let store = try SQLiteStore(path: databasePath(in: directory))
            try await store.apply([commit])
            #expect(try await store.customer(customer.id) == customer)
            #expect(try await store.messages(customerID: customer.id) == [message])
        }
    }

    @Test func anUnencodableCustomerFailsTheWholeBatch() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: databasePath(in: directory))
            var commits = try (0..<300).map { try syntheticCommit($0, customers: 300) }
            commits[150].customer.attributes["ratio"] = .number(.nan)
            let error = await #expect(throws: StoreError.self) { try await store.apply(commits) }
            #expect(error?.message.hasPrefix("cannot encode customer 'c-150'") == true)
            #expect(try await store.totals() == StoreTotals())
        }
    }

    @Test func errorsSayWhatFailed() async throws {
        try await withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("missing/orbit.db").path
            let error = #expect(throws: StoreError.self) { try SQLiteStore(path: path) }
            #expect(error?.message.hasPrefix("cannot open \(path): ") == true)

            let notADatabase = directory.appendingPathComponent("notes.txt").path
            try Data(repeating: 0x41, count: 4096).write(to: URL(fileURLWithPath: notADatabase))
            let corrupt = #expect(throws: StoreError.self) { try SQLiteStore(path: notADatabase) }
            #expect(corrupt?.message.contains(notADatabase) == true)
        }
    }

    @Test func inMemoryStoreHasTheSameSemantics() async throws {
        let commits = try sampleCommits()
        let memory = MemoryStore()
        let store = try SQLiteStore.inMemory()
        try await memory.apply(commits)
        try await store.apply(commits)
        #expect(try await Snapshot(store, customers: Self.customerIDs) == Snapshot(memory, customers: Self.customerIDs))
        await #expect(throws: StoreError.self) { try await store.apply([commits[0]]) }
    }

    /// Not a timing assertion: applies 10 batches of 1,000 commits and checks the counts. The rate is printed; run
    /// `swift test -c release --filter SQLiteStoreTests/throughput` to measure it.
    @Test func throughput() async throws {
        try await withTemporaryDirectory { directory in
            let store = try SQLiteStore(path: databasePath(in: directory))
            let batches = try (0..<10).map { batch in
                try (0..<1_000).map { try syntheticCommit(batch * 1_000 + $0, customers: 5_000) }
            }
            let clock = ContinuousClock()
            let elapsed = try await clock.measure {
                for batch in batches { try await store.apply(batch) }
            }
            let totals = try await store.totals()
            #expect(totals.events == 10_000)
            #expect(totals.customers == 5_000)
            #expect(totals.pointsIssued == 500_000)
            #expect(totals.pointsSpent == 100_000)
            #expect(totals.messages == 2_500)
            #expect(totals.segmentSizes == ["buyers": 500])
            #expect(try await store.ledger(customerID: "c-7").count == 4)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            print("SQLiteStore throughput: 10,000 commits in \(elapsed): \(Int(10_000 / seconds)) commits/s")
        }
    }
}
