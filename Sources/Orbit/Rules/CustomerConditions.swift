import LuaRuntime

/// What a segment or a tier asks of a customer as data, besides or instead of a `when` function:
///
/// ```lua
/// segment "at-risk" {
///   orders = { at_least = 2 },
///   days_since_last_order = { at_least = 61 },
/// }
/// ```
///
/// Every bound must hold. Orbit checks them itself, without a call into Lua, and can say which one failed and by how
/// much (`.explain`).
struct CustomerConditions: Sendable {
    /// What a bound measures of a customer, named as in the rule language.
    enum Measure: String, Sendable {
        /// Orders, in the last `days` days or ever (as `c:orders{ days = N }`).
        case orders
        /// Spend in the shop's minor units, in the last `days` days or ever (as `c:spent{ days = N }`).
        case spent
        /// Whole days since the last order (as `c.days_since_last_order`); a customer without orders meets no
        /// bound on it.
        case daysSinceLastOrder = "days_since_last_order"
        /// The points balance (as `c.points`).
        case points
    }

    /// One measure between bounds: `at_least`, `at_most` or both.
    struct Bound: Sendable {
        var measure: Measure
        /// The trailing window in days, for orders and spent; nil for the customer's whole history.
        var days: Int?
        var atLeast: Int64?
        var atMost: Int64?

        /// The measure of `customer` at `now`; nil when there is nothing to measure (days since the last order of a
        /// customer who has none).
        func value(for customer: Customer, at now: Instant) -> Int64? {
            switch measure {
            case .orders: Int64(days.map { customer.orderCount(days: $0, now: now) } ?? customer.orderCount)
            case .spent: days.map { customer.spent(days: $0, now: now) } ?? customer.lifetimeSpend
            case .daysSinceLastOrder: customer.daysSinceLastOrder(at: now).map(Int64.init)
            case .points: customer.pointsBalance
            }
        }

        func holds(for customer: Customer, at now: Instant) -> Bool {
            guard let value = value(for: customer, at: now) else { return false }
            return value >= (atLeast ?? .min) && value <= (atMost ?? .max)
        }

        /// What is measured: `spent in the last 365 days`.
        var measured: String { measure.rawValue + (days.map { " in the last \($0) days" } ?? "") }

        /// The limits: `at least 50000`, `at least 1 and at most 1`.
        var limits: String {
            [atLeast.map { "at least \($0)" }, atMost.map { "at most \($0)" }].compactMap { $0 }.joined(separator: " and ")
        }
    }

    private(set) var bounds: [Bound] = []
    /// Tags the customer must have (`tagged = { "winback" }`).
    private(set) var tags: [String] = []

    var isEmpty: Bool { bounds.isEmpty && tags.isEmpty }

    /// Whether `customer` has every tag and meets every bound at `now`.
    func hold(for customer: Customer, at now: Instant) -> Bool {
        tags.allSatisfy { customer.tags.contains($0) } && bounds.allSatisfy { $0.holds(for: customer, at: now) }
    }

    /// The conditions in a few words, for listings: `orders at most 1, tagged winback`.
    var summary: String {
        (bounds.map { "\($0.measured) \($0.limits)" } + tags.map { "tagged \($0)" }).joined(separator: ", ")
    }

    /// One line per bound and tag: what the customer has, what the bound asks, and whether that is enough
    /// (`spent in the last 365 days = 32000 (at least 50000: not met)`, `tagged winback (met)`).
    func explanation(for customer: Customer, at now: Instant) -> [String] {
        bounds.map { bound in
            let value = bound.value(for: customer, at: now).map(String.init) ?? "none, no orders"
            let verdict = bound.holds(for: customer, at: now) ? "met" : "not met"
            return "\(bound.measured) = \(value) (\(bound.limits): \(verdict))"
        } + tags.map { "tagged \($0) (\(customer.tags.contains($0) ? "met" : "not met"))" }
    }
}

extension CustomerConditions {
    /// Reads the list the prelude built from a segment's or tier's fields (`{ { measure = "spent", days = 365,
    /// at_least = 50000 }, … }`); the prelude has checked names, types and ranges.
    init(_ value: LuaValue) throws {
        let items: [LuaValue]
        switch value {
        case .nil: items = []
        case .array(let list): items = list
        case .map(let table) where table.isEmpty: items = []
        default: throw DefinitionError("conditions must be a list, got \(value.typeName)")
        }
        for item in items {
            guard case .map(let fields) = item, case .string(let name) = fields["measure"] ?? .nil else {
                throw DefinitionError("malformed condition \(item)")
            }
            if name == "tagged", case .string(let tag) = fields["tag"] ?? .nil {
                tags.append(tag)
                continue
            }
            guard let measure = Measure(rawValue: name) else { throw DefinitionError("malformed condition \(item)") }
            bounds.append(
                Bound(
                    measure: measure, days: (fields["days"]?.integerValue).map(Int.init),
                    atLeast: fields["at_least"]?.integerValue, atMost: fields["at_most"]?.integerValue))
        }
    }
}
