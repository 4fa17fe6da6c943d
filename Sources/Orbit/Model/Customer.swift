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
///
/// A value like any other, stored copy on write: the fields live in one box that copies share until one of them
/// changes. The engine copies a customer into every commit, rule view and snapshot; copying the box is one reference
/// count, where copying the fields retained each of its collections and strings. A field is read where it lies in
/// the box (`_read` lends a collection or string without retaining it), and changed in place (`_modify`).
public struct Customer: Hashable, Sendable, Codable {
    public var id: String { _read { yield box.fields.id } _modify { yield &unique.fields.id } }
    public var signedUpAt: Instant { get { box.fields.signedUpAt } _modify { yield &unique.fields.signedUpAt } }
    public var attributes: [String: JSONValue] {
        _read { yield box.fields.attributes }
        _modify { yield &unique.fields.attributes }
    }
    public var tags: Set<String> { _read { yield box.fields.tags } _modify { yield &unique.fields.tags } }
    public var consent: [Channel: Bool] { _read { yield box.fields.consent } _modify { yield &unique.fields.consent } }
    public var referralCode: String? {
        _read { yield box.fields.referralCode }
        _modify { yield &unique.fields.referralCode }
    }
    public var referrer: String? { _read { yield box.fields.referrer } _modify { yield &unique.fields.referrer } }
    public var tier: String? { _read { yield box.fields.tier } _modify { yield &unique.fields.tier } }
    /// The instant of the last event applied to this customer: events must not go back before it.
    public var lastEventAt: Instant {
        get { box.fields.lastEventAt }
        _modify { yield &unique.fields.lastEventAt }
    }
    /// Orders, oldest first (refunds reduce their totals).
    public var orders: [OrderSummary] { _read { yield box.fields.orders } _modify { yield &unique.fields.orders } }
    /// Open points batches; their sum equals the ledger's.
    public var wallet: PointsWallet { _read { yield box.fields.wallet } _modify { yield &unique.fields.wallet } }
    /// Points earned over the customer's life (tiers by points use this, so spending never demotes).
    public var pointsEarned: Int64 {
        get { box.fields.pointsEarned }
        _modify { yield &unique.fields.pointsEarned }
    }
    /// For each `on "inactive" { days = N }` handler (by N): the activity instant whose lapse already fired, so each
    /// lapse fires once.
    public var inactiveLapsesFired: [Int: Instant] {
        _read { yield box.fields.inactiveLapsesFired }
        _modify { yield &unique.fields.inactiveLapsesFired }
    }
    /// Referral rewards this customer earns when their referees' orders stay unrefunded long enough.
    public var pendingReferralRewards: [PendingReferralReward] {
        _read { yield box.fields.pendingReferralRewards }
        _modify { yield &unique.fields.pendingReferralRewards }
    }
    /// Set when `orbit customer forget` erased the person: totals stay, personal data is gone.
    public var isForgotten: Bool { get { box.fields.isForgotten } _modify { yield &unique.fields.isForgotten } }
    /// What `orbit fit` predicted for the customer (the engine sets it from the store when it loads); nil until fitted.
    public var prediction: CustomerPrediction? {
        _read { yield box.fields.prediction }
        _modify { yield &unique.fields.prediction }
    }

    /// Creates a customer signed up at `signedUpAt`.
    public init(id: String, signedUpAt: Instant) {
        box = Box(Fields(id: id, signedUpAt: signedUpAt, lastEventAt: signedUpAt))
    }

    /// The stored fields.
    private struct Fields: Hashable, Sendable {
        var id: String
        var signedUpAt: Instant
        var attributes: [String: JSONValue] = [:]
        var tags: Set<String> = []
        var consent: [Channel: Bool] = [:]
        var referralCode: String?
        var referrer: String?
        var tier: String?
        var lastEventAt: Instant
        var orders: [OrderSummary] = []
        var wallet = PointsWallet()
        var pointsEarned: Int64 = 0
        var inactiveLapsesFired: [Int: Instant] = [:]
        var pendingReferralRewards: [PendingReferralReward] = []
        var isForgotten = false
        var prediction: CustomerPrediction?
    }

    /// The fields, shared by copies of this customer. `@unchecked Sendable`: a box is changed only through
    /// ``unique``, that is only while no other copy holds it, so a box that two threads can see is never written.
    /// Exclusivity is unchecked for the same reason: only the one value that holds a box accesses it mutably.
    private final class Box: @unchecked Sendable {
        @exclusivity(unchecked) var fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    private var box: Box

    /// The box, first copied when another customer value shares it.
    private var unique: Box {
        mutating get {
            if !isKnownUniquelyReferenced(&box) { box = Box(box.fields) }
            return box
        }
    }

    /// Field by field. Two values sharing one box are equal without comparing, which also makes a customer equal to
    /// itself when a field holds NaN (a number in an attribute), where comparing the fields would not.
    public static func == (lhs: Customer, rhs: Customer) -> Bool {
        lhs.box === rhs.box || lhs.box.fields == rhs.box.fields
    }

    public func hash(into hasher: inout Hasher) { hasher.combine(box.fields) }

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
        let id = try container.decode(String.self, forKey: .id)
        self.init(id: id, signedUpAt: try container.decode(Instant.self, forKey: .signedUpAt))
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

extension Customer: CustomReflectable {
    /// The fields, as the struct showed them before they moved into a box: what `print`, `dump` and a failed test
    /// expectation show.
    public var customMirror: Mirror { Mirror(reflecting: box.fields) }
}
