import LuaRuntime

/// The checkout part of a rule book: offers (by priority, highest first), coupons declared in rule files, the
/// referral programme and paying with points.
final class CheckoutRules {
    private(set) var offers: [OfferRule] = []
    private(set) var declaredCoupons: [String: (coupon: Coupon, location: RuleLocation)] = [:]
    private(set) var referral: ReferralProgramme?
    private(set) var pointsPayment: PointsPayment?
    /// The filters of offers' discount plans, each once: a quote totals each filter once for all its offers.
    private var filterSlots: [LineFilter: Int] = [:]
    var filterSlotCount: Int { filterSlots.count }
    /// Whether pricing a cart may run Lua: an offer with a function or a segment, or rules that react to purchases
    /// (points to earn). Set by the rule book once every file is loaded.
    private(set) var callsLua = true

    /// Notes whether pricing runs Lua, once every file is loaded.
    func finishLoading(purchasesRunRules: Bool) {
        callsLua =
            purchasesRunRules
            || offers.contains { offer in
                if case .computed = offer.discount { return true }
                return offer.eligibility.function != nil || offer.eligibility.segment != nil
            }
    }
    /// The offers' names, in evaluation order.
    var offerNames: [String] { offers.map(\.name) }

    func offer(named name: String) -> OfferRule? { offers.first { $0.name == name } }

    /// Installs `offer`, `coupon`, `referral`, `pay_with_points` and the discount constructors.
    static func install(in book: RuleBook) throws {
        let lua = book.lua
        let prelude = try lua.load(CheckoutPrelude.source, chunkName: CheckoutPrelude.chunkName, internal: true)
        let functions = try lua.call(prelude) { stack in
            stack.push(function: "offer") { [weak book] stack in try book?.checkout.defineOffer(&stack) }
            stack.push(function: "coupon") { [weak book] stack in try book?.checkout.defineCoupon(&stack) }
            stack.push(function: "referral") { [weak book] stack in try book?.checkout.defineReferral(&stack) }
            stack.push(function: "pay_with_points") { [weak book] stack in
                try book?.checkout.definePointsPayment(&stack)
            }
            stack.push(function: "suggest", Suggestion.preludeFunction)
        } results: { results in
            try (1...(formNames.count + discountNames.count)).map { try results.function(at: $0) }
        }
        for (name, function) in zip(formNames + discountNames, functions) { lua.setGlobal(name, function) }
    }

    static let formNames = ["offer", "coupon", "referral", "pay_with_points"]
    static let discountNames = ["percent_off", "amount_off", "buy_x_get_y", "free_item", "points_multiplier", "best_of"]

    // MARK: Definers (called by the prelude with checked shapes)

