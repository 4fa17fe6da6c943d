import Synchronization

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

extension CheckoutRequest {
    /// A canonical text of the request, so that the same order id with a different request is recognised.
    var fingerprint: String {
        "\(cart.fingerprint)|coupons:\(coupons.sorted().joined(separator: ","))|points:\(points)|referral:\(referralCode ?? "")"
    }
}

/// A priced cart: what every line costs after discounts, which offers applied and why every other offer did not,
/// and the points the order earns and spends. Amounts are minor units of `currency`.
public struct Quote: Hashable, Sendable, Codable {
    public var customerID: String
    public var at: Instant
    public var currency: Currency
    public var lines: [QuotedLine]
    /// Offers that applied, in the order they were considered (priority, then name). Made from the evaluation when
    /// first read.
    public var applied: [AppliedOffer] {
        get { appliedOffers.values }
        set { appliedOffers = AppliedOffers(newValue) }
    }
    /// What ``applied`` reads; encoded as the array of applied offers.
    var appliedOffers: AppliedOffers
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
        case customerID = "customer", at, currency, lines, appliedOffers = "applied", notApplied = "not_applied"
        case rejectedCoupons = "rejected_coupons", subtotal, discount, total, pointsToEarn = "points_to_earn"
        case pointsToRedeem = "points_to_redeem", pointsValue = "points_value", totalDue = "total_due", referrer
    }

    /// The total due as money.
    public var amountDue: Money { Money(minorUnits: totalDue, currency: currency) }
}

/// A quote's applied offers: kept as its evaluation left them (``QuoteEvaluator/Winners``) and made into
/// ``AppliedOffer`` values when first read, then kept. Most checkouts read a quote's totals on every cart change and
/// which offers applied rarely; a quote that is never read that way never builds them. Compared by its values.
final class AppliedOffers: Hashable, Sendable, Codable {
    /// The evaluation's winners until the first read, then the values made from them (the winners are let go).
    private enum State: Sendable {
        case evaluated(QuoteEvaluator.Winners)
        case made([AppliedOffer])
    }

    private let state: Mutex<State>

    init(_ winners: QuoteEvaluator.Winners) { state = Mutex(.evaluated(winners)) }

    init(_ values: [AppliedOffer]) { state = Mutex(.made(values)) }

    /// The applied offers, made on the first read.
    var values: [AppliedOffer] {
        state.withLock { state in
            switch state {
            case .made(let values): return values
            case .evaluated(let winners):
                let values = winners.offers()
                state = .made(values)
                return values
            }
        }
    }

    static func == (lhs: AppliedOffers, rhs: AppliedOffers) -> Bool { lhs === rhs || lhs.values == rhs.values }

    func hash(into hasher: inout Hasher) { hasher.combine(values) }

    /// Decodes the array of applied offers.
    convenience init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([AppliedOffer].self))
    }

    /// Encodes the array of applied offers.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(values)
    }
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
    public var lines: LineDiscounts
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

    public init(line: Int, amount: Int64) {
        self.line = line
        self.amount = amount
    }
}

/// The lines one applied offer takes something off, in line order. A quote keeps the line discounts of all its
/// offers in one buffer, and each offer's are a view of it: one allocation per quote rather than one per offer.
/// Indices start at 0; encoded as an array.
public struct LineDiscounts: RandomAccessCollection, Hashable, Sendable, Codable, ExpressibleByArrayLiteral {
    private let storage: ArraySlice<LineDiscount>

    init(_ storage: ArraySlice<LineDiscount>) { self.storage = storage }

    public init(_ discounts: some Sequence<LineDiscount>) { storage = ArraySlice(discounts) }

