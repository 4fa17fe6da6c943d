import Foundation
import LuaRuntime

/// `offer "black-week" { window = …, eligible = …, discount = …, priority = 10, exclusive = true, … }`
///
/// A class: quotes pass offers around by reference, many per cart, and explanations of rejections keep a reference
/// to the offer they explain. Sendable because it does not change once its rule book is built (`position`,
/// `filterSlot` and `minimumTierRank` are set while the rule book is built).
final class OfferRule: @unchecked Sendable {
    /// How an offer combines with others.
    enum Stacking: Hashable {
        /// Adds up with every other stackable offer.
        case stackable
        /// Only the best offer of the group applies.
        case group(String)
        /// Applies alone: the best exclusive offer competes with the sum of the stackable ones.
        case exclusive
    }

    /// Conditions written as fields, each explained on its own when it fails.
    struct Eligibility {
        var segment: String?
        /// The lowest tier that qualifies (by position in `tiers`).
        var minimumTier: String?
        var firstOrderOnly = false
        var minimumOrders: Int?
        var function: LuaFunction?
    }

    enum DiscountSource {
        case fixed([DiscountRule])
        case computed(LuaFunction)
    }

    let name: String
    let title: String?
    let window: ZonedWindow?
    let eligibility: Eligibility
    let discount: DiscountSource
    let priority: Int
    let stacking: Stacking
    let perCustomer: Int64?
    let totalUses: Int64?
    let perPeriod: (period: CapPeriod, uses: Int64)?
    /// In minor units of the offer's currency.
    let budget: Int64?
    let currency: Currency
    let requiresCoupon: Bool
    /// Whether a refund gives back the use (caps, coupon) and the refunded share of the budget.
    let restoreOnRefund: Bool
    let location: RuleLocation
    /// Where the offer stands in evaluation order (priority, then name); set when the rule book sorts its offers.
    var position = 0
    /// The slot of the plan's filter among the rule book's interned filters (offers on the same filter share it).
    var filterSlot = 0
    /// The position of `eligibility.minimumTier` among the rule book's tiers, lowest first; set when the rule book
    /// checks its tiers.
    var minimumTierRank: Int?
    /// The zone periods and windows are counted in: the window's, or UTC.
    var zone: TimeZone { window?.zone ?? ZonedWindow.utc }
    /// Whether `instant` is inside the offer's window (always, without one). Reads the window in place.
    func isOpen(at instant: Instant) -> Bool { window?.contains(instant) ?? true }
    /// The stacking group, for group offers.
    var group: String? { if case .group(let group) = stacking { group } else { nil } }

    /// `amount` minor units in the offer's currency.
    func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: currency) }
    /// A discount the quote computes from per-filter totals without Lua or line arrays (most declared offers).
    let plan: DiscountPlan?

    init(
        name: String,
        title: String?,
        window: ZonedWindow?,
        eligibility: Eligibility,
        discount: DiscountSource,
        priority: Int,
        stacking: Stacking,
        perCustomer: Int64?,
        totalUses: Int64?,
        perPeriod: (period: CapPeriod, uses: Int64)?,
        budget: Int64?,
        currency: Currency,
        requiresCoupon: Bool,
        restoreOnRefund: Bool,
        location: RuleLocation
    ) {
        self.name = name
        self.title = title
        self.window = window
        self.eligibility = eligibility
        self.discount = discount
        self.priority = priority
        self.stacking = stacking
        self.perCustomer = perCustomer
        self.totalUses = totalUses
        self.perPeriod = perPeriod
        self.budget = budget
        self.currency = currency
        self.requiresCoupon = requiresCoupon
        self.restoreOnRefund = restoreOnRefund
        self.location = location
        if case .fixed(let rules) = discount, rules.count == 1 { plan = DiscountPlan(rules[0]) } else { plan = nil }
    }

}

/// `coupon "WELCOME10" { offer = "welcome", uses = 1000, per_customer = 1, expires = "2026-12-31 23:59", zone = … }`
/// or issued by a rule (`issue_coupon{ offer = "win-back", valid_days = 14 }`).
public struct Coupon: Hashable, Sendable, Codable {
    public var code: String
    /// The offer it unlocks.
    public var offer: String
    /// How many orders may use it in all (1: single use).
    public var uses: Int64
    /// How many orders of one customer may use it (nil: as many as `uses`).
    public var perCustomer: Int64?
    /// After this instant it no longer applies (nil: never expires).
    public var expiresAt: Instant?
    /// Only this customer may use it (nil: anyone).
    public var customerID: String?
    /// When it was issued and by which rule (nil for coupons declared in rule files).
    public var issuedAt: Instant?
    public var rule: String?

    public init(
        code: String, offer: String, uses: Int64 = 1, perCustomer: Int64? = nil, expiresAt: Instant? = nil,
        customerID: String? = nil, issuedAt: Instant? = nil, rule: String? = nil
    ) {
        self.code = code
        self.offer = offer
        self.uses = uses
        self.perCustomer = perCustomer
        self.expiresAt = expiresAt
        self.customerID = customerID
        self.issuedAt = issuedAt
        self.rule = rule
    }
}

/// `referral { referee = { discount = percent_off(10), first_order_only = true }, referrer = { points = 500,
/// after_days = 14 } }`: the referee's discount is an offer named `referral`; the referrer is rewarded when the
/// referee's order was not refunded within `after_days`.
struct ReferralProgramme {
    static let offerName = "referral"
    var refereeDiscount: [DiscountRule]
    var firstOrderOnly: Bool
    var referrerPoints: Int64
    var afterDays: Int
    var pointsExpireAfterDays: Int?
    var location: RuleLocation
}

/// `pay_with_points { points = 100, worth = eur(1), max_percent = 50, min_points = 500 }`
struct PointsPayment {
    /// `points` points are worth `worth` minor units.
    var points: Int64
    var worth: Int64
    var maximumPercent: Int64
    var minimumPoints: Int64
    var location: RuleLocation

    /// The value of `count` points, rounded down.
    func value(of count: Int64) -> Int64 { count * worth / points }
    /// The most points whose value does not exceed `amount`.
    func points(worth amount: Int64) -> Int64 { amount * points / worth }
    /// The fewest points whose value reaches `amount`.
    func points(toPay amount: Int64) -> Int64 { (amount * points + worth - 1) / worth }
}
