/// A store in memory: for tests, the REPL and dry runs. Same semantics as the durable stores, nothing survives the
/// process.
public actor MemoryStore: Store {
    private var customers: [String: Customer] = [:]
    private var appliedEvents: Set<String> = []
    private var ledgers: [String: [PointsEntry]] = [:]
    private var outbox: [String: [OutboxMessage]] = [:]
    private var memberships: [String: Set<String>] = [:]
    private var orders: [String: OrderRecord] = [:]
    private var refunds: [String: RefundRecord] = [:]
    private var counters: [String: Int64] = [:]
    private var versions: [String: Int64] = [:]
    private var issuedCoupons: [String: Coupon] = [:]
    private var segmentHistory: [SegmentChange] = []
    private var surveys: [SurveyResponse] = []
    private var predictionSet: PredictionSet?

    public init() {}

    public func customer(_ id: String) -> Customer? { customers[id] }

    public func allCustomers() -> [Customer] { customers.values.sorted { $0.id < $1.id } }

    public func appliedEventIDs(among ids: [String]) -> Set<String> { Set(ids.filter(appliedEvents.contains)) }

    public func apply(_ commits: [EventCommit]) throws {
        // Through pointers: a commit is read where it lies (an array's subscript, or a borrowed parameter read from
        // the array, copies the whole commit, customer included).
        try commits.withUnsafeBufferPointer { commits in
            try check(commits)
            for index in commits.indices { record(commits.baseAddress! + index) }
        }
    }

    /// Throws when any commit of the batch cannot apply; changes nothing but the usage counters, and those only
    /// when every commit can.
    private func check(_ commits: UnsafeBufferPointer<EventCommit>) throws {
        var seen = Set<String>()
        var checked = Set<String>()
        var written = Set<String>()
        var usage = counters
        for commit in commits.indices.lazy.map({ commits.baseAddress! + $0 }) {
            let eventID = commit.pointee.eventID
            if commit.pointee.recordsEventID, appliedEvents.contains(eventID) || !seen.insert(eventID).inserted {
                throw StoreError("event '\(eventID)' was already applied")
            }
            let customerID = commit.pointee.customerID
            written.insert(customerID)
            if let expected = commit.pointee.expectedVersion, checked.insert(customerID).inserted,
                (versions[customerID] ?? -1) != expected
            {
                throw StaleCustomer(customerID: customerID)
            }
            for claim in commit.pointee.claims {
                let total = usage[claim.key, default: 0] + claim.amount
                if claim.amount > 0, let limit = claim.limit, total > limit { throw UsageLimitExceeded(key: claim.key) }
                usage[claim.key] = total
            }
            if let refund = commit.pointee.refund, refunds[refund.refundID] != nil {
                throw StoreError("refund '\(refund.refundID)' was already applied")
            }
        }
        counters = usage
        for id in written { versions[id, default: -1] += 1 }
    }

    private func record(_ commit: UnsafePointer<EventCommit>) {
        if let order = commit.pointee.order { orders[order.orderID] = order }
        if let refund = commit.pointee.refund { refunds[refund.refundID] = refund }
        for coupon in commit.pointee.coupons { issuedCoupons[coupon.code] = coupon }
        if commit.pointee.recordsEventID { appliedEvents.insert(commit.pointee.eventID) }
        let customerID = commit.pointee.customerID
        customers[customerID] = commit.pointee.customer
        ledgers[customerID, default: []].append(contentsOf: commit.pointee.ledger)
        if !commit.pointee.messages.isEmpty {
            outbox[customerID, default: []].append(contentsOf: commit.pointee.messages)
        }
        if let segments = commit.pointee.segments {
            segmentHistory += SegmentChange.changes(
                of: customerID, from: memberships[customerID] ?? [], to: segments, at: commit.pointee.at)
            memberships[customerID] = segments
        }
        if let response = commit.pointee.surveyResponse { surveys.append(response) }
    }

    public func ledger(customerID: String) -> [PointsEntry] { ledgers[customerID] ?? [] }

    public func messages(customerID: String) -> [OutboxMessage] { outbox[customerID] ?? [] }

    public func segments(customerID: String) -> Set<String> { memberships[customerID] ?? [] }

    public func forget(customerID: String) -> Bool {
        guard let customer = customers[customerID] else { return false }
        customers[customerID] = customer.forgotten()
        versions[customerID, default: -1] += 1
        outbox[customerID] = outbox[customerID]?.map { $0.redacted() }
        return true
    }

    public func order(_ orderID: String) -> OrderRecord? { orders[orderID] }

    public func refund(_ refundID: String) -> RefundRecord? { refunds[refundID] }

    public func usage(keys: [String]?) -> [String: Int64] {
        guard let keys else { return counters }
        return counters.filter { keys.contains($0.key) }
    }

    public func coupons() -> [Coupon] { issuedCoupons.values.sorted { $0.code < $1.code } }

    public func customerVersions() -> [String: Int64] { versions }

    public func totals() -> StoreTotals {
        var totals = StoreTotals(customers: customers.count, events: appliedEvents.count)
        for entries in ledgers.values {
            for entry in entries { totals.count(entry.kind, points: entry.points) }
        }
        totals.messages = outbox.values.reduce(0) { $0 + $1.count }
        for customer in customers.values { totals.tierCounts[customer.tier ?? "none", default: 0] += 1 }
        for segments in memberships.values {
            for segment in segments { totals.segmentSizes[segment, default: 0] += 1 }
        }
        return totals
    }
}

// MARK: - Analytics

extension MemoryStore {
    public func pointsMovements() -> [PointsMovement] {
        ledgers.keys.sorted().flatMap { id in
            (ledgers[id] ?? []).map { PointsMovement(kind: $0.kind, points: $0.points, at: $0.at) }
        }
    }

    public func segmentChanges() -> [SegmentChange] { segmentHistory }

    public func surveyResponses() -> [SurveyResponse] { surveys }

    /// Empty: the memory store keeps no checkout data yet.
    public func offerPerformance(during interval: Range<Instant>) -> [OfferPerformance] {
        OfferPerformance.from(orders: Array(orders.values), usage: counters, during: interval)
    }

    public func savePredictions(_ predictions: PredictionSet) { predictionSet = predictions }

    public func predictions() -> PredictionSet? { predictionSet }
}

extension Customer {
    /// The customer with personal data erased: attributes, tags, consent and referral data go; order totals, points
    /// and tier stay, so budgets and metrics stay right.
    public func forgotten() -> Customer {
        var copy = self
        copy.attributes = [:]
        copy.tags = []
        copy.consent = [:]
        copy.referralCode = nil
        copy.referrer = nil
        copy.isForgotten = true
        return copy
    }
}

extension OutboxMessage {
    /// The message without its personal contents (template and channel stay, for counts).
    public func redacted() -> OutboxMessage {
        var copy = self
        copy.data = [:]
        return copy
    }
}
