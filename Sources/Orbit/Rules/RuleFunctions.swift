import LuaRuntime

/// One run of a handler: the effects it proposes, recorded by the effect functions as it calls them.
final class RuleEvaluation {
    let rule: String
    /// Where the rule is defined: the location of its effects (finding each call's line costs a walk of Lua's stack,
    /// which only `emit` pays, for the error that names a runaway chain of emitted events).
    let location: RuleLocation
    let customerID: String
    let now: Instant
    private(set) var effects: [ProposedEffect] = []

    init(rule: String, location: RuleLocation, customerID: String, now: Instant) {
        self.rule = rule
        self.location = location
        self.customerID = customerID
        self.now = now
    }

    /// A coupon code no other evaluation makes: derived from the customer, the instant, the rule and how many codes
    /// this evaluation made before, so that replaying history issues the same codes.
    func couponCode(for offer: String) -> String {
        let prefix = String(offer.uppercased().unicodeScalars.filter { ("A"..."Z").contains($0) || ("0"..."9").contains($0) }
            .prefix(6).map(Character.init))
        let code = StableHash.code(
            "\(customerID)\u{0}\(now.millisecondsSinceEpoch)\u{0}\(rule)\u{0}\(effects.count)",
            alphabet: Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ"), length: 10)
        return (prefix.isEmpty ? "C" : prefix) + "-" + code
    }

    /// Records `effect`, at `call` (a call's location) or at the rule's.
    func record(_ effect: Effect, at call: (chunk: String, line: Int)? = nil) {
        effects.append(
            ProposedEffect(effect: effect, rule: rule, file: call?.chunk ?? location.file, line: call?.line ?? location.line))
    }
}

/// The functions rules call: effects (`award`, `deduct`, `tag`, `untag`, `set`, `send`, `emit`) that propose and
/// never apply, and helpers (`eur`).
enum RuleFunctions {
    static func install(in book: RuleBook) {
        let lua = book.lua
        lua.register(function: "award") { [weak book] stack in
            let evaluation = try current(book, "award")
            let points = try positive(stack, "award")
            var expiresAt: Instant?
            if !stack.isNil(at: 2) {
                guard case .map(let options) = try stack.value(at: 2), options.keys.allSatisfy({ $0 == "expires" }),
                    let days = options["expires"]?["days"].integerValue, days > 0
                else {
                    throw LuaArgumentError(
                        function: "award", position: 2, problem: "options expected: { expires = { days = N } }")
                }
                expiresAt = evaluation.now.adding(days: Int(days))
            }
            evaluation.record(.awardPoints(points, expiresAt: expiresAt))
        }
        lua.register(function: "deduct") { [weak book] stack in
            try current(book, "deduct").record(.deductPoints(try positive(stack, "deduct")))
        }
        lua.register(function: "tag") { [weak book] stack in
            try current(book, "tag").record(.addTag(try name(stack, "tag")))
        }
        lua.register(function: "untag") { [weak book] stack in
            try current(book, "untag").record(.removeTag(try name(stack, "untag")))
        }
        lua.register(function: "set") { [weak book] stack in
            let evaluation = try current(book, "set")
            let key = try name(stack, "set")
            guard let value = JSONValue(try stack.value(at: 2)) else {
                throw LuaArgumentError(function: "set", position: 2, problem: "a value JSON can hold expected")
            }
            evaluation.record(.setAttribute(key, value))
        }
        lua.register(function: "send") { [weak book] stack in
            let evaluation = try current(book, "send")
            let channelName = try stack.string(at: 1)
            guard let channel = Channel(rawValue: channelName) else {
                let known = Channel.allCases.map(\.rawValue)
                throw LuaArgumentError(
                    function: "send", position: 1,
                    problem: "unknown channel '\(channelName)'; one of \(known.joined(separator: ", "))"
                        + Suggestion.didYouMean(channelName, among: known))
            }
            let template = try name(stack, "send", position: 2)
            evaluation.record(
                .sendMessage(channel: channel, template: template, data: try object(stack, "send", position: 3)))
        }
        lua.register(function: "emit") { [weak book] stack in
            let evaluation = try current(book, "emit")
            let type = try name(stack, "emit")
            evaluation.record(.emitEvent(type: type, data: try object(stack, "emit", position: 2)), at: stack.callerLocation)
        }
        lua.register(function: "issue_coupon") { [weak book] stack in
            let evaluation = try current(book, "issue_coupon")
            guard case .map(let options) = try stack.value(at: 1) else {
                throw LuaArgumentError(
                    function: "issue_coupon", position: 1, problem: "{ offer = \"...\", valid_days = N } expected")
            }
            let allowed = ["offer", "valid_days", "uses"]
            for key in options.keys where !allowed.contains(key.stringValue ?? "") {
                throw LuaArgumentError(
                    function: "issue_coupon", position: 1,
                    problem: "unknown option \(key)\(Suggestion.didYouMean(key.stringValue ?? "", among: allowed))")
            }
            let offerNames = book?.checkout.offers.filter(\.requiresCoupon).map(\.name) ?? []
            guard let offer = options["offer"]?.stringValue, offerNames.contains(offer) else {
                let given = options["offer"]?.stringValue ?? "nothing"
                throw LuaArgumentError(
                    function: "issue_coupon", position: 1,
                    problem: "offer must name an offer with coupon = true; got \(given)"
                        + Suggestion.didYouMean(given, among: offerNames))
            }
            let days = options["valid_days"]?.integerValue
            let uses = options["uses"]?.integerValue ?? 1
            guard days.map({ $0 > 0 }) ?? true, uses > 0 else {
                throw LuaArgumentError(
                    function: "issue_coupon", position: 1, problem: "valid_days and uses must be whole numbers above 0")
            }
            let coupon = Coupon(
                code: evaluation.couponCode(for: offer), offer: offer, uses: uses,
                expiresAt: days.map { evaluation.now.adding(days: Int($0)) }, customerID: evaluation.customerID,
                issuedAt: evaluation.now, rule: evaluation.rule)
            evaluation.record(.issueCoupon(coupon))
            stack.push(coupon.code)
        }
        lua.register(function: "eur") { stack in
            stack.push(try minorUnits(stack, "eur"))
        }
    }

