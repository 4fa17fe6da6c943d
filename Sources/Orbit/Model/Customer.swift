/// A message channel a customer can consent to.
public enum Channel: String, Hashable, Sendable, Codable, CaseIterable, CodingKeyRepresentable {
    case email, push, sms, whatsapp
}

/// One order as the customer's statistics remember it: what trailing-window helpers (`c:spent{days=90}`) sum.
public struct OrderSummary: Hashable, Sendable, Codable {
    public var orderID: String
    public var at: Instant
    /// Net of refunds, in the shop's currency.
    public var total: Money
}

/// A customer as Orbit knows them. Statistics are derived by the host from events, never set by rules.
public struct Customer: Hashable, Sendable, Codable {
    public var id: String
    public var signedUpAt: Instant
    public var attributes: [String: JSONValue] = [:]
    public var tags: Set<String> = []
    public var consent: [Channel: Bool] = [:]
    public var referralCode: String?
    public var referrer: String?
    public var tier: String?
    /// The instant of the last event applied to this customer: events must not go back before it.
    public var lastEventAt: Instant
    /// Orders, oldest first (refunds reduce their totals).
    public var orders: [OrderSummary] = []
    /// Open points batches; their sum equals the ledger's.
    public var wallet = PointsWallet()
    /// Points earned over the customer's life (tiers by points use this, so spending never demotes).
    public var pointsEarned: Int64 = 0
    /// For each `on "inactive" { days = N }` handler (by N): the activity instant whose lapse already fired, so each
    /// lapse fires once.
    public var inactiveLapsesFired: [Int: Instant] = [:]
    /// Referral rewards this customer earns when their referees' orders stay unrefunded long enough.
    public var pendingReferralRewards: [PendingReferralReward] = []
    /// Set when `orbit customer forget` erased the person: totals stay, personal data is gone.
    public var isForgotten = false
    /// What `orbit fit` predicted for the customer (the engine sets it from the store when it loads); nil until fitted.
    public var prediction: CustomerPrediction?

    /// Creates a customer signed up at `signedUpAt`.
    public init(id: String, signedUpAt: Instant) {
        self.id = id
        self.signedUpAt = signedUpAt
        self.lastEventAt = signedUpAt
    }

    /// Points available.
    public var pointsBalance: Int64 { wallet.balance }

    /// Number of orders.
    public var orderCount: Int { orders.count }
    /// First and last order instants.
    public var firstOrderAt: Instant? { orders.first?.at }
    public var lastOrderAt: Instant? { orders.last?.at }

    /// Lifetime spend in minor units (orders net of refunds).
    public var lifetimeSpend: Int64 { orders.reduce(0) { $0 + $1.total.minorUnits } }

    /// The last order, or the sign-up when there is none: what inactivity counts from.
    public var lastActivityAt: Instant { lastOrderAt ?? signedUpAt }

    /// Whole days from the last order to `now`; nil without orders.
    public func daysSinceLastOrder(at now: Instant) -> Int? { lastOrderAt.map { now.days(since: $0) } }

    /// Spend in minor units over the `days` before `now`.
    public func spent(days: Int, now: Instant) -> Int64 {
        let from = now.adding(days: -days)
        return orders.reversed().prefix { $0.at > from }.reduce(0) { $0 + $1.total.minorUnits }
    }

    /// Orders over the `days` before `now`.
    public func orderCount(days: Int, now: Instant) -> Int {
        let from = now.adding(days: -days)
        return orders.reversed().prefix { $0.at > from }.count
    }
}

extension Customer {
    /// Encodes the customer with its sets and dictionaries in order (tags, consent by channel, attributes by key,
    /// inactive lapses by days), so that the same customer is always the same text: a replay of the same history
    /// writes the same bytes, and exports compare line by line.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(signedUpAt, forKey: .signedUpAt)
        try container.encode(JSONValue.object(attributes), forKey: .attributes)
        try container.encode(tags.sorted(), forKey: .tags)
        try container.encode(SortedKeys(consent.map { ($0.key.rawValue, $0.value) }), forKey: .consent)
        try container.encodeIfPresent(referralCode, forKey: .referralCode)
        try container.encodeIfPresent(referrer, forKey: .referrer)
        try container.encodeIfPresent(tier, forKey: .tier)
        try container.encode(lastEventAt, forKey: .lastEventAt)
        try container.encode(orders, forKey: .orders)
        try container.encode(wallet, forKey: .wallet)
        try container.encode(pointsEarned, forKey: .pointsEarned)
        try container.encode(
            SortedKeys(inactiveLapsesFired.map { (String($0.key), $0.value) }), forKey: .inactiveLapsesFired)
        try container.encode(pendingReferralRewards, forKey: .pendingReferralRewards)
        try container.encode(isForgotten, forKey: .isForgotten)
        try container.encodeIfPresent(prediction, forKey: .prediction)
    }

    enum CodingKeys: String, CodingKey {
        case id, signedUpAt, attributes, tags, consent, referralCode, referrer, tier, lastEventAt, orders, wallet
        case pointsEarned, inactiveLapsesFired, pendingReferralRewards, isForgotten, prediction
    }

    /// An object whose keys are written in order.
    private struct SortedKeys<Value: Encodable>: Encodable {
        let fields: [String: Value]
        init(_ pairs: [(String, Value)]) { fields = Dictionary(pairs, uniquingKeysWith: { first, _ in first }) }
        func encode(to encoder: any Encoder) throws { try AnyCodingKey.encodeSorted(fields, in: encoder) }
    }

    /// Decodes a stored customer. Fields added after the first release are optional in the stored form, so that a
    /// database written by an earlier Orbit still reads.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        id = try container.decode(String.self, forKey: .id)
        signedUpAt = try container.decode(Instant.self, forKey: .signedUpAt)
        attributes = try container.decode([String: JSONValue].self, forKey: .attributes)
        tags = try container.decode(Set<String>.self, forKey: .tags)
        consent = try container.decode([Channel: Bool].self, forKey: .consent)
        referralCode = try container.decodeIfPresent(String.self, forKey: .referralCode)
        referrer = try container.decodeIfPresent(String.self, forKey: .referrer)
        tier = try container.decodeIfPresent(String.self, forKey: .tier)
        lastEventAt = try container.decode(Instant.self, forKey: .lastEventAt)
        orders = try container.decode([OrderSummary].self, forKey: .orders)
        wallet = try container.decode(PointsWallet.self, forKey: .wallet)
        pointsEarned = try container.decode(Int64.self, forKey: .pointsEarned)
        inactiveLapsesFired = try container.decode([Int: Instant].self, forKey: .inactiveLapsesFired)
        pendingReferralRewards =
            try container.decodeIfPresent([PendingReferralReward].self, forKey: .pendingReferralRewards) ?? []
        isForgotten = try container.decode(Bool.self, forKey: .isForgotten)
        prediction = try container.decodeIfPresent(CustomerPrediction.self, forKey: .prediction)
    }
}
