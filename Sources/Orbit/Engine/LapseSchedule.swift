/// Customers ordered by when something next happens to them without an event: a points batch expires, an
/// `inactive` lapse comes due, a referral reward is paid. A binary min-heap; stale entries are skipped when popped.
///
/// Entries due at the same instant come out in customer-id order, so that the order of lapses is the same however
/// the customers are split into shards (see ``LapseSchedules``).
struct LapseSchedule {
    typealias Entry = (due: Instant, customerID: String)
    private var heap: [Entry] = []

    /// The earliest entry.
    var first: Entry? { heap.first }

    mutating func schedule(_ customerID: String, at due: Instant) {
        heap.append((due, customerID))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard Self.precedes(heap[child], heap[parent]) else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Removes and returns the earliest entry when it is due at or before `instant`.
    mutating func popDue(through instant: Instant) -> Entry? {
        guard let first = heap.first, first.due <= instant else { return nil }
        let last = heap.removeLast()
        if !heap.isEmpty {
            heap[0] = last
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var smallest = parent
                if left < heap.count, Self.precedes(heap[left], heap[smallest]) { smallest = left }
                if right < heap.count, Self.precedes(heap[right], heap[smallest]) { smallest = right }
                if smallest == parent { break }
                heap.swapAt(parent, smallest)
                parent = smallest
            }
        }
        return first
    }

    static func precedes(_ entry: Entry, _ other: Entry) -> Bool {
        entry.due < other.due || (entry.due == other.due && entry.customerID < other.customerID)
    }
}

/// The engine's lapse schedule, one ``LapseSchedule`` per shard of customers, so that each shard's lapses can run
/// on their own rule book (see ``Evaluation``). Lapses pop in the same order as from one schedule.
struct LapseSchedules {
    private var shards: [LapseSchedule]

    init(shardCount: Int) {
        shards = Array(repeating: LapseSchedule(), count: shardCount)
    }

    var shardCount: Int { shards.count }

    /// The shard `customerID` belongs to. Ids that are equal as strings (canonically equivalent, like "å" written
    /// as one character or as "a" and a ring) share a shard, as they share a customer. The hash is Swift's, which
    /// changes from run to run: any split gives the same result, so none needs to be the same twice.
    static func shard(of customerID: String, among count: Int) -> Int {
        count == 1 ? 0 : Int(UInt(bitPattern: customerID.hashValue) % UInt(count))
    }

    mutating func schedule(_ customerID: String, at due: Instant) {
        shards[Self.shard(of: customerID, among: shards.count)].schedule(customerID, at: due)
    }

    /// Schedules when something next happens to `customer` without an event, if anything will.
    mutating func scheduleNextLapse(of customer: Customer, rules: RuleBook) {
        if let due = Self.nextLapse(of: customer, rules: rules) { schedule(customer.id, at: due) }
    }

    /// Removes and returns the earliest entry of all shards when it is due at or before `instant`.
    mutating func popDue(through instant: Instant) -> LapseSchedule.Entry? {
        var earliest: Int?
        for index in shards.indices {
            guard let first = shards[index].first else { continue }
            if let current = earliest, let best = shards[current].first, !LapseSchedule.precedes(first, best) { continue }
            earliest = index
        }
        guard let earliest else { return nil }
        return shards[earliest].popDue(through: instant)
    }

    /// Moves every shard out, leaving these schedules empty.
    mutating func takeAll() -> LapseSchedules {
        var taken = LapseSchedules(shardCount: shards.count)
        swap(&taken, &self)
        return taken
    }

    /// Moves shard `index` out into schedules of its own (the same shard count, the other shards empty).
    mutating func takeShard(_ index: Int) -> LapseSchedules {
        var taken = LapseSchedules(shardCount: shards.count)
        swap(&taken.shards[index], &shards[index])
        return taken
    }

    /// Moves shard `index` back from schedules made by ``takeShard(_:)``, which scheduled only that shard's
    /// customers.
    mutating func returnShard(_ index: Int, from taken: inout LapseSchedules) {
        assert(taken.shards.indices.allSatisfy { $0 == index || taken.shards[$0].first == nil })
        swap(&taken.shards[index], &shards[index])
    }

    /// When something next happens to `customer` without an event.
    static func nextLapse(of customer: Customer, rules: RuleBook) -> Instant? {
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
}
