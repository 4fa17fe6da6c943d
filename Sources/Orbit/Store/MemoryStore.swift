/// A store in memory: for tests, the REPL and dry runs. Same semantics as the durable stores, nothing survives the
/// process.
public actor MemoryStore: Store {
    private var customers: [String: Customer] = [:]
    private var appliedEvents: Set<String> = []
    private var ledgers: [String: [PointsEntry]] = [:]
    private var outbox: [String: [OutboxMessage]] = [:]
    private var memberships: [String: Set<String>] = [:]

    public init() {}

    public func customer(_ id: String) -> Customer? { customers[id] }

    public func allCustomers() -> [Customer] { customers.values.sorted { $0.id < $1.id } }

    public func appliedEventIDs(among ids: [String]) -> Set<String> { Set(ids.filter(appliedEvents.contains)) }

    public func apply(_ commits: [EventCommit]) throws {
        var seen = Set<String>()
        for commit in commits where appliedEvents.contains(commit.eventID) || !seen.insert(commit.eventID).inserted {
            throw StoreError("event '\(commit.eventID)' was already applied")
        }
        for commit in commits {
            appliedEvents.insert(commit.eventID)
            customers[commit.customerID] = commit.customer
            ledgers[commit.customerID, default: []].append(contentsOf: commit.ledger)
            outbox[commit.customerID, default: []].append(contentsOf: commit.messages)
            if let segments = commit.segments { memberships[commit.customerID] = segments }
        }
    }

    public func ledger(customerID: String) -> [PointsEntry] { ledgers[customerID] ?? [] }

    public func messages(customerID: String) -> [OutboxMessage] { outbox[customerID] ?? [] }

    public func segments(customerID: String) -> Set<String> { memberships[customerID] ?? [] }

    public func forget(customerID: String) -> Bool {
        guard let customer = customers[customerID] else { return false }
        customers[customerID] = customer.forgotten()
        outbox[customerID] = outbox[customerID]?.map { $0.redacted() }
        return true
    }

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
