import Logging

/// Runs events and lapses through one rule book over the engine's state as it was when a batch began, into the
/// batch's commits; changes nothing of the engine's own state.
///
/// A large batch is split by customer into shards, each evaluated on its own rule book (its own Lua state) at the
/// same time; their batches then merge in the order one evaluation of the whole batch makes (see
/// ``Engine/Batch/merging(_:)``). Rules only ever see one customer, so the shards need nothing of each other, with
/// one exception the merge checks: two shards issuing the same coupon code.
struct Evaluation {
    let rules: RuleBook
    /// The engine's customers when the batch began.
    let customers: [String: Customer]
    /// The engine's segment memberships when the batch began.
    let memberships: [String: Set<String>]
    /// The coupons the engine knew when the batch began.
    let coupons: [String: Coupon]
    let publishes: Bool
    let logger: Logger
    /// The lapses of the customers this evaluation covers.
    var schedule: LapseSchedules
    var batch = Engine.Batch()
    /// The index in the batch's events of the event being evaluated (lapses that come due run before it).
    private var position = 0

    init(
        rules: RuleBook, customers: [String: Customer], memberships: [String: Set<String>], coupons: [String: Coupon],
        publishes: Bool, logger: Logger, schedule: LapseSchedules
    ) {
        self.rules = rules
        self.customers = customers
        self.memberships = memberships
        self.coupons = coupons
        self.publishes = publishes
        self.logger = logger
        self.schedule = schedule
    }

    /// Evaluates `events` at `indices` (those neither applied before nor repeated), in order: before each, the lapses
    /// that came due by its instant; then the event itself when its customer is in `shard` (always without one).
    /// Returns the outcome of each event it evaluated, by index.
    mutating func run(_ events: [Event], at indices: [Int], shard: Int?) -> [(index: Int, outcome: IngestOutcome)] {
        let share = shard == nil ? indices.count : indices.count / schedule.shardCount + 16
        var outcomes: [(index: Int, outcome: IngestOutcome)] = []
        outcomes.reserveCapacity(share)
        // Room for a little more than a lapse per event besides the events (a replay of the CDNOW history runs 1.04
        // per event), so that commits, which are large, are seldom moved to a bigger buffer.
        batch.commits.reserveCapacity(share * 9 / 4)
        batch.customers.reserveCapacity(share)
        batch.memberships.reserveCapacity(share)
        for index in indices {
            position = index
            runLapses(through: events[index].at)
            if let shard, LapseSchedules.shard(of: events[index].customerID, among: schedule.shardCount) != shard {
                continue
            }
            let event = events[index]
            do {
                let result = try apply(event)
                outcomes.append((index, IngestOutcome(eventID: event.id, status: .applied, effects: result.commit.appliedEffects)))
                merge(result, isEvent: true)
            } catch {
                outcomes.append((index, IngestOutcome(eventID: event.id, status: .rejected(reason: "\(error)"), effects: [])))
            }
        }
        position = events.count
        return outcomes
    }

    func current(_ id: String) -> Customer? { batch.customers[id] ?? customers[id] }

    /// The segments the customer was last found in, over the batch's working state.
    func currentSegments(of id: String) -> Set<String> {
        batch.memberships[id] ?? memberships[id] ?? []
    }

    /// Adds a commit to the batch; `isEvent` tells an event's commit from one that ran before it (a lapse, a change
    /// the host made).
    mutating func merge(_ result: consuming Engine.CommitResult, isEvent: Bool = false) {
        let id = result.commit.customerID
        schedule.scheduleNextLapse(of: result.commit.customer, rules: rules)
        batch.customers[id] = result.commit.customer
        batch.memberships[id] = result.segments
        for coupon in result.commit.coupons { batch.couponCodes.insert(coupon.code) }
        batch.counts.add(result.commit)
        batch.order.append(
            Engine.CommitOrder(position: position, isEvent: isEvent, notificationCount: result.notifications.count))
        if !result.notifications.isEmpty { batch.notifications += result.notifications }
        batch.commits.append(result.commit)
    }

    /// Runs every lapse due at or before `instant`, in order, each as its own commit. Rules cannot stop time: a
    /// failing `inactive` handler leaves nothing of its effects, a failing tier or segment rule leaves the customer's
    /// tier and segments as they were, and either is logged; the lapse itself (expiries, the handler having fired)
    /// is recorded.
    mutating func runLapses(through instant: Instant) {
        while let (due, id) = schedule.popDue(through: instant) {
            guard var customer = current(id), let actual = LapseSchedules.nextLapse(of: customer, rules: rules),
                actual <= due
            else {
                continue  // stale: the customer changed since this entry was scheduled
            }
            var context = hostContext(eventID: "lapse:\(id):\(due.millisecondsSinceEpoch)", eventType: "lapse", at: due)
            context.recordsEventID = false  // see EventCommit.recordsEventID
            expirePoints(of: &customer, through: due, context: &context)
            payReferralRewards(of: &customer, through: due, context: &context)
            // What had fired before this lapse: handlers of the same days (with different conditions) each get
            // their turn.
            let fired = customer.inactiveLapsesFired
            for handler in rules.inactiveHandlers {
                guard let days = handler.inactiveDays, fired[days] != customer.lastActivityAt,
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
                standing = (customer.tier, currentSegments(of: id))
            }
            merge(complete(customer, context: context, standing: standing))
        }
    }

