import Foundation
public import Logging

/// Orbit's engine: turns customer events into points, tiers, segments and messages through the rules, durably and
/// exactly once.
///
/// - Events are idempotent by id: a duplicate is counted, never applied twice.
/// - Everything one event causes (its effects, the events its rules emit, its tier and segment changes) is applied in
///   one store transaction, or nothing is.
/// - Time comes from the events and from the injected clock: points expire and `inactive` handlers fire when the
///   engine's time passes their instant, in order, before the event that moved time past them.
/// - Bulk history goes through ``ingestOverlapped(_:)``, which runs the rules of a batch while the store writes the
///   batches before it (up to ``maximumWritesInFlight``).
///
/// ```swift
/// let engine = Engine(rules: try RuleBook(directory: "rules", logger: logger), store: MemoryStore(),
///                     clock: SystemClock(), logger: logger)
/// let outcome = try await engine.ingest(event)
/// for await notification in engine.notifications { … }
/// ```
public actor Engine {
    let rules: RuleBook
    let store: any Store
    let clock: any EngineClock
    let logger: Logger
    var customers: [String: Customer] = [:]
    private var memberships: [String: Set<String>] = [:]
    /// Usage counters, coupons and referral codes the checkout reads.
    var checkoutState = CheckoutState()
    /// The stored version of each customer as this engine last read or wrote it (see ``StaleCustomer``).
    private var versions: [String: Int64] = [:]
    private var schedule: LapseSchedules
    /// The rule books evaluations run on: ``rules`` and, once a batch is large enough to split, copies of it, one
    /// per shard of ``schedule`` (see ``Evaluation``).
    private var ruleBooks: [RuleBook]
    /// Set when loading the rules again failed (see ``hasRuleBookPerShard()``).
    private var ruleBooksFailed = false
    private var isLoaded = false
    /// The store writes overlapped ingestions left running, oldest first (see ``ingestOverlapped(_:)``).
    var inFlight: [InFlightWrite] = []
    /// Serialises everything that reads state, awaits the store and writes state back (see ``AsyncMutex``).
    let serial = AsyncMutex()
    /// Effects applied since the engine started, by rule and kind (replay summaries read this).
    public var effectCounts: [String: [String: Int]] { counts.effectCounts }
    /// Lapses (expiries, inactivity) run since the engine started.
    public var lapseCount: Int { counts.lapseCount }
    /// Points and messages since the engine started.
    public var activity: Activity { counts.activity }
    /// The counters above, together.
    var counts = Counts()

    /// What commits did, counted: since the engine started, or in one batch (counted while it is evaluated, on the
    /// threads of its shards, so that absorbing it adds a handful of numbers).
    struct Counts {
        var effectCounts: [String: [String: Int]] = [:]
        var lapseCount = 0
        var activity = Activity()

        /// Counts what `commit` did.
        mutating func add(_ commit: EventCommit) {
            if commit.eventType == "lapse" { lapseCount += 1 }
            activity.messagesQueued += commit.messages.count
            for entry in commit.ledger { activity.count(entry.kind, points: entry.points) }
            for effect in commit.appliedEffects {
                effectCounts[effect.rule, default: [:]][effect.kind, default: 0] += 1
            }
        }

        /// Adds the counts of `other`.
        mutating func add(_ other: Counts) {
            lapseCount += other.lapseCount
            activity.messagesQueued += other.activity.messagesQueued
            activity.pointsIssued += other.activity.pointsIssued
            activity.pointsSpent += other.activity.pointsSpent
            activity.pointsExpired += other.activity.pointsExpired
            for (rule, kinds) in other.effectCounts {
                effectCounts[rule, default: [:]].merge(kinds, uniquingKeysWith: +)
            }
        }
    }

    /// What the engine did since it started, for summaries.
    public struct Activity: Hashable, Sendable, PointsTotals {
        public var pointsIssued: Int64 = 0
        public var pointsSpent: Int64 = 0
        public var pointsExpired: Int64 = 0
        public var messagesQueued = 0
    }
    let outlet = NotificationOutlet()
    /// Outbound engine events (points awarded, tier changed, segment entered/left, message queued), published after
    /// their transaction committed. Publishing starts when this property is first read: notifications of earlier
    /// transactions are not built, so read it before ingesting what you want to hear about.
    public nonisolated var notifications: AsyncStream<EngineNotification> { outlet.stream }
    /// How deep events emitted by rules may nest.
    public static let maximumEmitDepth = 8

    /// How many events a batch needs per shard before its evaluation is split (below that, splitting costs more
    /// than it saves).
    static let minimumEventsPerShard = 64

    /// Creates an engine over `rules`, keeping state in `store`, reading time from `clock`.
    ///
    /// Large batches (``ingest(_:)-([Event])``, ``ingestOverlapped(_:)``) are evaluated on up to `evaluationThreads`
    /// threads at once, each with its own copy of the rules (its own Lua state), customers split between them. The
    /// effects are the same as on one thread, in the same order, for rules that keep no state between calls: a value
    /// a rule keeps in a Lua variable of its file, or `math.random`'s sequence, is its copy's own (and starts again
    /// with every restart).
    public init(
        rules: sending RuleBook, store: any Store, clock: any EngineClock, logger: Logger,
        evaluationThreads: Int = Engine.defaultEvaluationThreads
    ) {
        self.rules = rules
        self.store = store
        self.clock = clock
        self.logger = logger
        ruleBooks = [rules]
        schedule = LapseSchedules(shardCount: max(1, evaluationThreads))
    }

    /// Two threads on a machine with two cores or more: a replay's rules then run beside the store's writes and
    /// each other.
    public static var defaultEvaluationThreads: Int { min(2, ProcessInfo.processInfo.activeProcessorCount) }

    // MARK: Ingestion

    /// Applies one event in its own transaction.
    public func ingest(_ event: Event) async throws -> IngestOutcome {
        try await ingest([event])[0]
    }

    /// Applies events in order, all that are valid in one transaction (for bulk replay). Duplicates and rejected
    /// events are reported, not applied; if the transaction fails, nothing of the batch is applied and it throws.
    ///
    /// Concurrent calls apply one after the other, in the order they reached the engine.
    public func ingest(_ events: [Event]) async throws -> [IngestOutcome] {
        try await serial.withLock { try await retryingStale { try await ingestSerially(events) } }
    }

    private func ingestSerially(_ events: [Event]) async throws -> [IngestOutcome] {
        try await loadSerially()
        var (batch, outcomes) = try await evaluate(events, writing: [])
        try await commit(&batch)
        return outcomes
    }

    /// Runs `events` through the rules over the engine's state, lapses that come due first; changes nothing.
    /// `writing` holds the ids of events whose write is under way (the store cannot report them yet), by batch.
    func evaluate(_ events: [Event], writing: [Set<String>]) async throws -> (Batch, [IngestOutcome]) {
        let alreadyApplied = try await store.appliedEventIDs(among: events.map(\.id))
        var outcomes: [IngestOutcome?] = Array(repeating: nil, count: events.count)
        var fresh: [Int] = []
        fresh.reserveCapacity(events.count)
        var seen = Set<String>(minimumCapacity: events.count)
        for (index, event) in events.enumerated() {
            guard !alreadyApplied.contains(event.id), !writing.contains(where: { $0.contains(event.id) }),
                seen.insert(event.id).inserted
            else {
                outcomes[index] = IngestOutcome(eventID: event.id, status: .duplicate, effects: [])
                continue
            }
            fresh.append(index)
        }
        let batch: Batch
        if fresh.count >= Self.minimumEventsPerShard * schedule.shardCount, schedule.shardCount > 1,
            let sharded = evaluateInShards(events, at: fresh, outcomes: &outcomes)
        {
            batch = sharded
        } else {
            let ran: [(index: Int, outcome: IngestOutcome)]
            (batch, ran) = evaluating { $0.run(events, at: fresh, shard: nil) }
            for (index, outcome) in ran { outcomes[index] = outcome }
        }
        return (batch, outcomes.map { $0! })
    }

    /// Evaluates the events at `indices` on one rule book per shard of customers at once, and merges the shards'
    /// batches. Returns nil, having changed nothing, when two shards issued the same coupon code (one evaluation
    /// then decides which commit issues it) or the rules could not be loaded again.
    private func evaluateInShards(_ events: [Event], at indices: [Int], outcomes: inout [IngestOutcome?]) -> Batch? {
        guard hasRuleBookPerShard() else { return nil }
        let publishes = outlet.isOpen
        var evaluations = (0..<schedule.shardCount).map { shard in
            makeEvaluation(rules: ruleBooks[shard], publishes: publishes, schedule: schedule.takeShard(shard))
        }
        // Each shard's evaluation has a rule book and a schedule of its own and only reads what they share.
        let shardOutcomes = evaluations.withUnsafeMutableBufferPointer { shards in
            concurrentMap(count: shards.count) { shard in shards[shard].run(events, at: indices, shard: shard) }
        }
        var batches: [Batch] = []
        for shard in evaluations.indices {
            schedule.returnShard(shard, from: &evaluations[shard].schedule)
            batches.append(Batch())
            swap(&batches[shard], &evaluations[shard].batch)
        }
        guard let batch = Batch.merging(&batches) else {
            rebuildSchedule()
            return nil
        }
        for shard in shardOutcomes { for (index, outcome) in shard { outcomes[index] = outcome } }
        return batch
    }

    /// Runs `body` over an evaluation of all customers on ``rules`` (the engine's schedule moved into it) and
    /// returns the batch it made. When `body` throws, the schedule is as if it had not run.
    func evaluating<T>(_ body: (inout Evaluation) throws -> T) rethrows -> (Batch, T) {
        var evaluation = makeEvaluation(rules: rules, publishes: outlet.isOpen, schedule: schedule.takeAll())
        do {
            let value = try body(&evaluation)
            schedule = evaluation.schedule
            return (evaluation.batch, value)
        } catch {
            // Lapses it ran are no longer scheduled: schedule them again from the engine's state.
            schedule = evaluation.schedule
            for id in evaluation.batch.customers.keys {
                if let customer = customers[id] { schedule.scheduleNextLapse(of: customer, rules: rules) }
            }
            throw error
        }
    }

    /// An evaluation over the engine's state on `rules`, covering the customers of `schedule`.
    private func makeEvaluation(rules: RuleBook, publishes: Bool, schedule: LapseSchedules) -> Evaluation {
        Evaluation(
            rules: rules, customers: customers, memberships: memberships, coupons: checkoutState.coupons,
            publishes: publishes, logger: logger, schedule: schedule)
    }

    /// Loads the rules again for every shard but the first, once. When that fails (a limit the load itself hits,
    /// say), batches are evaluated on one thread from then on.
    private func hasRuleBookPerShard() -> Bool {
        guard ruleBooks.count < schedule.shardCount else { return true }
        guard !ruleBooksFailed else { return false }
        do {
            while ruleBooks.count < schedule.shardCount { ruleBooks.append(try rules.loadedAgain()) }
            return true
        } catch {
            ruleBooksFailed = true
            logger.error("the rules could not be loaded again; batches run on one thread", metadata: ["error": "\(error)"])
            return false
        }
    }

    /// Schedules every customer's next lapse afresh, from the engine's state.
    private func rebuildSchedule() {
        schedule = LapseSchedules(shardCount: schedule.shardCount)
        for customer in customers.values { schedule.scheduleNextLapse(of: customer, rules: rules) }
    }

    /// Moves the engine's time to `instant` (default: the clock's now): expires points and fires `inactive`
    /// handlers that came due. Returns how many lapses ran.
    @discardableResult
    public func advance(to instant: Instant? = nil) async throws -> Int {
        let instant = instant ?? clock.now()
        return try await serial.withLock {
            try await retryingStale {
                try await loadSerially()
                var (batch, _) = evaluating { $0.runLapses(through: instant) }
                let count = batch.commits.count
                try await commit(&batch)
                return count
            }
        }
    }

    // MARK: Queries

    /// The customer with `id` as the engine knows them.
    public func customer(_ id: String) async throws -> Customer? {
        try await loadIfNeeded()
        return customers[id]
    }

    /// Customers in `segment` at `instant` (default: the clock's now), by id, evaluated on demand.
    public func members(of segment: String, at instant: Instant? = nil) async throws -> [String] {
        guard rules.segmentNames.contains(segment) else {
            throw EventRejection("unknown segment '\(segment)'\(Suggestion.didYouMean(segment, among: rules.segmentNames))")
        }
        return try await segmentMembers(at: instant ?? clock.now())[segment, default: []]
    }

    /// How many customers hold each tier (`"none"`: no tier), as the engine knows them: what
    /// ``StoreTotals/tierCounts`` says once the engine's writes are in, without a query over the store.
    public func tierCounts() async throws -> [String: Int] {
        try await loadIfNeeded()
        var counts: [String: Int] = [:]
        for customer in customers.values { counts[customer.tier ?? "none", default: 0] += 1 }
        return counts
    }

    /// Every segment's members at `instant`, evaluated on demand (segments that depend on time change without
    /// events).
    public func segmentMembers(at instant: Instant) async throws -> [String: [String]] {
        try await loadIfNeeded()
        var members: [String: [String]] = [:]
        for name in rules.segmentNames { members[name] = [] }
        for customer in customers.values.sorted(by: { $0.id < $1.id }) {
            for segment in try rules.segments(of: customer, at: instant) { members[segment, default: []].append(customer.id) }
        }
        return members
    }

    // MARK: Internals

    /// The working state of one batch, over the engine's: what changed, applied to the engine only after the store
    /// committed it.
    struct Batch {
        var customers: [String: Customer] = [:]
        var memberships: [String: Set<String>] = [:]
        var commits: [EventCommit] = []
        var notifications: [EngineNotification] = []
        /// Where each commit stands among the batch's events, for merging shards.
        var order: [CommitOrder] = []
        /// Codes of the coupons the commits issue.
        var couponCodes: Set<String> = []
        /// What the commits did.
        var counts = Counts()
    }

    /// Where a commit stands among a batch's events.
    struct CommitOrder {
        /// The index of the event it is, or that it ran before (lapses come due by their event's instant).
        var position: Int
        var isEvent: Bool
        /// How many of the batch's notifications it added.
        var notificationCount: Int
    }

    /// What one event or lapse produced, merged into the batch once all of it succeeded.
    struct CommitResult {
        /// Holds the customer after the commit.
        var commit: EventCommit
        var segments: Set<String>
        var notifications: [EngineNotification]
    }

    /// Loads the store's state once, for queries (which read committed state and need not wait for ingestion), and
    /// again after an overlapped write failed (the state it had absorbed is not in the store).
    func loadIfNeeded() async throws {
        guard !isLoaded || hasFailedWrite else { return }
        try await serial.withLock { try await loadSerially() }
    }

    /// Runs `operation`; when the store says another process changed a customer this engine holds, reads the whole
    /// state again and runs it once more (nothing of the refused batch was applied). The caller holds `serial`.
    func retryingStale<T>(_ operation: () async throws -> T) async throws -> T {
        for _ in 1..<3 {
            do {
                return try await operation()
            } catch let error as StaleCustomer {
                logger.info("state changed by another process, reloading", metadata: ["customer": "\(error.customerID)"])
                reset()
                try await loadSerially()
            }
        }
        return try await operation()
    }

    /// Forgets the loaded state, so that the next load reads it from the store.
    func reset() {
        isLoaded = false
        customers = [:]
        memberships = [:]
        versions = [:]
        schedule = LapseSchedules(shardCount: schedule.shardCount)
        checkoutState = CheckoutState()
    }

    /// Loads the store's state once; the caller holds `serial`.
    func loadSerially(settlingWrites: Bool = true) async throws {
        if settlingWrites {
            do {
                try await settleInFlightWrites()
            } catch {
                // The overlapped ingestion that started the write hears of it from `durable()`; this operation goes
                // on over the store's state.
                logger.error("an overlapped write failed; state read again", metadata: ["error": "\(error)"])
            }
        }
        guard !isLoaded else { return }
        let predictions = try await store.predictions()?.customers ?? [:]
        for var customer in try await store.allCustomers() {
            customer.prediction = predictions[customer.id]
            customers[customer.id] = customer
            memberships[customer.id] = try await store.segments(customerID: customer.id)
            schedule.scheduleNextLapse(of: customer, rules: rules)
            if let code = customer.referralCode { checkoutState.referralCodes[code] = customer.id }
        }
        checkoutState.usage = try await store.usage(keys: nil)
        versions = try await store.customerVersions()
        for coupon in try await store.coupons() { checkoutState.coupons[coupon.code] = coupon }
        isLoaded = true
    }

    func commit(_ batch: inout Batch) async throws {
        guard !batch.commits.isEmpty else { return }
        stampVersions(of: &batch)
        do {
            try await store.apply(batch.commits)
        } catch {
            // Nothing of the batch is in the store; the schedule may have moved past its lapses.
            rebuildSchedule()
            throw error
        }
        absorb(batch)
        outlet.publish(batch.notifications)
    }

    /// Gives the first commit of each customer the version this engine's state of the customer came from.
    func stampVersions(of batch: inout Batch) {
        var stamped = Set<String>(minimumCapacity: batch.customers.count)
        for index in batch.commits.indices where stamped.insert(batch.commits[index].customerID).inserted {
            batch.commits[index].expectedVersion = versions[batch.commits[index].customerID] ?? -1
        }
    }

    /// Makes a batch the store accepted the engine's state (notifications aside).
    func absorb(_ batch: Batch) {
        counts.add(batch.counts)
        for index in batch.commits.indices {
            checkoutState.apply(batch.commits[index].claims)
            for coupon in batch.commits[index].coupons { checkoutState.coupons[coupon.code] = coupon }
        }
        for (id, customer) in batch.customers {
            if let code = customer.referralCode { checkoutState.referralCodes[code] = id }
            versions[id, default: -1] += 1
        }
        customers.merge(batch.customers) { _, new in new }
        memberships.merge(batch.memberships) { _, new in new }
    }

    /// What one commit accumulates while its effects apply.
    struct ApplyContext {
        var eventID: String
        /// See ``EventCommit/recordsEventID``.
        var recordsEventID = true
        var eventType: String
        var at: Instant
        var ledger: [PointsEntry] = []
        var messages: [OutboxMessage] = []
        var applied: [AppliedEffect] = []
        /// Built only when someone listens (see ``NotificationOutlet``).
        var notifications: [EngineNotification] = []
        var publishes: Bool
        /// Coupons issued by rules.
        var coupons: [Coupon] = []
        /// The score of a `survey` event, for NPS.
        var surveyResponse: SurveyResponse?
        var sequence = 0

        mutating func notify(_ notification: @autoclosure () -> EngineNotification) {
            if publishes { notifications.append(notification()) }
        }

        mutating func nextID() -> String {
            defer { sequence += 1 }
            return "\(eventID)#\(sequence)"
        }
    }
}