    private func defineOffer(_ stack: inout LuaStack) throws {
        let name = try stack.string(at: 1)
        let location = RuleLocation(caller: stack)
        if let first = offers.first(where: { $0.name == name }) {
            throw DefinitionError("offer '\(name)' is defined twice (first at \(first.location))")
        }
        if name == ReferralProgramme.offerName {
            throw DefinitionError("offer name '\(name)' is reserved for the referral programme")
        }
        let spec = try stack.value(at: 2)
        var window: ZonedWindow?
        if case .map = spec["window"] {
            do {
                window = try ZonedWindow(
                    from: spec["window"]["from"].stringValue ?? "", to: spec["window"]["to"].stringValue ?? "",
                    zone: spec["window"]["zone"].stringValue ?? "")
            } catch {
                throw DefinitionError("offer '\(name)': window: \(error)")
            }
        }
        let currencyCode = spec["currency"].stringValue ?? "EUR"
        guard let currency = Currency(code: currencyCode) else {
            throw DefinitionError("offer '\(name)': unknown currency '\(currencyCode)'")
        }
        let discount: OfferRule.DiscountSource
        if stack.isNil(at: 4) {
            do {
                discount = .fixed(try DiscountDecoder.rules(from: spec["discount"]))
            } catch {
                throw DefinitionError("offer '\(name)': \(error)")
            }
        } else {
            discount = .computed(try stack.function(at: 4))
        }
        let stacking: OfferRule.Stacking =
            spec["exclusive"] == .bool(true) ? .exclusive : spec["group"].stringValue.map { .group($0) } ?? .stackable
        offers.append(
            OfferRule(
                name: name, title: spec["title"].stringValue, window: window,
                eligibility: OfferRule.Eligibility(
                    segment: spec["segment"].stringValue, minimumTier: spec["tier"].stringValue,
                    firstOrderOnly: spec["first_order"] == .bool(true),
                    minimumOrders: spec["min_orders"].integerValue.map { Int($0) },
                    function: stack.isNil(at: 3) ? nil : try stack.function(at: 3)),
                discount: discount, priority: Int(spec["priority"].integerValue ?? 0), stacking: stacking,
                perCustomer: spec["per_customer"].integerValue, totalUses: spec["total_uses"].integerValue,
                perPeriod: spec["period"].stringValue.flatMap(CapPeriod.init(rawValue:)).map {
                    ($0, spec["period_uses"].integerValue ?? 1)
                },
                budget: spec["budget"].integerValue, currency: currency, requiresCoupon: spec["coupon"] == .bool(true),
                restoreOnRefund: spec["restore_on_refund"] != .bool(false), location: location))
        if let plan = offers.last?.plan {
            offers.last?.filterSlot = filterSlots[plan.filter] ?? filterSlots.count
            filterSlots[plan.filter] = offers.last?.filterSlot
        }
        // Highest priority first, then by name: the order offers are considered and explained in.
        offers.sort { $0.priority > $1.priority || ($0.priority == $1.priority && $0.name < $1.name) }
        for (position, offer) in offers.enumerated() { offer.position = position }
    }

    private func defineCoupon(_ stack: inout LuaStack) throws {
        let code = try stack.string(at: 1)
        let location = RuleLocation(caller: stack)
        if let first = declaredCoupons[code] {
            throw DefinitionError("coupon '\(code)' is defined twice (first at \(first.location))")
        }
        var expiresAt: Instant?
        if !stack.isNil(at: 5) {
            let zone = try ZonedWindow.zone(named: try stack.string(at: 6))
            do {
                expiresAt = try ZonedWindow.instant(try stack.string(at: 5), in: zone, endOfPeriod: true)
            } catch {
                throw DefinitionError("coupon '\(code)': expires: \(error)")
            }
        }
        let coupon = Coupon(
            code: code, offer: try stack.string(at: 2), uses: try stack.integer(at: 3),
            perCustomer: stack.isNil(at: 4) ? nil : try stack.integer(at: 4), expiresAt: expiresAt)
        declaredCoupons[code] = (coupon, location)
    }

    private func defineReferral(_ stack: inout LuaStack) throws {
        let location = RuleLocation(caller: stack)
        if let first = referral {
            throw DefinitionError("the referral programme is defined twice (first at \(first.location))")
        }
        let discount: [DiscountRule]
        do {
            discount = try DiscountDecoder.rules(from: try stack.value(at: 1))
        } catch {
            throw DefinitionError("referral referee: \(error)")
        }
        referral = ReferralProgramme(
            refereeDiscount: discount, firstOrderOnly: stack.bool(at: 2), referrerPoints: try stack.integer(at: 3),
            afterDays: Int(try stack.integer(at: 4)),
            pointsExpireAfterDays: stack.isNil(at: 5) ? nil : Int(try stack.integer(at: 5)), location: location)
    }

    private func definePointsPayment(_ stack: inout LuaStack) throws {
        let location = RuleLocation(caller: stack)
        if let first = pointsPayment {
            throw DefinitionError("pay_with_points is defined twice (first at \(first.location))")
        }
        let maximumPercent = try stack.integer(at: 3)
        guard maximumPercent <= 100 else {
            throw DefinitionError("pay_with_points: max_percent must be at most 100, got \(maximumPercent)")
        }
        pointsPayment = PointsPayment(
            points: try stack.integer(at: 1), worth: try stack.integer(at: 2), maximumPercent: maximumPercent,
            minimumPoints: try stack.integer(at: 4), location: location)
    }