    /// Applies one event over the batch's working state; changes nothing until the caller merges the result.
    /// `hostEffects` applies what the host itself does besides the rules (a checkout's points payment), after the
    /// event's own facts are recorded and before the rules run.
    func apply(
        _ event: Event, hostEffects: (inout Customer, inout Engine.ApplyContext) throws -> Void = { _, _ in }
    ) throws -> Engine.CommitResult {
        var customer = current(event.customerID) ?? newCustomer(event.customerID, at: event.at)
        guard event.at >= customer.lastEventAt else {
            throw EventRejection(
                "event at \(event.at) is older than customer '\(customer.id)''s last event at \(customer.lastEventAt)")
        }
        try HostUpdates.apply(event, to: &customer)
        customer.lastEventAt = event.at
        var context = hostContext(eventID: event.id, eventType: event.type, at: event.at)
        context.surveyResponse = try HostUpdates.surveyResponse(of: event)
        try hostEffects(&customer, &context)
        let proposed = try rules.effects(of: event, for: customer, at: event.at)
        try applyEffects(proposed, to: &customer, context: &context, depth: 0)
        return try finish(customer, context: context)
    }

    /// A context for a commit: an event's, a lapse's, or one the host makes itself (a referral reward pending or
    /// cancelled).
    func hostContext(eventID: String, eventType: String, at instant: Instant) -> Engine.ApplyContext {
        Engine.ApplyContext(eventID: eventID, eventType: eventType, at: instant, publishes: publishes)
    }

    /// A customer seen for the first time at `instant`.
    func newCustomer(_ id: String, at instant: Instant) -> Customer {
        Self.newCustomer(id, at: instant, rules: rules)
    }

    /// A customer seen for the first time at `instant`, with a referral code when the programme of `rules` has
    /// referrals.
    static func newCustomer(_ id: String, at instant: Instant, rules: RuleBook) -> Customer {
        var customer = Customer(id: id, signedUpAt: instant)
        if rules.checkout.referral != nil { customer.referralCode = ReferralCode.make(for: id) }
        return customer
    }

    /// Records a change the host made to a customer (not an event from outside) as its own commit in the batch.
    mutating func mergeHostChange(of customer: Customer, eventID: String, type: String, at instant: Instant) throws {
        merge(try finish(customer, context: hostContext(eventID: eventID, eventType: type, at: instant)))
    }

    private func expirePoints(of customer: inout Customer, through instant: Instant, context: inout Engine.ApplyContext) {
        for batch in customer.wallet.expire(through: instant) {
            context.ledger.append(
                PointsEntry(
                    id: "expire:\(batch.entryID)", customerID: customer.id, kind: .expire, points: -batch.remaining,
                    at: batch.expiresAt ?? instant, expiresAt: nil, rule: nil, eventID: nil, reason: nil))
            context.notify(.pointsExpired(customerID: customer.id, points: batch.remaining))
        }
    }

    /// Pays the referral rewards of `customer` that came due by `instant`.
    private func payReferralRewards(
        of customer: inout Customer, through instant: Instant, context: inout Engine.ApplyContext
    ) {
        let due = customer.pendingReferralRewards.filter { $0.dueAt <= instant }
        guard !due.isEmpty else { return }
        customer.pendingReferralRewards.removeAll { $0.dueAt <= instant }
        for reward in due {
            award(
                reward.points, expiresAt: reward.expiresAfterDays.map { reward.dueAt.adding(days: $0) }, rule: "referral",
                to: &customer, context: &context)
        }
    }

