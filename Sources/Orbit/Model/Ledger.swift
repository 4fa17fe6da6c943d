/// One line of the append-only points ledger. The balance is the sum of `points`.
public struct PointsEntry: Hashable, Sendable, Codable {
    public enum Kind: String, Hashable, Sendable, Codable {
        /// Points earned; the entry is a batch that may expire.
        case earn
        /// Points spent (deducted by a rule, or redeemed at checkout).
        case redeem
        /// Points of a batch that expired unspent.
        case expire
        /// Earned points taken back because their order was refunded.
        case reverse
        /// Redeemed points given back because their order was refunded (a new batch).
        case restore
    }

    /// Unique and stable: `<event id>#<n>` for effects of an event, `expire:<batch id>` for expiries.
    public var id: String
    public var customerID: String
    public var kind: Kind
    /// Signed: positive for earnings, negative for spending and expiry.
    public var points: Int64
    public var at: Instant
    /// For earnings: when the batch expires (nil: never).
    public var expiresAt: Instant?
    /// The rule that caused it, when a rule did.
    public var rule: String?
    /// The event that caused it.
    public var eventID: String?
    /// Why, in words, where the kind and `rule` do not say it: a refund's entries name their order
    /// (`"order o-1 refunded"`). Nil when `rule` says it (points a rule, a checkout or a referral awards or deducts)
    /// and for expiries (the id names the batch), so that the ledger does not store each of them twice. Databases
    /// written before Orbit stopped repeating them keep the reasons they have.
    public var reason: String?
}

/// Points of one earning not yet spent or expired. Spending takes from the batch that expires first.
public struct PointsBatch: Hashable, Sendable, Codable {
    /// The id of the `earn` ledger entry.
    public var entryID: String
    public var remaining: Int64
    public var expiresAt: Instant?
}

/// The open batches of one customer and the rules for consuming them.
public struct PointsWallet: Hashable, Sendable, Codable {
    /// Ordered by expiry, soonest first; batches that never expire last, in earning order.
    public private(set) var batches: [PointsBatch] = []

    public init() {}

    /// Points available.
    public var balance: Int64 { batches.reduce(0) { $0 + $1.remaining } }

    /// Adds an earning.
    public mutating func add(_ batch: PointsBatch) {
        let index = batches.firstIndex { Self.expiresBefore(batch, $0) } ?? batches.endIndex
        batches.insert(batch, at: index)
    }

    /// Takes `points` from the batches that expire first. Returns false (changing nothing) when the balance is short.
    public mutating func spend(_ points: Int64) -> Bool {
        guard points <= balance else { return false }
        var left = points
        while left > 0, !batches.isEmpty {
            let taken = min(left, batches[0].remaining)
            batches[0].remaining -= taken
            left -= taken
            if batches[0].remaining == 0 { batches.removeFirst() }
        }
        return true
    }

    /// Removes and returns the batches that expire at or before `instant`, oldest first.
    public mutating func expire(through instant: Instant) -> [PointsBatch] {
        let count = batches.prefix { $0.expiresAt.map { $0 <= instant } ?? false }.count
        let expired = Array(batches.prefix(count))
        batches.removeFirst(count)
        return expired
    }

    /// The earliest expiry among the open batches.
    public var nextExpiry: Instant? { batches.first?.expiresAt }

    private static func expiresBefore(_ new: PointsBatch, _ existing: PointsBatch) -> Bool {
        switch (new.expiresAt, existing.expiresAt) {
        case (let new?, let existing?): new < existing
        case (.some, nil): true
        case (nil, _): false
        }
    }
}

/// Points issued, spent and expired, added up from ledger entries: the one place that says which kind counts where.
public struct PointsFlow: Hashable, Sendable {
    /// Earned, minus earnings taken back by refunds.
    public var issued: Int64 = 0
    /// Redeemed, minus redemptions given back by refunds.
    public var spent: Int64 = 0
    public var expired: Int64 = 0

    public init() {}

    /// Adds `points` (signed, as the ledger stores them) of an entry of `kind`.
    public mutating func add(_ kind: PointsEntry.Kind, _ points: Int64) {
        switch kind {
        case .earn, .reverse: issued += points
        case .redeem, .restore: spent -= points
        case .expire: expired -= points
        }
    }

    /// The flow of one entry.
    public init(_ kind: PointsEntry.Kind, _ points: Int64) {
        add(kind, points)
    }
}

/// Running totals of points by what happened to them, each a positive number: the one place that knows which ledger
/// kind counts where (the engine's activity and the stores' totals share it).
public protocol PointsTotals {
    /// Points earned.
    var pointsIssued: Int64 { get set }
    /// Points spent.
    var pointsSpent: Int64 { get set }
    /// Points that expired unspent.
    var pointsExpired: Int64 { get set }
}

extension PointsTotals {
    /// Adds a ledger entry's `points` (signed as in the ledger) to the total its `kind` counts in.
    public mutating func count(_ kind: PointsEntry.Kind, points: Int64) {
        let flow = PointsFlow(kind, points)
        pointsIssued += flow.issued
        pointsSpent += flow.spent
        pointsExpired += flow.expired
    }
}
