public import Logging
import LuaRuntime

/// The names the rule language offers, read from the runtime itself: what `orbit check` accepts, what the REPL
/// completes and what the editor annotations (`editor/orbit.lua`) must describe. Anything the host registers in a
/// rule book's Lua state (a new form such as `offer`, a new helper) appears here without being listed twice.
public struct RuleVocabulary: Sendable {
    /// Globals the host adds for rules: forms (`segment`, `earn`, …), effects (`award`, `tag`, …), helpers (`eur`).
    public var apiNames: [String]
    /// Globals of the sandbox itself: Lua's safe libraries (`string`, `math`, `pairs`, …).
    public var sandboxNames: [String]
    /// Fields and methods of the customer view `c`.
    public var customerMembers: [String]
    /// Fields and methods of the cart view `cart` (offers' `eligible` and `discount` functions).
    public var cartMembers: [String]

    /// Everything a rule may read as a global.
    public var globalNames: Set<String> { Set(apiNames).union(sandboxNames) }

    /// Builds the vocabulary from an empty rule book and a bare sandbox.
    public init(logger: Logger) throws {
        let book = try RuleBook(sources: [], logger: logger)
        let sandbox = try LuaState(logger: logger)
        let sandboxNames = sandbox.baseGlobalNames
        self.sandboxNames = sandboxNames
        apiNames = book.lua.baseGlobalNames.filter { !sandboxNames.contains($0) }
        customerMembers = book.customerType.memberNames
        cartMembers = book.cartType.memberNames
    }

    /// Event types Orbit knows by name; other types are allowed, and a near miss is probably a typo.
    public static let knownEventTypes = [
        "signup", "purchase", "refund", "referral", "visit", "review", "survey", "profile", "consent", "birthday",
        "inactive",
    ]
}

extension RuleBook {
    /// Names a marketer gave to rules: segments, tiers, earning rules and offers (for completion).
    public var ruleNames: [String] { segmentNames + tierNames + earnRuleNames + checkout.offerNames }
}