    func applyEffects(
        _ proposed: [ProposedEffect], to customer: inout Customer, context: inout Engine.ApplyContext, depth: Int
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
                        expiresAt: nil, rule: item.rule, eventID: context.eventID, reason: nil))
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
                guard coupons[coupon.code] == nil, !batch.couponCodes.contains(coupon.code),
                    !context.coupons.contains(where: { $0.code == coupon.code })
                else {
                    context.applied.append(AppliedEffect(rule: item.rule, kind: "skipped", detail: "coupon \(coupon.code) exists"))
                    continue
                }
                context.coupons.append(coupon)
                context.applied.append(AppliedEffect(rule: item.rule, kind: "coupon", detail: coupon.offer))
            case .emitEvent(let type, let data):
                guard depth < Engine.maximumEmitDepth else {
                    throw EventRejection(
                        "\(item.file):\(item.line ?? 0): in \(item.rule): emitted events nest deeper than "
                            + "\(Engine.maximumEmitDepth) levels (does a handler emit the event it handles?)")
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
        _ points: Int64, expiresAt: Instant?, rule: String, to customer: inout Customer,
        context: inout Engine.ApplyContext
    ) {
        let entryID = context.nextID()
        context.ledger.append(
            PointsEntry(
                id: entryID, customerID: customer.id, kind: .earn, points: points, at: context.at, expiresAt: expiresAt,
                rule: rule, eventID: context.eventID, reason: nil))
        customer.wallet.add(PointsBatch(entryID: entryID, remaining: points, expiresAt: expiresAt))
        customer.pointsEarned += points
        context.notify(.pointsAwarded(customerID: customer.id, points: points, rule: rule))
        context.applied.append(AppliedEffect(rule: rule, kind: "award", detail: "\(points) points"))
    }

    /// Re-evaluates tier and segments and completes the commit.
    func finish(_ customer: consuming Customer, context: consuming Engine.ApplyContext) throws -> Engine.CommitResult {
        let standing = try rules.standing(of: customer, at: context.at)
        return complete(customer, context: context, standing: standing)
    }

    /// Completes the commit with the customer's new `standing`: records a tier change and segment changes.
    private func complete(
        _ customer: consuming Customer, context: consuming Engine.ApplyContext, standing: RuleBook.Standing
    ) -> Engine.CommitResult {
        let tier = standing.tier
        var tierChange: TierChange?
        if tier != customer.tier {
            tierChange = TierChange(from: customer.tier, to: tier)
            context.notify(.tierChanged(customerID: customer.id, from: customer.tier, to: tier))
            customer.tier = tier
        }
        let segments = standing.segments
        let previous = currentSegments(of: customer.id)
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
        return Engine.CommitResult(
            commit: EventCommit(
                eventID: context.eventID, eventType: context.eventType, customerID: customer.id, at: context.at,
                customer: customer, ledger: context.ledger, messages: context.messages, segments: changedSegments,
                previousSegments: changedSegments == nil ? nil : previous, tierChange: tierChange,
                appliedEffects: context.applied, coupons: context.coupons, surveyResponse: context.surveyResponse,
                recordsEventID: context.recordsEventID),
            segments: segments, notifications: context.notifications)
    }
}

extension Engine.Batch {
    /// The batches of shards evaluated over the same events, as one: commits (and their notifications) in the order
    /// one evaluation of all customers makes, lapses that ran before the same event ordered by instant and customer
    /// id as ``LapseSchedule`` pops them. Nil when two shards issued the same coupon code. Moves the commits out of
    /// `shards`.
    static func merging(_ shards: inout [Engine.Batch]) -> Engine.Batch? {
        var merged = Engine.Batch()
        for shard in shards.indices {
            guard merged.couponCodes.isDisjoint(with: shards[shard].couponCodes) else { return nil }
            merged.couponCodes.formUnion(shards[shard].couponCodes)
            merged.counts.add(shards[shard].counts)
        }
        swap(&merged.customers, &shards[0].customers)
        swap(&merged.memberships, &shards[0].memberships)
        for shard in shards.indices.dropFirst() {
            merged.customers.merge(shards[shard].customers) { _, new in new }
            merged.memberships.merge(shards[shard].memberships) { _, new in new }
        }
        let total = shards.reduce(0) { $0 + $1.commits.count }
        merged.commits.reserveCapacity(total)
        merged.order.reserveCapacity(total)
        var nextCommit = Array(repeating: 0, count: shards.count)
        var nextNotification = Array(repeating: 0, count: shards.count)
        // What a moved commit leaves behind: nothing to copy or release.
        let vacated = EventCommit(
            eventID: "", eventType: "", customerID: "", at: Instant(millisecondsSinceEpoch: 0),
            customer: Customer(id: "", signedUpAt: Instant(millisecondsSinceEpoch: 0)))
        while true {
            var earliest: Int?
            for shard in shards.indices where nextCommit[shard] < shards[shard].commits.count {
                if let current = earliest,
                    !shards[shard].commitPrecedes(at: nextCommit[shard], shards[current], at: nextCommit[current])
                {
                    continue
                }
                earliest = shard
            }
            guard let shard = earliest else { break }
            let index = nextCommit[shard]
            let order = shards[shard].order[index]
            var commit = vacated
            swap(&commit, &shards[shard].commits[index])
            merged.commits.append(consume commit)
            merged.order.append(order)
            if order.notificationCount > 0 {
                let start = nextNotification[shard]
                merged.notifications += shards[shard].notifications[start..<start + order.notificationCount]
                nextNotification[shard] += order.notificationCount
            }
            nextCommit[shard] += 1
        }
        return merged
    }
    /// Whether this batch's commit at `index` comes before `other`'s commit at `otherIndex` in one evaluation of
    /// both: by event, lapses before the event, lapses by instant and then customer id.
    private func commitPrecedes(at index: Int, _ other: Engine.Batch, at otherIndex: Int) -> Bool {
        let (mine, theirs) = (order[index], other.order[otherIndex])
        if mine.position != theirs.position { return mine.position < theirs.position }
        if mine.isEvent != theirs.isEvent { return theirs.isEvent }
        return LapseSchedule.precedes(
            (commits[index].at, commits[index].customerID), (other.commits[otherIndex].at, other.commits[otherIndex].customerID))
    }
}
