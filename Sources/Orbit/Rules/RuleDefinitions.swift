public import LuaRuntime

/// Where a rule is defined: its file and line.
public struct RuleLocation: Hashable, Sendable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var description: String { "\(file):\(line)" }

    /// Where the rule that called a definer is: the first frame outside Orbit's own preludes.
    init(caller stack: borrowing LuaStack) {
        let caller = stack.callerLocation
        file = caller?.chunk ?? "?"
        line = caller?.line ?? 0
    }

    init(file: String, line: Int) {
        self.file = file
        self.line = line
    }
}

/// `segment "vip" { description = …, spent = { … }, when = function(c) … end }`: a member meets the declared
/// conditions and, when there is one, the `when` function.
struct SegmentRule {
    var name: String
    var description: String?
    var conditions: CustomerConditions
    var predicate: LuaFunction?
    var location: RuleLocation
}

/// `earn "points-per-euro" { on = "purchase", points = …, expires = { days = 365 }, when = … }`
struct EarnRule {
    enum Points {
        case fixed(Int64)
        /// One point per whole `per` minor units of the event's total, times the tier's multiplier when
        /// `timesTierMultiplier` (rounded down): worked out without Lua.
        case perAmount(per: Int64, timesTierMultiplier: Bool)
        case computed(LuaFunction)
    }

    var name: String
    var eventType: String
    var points: Points
    var expiresAfterDays: Int?
    var condition: LuaFunction?
    var location: RuleLocation

    /// Whether earning needs a call into Lua (a `when` function or points computed by a function).
    var callsLua: Bool {
        if condition != nil { return true }
        if case .computed = points { return true }
        return false
    }
}

/// One level of `tiers { … }`, lowest first.
struct TierDefinition {
    var name: String
    var minimumPoints: Int64?
    /// Multiplier as a fraction (numerator / 1000), so that 1.25 stays exact in integer arithmetic.
    var multiplierThousandths: Int64
    /// Declared conditions (`spent = { … }`), checked before `condition`.
    var conditions: CustomerConditions
    var condition: LuaFunction?
    var location: RuleLocation

    /// Whether the tier asks nothing but points (`min_points`).
    var asksOnlyPoints: Bool { conditions.isEmpty && condition == nil }

    /// Whether `customer` meets what the tier declares (`min_points`, `spent`, …); its `when` is asked only then.
    func declaredConditionsHold(for customer: Customer, at now: Instant) -> Bool {
        if let minimumPoints, customer.pointsEarned < minimumPoints { return false }
        return conditions.hold(for: customer, at: now)
    }

    var multiplier: Double { Double(multiplierThousandths) / 1000 }
}

/// `on "purchase" (function(e, c) … end)` or `on "inactive" { days = 90 } (function(c) … end)`
struct EventHandler {
    var eventType: String
    /// For `inactive` handlers: days without an order.
    var inactiveDays: Int?
    var function: LuaFunction
    /// What the customer must meet for the handler to run (`on "purchase" { orders = { at_most = 1 } }`), checked
    /// without Lua.
    var conditions: CustomerConditions
    var location: RuleLocation
    /// How effects per rule name this handler: `on purchase (rules/welcome.lua:4)`.
    let name: String

    init(
        eventType: String, inactiveDays: Int?, function: LuaFunction, conditions: CustomerConditions = CustomerConditions(),
        location: RuleLocation
    ) {
        self.eventType = eventType
        self.inactiveDays = inactiveDays
        self.function = function
        self.conditions = conditions
        self.location = location
        let trigger = inactiveDays.map { "\(eventType) \($0)d" } ?? eventType
        name = "on \(trigger) (\(location))"
    }
}

/// A rule file failed to load or a rule is malformed: file, line, and what is wrong, for the marketer who wrote it.
public struct RuleError: Error, Sendable, CustomStringConvertible {
    /// The rule that failed, when the failure is inside one (`segment 'vip'`, `on purchase (…)`).
    public var rule: String?
    public var underlying: LuaError

    public var description: String {
        guard let rule else { return underlying.description }
        let location = [underlying.chunk, underlying.line.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return location.isEmpty ? "in \(rule): \(underlying.message)" : "\(location): in \(rule): \(underlying.message)"
    }
}