    public init(arrayLiteral discounts: LineDiscount...) { storage = ArraySlice(discounts) }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }
    public subscript(position: Int) -> LineDiscount { storage[storage.startIndex + position] }

    public static func == (lhs: LineDiscounts, rhs: LineDiscounts) -> Bool { lhs.storage.elementsEqual(rhs.storage) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.count)
        for discount in storage { hasher.combine(discount) }
    }

    public init(from decoder: any Decoder) throws {
        storage = ArraySlice(try decoder.singleValueContainer().decode([LineDiscount].self))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(Array(storage))
    }
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
    /// What the words are made of: rendered only when someone reads ``detail`` (most quotes are never explained).
    var explanation: RejectionExplanation
    /// Where the offer stands in evaluation order, for sorting explanations.
    var position: Int

    /// Why, in words: `outside window 2026-11-27 00:00–2026-11-30 23:59 Europe/Berlin (now 2026-11-26 18:00)`.
    public var detail: String { explanation.text }

    public init(offer: String, reason: Reason, detail: String) {
        self.init(offer: offer, reason: reason, explanation: .text(detail), position: .max)
    }

    init(offer: String, reason: Reason, explanation: RejectionExplanation, position: Int) {
        self.offer = offer
        self.reason = reason
        self.explanation = explanation
        self.position = position
    }

    public static func == (lhs: OfferRejection, rhs: OfferRejection) -> Bool {
        lhs.offer == rhs.offer && lhs.reason == rhs.reason && lhs.detail == rhs.detail
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(offer)
        hasher.combine(reason)
        hasher.combine(detail)
    }

    enum CodingKeys: String, CodingKey { case offer, reason, detail }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            offer: try container.decode(String.self, forKey: .offer), reason: try container.decode(Reason.self, forKey: .reason),
            detail: try container.decode(String.self, forKey: .detail))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(offer, forKey: .offer)
        try container.encode(reason, forKey: .reason)
        try container.encode(detail, forKey: .detail)
    }
}

/// The parts of an explanation, rendered to words on demand. What an offer declares (its window, tier, filter,
/// minimum, group, currency) is read from the offer itself when the words are made, so that the common cases carry
/// a reference and a few integers: making, copying and freeing a rejection allocates nothing.
enum RejectionExplanation: Sendable {
    case text(String)
    case outsideWindow(OfferRule, now: Instant)
    /// The customer's tier (`held`) is below the offer's minimum tier.
    case tier(OfferRule, held: String?)
    /// No line matches the filter of the offer's plan.
    case noMatch(OfferRule)
    /// The lines the offer's plan matches total `has`, below its minimum.
    case belowMinimum(OfferRule, has: Int64)
    indirect case shortfall(Shortfall)
    case beatenInGroup(OfferRule, winner: OfferRule, saves: Int64, this: Int64)
    /// `stacked`: what the stackable offers save together, when this offer is one of them.
    case beatenByExclusive(OfferRule, winner: OfferRule, saves: Int64, stacked: Int64?, this: Int64)
    case stackedSaveMore(OfferRule, this: Int64, stacked: Int64)

    var text: String {
        switch self {
        case .text(let text): text
        case .outsideWindow(let offer, let now):
            "outside window \(offer.window!.text) (now \(ZonedWindow.localText(now, in: offer.zone)))"
        case .tier(let offer, let held):
            "not eligible: tier \(offer.eligibility.minimumTier!) or higher (customer is \(held ?? "in no tier"))"
        case .noMatch(let offer): Shortfall.noMatch(offer.plan!.filter).text
        case .belowMinimum(let offer, let has):
            Shortfall.below(minimum: offer.money(offer.plan!.minimum), has: offer.money(has), offer.plan!.filter).text
        case .shortfall(let shortfall): shortfall.text
        case .beatenInGroup(let offer, let winner, let saves, let this):
            "group \(offer.group!): offer '\(winner.name)' saves more (\(offer.money(saves)) vs \(offer.money(this)))"
        case .beatenByExclusive(let offer, let winner, let saves, let stacked, let this):
            "beaten by exclusive offer '\(winner.name)' (saves \(offer.money(saves)), "
                + (stacked.map { "the stackable offers together \(offer.money($0)))" } ?? "this offer \(offer.money(this)))")
        case .stackedSaveMore(let offer, let this, let stacked):
            "exclusive offer saves \(offer.money(this)); the stackable offers together save \(offer.money(stacked))"
        }
    }
}

/// Why a discount takes nothing off a cart.
enum Shortfall: Sendable {
    case text(String)
    case noMatch(LineFilter)
    case below(minimum: Money, has: Money, LineFilter)

    var text: String {
        switch self {
        case .text(let text): text
        case .noMatch(let filter): "no line matches \(filter)"
        case .below(let minimum, let has, let filter):
            "needs \(minimum) \(filter == LineFilter() ? "in the cart" : "of \(filter)"), the cart has \(has)"
        }
    }
}

/// A coupon given at checkout that unlocks nothing.
public struct CouponRejection: Hashable, Sendable, Codable {
    public var code: String
    public var reason: OfferRejection.Reason
    public var detail: String
}
