/// One answer to a `survey` event with a `score` from 0 to 10 (what NPS counts).
public struct SurveyResponse: Hashable, Sendable, Codable {
    public var eventID: String
    public var customerID: String
    public var at: Instant
    /// 0 (would not recommend) to 10 (would certainly recommend).
    public var score: Int

    public init(eventID: String, customerID: String, at: Instant, score: Int) {
        self.eventID = eventID
        self.customerID = customerID
        self.at = at
        self.score = score
    }
}

/// A customer entering or leaving a segment, as recorded by the store when a commit changed the membership.
public struct SegmentChange: Hashable, Sendable, Codable {
    public var customerID: String
    public var segment: String
    public var at: Instant
    /// True when the customer entered the segment, false when they left it.
    public var entered: Bool

    public init(customerID: String, segment: String, at: Instant, entered: Bool) {
        self.customerID = customerID
        self.segment = segment
        self.at = at
        self.entered = entered
    }
}

/// One ledger entry reduced to what the points-liability series needs.
public struct PointsMovement: Hashable, Sendable, Codable {
    public var kind: PointsEntry.Kind
    /// Signed, as in the ledger: positive for earnings, negative for redemptions and expiries.
    public var points: Int64
    public var at: Instant

    public init(kind: PointsEntry.Kind, points: Int64, at: Instant) {
        self.kind = kind
        self.points = points
        self.at = at
    }
}

/// How one offer performed over a time range: filled by the checkout (offer uses with their discounts); stores
/// without checkout data return no rows.
public struct OfferPerformance: Hashable, Sendable, Codable {
    public var offer: String
    /// Orders the offer was applied to in the range.
    public var uses: Int
    /// Discounts the offer gave in the range.
    public var discountCost: Money
    /// The offer's total budget, when it has one.
    public var budget: Money?
    /// What is left of the budget now (not at the end of the range), when the offer has one.
    public var budgetLeft: Money?

    public init(offer: String, uses: Int, discountCost: Money, budget: Money? = nil, budgetLeft: Money? = nil) {
        self.offer = offer
        self.uses = uses
        self.discountCost = discountCost
        self.budget = budget
        self.budgetLeft = budgetLeft
    }
}

extension SegmentChange {
    /// The entries and exits that take a customer from `previous` to `current` segments, in name order.
    public static func changes(of customerID: String, from previous: Set<String>, to current: Set<String>, at: Instant)
        -> [SegmentChange]
    {
        current.subtracting(previous).sorted().map { SegmentChange(customerID: customerID, segment: $0, at: at, entered: true) }
            + previous.subtracting(current).sorted().map {
                SegmentChange(customerID: customerID, segment: $0, at: at, entered: false)
            }
    }
}

extension OfferPerformance {
    /// Uses and discount cost per offer over `orders` (those committed within `interval`), net of what refunds gave
    /// back; budget and what is left of it from the orders' budget claims and the usage counters now.
    public static func from(orders: [OrderRecord], usage: [String: Int64], during interval: Range<Instant>)
        -> [OfferPerformance]
    {
        var rows: [String: OfferPerformance] = [:]
        for order in orders where interval.contains(order.at) {
            for offer in order.quote.applied {
                var row = rows[offer.offer] ?? OfferPerformance(offer: offer.offer, uses: 0, discountCost: .zero(order.quote.currency))
                row.uses += 1
                row.discountCost.minorUnits += offer.discount - (order.refunded.discountRestored[offer.offer] ?? 0)
                let key = UsageKey.offerDiscount(offer.offer)
                if let budget = order.claims.first(where: { $0.key == key })?.limit {
                    row.budget = Money(minorUnits: budget, currency: order.quote.currency)
                    row.budgetLeft = Money(minorUnits: budget - (usage[key] ?? 0), currency: order.quote.currency)
                }
                rows[offer.offer] = row
            }
        }
        return rows.values.sorted { $0.offer < $1.offer }
    }
}
