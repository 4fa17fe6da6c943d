import LuaRuntime

/// What `expect.<name>(…)` checks. Each returns nil when the expectation holds, or what was found instead. New
/// areas of the language add rows (checkout adds `quote`); the Lua side offers exactly the names of this table.
typealias Expectation = @Sendable (TestRun, [LuaValue]) async throws -> String?

enum Expectations {
    static let table: [String: Expectation] = [
        "segment": { run, arguments in
            let (id, name) = try (text(arguments, 0, "customer id"), text(arguments, 1, "segment"))
            return try await run.isMember(id, of: name) ? nil : "\(id) is not in segment '\(name)'"
        },
        "not_segment": { run, arguments in
            let (id, name) = try (text(arguments, 0, "customer id"), text(arguments, 1, "segment"))
            return try await run.isMember(id, of: name) ? "\(id) is in segment '\(name)'" : nil
        },
        "points": { run, arguments in
            let customer = try await run.customer(text(arguments, 0, "customer id"))
            guard let expected = arguments[safe: 1].integerValue else { throw TestFailure("expect.points(id, N)") }
            return customer.pointsBalance == expected
                ? nil : "expected \(expected) points, got \(customer.pointsBalance)"
        },
        "tier": { run, arguments in
            let customer = try await run.customer(text(arguments, 0, "customer id"))
            let expected = arguments[safe: 1].stringValue
            return customer.tier == expected
                ? nil
                : "expected tier \(expected.map { "'\($0)'" } ?? "none"), got \(customer.tier.map { "'\($0)'" } ?? "none")"
        },
        "tag": { run, arguments in
            let customer = try await run.customer(text(arguments, 0, "customer id"))
            let tag = try text(arguments, 1, "tag")
            return customer.tags.contains(tag) ? nil : "no tag '\(tag)'; tags: \(listing(customer.tags.sorted()))"
        },
        "no_tag": { run, arguments in
            let customer = try await run.customer(text(arguments, 0, "customer id"))
            let tag = try text(arguments, 1, "tag")
            return customer.tags.contains(tag) ? "has tag '\(tag)'" : nil
        },
        "attribute": { run, arguments in
            let customer = try await run.customer(text(arguments, 0, "customer id"))
            let key = try text(arguments, 1, "attribute")
            let expected = JSONValue(arguments[safe: 2]) ?? .null
            let actual = customer.attributes[key] ?? .null
            return actual == expected ? nil : "expected \(key) = \(expected), got \(actual)"
        },
        "message": { run, arguments in
            let id = try text(arguments, 0, "customer id")
            let template = try text(arguments, 1, "template")
            let messages = await run.store.messages(customerID: id)
            return messages.contains { $0.template == template }
                ? nil : "no message '\(template)' queued; queued: \(listing(messages.map(\.template)))"
        },
        "effect": { run, arguments in
            let effects = try run.lastEffects()
            return effects.contains(where: matcher(arguments))
                ? nil : "no such effect; the last event had: \(describe(effects))"
        },
        "no_effect": { run, arguments in
            let effects = try run.lastEffects()
            return effects.contains(where: matcher(arguments))
                ? "unexpected effect; the last event had: \(describe(effects))" : nil
        },
        "rejected": { run, arguments in
            guard case .rejected(let reason)? = run.lastOutcome?.status else {
                return "the last event or order was not rejected"
            }
            guard let part = arguments[safe: 0].stringValue else { return nil }
            return reason.contains(part) ? nil : "rejected for another reason: \(reason)"
        },
        "quote": QuoteExpectation.check,
    ]

    static func text(_ arguments: [LuaValue], _ position: Int, _ what: String) throws -> String {
        guard let value = arguments[safe: position].stringValue else {
            throw TestFailure("argument #\(position + 1) must be the \(what)")
        }
        return value
    }

    /// `{ kind = "award", detail = "600 points", rule = "points-per-euro" }`: every field given must match (`rule`
    /// may be part of the rule's name, e.g. `welcome.lua`).
    private static func matcher(_ arguments: [LuaValue]) -> (AppliedEffect) -> Bool {
        let pattern = arguments[safe: 0]
        return { effect in
            if let kind = pattern["kind"].stringValue, kind != effect.kind { return false }
            if let detail = pattern["detail"].stringValue, detail != effect.detail { return false }
            if let rule = pattern["rule"].stringValue, !effect.rule.contains(rule) { return false }
            return true
        }
    }

    private static func describe(_ effects: [AppliedEffect]) -> String {
        listing(effects.map { "\($0.kind) \($0.detail) (\($0.rule))" })
    }

    private static func listing(_ items: [String]) -> String { items.isEmpty ? "none" : items.joined(separator: ", ") }
}

extension Array where Element == LuaValue {
    fileprivate subscript(safe index: Int) -> LuaValue { index < count ? self[index] : .nil }
}