    private static func current(_ book: RuleBook?, _ function: String) throws -> RuleEvaluation {
        guard let evaluation = book?.evaluation else {
            throw DefinitionError(
                "\(function)() proposes an effect: call it inside an on \"...\" handler, not while rules load or in a "
                    + "segment, tier or earn condition")
        }
        return evaluation
    }

    private static func positive(_ stack: borrowing LuaStack, _ function: String) throws -> Int64 {
        let points = try stack.integer(at: 1)
        guard points > 0 else {
            throw LuaArgumentError(function: function, position: 1, problem: "points above 0 expected, got \(points)")
        }
        return points
    }

    private static func name(_ stack: borrowing LuaStack, _ function: String, position: Int = 1) throws -> String {
        let text = try stack.string(at: position)
        guard !text.isEmpty else {
            throw LuaArgumentError(function: function, position: position, problem: "a non-empty name expected")
        }
        return text
    }

    private static func object(_ stack: borrowing LuaStack, _ function: String, position: Int) throws
        -> [String: JSONValue]
    {
        if stack.isNil(at: position) { return [:] }
        let value = try stack.value(at: position)
        if case .map(let fields) = value, fields.isEmpty { return [:] }
        guard case .object(let fields) = JSONValue(value) else {
            throw LuaArgumentError(
                function: function, position: position, problem: "a table with text keys expected")
        }
        return fields
    }

    /// `eur(49.99)` is 4999: major units to minor, rounded half away from zero for fractions of a cent.
    private static func minorUnits(_ stack: borrowing LuaStack, _ function: String) throws -> Int64 {
        if let whole = try? stack.integer(at: 1) {
            let (cents, overflow) = whole.multipliedReportingOverflow(by: 100)
            guard !overflow else { throw LuaArgumentError(function: function, position: 1, problem: "amount too large") }
            return cents
        }
        let amount = try stack.number(at: 1)
        let cents = (amount * 100).rounded(.toNearestOrAwayFromZero)
        guard cents.isFinite, abs(cents) < 9e15 else {
            throw LuaArgumentError(function: function, position: 1, problem: "amount too large")
        }
        return Int64(cents)
    }
}

/// "did you mean" hints for names a marketer mistyped.
enum Suggestion {
    /// `suggest(name, allowed)` for the preludes: the hint for `name` among the keys of the table `allowed`, or,
    /// when none is close, the fields there are (` (fields: at_least, at_most)`).
    static func preludeFunction(_ stack: inout LuaStack) throws {
        guard case .map(let table) = try stack.value(at: 2) else { return }
        let allowed = table.keys.compactMap(\.stringValue)
        let hint = didYouMean(try stack.string(at: 1), among: allowed)
        stack.push(hint.isEmpty ? " (fields: \(allowed.sorted().joined(separator: ", ")))" : hint)
    }

    /// ` (did you mean 'when'?)`, or an empty string when nothing is close.
    static func didYouMean(_ name: String, among candidates: [String]) -> String {
        let scored = candidates.map { ($0, distance(name, $0)) }.filter { $0.1 <= max(2, name.count / 3) }
        guard let best = scored.min(by: { $0.1 < $1.1 || ($0.1 == $1.1 && $0.0 < $1.0) }) else { return "" }
        return " (did you mean '\(best.0)'?)"
    }

    /// Levenshtein distance.
    static func distance(_ left: String, _ right: String) -> Int {
        let a = Array(left.utf8)
        let b = Array(right.utf8)
        if a.isEmpty { return b.count }
        var previous = Array(0...b.count)
        for i in 1...a.count {
            var current = [i] + Array(repeating: 0, count: b.count)
            for j in stride(from: 1, through: b.count, by: 1) {
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1))
            }
            previous = current
        }
        return previous[b.count]
    }
}