    /// Checks references between definitions once every file is loaded: segments, tiers and offers named by offers
    /// and coupons exist.
    func validate(segments: [String], tiers: [String]) throws(RuleError) {
        func failure(_ location: RuleLocation, _ message: String) -> RuleError {
            RuleError(underlying: LuaError(kind: .runtime, chunk: location.file, line: location.line, message: message))
        }
        for offer in offers {
            if let segment = offer.eligibility.segment, !segments.contains(segment) {
                throw failure(
                    offer.location,
                    "offer '\(offer.name)': unknown segment '\(segment)'\(Suggestion.didYouMean(segment, among: segments))")
            }
            if let tier = offer.eligibility.minimumTier {
                guard let rank = tiers.firstIndex(of: tier) else {
                    throw failure(
                        offer.location, "offer '\(offer.name)': unknown tier '\(tier)'\(Suggestion.didYouMean(tier, among: tiers))")
                }
                offer.minimumTierRank = rank
            }
        }
        for (code, entry) in declaredCoupons.sorted(by: { $0.key < $1.key }) {
            guard let offer = offer(named: entry.coupon.offer) else {
                throw failure(
                    entry.location,
                    "coupon '\(code)': unknown offer '\(entry.coupon.offer)'\(Suggestion.didYouMean(entry.coupon.offer, among: offerNames))")
            }
            if !offer.requiresCoupon {
                throw failure(
                    entry.location, "coupon '\(code)': offer '\(offer.name)' does not take coupons (add coupon = true to it)")
            }
        }
    }
}

/// Reads discount descriptions (the tables `percent_off` and friends build) into ``DiscountRule``s.
enum DiscountDecoder {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// One discount or a list of them.
    static func rules(from value: LuaValue) throws(Failure) -> [DiscountRule] {
        if case .array(let items) = value {
            var rules: [DiscountRule] = []
            for item in items { rules.append(try rule(from: item)) }
            return rules
        }
        return [try rule(from: value)]
    }

    static func rule(from value: LuaValue) throws(Failure) -> DiscountRule {
        func whole(_ key: LuaValue, minimum: Int64 = 0) throws(Failure) -> Int64 {
            guard let number = value[key].integerValue, number >= minimum else {
                throw Failure(description: "discount field '\(key.stringValue ?? "?")' must be a whole number")
            }
            return number
        }
        func hundredths(_ key: LuaValue) throws(Failure) -> Int64 {
            guard let percent = value[key].numberValue, percent > 0, percent <= 100 else {
                throw Failure(description: "discount percent must be above 0 and at most 100")
            }
            return Int64((percent * 100).rounded())
        }
        let filter = try self.filter(value["filter"])
        switch value["kind"].stringValue {
        case "percent_off":
            return .percentOff(hundredths: try hundredths("percent"), filter: filter, minimum: try whole("minimum"))
        case "amount_off":
            return .amountOff(try whole("amount", minimum: 1), filter: filter, minimum: try whole("minimum"))
        case "buy_x_get_y":
            return .buyXGetY(
                buy: try whole("buy", minimum: 1), get: try whole("get", minimum: 1), hundredths: try hundredths("percent"),
                filter: filter)
        case "free_item":
            return .freeItem(filter: filter, quantity: try whole("qty", minimum: 1))
        case "points_multiplier":
            guard let factor = value["factor"].numberValue, factor > 1, factor <= 100 else {
                throw Failure(description: "points_multiplier factor must be above 1")
            }
            return .pointsMultiplier(thousandths: Int64((factor * 1000).rounded()), filter: filter)
        case "best_of":
            guard case .array(let options) = value["options"] else {
                throw Failure(description: "best_of needs a list of discounts")
            }
            var rules: [DiscountRule] = []
            for option in options { rules.append(try rule(from: option)) }
            return .bestOf(rules)
        default:
            throw Failure(
                description: "a discount is made with percent_off(...), amount_off(...), buy_x_get_y{...}, "
                    + "free_item{...}, points_multiplier(...) or best_of{...}; got \(value)")
        }
    }

    private static func filter(_ value: LuaValue) throws(Failure) -> LineFilter {
        func names(_ list: LuaValue) -> [String] {
            switch list {
            case .array(let items): items.compactMap(\.stringValue)
            case .string(let name): [name]
            default: []
            }
        }
        return LineFilter(categories: names(value["categories"]), skus: names(value["skus"]))
    }
}
