/// What a checkout asks for: a customer's cart, the coupons they typed, the points they want to pay with and the
/// referral code they came with.
public struct CheckoutRequest: Hashable, Sendable, Codable {
    public var customerID: String
    public var cart: Cart
    public var coupons: [String]
    /// Points the customer wants to pay with (bounded by balance and the programme's rules).
    public var points: Int64
    public var referralCode: String?

    public init(customerID: String, cart: Cart, coupons: [String] = [], points: Int64 = 0, referralCode: String? = nil) {
        self.customerID = customerID
        self.cart = cart
        self.coupons = coupons
        self.points = points
        self.referralCode = referralCode
    }
}

/// A priced cart: what every line costs after discounts, which offers applied and why every other offer did not,
/// and the points the order earns and spends. Amounts are minor units of `currency`.
public struct Quote: Hashable, Sendable, Codable {
    public var customerID: String
    public var at: Instant
    public var currency: Currency
    public var lines: [QuotedLine]
    /// Offers that applied, in the order they were considered (priority, then name).
    public var applied: [AppliedOffer]
    /// Every offer considered but not applied, with the reason.
    public var notApplied: [OfferRejection]
    /// Coupons given that unlock no offer at all (unknown codes), with the reason. A coupon that is known but cannot
    /// be used (expired, used up, someone else's) is explained as the reason its offer did not apply.
    public var rejectedCoupons: [CouponRejection]
    public var subtotal: Int64
    public var discount: Int64
    /// Subtotal minus discount.
    public var total: Int64
    public var pointsToEarn: Int64
    public var pointsToRedeem: Int64
    /// What the redeemed points pay.
    public var pointsValue: Int64
    /// What the customer pays: total minus the points' value.
    public var totalDue: Int64
    /// The customer who referred this one, when a referral code applied.
    public var referrer: String?

    enum CodingKeys: String, CodingKey {
        case customerID = "customer", at, currency, lines, applied, notApplied = "not_applied"
        case rejectedCoupons = "rejected_coupons", subtotal, discount, total, pointsToEarn = "points_to_earn"
        case pointsToRedeem = "points_to_redeem", pointsValue = "points_value", totalDue = "total_due", referrer
    }

    /// The total due as money.
    public var amountDue: Money { Money(minorUnits: totalDue, currency: currency) }
}

/// One cart line, priced.
public struct QuotedLine: Hashable, Sendable, Codable {
    /// 1-based, as the cart lists them.
    public var line: Int
    public var sku: String
    public var category: String?
    public var qty: Int64
    public var price: Int64
    /// price × qty.
    public var total: Int64
    public var discount: Int64
    /// total − discount.
    public var net: Int64
}

/// An offer that applied, with what it took off each line.
public struct AppliedOffer: Hashable, Sendable, Codable {
    public var offer: String
    public var title: String?
    public var discount: Int64
    public var lines: [LineDiscount]
    /// Extra points this offer adds (points multipliers).
    public var extraPoints: Int64
    /// The coupon that unlocked it.
    public var coupon: String?
    /// Why the amount is lower than the offer's own calculation (budget nearly spent, line already fully discounted).
    public var note: String?

    enum CodingKeys: String, CodingKey {
        case offer, title, discount, lines, extraPoints = "extra_points", coupon, note
    }
}

/// The share of one offer's discount on one line.
public struct LineDiscount: Hashable, Sendable, Codable {
    public var line: Int
    public var amount: Int64
}

/// An offer that did not apply, and why.
public struct OfferRejection: Error, Hashable, Sendable, Codable {
    /// Why, as a stable code for programs.
    public enum Reason: String, Hashable, Sendable, Codable {
        case outsideWindow = "outside_window"
        case currency
        case couponRequired = "coupon_required"
        case couponUnknown = "coupon_unknown"
        case couponExpired = "coupon_expired"
        case couponUsed = "coupon_used"
        case couponNotYours = "coupon_not_yours"
        case notEligible = "not_eligible"
        case capReached = "cap_reached"
        case budgetSpent = "budget_spent"
        case noDiscount = "no_discount"
        case beatenByExclusive = "beaten_by_exclusive"
        case beatenInGroup = "beaten_in_group"
        case stackedOffersSaveMore = "stacked_offers_save_more"
        case ruleFailed = "rule_failed"
    }

    public var offer: String
    public var reason: Reason
    /// Why, in words: `outside window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin (now 2026-11-26 18:00)`.
    public var detail: String
}

/// A coupon given at checkout that unlocks nothing.
public struct CouponRejection: Hashable, Sendable, Codable {
    public var code: String
    public var reason: OfferRejection.Reason
    public var detail: String
}
