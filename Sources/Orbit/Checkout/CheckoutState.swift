/// What a quote reads besides the rules and the customer: how much of each cap and budget is used, the coupons that
/// exist, and whose referral code is whose. The engine keeps it current; the store is the authority (it refuses a
/// commit whose claims would exceed a limit).
public struct CheckoutState: Sendable {
    /// Usage counters by key: `offer/NAME/uses`, `offer/NAME/discount`, `coupon/CODE/uses`, ….
    public var usage: [String: Int64] = [:]
    public var coupons: [String: Coupon] = [:]
    /// Referral code → customer id.
    public var referralCodes: [String: String] = [:]

    public init() {}

    func used(_ key: String) -> Int64 { usage[key] ?? 0 }

    mutating func apply(_ claims: [UsageClaim]) {
        for claim in claims { usage[claim.key, default: 0] += claim.amount }
    }
}

/// A change to a usage counter, made atomically with its order: a use of an offer or coupon, a share of a budget.
/// The store refuses the whole commit when a claim would take its counter above `limit`.
public struct UsageClaim: Hashable, Sendable, Codable {
    public var key: String
    /// Positive to consume, negative to give back (refunds).
    public var amount: Int64
    /// The most the counter may reach (nil: no limit).
    public var limit: Int64?
    /// The offer the counter belongs to (coupon counters belong to the offer the coupon unlocked).
    public var offer: String

    public init(key: String, amount: Int64, limit: Int64?, offer: String) {
        self.key = key
        self.amount = amount
        self.limit = limit
        self.offer = offer
    }
}

/// The names of usage counters.
enum UsageKey {
    static func offerUses(_ offer: String) -> String { "offer/\(offer)/uses" }
    static func offerDiscount(_ offer: String) -> String { "offer/\(offer)/discount" }
    static func offerCustomer(_ offer: String, _ customer: String) -> String { "offer/\(offer)/customer/\(customer)" }
    static func offerPeriod(_ offer: String, _ period: CapPeriod, _ key: String) -> String {
        "offer/\(offer)/\(period.rawValue)/\(key)"
    }
    static func couponUses(_ code: String) -> String { "coupon/\(code)/uses" }
    static func couponCustomer(_ code: String, _ customer: String) -> String { "coupon/\(code)/customer/\(customer)" }
}

/// A store refused a commit because a claim would exceed its limit: someone else took the last use or euro first.
public struct UsageLimitExceeded: Error, Hashable, Sendable, CustomStringConvertible {
    public var key: String
    public var description: String { "usage limit of '\(key)' reached by a concurrent commit" }
    public init(key: String) { self.key = key }
}
