import Foundation
public import Logging
public import LuaRuntime

/// A marketer's rule files, compiled into one sandboxed Lua state: segments, earning rules, tiers and event
/// handlers, plus the functions rules call (`award`, `tag`, `send`, `eur`, …).
///
/// Not `Sendable`: the engine owns its rule book and uses it from one task at a time.
public final class RuleBook {
    let lua: LuaState
    private(set) var segments: [SegmentRule] = [] {
        didSet { hasWhenFunctions = Self.hasWhenFunctions(tiers, segments) }
    }
    private(set) var earnRules: [EarnRule] = []
    private(set) var tiers: [TierDefinition] = [] {
        didSet { hasWhenFunctions = Self.hasWhenFunctions(tiers, segments) }
    }
    private(set) var handlers: [EventHandler] = []
    /// The `inactive` handlers, shortest lapse first.
    private(set) var inactiveHandlers: [EventHandler] = []
    /// The rule files, in load order.
    public private(set) var files: [String] = []
    let customerType: LuaObjectType<CustomerView>
    let cartType: LuaObjectType<CartView>
    let eventType: LuaObjectType<EventView>
    /// Lends the customer of the rule book's own calls to Lua (see ``withCustomerObject(for:rule:_:)``).
    private let customerSlot: LuaObjectSlot<CustomerView>
    /// Lends the event of the rule book's own calls to Lua (see ``withEventObject(for:_:)``).
    private let eventSlot: LuaObjectSlot<EventView>
    /// `c.tier` and `c.consent`, made once per form.
    let sharedTables: SharedTables
    /// Offers, coupons, the referral programme and paying with points.
    let checkout = CheckoutRules()
    /// The evaluation in progress, which effect functions record into.
    var evaluation: RuleEvaluation?
    /// An `on "…" { … }` still waiting for its function while rules load (see ``expectHandler(_:)``).
    private var pendingHandler: (label: String, location: RuleLocation)?
    /// What the rule book was loaded from, to load it again (``loadedAgain()``).
    private let sources: [(name: String, source: String)]
    private let limits: LuaLimits
    private let logger: Logger

