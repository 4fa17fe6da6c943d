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
    private var schedule = LapseSchedule()
    private var isLoaded = false
    /// The store writes overlapped ingestions left running, oldest first (see ``ingestOverlapped(_:)``).
    var inFlight: [InFlightWrite] = []
    /// Serialises everything that reads state, awaits the store and writes state back (see ``AsyncMutex``).
    let serial = AsyncMutex()
    /// Effects applied since the engine started, by rule and kind (replay summaries read this).
    public private(set) var effectCounts: [String: [String: Int]] = [:]
    /// Lapses (expiries, inactivity) run since the engine started.
    public private(set) var lapseCount = 0
    /// Points and messages since the engine started.
    public private(set) var activity = Activity()

    /// The counters above, together.
    struct Counts {
        var effectCounts: [String: [String: Int]]
        var lapseCount: Int
        var activity: Activity
    }

    var counts: Counts {
        get { Counts(effectCounts: effectCounts, lapseCount: lapseCount, activity: activity) }
        set {
            effectCounts = newValue.effectCounts
            lapseCount = newValue.lapseCount
            activity = newValue.activity
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

    /// Creates an engine over `rules`, keeping state in `store`, reading time from `clock`.
    public init(rules: sending RuleBook, store: any Store, clock: any EngineClock, logger: Logger) {
        self.rules = rules
        self.store = store
        self.clock = clock
        self.logger = logger
    }

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
        var batch = Batch()
        // Room for a little more than a lapse per event besides the events (a replay of the CDNOW history runs 1.04
        // per event), so that commits, which are large, are seldom moved to a bigger buffer.
        batch.commits.reserveCapacity(events.count * 9 / 4)
        batch.customers.reserveCapacity(events.count)
        batch.memberships.reserveCapacity(events.count)
        var seen = Set<String>()
        var outcomes: [IngestOutcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            guard !alreadyApplied.contains(event.id), !writing.contains(where: { $0.contains(event.id) }),
                seen.insert(event.id).inserted
            else {
                outcomes.append(IngestOutcome(eventID: event.id, status: .duplicate, effects: []))
                continue
            }
            runLapses(through: event.at, into: &batch)
            do {
                let result = try apply(event, in: batch)
                outcomes.append(IngestOutcome(eventID: event.id, status: .applied, effects: result.commit.appliedEffects))
                merge(result, into: &batch)
            } catch {
                outcomes.append(IngestOutcome(eventID: event.id, status: .rejected(reason: "\(error)"), effects: []))
            }
        }
        return (batch, outcomes)
    }

    /// Moves the engine's time to `instant` (default: the clock's now): expires points and fires `inactive`
    /// handlers that came due. Returns how many lapses ran.
    @discardableResult
    public func advance(to instant: Instant? = nil) async throws -> Int {
        let instant = instant ?? clock.now()
        return try await serial.withLock {
            try await retryingStale {
                try await loadSerially()
                var batch = Batch()
                runLapses(through: instant, into: &batch)
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
    }

    /// What one event or lapse produced, merged into the batch once all of it succeeded.
    struct CommitResult {
        /// Holds the customer after the commit.
        var commit: EventCommit
        var segments: Set<String>
        var notifications: [EngineNotification]
    }

    func current(_ id: String, in batch: Batch) -> Customer? { batch.customers[id] ?? customers[id] }

    /// The segments the customer was last found in, over the batch's working state.
    func currentSegments(of id: String, in batch: Batch) -> Set<String> {
        batch.memberships[id] ?? memberships[id] ?? []
    }

    func merge(_ result: consuming CommitResult, into batch: inout Batch) {
        let id = result.commit.customerID
        scheduleNextLapse(of: result.commit.customer)
        batch.customers[id] = result.commit.customer
        batch.memberships[id] = result.segments
        if !result.notifications.isEmpty { batch.notifications += result.notifications }
        batch.commits.append(result.commit)
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
        schedule = LapseSchedule()
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
            scheduleNextLapse(of: customer)
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
            // Nothing of the batch is in the store; the schedule may have moved past its lapses: rebuild it.
            schedule = LapseSchedule()
            for customer in customers.values { scheduleNextLapse(of: customer) }
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
        for index in batch.commits.indices {
            if batch.commits[index].eventType == "lapse" { lapseCount += 1 }
            activity.messagesQueued += batch.commits[index].messages.count
            for entry in batch.commits[index].ledger { activity.count(entry.kind, points: entry.points) }
            for effect in batch.commits[index].appliedEffects {
                effectCounts[effect.rule, default: [:]][effect.kind, default: 0] += 1
            }
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

    private func scheduleNextLapse(of customer: Customer) {
        if let due = nextLapse(of: customer) { schedule.schedule(customer.id, at: due) }
    }

    /// When something next happens to `customer` without an event.
    private func nextLapse(of customer: Customer) -> Instant? {
        var due = customer.wallet.nextExpiry
        if let reward = customer.pendingReferralRewards.map(\.dueAt).min() { due = due.map { min($0, reward) } ?? reward }
        let anchor = customer.lastActivityAt
        for handler in rules.inactiveHandlers {
            guard let days = handler.inactiveDays, customer.inactiveLapsesFired[days] != anchor else { continue }
            let lapse = anchor.adding(days: days)
            due = due.map { min($0, lapse) } ?? lapse
        }
        return due
    }

    /// Runs every lapse due at or before `instant`, in order, each as its own commit. Rules cannot stop time: a
    /// failing `inactive` handler leaves nothing of its effects, a failing tier or segment rule leaves the customer's
    /// tier and segments as they were, and either is logged; the lapse itself (expiries, the handler having fired)
    /// is recorded.
    func runLapses(through instant: Instant, into batch: inout Batch) {
        while let (due, id) = schedule.popDue(through: instant) {
            guard var customer = current(id, in: batch), let actual = nextLapse(of: customer), actual <= due else {
                continue  // stale: the customer changed since this entry was scheduled
            }
            var context = ApplyContext(
                eventID: "lapse:\(id):\(due.millisecondsSinceEpoch)", eventType: "lapse", at: due,
                publishes: outlet.isOpen)
            context.recordsEventID = false  // see EventCommit.recordsEventID
            expirePoints(of: &customer, through: due, context: &context)
            payReferralRewards(of: &customer, through: due, context: &context)
            for handler in rules.inactiveHandlers {
                guard let days = handler.inactiveDays, customer.inactiveLapsesFired[days] != customer.lastActivityAt,
                    customer.lastActivityAt.adding(days: days) <= due
                else { continue }
                customer.inactiveLapsesFired[days] = customer.lastActivityAt
                // On copies, so that a handler failing halfway leaves none of its effects.
                var handled = customer
                var handledContext = context
                do {
                    let proposed = try rules.effects(ofInactive: handler, for: handled, at: due)
                    try applyEffects(proposed, to: &handled, context: &handledContext, depth: 0)
                    customer = handled
                    context = handledContext
                } catch {
                    logger.error("inactive handler failed", metadata: ["customer": "\(id)", "error": "\(error)"])
                }
            }
            let standing: RuleBook.Standing
            do {
                standing = try rules.standing(of: customer, at: due)
            } catch {
                logger.error(
                    "tier or segment rule failed at a lapse; tier and segments unchanged",
                    metadata: ["customer": "\(id)", "error": "\(error)"])
                standing = (rules.currentTier(of: customer), currentSegments(of: id, in: batch))
            }
            merge(complete(customer, context: context, standing: standing, batch: batch), into: &batch)
        }
    }

    /// Applies one event over the batch's working state; changes nothing until the caller merges the result.
    /// `hostEffects` applies what the host itself does besides the rules (a checkout's points payment), after the
    /// event's own facts are recorded and before the rules run.
    func apply(
        _ event: Event, in batch: Batch,
        hostEffects: (inout Customer, inout ApplyContext) throws -> Void = { _, _ in }
    ) throws -> CommitResult {
        var customer = current(event.customerID, in: batch) ?? newCustomer(event.customerID, at: event.at)
        guard event.at >= customer.lastEventAt else {
            throw EventRejection(
                "event at \(event.at) is older than customer '\(customer.id)''s last event at \(customer.lastEventAt)")
        }
        try HostUpdates.apply(event, to: &customer)
        customer.lastEventAt = event.at
        var context = ApplyContext(
            eventID: event.id, eventType: event.type, at: event.at, publishes: outlet.isOpen)
        context.surveyResponse = try HostUpdates.surveyResponse(of: event)
        try hostEffects(&customer, &context)
        let proposed = try rules.effects(of: event, for: customer, at: event.at)
        try applyEffects(proposed, to: &customer, context: &context, depth: 0)
        return try finish(customer, context: context, batch: batch)
    }

    /// A context for a commit the host makes itself (a referral reward pending or cancelled).
    func hostContext(eventID: String, eventType: String, at instant: Instant) -> ApplyContext {
        ApplyContext(eventID: eventID, eventType: eventType, at: instant, publishes: outlet.isOpen)
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

    private func expirePoints(of customer: inout Customer, through instant: Instant, context: inout ApplyContext) {
        for batch in customer.wallet.expire(through: instant) {
            context.ledger.append(
                PointsEntry(
                    id: "expire:\(batch.entryID)", customerID: customer.id, kind: .expire, points: -batch.remaining,
                    at: batch.expiresAt ?? instant, expiresAt: nil, rule: nil, eventID: nil,
                    reason: "batch \(batch.entryID) expired"))
            context.notify(.pointsExpired(customerID: customer.id, points: batch.remaining))
        }
    }

    func applyEffects(
        _ proposed: [ProposedEffect], to customer: inout Customer, context: inout ApplyContext, depth: Int
    ) throws {
        for item in proposed {
            let id = customer.id
            switch item.effect {
            case .awardPoints(let points, let expiresAt):
                award(points, expiresAt: expiresAt, rule: item.rule, to: &customer, context: &context)
            case .deductPoints(let points):
                guard customer.wallet.spend(points) else {
                    context.applied.append(
                        AppliedEffect(
                            rule: item.rule, kind: "skipped",
                            detail: "deduct \(points) points: balance is \(customer.pointsBalance)"))
                    continue
                }
                context.ledger.append(
                    PointsEntry(
                        id: context.nextID(), customerID: id, kind: .redeem, points: -points, at: context.at,
                        expiresAt: nil, rule: item.rule, eventID: context.eventID, reason: item.rule))
                context.notify(.pointsSpent(customerID: id, points: points, rule: item.rule))
                context.applied.append(AppliedEffect(rule: item.rule, kind: "deduct", detail: "\(points) points"))
            case .addTag(let tag):
                customer.tags.insert(tag)
                context.applied.append(AppliedEffect(rule: item.rule, kind: "tag", detail: tag))
            case .removeTag(let tag):
                customer.tags.remove(tag)
                context.applied.append(AppliedEffect(rule: item.rule, kind: "untag", detail: tag))
            case .setAttribute(let key, let value):
                customer.attributes[key] = value == .null ? nil : value
                context.applied.append(AppliedEffect(rule: item.rule, kind: "set", detail: key))
            case .sendMessage(let channel, let template, let data):
                guard customer.consent[channel] == true else {
                    context.applied.append(
                        AppliedEffect(
                            rule: item.rule, kind: "skipped", detail: "\(channel.rawValue) '\(template)': no consent"))
                    continue
                }
                let message = OutboxMessage(
                    id: context.nextID(), customerID: id, channel: channel, template: template, data: data,
                    queuedAt: context.at, rule: item.rule)
                context.messages.append(message)
                context.notify(.messageQueued(message))
                context.applied.append(AppliedEffect(rule: item.rule, kind: "send", detail: "\(channel.rawValue) \(template)"))
            case .issueCoupon(let coupon):
                guard checkoutState.coupons[coupon.code] == nil, !context.coupons.contains(where: { $0.code == coupon.code })
                else {
                    context.applied.append(AppliedEffect(rule: item.rule, kind: "skipped", detail: "coupon \(coupon.code) exists"))
                    continue
                }
                context.coupons.append(coupon)
                context.applied.append(AppliedEffect(rule: item.rule, kind: "coupon", detail: coupon.offer))
            case .emitEvent(let type, let data):
                guard depth < Self.maximumEmitDepth else {
                    throw EventRejection(
                        "\(item.file):\(item.line ?? 0): in \(item.rule): emitted events nest deeper than "
                            + "\(Self.maximumEmitDepth) levels (does a handler emit the event it handles?)")
                }
                let derived = Event(
                    id: context.nextID(), type: type, customerID: id, at: context.at, data: data)
                let effects = try rules.effects(of: derived, for: customer, at: context.at)
                context.applied.append(AppliedEffect(rule: item.rule, kind: "emit", detail: type))
                try applyEffects(effects, to: &customer, context: &context, depth: depth + 1)
            }
        }
    }

    /// Adds an earning batch of `points` to the customer's wallet and the ledger.
    func award(
        _ points: Int64, expiresAt: Instant?, rule: String, to customer: inout Customer, context: inout ApplyContext
    ) {
        let entryID = context.nextID()
        context.ledger.append(
            PointsEntry(
                id: entryID, customerID: customer.id, kind: .earn, points: points, at: context.at, expiresAt: expiresAt,
                rule: rule, eventID: context.eventID, reason: rule))
        customer.wallet.add(PointsBatch(entryID: entryID, remaining: points, expiresAt: expiresAt))
        customer.pointsEarned += points
        context.notify(.pointsAwarded(customerID: customer.id, points: points, rule: rule))
        context.applied.append(AppliedEffect(rule: rule, kind: "award", detail: "\(points) points"))
    }

    /// Re-evaluates tier and segments and completes the commit.
    func finish(_ customer: consuming Customer, context: consuming ApplyContext, batch: Batch) throws -> CommitResult {
        let standing = try rules.standing(of: customer, at: context.at)
        return complete(customer, context: context, standing: standing, batch: batch)
    }

    /// Completes the commit with the customer's new `standing`: records a tier change and segment changes.
    func complete(
        _ customer: consuming Customer, context: consuming ApplyContext, standing: RuleBook.Standing, batch: Batch
    ) -> CommitResult {
        let tier = standing.tier?.name
        var tierChange: TierChange?
        if tier != customer.tier {
            tierChange = TierChange(from: customer.tier, to: tier)
            context.notify(.tierChanged(customerID: customer.id, from: customer.tier, to: tier))
            customer.tier = tier
        }
        let segments = standing.segments
        let previous = currentSegments(of: customer.id, in: batch)
        var changedSegments: Set<String>?
        if segments != previous {
            changedSegments = segments
            if context.publishes {
                for name in segments.subtracting(previous).sorted() {
                    context.notify(.segmentEntered(customerID: customer.id, segment: name))
                }
                for name in previous.subtracting(segments).sorted() {
                    context.notify(.segmentLeft(customerID: customer.id, segment: name))
                }
            }
        }
        return CommitResult(
            commit: EventCommit(
                eventID: context.eventID, eventType: context.eventType, customerID: customer.id, at: context.at,
                customer: customer, ledger: context.ledger, messages: context.messages, segments: changedSegments,
                previousSegments: changedSegments == nil ? nil : previous, tierChange: tierChange,
                appliedEffects: context.applied, coupons: context.coupons, surveyResponse: context.surveyResponse,
                recordsEventID: context.recordsEventID),
            segments: segments, notifications: context.notifications)
    }
}
