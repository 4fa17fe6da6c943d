import LuaRuntime

/// What a rule sees of a customer: a read-only view at one instant, as userdata whose fields are computed when a
/// rule reads them. Segment answers are cached for the life of the view (one version of the customer).
final class CustomerView {
    /// Where the evaluation of one segment stands for this view.
    enum SegmentState {
        case unknown
        /// Being evaluated: reaching it again is a cycle.
        case inProgress
        case known(Bool)
    }

    let customer: Customer
    let now: Instant
    /// The tier rules see as `c.tier`; set once the engine has evaluated it (see `RuleBook.standing`).
    var tier: TierDefinition?
    unowned let book: RuleBook
    /// By segment index in the rule book; empty until a segment is evaluated.
    var segmentStates: [SegmentState] = []
    /// The userdata rules see for this view, while a caller of the rule book keeps it (see `RuleBook.luaObject`).
    weak var luaObject: LuaReference?

    init(customer: Customer, now: Instant, tier: TierDefinition?, book: RuleBook) {
        self.customer = customer
        self.now = now
        self.tier = tier
        self.book = book
    }

    /// The fields and methods of `c` in rules. Keep `editor/` annotations and docs/rules.md in step with this list.
    static func luaType() -> LuaObjectType<CustomerView> {
        let type = LuaObjectType<CustomerView>(name: "customer")
        type.field("id") { .string($0.customer.id) }
        type.field("signed_up_at") { .string($0.customer.signedUpAt.description) }
        type.field("days_since_signup") { .integer(Int64($0.now.days(since: $0.customer.signedUpAt))) }
        type.field("points") { .integer($0.customer.pointsBalance) }
        type.field("points_earned") { .integer($0.customer.pointsEarned) }
        type.field("order_count") { .integer(Int64($0.customer.orderCount)) }
        type.field("lifetime_spend") { .integer($0.customer.lifetimeSpend) }
        type.field("first_order_at") { view in view.customer.firstOrderAt.map { .string($0.description) } ?? .nil }
        type.field("last_order_at") { view in view.customer.lastOrderAt.map { .string($0.description) } ?? .nil }
        type.field("days_since_last_order") { view in
            view.customer.daysSinceLastOrder(at: view.now).map { .integer(Int64($0)) } ?? .nil
        }
        type.field("tier", pushing: { view, stack in stack.push(try view.book.sharedTables.tier(view.tier)) })
        type.field("tags") { .array($0.customer.tags.sorted().map(LuaValue.string)) }
        type.field("attributes") { .map(Dictionary(uniqueKeysWithValues: $0.customer.attributes.map { (.string($0.key), $0.value.luaValue) })) }
        type.field("consent", pushing: { view, stack in stack.push(try view.book.sharedTables.consent(view.customer.consent)) })
        type.field("referral_code") { view in view.customer.referralCode.map(LuaValue.string) ?? .nil }
        type.field("referrer") { view in view.customer.referrer.map(LuaValue.string) ?? .nil }
        addPredictionFields(to: type)
        type.method("spent") { view, stack in
            stack.push(view.customer.spent(days: try window(stack, "spent"), now: view.now))
        }
        type.method("orders") { view, stack in
            stack.push(Int64(view.customer.orderCount(days: try window(stack, "orders"), now: view.now)))
        }
        type.method("has_tag") { view, stack in
            stack.push(.bool(view.customer.tags.contains(try stack.string(at: 1))))
        }
        type.method("in_segment") { view, stack in
            stack.push(.bool(try view.book.isMember(view, of: try stack.string(at: 1))))
        }
        type.method("bucket") { view, stack in
            let experiment = try stack.string(at: 1)
            let weights = try stack.value(at: 2)
            stack.push(.string(try Bucketing.bucket(customerID: view.customer.id, experiment: experiment, weights: weights)))
        }
        return type
    }

    /// `{ days = N }`, or no argument for the whole history.
    private static func window(_ stack: borrowing LuaStack, _ method: String) throws -> Int {
        if stack.isNil(at: 1) { return Int.max / 2 }
        guard let days = try stack.field("days", of: 1).integerValue, days > 0 else {  // nil when not a table
            throw LuaArgumentError(function: method, position: 1, problem: "{ days = N } expected, with N above 0")
        }
        return Int(days)
    }
}

/// Deterministic A/B buckets: the same customer lands in the same bucket of an experiment on every machine, forever.
enum Bucketing {
    /// Hashes experiment and customer (FNV-1a, 64 bit) into the weights, taken in name order.
    static func bucket(customerID: String, experiment: String, weights: LuaValue) throws -> String {
        guard case .map(let table) = weights, !table.isEmpty else {
            throw LuaArgumentError(function: "bucket", position: 2, problem: "weights expected: { control = 50, variant = 50 }")
        }
        var buckets: [(name: String, weight: Int64)] = []
        for (key, value) in table {
            guard case .string(let name) = key, let weight = value.integerValue, weight >= 0 else {
                throw LuaArgumentError(function: "bucket", position: 2, problem: "weights must be whole numbers by bucket name")
            }
            buckets.append((name, weight))
        }
        buckets.sort { $0.name < $1.name }
        let total = buckets.reduce(0) { $0 + $1.weight }
        guard total > 0 else {
            throw LuaArgumentError(function: "bucket", position: 2, problem: "weights must add up to more than 0")
        }
        let hash = StableHash.fnv1a(experiment + "\u{0}" + customerID)
        var point = Int64(hash % UInt64(total))
        for bucket in buckets {
            if point < bucket.weight { return bucket.name }
            point -= bucket.weight
        }
        return buckets[buckets.count - 1].name
    }
}