    /// Loads every `*.lua` file in `directory` (not `*_test.lua`), in name order.
    public convenience init(directory: String, limits: LuaLimits = LuaLimits(), logger: Logger) throws {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: directory) else {
            throw RuleError(underlying: LuaError(kind: .runtime, chunk: directory, message: "no such rules directory"))
        }
        let ruleFiles = names.filter { $0.hasSuffix(".lua") && !$0.hasSuffix("_test.lua") }.sorted()
        var sources: [(name: String, source: String)] = []
        for name in ruleFiles {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let data = manager.contents(atPath: path) else {
                throw RuleError(underlying: LuaError(kind: .runtime, chunk: path, message: "cannot be read"))
            }
            sources.append((path, String(decoding: data, as: UTF8.self)))
        }
        try self.init(sources: sources, limits: limits, logger: logger)
    }

    /// Loads rule sources given as (file name, source), in order.
    public init(sources: [(name: String, source: String)], limits: LuaLimits = LuaLimits(), logger: Logger) throws {
        let lua = try LuaState(limits: limits, logger: logger)
        self.sources = sources
        self.limits = limits
        self.logger = logger
        customerType = CustomerView.luaType()
        cartType = CartView.luaType()
        eventType = EventView.luaType()
        lua.register(customerType)
        lua.register(cartType)
        lua.register(eventType)
        customerSlot = lua.objectSlot(for: customerType)
        eventSlot = lua.objectSlot(for: eventType)
        sharedTables = SharedTables(lua: lua)
        self.lua = lua
        try installLanguage()
        for (name, source) in sources {
            do {
                try lua.run(source, chunkName: name)
            } catch {
                throw RuleError(underlying: error)
            }
            try checkNoHandlerPending()
            files.append(name)
        }
        try checkout.validate(segments: segmentNames, tiers: tierNames)
        do {
            try sharedTables.prepare(tiers: tiers)
        } catch {
            throw RuleError(underlying: error)
        }
        checkout.finishLoading(purchasesRunRules: handlesEvents(of: "purchase"))
    }

    /// The same rules loaded again into a Lua state of their own, for another thread.
    func loadedAgain() throws -> RuleBook {
        try RuleBook(sources: sources, limits: limits, logger: logger)
    }

    /// Names of the segments, in definition order.
    public var segmentNames: [String] { segments.map(\.name) }
    /// Names of the tiers, lowest first.
    public var tierNames: [String] { tiers.map(\.name) }
    /// Names of the earning rules.
    public var earnRuleNames: [String] { earnRules.map(\.name) }
    /// Whether any earning rule or handler reacts to events of `type`.
    func handlesEvents(of type: String) -> Bool {
        earnRules.contains { $0.eventType == type } || handlers.contains { $0.eventType == type }
    }

    /// Names of the event handlers (`on purchase (rules/x.lua:4)`).
    public var handlerNames: [String] { handlers.map(\.name) }

    // MARK: The language

    private func installLanguage() throws {
        let prelude = try lua.load(Prelude.source, chunkName: Prelude.chunkName, internal: true)
        let forms = try lua.call(prelude) { stack in
            stack.push(function: "segment") { [weak self] stack in try self?.defineSegment(&stack) }
            stack.push(function: "earn") { [weak self] stack in try self?.defineEarnRule(&stack) }
            stack.push(function: "tiers") { [weak self] stack in try self?.defineTier(&stack) }
            stack.push(function: "on") { [weak self] stack in try self?.defineHandler(&stack) }
            // The prelude's expect_handler, named `on` so that its errors read as the `on` form's.
            stack.push(function: "on") { [weak self] stack in try self?.expectHandler(&stack) }
            stack.push(function: "suggest", Suggestion.preludeFunction)
        } results: { results in
            try (1...4).map { try results.function(at: $0) }
        }
        for (name, form) in zip(["segment", "earn", "tiers", "on"], forms) { lua.setGlobal(name, form) }
        RuleFunctions.install(in: self)
        do {
            try CheckoutRules.install(in: self)
        } catch {
            throw RuleError(underlying: LuaError(kind: .runtime, chunk: CheckoutPrelude.chunkName, message: "\(error)"))
        }
    }

    private func defineSegment(_ stack: inout LuaStack) throws {
        let name = try stack.string(at: 1)
        let location = RuleLocation(caller: stack)
        if let first = segments.first(where: { $0.name == name }) {
            throw DefinitionError("segment '\(name)' is defined twice (first at \(first.location))")
        }
        segments.append(
            SegmentRule(
                name: name, description: stack.isNil(at: 2) ? nil : try stack.string(at: 2),
                conditions: try CustomerConditions(try stack.value(at: 4)),
                predicate: stack.isNil(at: 3) ? nil : try stack.function(at: 3), location: location))
    }

    private func defineEarnRule(_ stack: inout LuaStack) throws {
        let name = try stack.string(at: 1)
        let location = RuleLocation(caller: stack)
        if let first = earnRules.first(where: { $0.name == name }) {
            throw DefinitionError("earn '\(name)' is defined twice (first at \(first.location))")
        }
        let points: EarnRule.Points
        switch stack.typeName(at: 3) {
        case "function": points = .computed(try stack.function(at: 3))
        case "table":
            guard case .map(let options) = try stack.value(at: 3), let per = options["per"]?.integerValue else {
                throw DefinitionError("earn '\(name)': points = { per = eur(1) } expected")
            }
            points = .perAmount(per: per, timesTierMultiplier: options["tier_multiplier"] != .bool(false))
        default: points = .fixed(try stack.integer(at: 3))
        }
        earnRules.append(
            EarnRule(
                name: name, eventType: try stack.string(at: 2), points: points,
                expiresAfterDays: stack.isNil(at: 4) ? nil : Int(try stack.integer(at: 4)),
                condition: stack.isNil(at: 5) ? nil : try stack.function(at: 5), location: location))
    }

    private func defineTier(_ stack: inout LuaStack) throws {
        let position = try stack.integer(at: 1)
        let location = RuleLocation(caller: stack)
        if position == 1, let first = tiers.first {
            throw DefinitionError("tiers are defined twice (first at \(first.location))")
        }
        let name = try stack.string(at: 2)
        if tiers.contains(where: { $0.name == name }) { throw DefinitionError("tier '\(name)' appears twice") }
        let minimum = stack.isNil(at: 3) ? nil : try stack.integer(at: 3)
        if let minimum, let previous = tiers.last?.minimumPoints, minimum < previous {
            throw DefinitionError(
                "tier '\(name)': min_points \(minimum) is below the tier before it (\(previous)); list tiers lowest first")
        }
        tiers.append(
            TierDefinition(
                name: name, minimumPoints: minimum,
                multiplierThousandths: Int64((try stack.number(at: 4) * 1000).rounded()),
                conditions: try CustomerConditions(try stack.value(at: 6)),
                condition: stack.isNil(at: 5) ? nil : try stack.function(at: 5), location: location))
    }

    /// Notes an `on "…" { … }` whose function must follow (``defineHandler(_:)`` clears it): one left without it
    /// is an error at its line, found when its file has loaded or the next one begins.
    private func expectHandler(_ stack: inout LuaStack) throws {
        if let (label, location) = pendingHandler {
            pendingHandler = nil
            throw DefinitionError("the \(Self.missingFunction(label)) (at \(location))")
        }
        pendingHandler = (try stack.string(at: 1), RuleLocation(caller: stack))
    }

    /// Throws when an `on "…" { … }` at the end of a file never got its function.
    private func checkNoHandlerPending() throws(RuleError) {
        guard let (label, location) = pendingHandler else { return }
        pendingHandler = nil
        throw RuleError(
            underlying: LuaError(
                kind: .runtime, chunk: location.file, line: location.line, message: Self.missingFunction(label)))
    }

    private static func missingFunction(_ label: String) -> String {
        "\(label) { ... } needs its function after the table: \(label) { ... } (function("
            + (label == #"on "inactive""# ? "c" : "e, c") + ") ... end)"
    }

    private func defineHandler(_ stack: inout LuaStack) throws {
        pendingHandler = nil
        let handler = EventHandler(
            eventType: try stack.string(at: 1), inactiveDays: stack.isNil(at: 3) ? nil : Int(try stack.integer(at: 3)),
            function: try stack.function(at: 2), conditions: try CustomerConditions(try stack.value(at: 4)),
            location: RuleLocation(caller: stack))
        handlers.append(handler)
        if handler.eventType == "inactive" {
            inactiveHandlers = handlers.filter { $0.eventType == "inactive" }
                .sorted { ($0.inactiveDays ?? 0) < ($1.inactiveDays ?? 0) }
        }
    }

    // MARK: Evaluation

    /// The effects the earning rules and the handlers of `event` propose for `customer`. Changes nothing.
    func effects(of event: Event, for customer: Customer, at now: Instant) throws(RuleError) -> [ProposedEffect] {
        let due = handlers.filter { $0.eventType == event.type && $0.conditions.hold(for: customer, at: now) }
        guard !due.isEmpty || earnRules.contains(where: { $0.eventType == event.type }) else { return [] }
        let tier = currentTier(of: customer)
        // Nothing for Lua to see when no handler runs and the earning rules are declared (two userdata per event
        // otherwise).
        guard !due.isEmpty || earnRules.contains(where: { $0.eventType == event.type && $0.callsLua }) else {
            return try effects(of: event, handlers: [], values: nil, customerID: customer.id, tier: tier, at: now)
        }
        let view = CustomerView(customer: customer, now: now, tier: tier, book: self)
        // One userdata for the event and one for the customer, shared by every rule this event reaches.
        return try withEventObject(for: EventView(event, lua: lua)) { (eventValue) throws(RuleError) in
            try withCustomerObject(for: view) { (customerValue) throws(RuleError) in
                try effects(
                    of: event, handlers: due, values: (eventValue, customerValue), customerID: customer.id, tier: tier,
                    at: now)
            }
        }
    }

    /// Runs `body` with the userdata rules see as `e` for `view`, shown through the rule book's slot.
    private func withEventObject<T>(for view: EventView, _ body: (LuaReference) throws(RuleError) -> T)
        throws(RuleError) -> T
    {
        try guarded(rule: nil) { try eventSlot.show(view) { object in try body(object) } }
    }

    /// ``effects(of:for:at:)``: the earning rules, then `handlers` (those whose conditions hold), over the values
    /// rules see as `e` and `c` (nil when no rule calls Lua).
    private func effects(
        of event: Event, handlers due: [EventHandler], values: (event: LuaReference, customer: LuaReference)?,
        customerID: String, tier: TierDefinition?, at now: Instant
    ) throws(RuleError) -> [ProposedEffect] {
        var proposed: [ProposedEffect] = []
        for rule in earnRules where rule.eventType == event.type {
            try guarded(rule: "earn '\(rule.name)'") {
                func lua() throws -> (event: LuaReference, customer: LuaReference) {
                    guard let values else { throw DefinitionError("the rule calls Lua, but no values were lent") }
                    return values
                }
                if let condition = rule.condition {
                    let lent = try lua()
                    if try !call(condition, lent.event, lent.customer).isTruthy { return }
                }
                let points: Int64
                switch rule.points {
                case .fixed(let value): points = value
                case .perAmount(let per, let timesTierMultiplier):
                    points = try Self.points(per: per, of: event, timesMultiplierOf: timesTierMultiplier ? tier : nil)
                case .computed(let function):
                    let lent = try lua()
                    points = try wholePoints(try call(function, lent.event, lent.customer), rule: rule.name)
                }
                guard points > 0 else { return }
                proposed.append(
                    ProposedEffect(
                        effect: .awardPoints(points, expiresAt: rule.expiresAfterDays.map { now.adding(days: $0) }),
                        rule: rule.name, file: rule.location.file, line: rule.location.line))
            }
        }
        if let values {
            for handler in due {
                proposed += try run(handler, event: values.event, customer: values.customer, customerID: customerID, now: now)
            }
        }
        return proposed
    }

    /// The effects an `inactive` handler proposes for `customer`.
    func effects(ofInactive handler: EventHandler, for customer: Customer, at now: Instant) throws(RuleError)
        -> [ProposedEffect]
    {
        guard handler.conditions.hold(for: customer, at: now) else { return [] }
        let view = CustomerView(customer: customer, now: now, tier: currentTier(of: customer), book: self)
        return try withCustomerObject(for: view, rule: handler.name) { (customerValue) throws(RuleError) in
            try run(handler, event: nil, customer: customerValue, customerID: customer.id, now: now)
        }
    }

    /// Calls `handler` with the event (none for `inactive`) and the customer, recording the effects it proposes.
    private func run(
        _ handler: EventHandler, event: LuaReference?, customer: LuaReference, customerID: String, now: Instant
    ) throws(RuleError) -> [ProposedEffect] {
        let evaluation = RuleEvaluation(rule: handler.name, location: handler.location, customerID: customerID, now: now)
        self.evaluation = evaluation
        defer { self.evaluation = nil }
        try guarded(rule: handler.name) {
            _ = try lua.call(handler.function) { stack in
                if let event { stack.push(event) }
                stack.push(customer)
            } results: { _ in () }
        }
        return evaluation.effects
    }

    /// The tier the customer holds (as last evaluated by the engine), which rules see as `c.tier`.
    func currentTier(of customer: Customer) -> TierDefinition? {
        customer.tier.flatMap { name in tiers.first { $0.name == name } }
    }

    /// A customer's tier (its name) and segments, as the rules found them.
    typealias Standing = (tier: String?, segments: Set<String>)

    /// The tier `customer` holds at `now` and the segments they are then in, over one view: tier conditions see no
    /// tier (`c.tier` is none), segments see the tier just found.
    func standing(of customer: Customer, at now: Instant) throws(RuleError) -> Standing {
        guard !tiers.isEmpty || !segments.isEmpty else { return (nil, []) }
        guard hasWhenFunctions else { return (declaredTier(of: customer, at: now), declaredSegments(of: customer, at: now)) }
        let view = CustomerView(customer: customer, now: now, tier: nil, book: self)
        // One userdata shared by every `when` function (and `c:in_segment`).
        return try withCustomerObject(for: view) { (_) throws(RuleError) in
            let tier = try tier(in: view)
            view.tier = tier
            view.segmentStates = []  // answers a tier condition got were for a customer without a tier
            return (tier?.name, try segments(in: view))
        }
    }

    /// Whether a tier or a segment has a `when` function (otherwise Orbit checks them all without Lua). Kept as the
    /// definitions change, not worked out for every customer's standing.
    private var hasWhenFunctions = false

    private static func hasWhenFunctions(_ tiers: [TierDefinition], _ segments: [SegmentRule]) -> Bool {
        tiers.contains { $0.condition != nil } || segments.contains { $0.predicate != nil }
    }

    /// The name of the tier of `customer` when no tier has a `when` function: checked on the customer itself, without
    /// a view for Lua.
    private func declaredTier(of customer: Customer, at now: Instant) -> String? {
        tiers.indices.reversed().first { tiers[$0].declaredConditionsHold(for: customer, at: now) }.map { tiers[$0].name }
    }

    /// The segments of `customer` when no segment has a `when` function: checked on the customer itself, without a
    /// view for Lua (no segment can then depend on another: only `when` reads `c:in_segment`).
    private func declaredSegments(of customer: Customer, at now: Instant) -> Set<String> {
        var members = Set<String>()
        for index in segments.indices where segments[index].conditions.hold(for: customer, at: now) {
            members.insert(segments[index].name)
        }
        return members
    }

    /// The highest tier whose conditions the customer of `view` meets (tiers are listed lowest first).
    private func tier(in view: CustomerView) throws(RuleError) -> TierDefinition? {
        for tier in tiers.reversed() {
            if !tier.declaredConditionsHold(for: view.customer, at: view.now) { continue }
            if let condition = tier.condition {
                var holds = false
                try guarded(rule: "tier '\(tier.name)'") { holds = try call(condition, luaObject(for: view)).isTruthy }
                if !holds { continue }
            }
            return tier
        }
        return nil
    }

    /// The segments `customer` belongs to.
    func segments(of customer: Customer, at now: Instant) throws(RuleError) -> Set<String> {
        guard !segments.isEmpty else { return [] }
        guard hasWhenFunctions else { return declaredSegments(of: customer, at: now) }
        let view = CustomerView(customer: customer, now: now, tier: currentTier(of: customer), book: self)
        return try withCustomerObject(for: view) { (_) throws(RuleError) in try segments(in: view) }
    }

    /// The segments the customer of `view` belongs to; the caller keeps the view's userdata alive.
    private func segments(in view: CustomerView) throws(RuleError) -> Set<String> {
        var members = Set<String>()
        for (index, segment) in segments.enumerated() {
            do {
                if try isMember(view, segment: index) { members.insert(segment.name) }
            } catch let error as RuleError {
                throw error
            } catch {
                throw RuleError(rule: "segment '\(segment.name)'", underlying: LuaError(kind: .runtime, message: "\(error)"))
            }
        }
        return members
    }

    /// Whether the customer of `view` is in the segment named `name`, evaluated once per view.
    func isMember(_ view: CustomerView, of name: String) throws -> Bool {
        guard let index = segments.firstIndex(where: { $0.name == name }) else {
            throw DefinitionError(
                "unknown segment '\(name)'\(Suggestion.didYouMean(name, among: segments.map(\.name)))")
        }
        return try isMember(view, segment: index)
    }

    /// Whether the customer of `view` is in `segments[index]`, evaluated once per view.
    private func isMember(_ view: CustomerView, segment index: Int) throws -> Bool {
        if view.segmentStates.isEmpty { view.segmentStates = Array(repeating: .unknown, count: segments.count) }
        let segment = segments[index]
        switch view.segmentStates[index] {
        case .known(let member): return member
        case .inProgress: throw DefinitionError("segment '\(segment.name)' depends on itself")
        case .unknown: break
        }
        guard segment.conditions.hold(for: view.customer, at: view.now) else {
            view.segmentStates[index] = .known(false)
            return false
        }
        guard let predicate = segment.predicate else {
            view.segmentStates[index] = .known(true)
            return true
        }
        view.segmentStates[index] = .inProgress
        var member = false
        do {
            try guarded(rule: "segment '\(segment.name)'") {
                member = try call(predicate, luaObject(for: view)).isTruthy
            }
        } catch {
            view.segmentStates[index] = .unknown
            throw error
        }
        view.segmentStates[index] = .known(member)
        return member
    }

    /// Runs `body` with the userdata rules see as `c` for `view`, shared by every call `body` makes: lent through
    /// the rule book's slot (no finalizer, nothing retained), or a userdata of the view's own when the slot is in use
    /// further up.
    private func withCustomerObject<T>(
        for view: CustomerView, rule: String? = nil, _ body: (LuaReference) throws(RuleError) -> T
    ) throws(RuleError) -> T {
        if let object = view.luaObject { return try body(object) }
        return try guarded(rule: rule) {
            try customerSlot.show(view) { object in
                view.luaObject = object
                defer { view.luaObject = nil }
                return try body(object)
            }
        }
    }

    /// The userdata rules see as `c` for `view`: made once per view and shared by every call that reads it. The view
    /// holds it weakly (the userdata holds the view), so callers keep the returned reference while they use the view.
    func luaObject(for view: CustomerView) throws(LuaError) -> LuaReference {
        if let object = view.luaObject { return object }
        let object = try lua.reference(to: view, as: customerType)
        view.luaObject = object
        return object
    }

    private func call(_ function: LuaFunction, _ event: LuaReference, _ customer: LuaReference) throws(LuaError)
        -> LuaValue
    {
        try lua.call(function) { stack in
            stack.push(event)
            stack.push(customer)
        } results: { results in try results.value(at: 1) }
    }

    private func call(_ function: LuaFunction, _ customer: LuaReference) throws(LuaError) -> LuaValue {
        try lua.call(function) { stack in stack.push(customer) } results: { try $0.value(at: 1) }
    }

    /// `points = { per = … }`: one point per whole `per` of the event's total (none without a total), times the
    /// multiplier of `tier` when given, rounded down. The total is what rules see as `e.total`: an event a rule
    /// emitted carries it in its data.
    static func points(per: Int64, of event: Event, timesMultiplierOf tier: TierDefinition?) throws -> Int64 {
        var total = event.total?.minorUnits ?? 0
        if event.total == nil, case .integer(let emitted) = event.data["total"] { total = emitted }
        guard total > 0 else { return 0 }
        let points = total / per
        guard let tier else { return points }
        let (product, overflow) = points.multipliedReportingOverflow(by: tier.multiplierThousandths)
        guard !overflow else {
            throw DefinitionError("\(points) points times the multiplier of tier '\(tier.name)' are too many to count")
        }
        return product / 1000
    }

    private func wholePoints(_ value: LuaValue, rule: String) throws -> Int64 {
        switch value {
        case .integer(let points) where points >= 0: return points
        case .number(let points) where points.isFinite && points >= 0 && points < 1e15:
            return Int64(points.rounded(.down))
        default:
            throw DefinitionError("points must be a number of at least 0, got \(value)")
        }
    }

    /// Runs `body`, naming `rule` (when there is one) in any error it raises.
    /// The name is built only when there is an error to name it in.
    private func guarded<T>(rule: @autoclosure () -> String?, _ body: () throws -> T) throws(RuleError) -> T {
        do {
            return try body()
        } catch let error as RuleError {
            throw error
        } catch let error as LuaError {
            throw RuleError(rule: rule(), underlying: error)
        } catch {
            throw RuleError(rule: rule(), underlying: LuaError(kind: .runtime, message: "\(error)"))
        }
    }
}

/// A rule definition is malformed (duplicate name, tiers out of order, unknown segment).
struct DefinitionError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
