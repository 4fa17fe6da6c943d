/// A committed order as the store keeps it: the quote it was committed at, what it consumed and what was refunded
/// since. Committing the same order id again returns it; refunds read and update it.
public struct OrderRecord: Hashable, Sendable, Codable {
    public var orderID: String
    public var customerID: String
    public var at: Instant
    /// The request as committed (cart, coupons, points, referral code), to recognise the same order id with a
    /// different request.
    public var requestFingerprint: String
    public var quote: Quote
    /// Counters the order consumed (given back, in part or whole, by refunds).
    public var claims: [UsageClaim]
    public var pointsEarned: Int64
    public var pointsRedeemed: Int64
    /// Units refunded so far, per line (in line order).
    public var refundedQuantities: [Int64]
    /// Running totals of what refunds gave back, so that partial refunds add up to a full one exactly.
    public var refunded = RefundTotals()
    /// Ids of the refunds applied to this order, oldest first.
    public var refundIDs: [String] = []

    /// Whether every unit was refunded.
    public var isFullyRefunded: Bool { zip(refundedQuantities, quote.lines).allSatisfy { $0 == $1.qty } }
}

/// Running totals of an order's refunds.
public struct RefundTotals: Hashable, Sendable, Codable {
    /// Net amount of the refunded units (after discounts), minor units.
    public var amount: Int64 = 0
    /// Of it, paid back in money.
    public var money: Int64 = 0
    /// Earned points taken back, and redeemed points given back.
    public var pointsReversed: Int64 = 0
    public var pointsReturned: Int64 = 0
    /// Discount given back to each offer's budget.
    public var discountRestored: [String: Int64] = [:]

    enum CodingKeys: String, CodingKey {
        case amount, money, pointsReversed = "points_reversed", pointsReturned = "points_returned"
        case discountRestored = "discount_restored"
    }
}

/// What `commit` returns: the order's quote as committed and the points it moved.
public struct OrderReceipt: Hashable, Sendable, Codable {
    public var orderID: String
    public var quote: Quote
    public var pointsEarned: Int64
    public var pointsRedeemed: Int64
    /// False when the order id was committed before and this is the first result again.
    public var isNew: Bool

    enum CodingKeys: String, CodingKey {
        case orderID = "order", quote, pointsEarned = "points_earned", pointsRedeemed = "points_redeemed"
        case isNew = "new"
    }
}

/// A line to refund: 1-based line number and how many units.
public struct RefundLine: Hashable, Sendable, Codable {
    public var line: Int
    public var qty: Int64

    public init(line: Int, qty: Int64) {
        self.line = line
        self.qty = qty
    }
}

/// A refund as the store keeps it (and `refund` returns).
public struct RefundRecord: Hashable, Sendable, Codable {
    public var refundID: String
    public var orderID: String
    public var customerID: String
    public var at: Instant
    public var lines: [RefundLine]
    /// Net amount of the refunded units, and of it what goes back as money.
    public var amount: Int64
    public var money: Int64
    public var currency: Currency
    public var pointsReversed: Int64
    /// Earned points that could not be taken back because the customer had already spent them.
    public var pointsUncollected: Int64
    public var pointsReturned: Int64
    /// Offers whose uses, caps and budget share were given back.
    public var restoredOffers: [String]
    /// Whether a pending referral reward was cancelled.
    public var referralCancelled: Bool
    /// False when the refund id was applied before and this is the first result again.
    public var isNew = true

    enum CodingKeys: String, CodingKey {
        case refundID = "refund", orderID = "order", customerID = "customer", at, lines, amount, money, currency
        case pointsReversed = "points_reversed", pointsUncollected = "points_uncollected"
        case pointsReturned = "points_returned", restoredOffers = "restored_offers"
        case referralCancelled = "referral_cancelled", isNew = "new"
    }
}

/// A referrer's reward waiting for the referee's order to stay unrefunded until `dueAt`.
public struct PendingReferralReward: Hashable, Sendable, Codable {
    public var orderID: String
    public var refereeID: String
    public var dueAt: Instant
    public var points: Int64
    public var expiresAfterDays: Int?

    public init(orderID: String, refereeID: String, dueAt: Instant, points: Int64, expiresAfterDays: Int?) {
        self.orderID = orderID
        self.refereeID = refereeID
        self.dueAt = dueAt
        self.points = points
        self.expiresAfterDays = expiresAfterDays
    }
}
