import LuaRuntime

/// `.explain CUSTOMER NAME`: runs one condition with a recording customer view and shows every value it read.
/// Each explainer answers for the names it knows and returns nil for others; checkout adds offers to the table.
typealias Explainer = @Sendable (RuleConsole, Customer, String) async throws -> String?

extension RuleConsole {
    static let explainers: [Explainer] = [explainSegment, explainTier, explainHandler, explainOffer]

    func explain(customer id: String, subject: String) async throws -> String {
        let customer = try customer(id)
        for explainer in Self.explainers {
            if let explanation = try await explainer(self, customer, subject) { return explanation }
        }
        let book = session.book
        throw ConsoleError(
            "no segment, tier, offer or handler named '\(subject)'"
                + Suggestion.didYouMean(subject, among: book.ruleNames + book.handlers.map(\.location.description)))
    }

    static func explainSegment(_ console: RuleConsole, _ customer: Customer, _ name: String) throws -> String? {
        let (session, now) = (console.session, console.now)
        guard let segment = session.book.segments.first(where: { $0.name == name }) else { return nil }
        let (member, reasons) = try session.checking(segment.conditions, then: segment.predicate, of: customer, at: now)
        var lines = [
            "segment \"\(name)\" for \"\(customer.id)\" at \(now): \(member ? "member" : "not a member")"
        ]
        lines.append("  \(segment.location)" + (segment.description.map { "  \($0)" } ?? ""))
        lines += reasons
        return lines.joined(separator: "\n")
    }

    /// A handler, named by its place (`rules/welcome.lua:10`, or just `welcome.lua:10`): whether the customer meets
    /// its declared conditions, so that it would run for them now.
    static func explainHandler(_ console: RuleConsole, _ customer: Customer, _ place: String) throws -> String? {
        let (session, now) = (console.session, console.now)
        guard
            let handler = session.book.handlers.first(where: {
                $0.name == place || $0.location.description == place || $0.location.description.hasSuffix("/" + place)
            })
        else { return nil }
        let (met, reasons) = try session.checking(handler.conditions, then: nil, of: customer, at: now)
        var lines = ["\(handler.name) for \"\(customer.id)\" at \(now): \(met ? "would run" : "would not run")"]
        lines += handler.conditions.isEmpty ? ["  no conditions: it runs for every \(handler.eventType) event"] : reasons
        return lines.joined(separator: "\n")
    }

    static func explainTier(_ console: RuleConsole, _ customer: Customer, _ name: String) throws -> String? {
        let (session, now) = (console.session, console.now)
        let book = session.book
        guard let tier = book.tiers.first(where: { $0.name == name }) else { return nil }
        var lines = ["tier \"\(name)\" for \"\(customer.id)\" at \(now)  \(tier.location)"]
        var holds = true
        if let minimum = tier.minimumPoints {
            let met = customer.pointsEarned >= minimum
            holds = holds && met
            lines.append(
                "  min_points \(minimum): points earned \(customer.pointsEarned) \(met ? "(met)" : "(not met)")")
        }
        let (met, reasons) = try session.checking(
            tier.conditions, then: tier.condition, of: customer, at: now, metSoFar: holds)
        holds = met
        lines += reasons
        if tier.minimumPoints == nil && tier.asksOnlyPoints { lines.append("  no conditions: everyone qualifies") }
        let current = try book.standing(of: customer, at: now).tier
        lines.append(
            "  qualifies: \(holds ? "yes" : "no"); holds " + (current.map { "\"\($0)\"" } ?? "no tier")
                + " (the highest tier whose conditions are met)")
        return lines.joined(separator: "\n")
    }
}

extension ConsoleSession {
    /// Whether `customer` meets a segment's or tier's declared `conditions` and then its `when` function at `now`,
    /// given whether what the tier asks before them (`min_points`) is met: one line per declared condition and, when
    /// everything before `when` is met, one per value it read and its result (it is not called otherwise, as in the
    /// engine).
    func checking(
        _ conditions: CustomerConditions, then predicate: LuaFunction?, of customer: Customer, at now: Instant,
        metSoFar: Bool = true
    ) throws -> (Bool, [String]) {
        var lines = conditions.explanation(for: customer, at: now).map { "  \($0)" }
        let met = metSoFar && conditions.hold(for: customer, at: now)
        guard let predicate else { return (met, lines) }
        guard met else {
            lines.append("  when(c) not called: a condition above is not met")
            return (false, lines)
        }
        let (result, reads) = try recording(predicate, customer: customer, at: now)
        return (result.isTruthy, lines + reads + ["  when(c) returned \(result)"])
    }

    /// Calls `condition(c)` (`condition(c, cart)` with a cart) with a recording view of `customer`: its result and
    /// one line per value read.
    func recording(_ condition: LuaFunction, customer: Customer, at now: Instant, cart: Cart? = nil) throws
        -> (LuaValue, [String])
    {
        let lua = book.lua
        let view = CustomerView(customer: customer, now: now, tier: book.currentTier(of: customer), book: book)
        recorder.observations = []
        let result = try lua.call(condition) {
            $0.push(view, as: recordingType)
            if let cart { $0.push(CartView(cart: cart), as: book.cartType) }
        } results: { results in
            (try? results.value(at: 1)) ?? .string(results.typeName(at: 1))
        }
        let reads = recorder.observations.map { observation in
            let call: String
            if let arguments = observation.arguments {
                if arguments.count == 1, case .map = arguments[0] {
                    call = "c:\(observation.member)\(arguments[0])"
                } else {
                    call = "c:\(observation.member)(\(arguments.map(\.description).joined(separator: ", ")))"
                }
            } else {
                call = "c.\(observation.member)"
            }
            return "  \(call) = \(observation.result)"
        }
        return (result, reads)
    }
}
