import LuaRuntime

/// Read-only tables that rules read often and that take few forms, made once per form and shared by every read:
/// `c.tier` (one per tier) and `c.consent` (one per combination of consents). Reading them then costs a push, not a
/// table built for every rule call. Every form is made when the rules have loaded (``prepare(tiers:)``), so that no
/// rule call makes one.
final class SharedTables {
    /// A form of a shared table.
    enum Form: Hashable {
        case tier(String?)
        /// The channels with consent, one bit each in `Channel.allCases` order.
        case consent(Int)
    }

    private let lua: LuaState
    private var tables: [Form: LuaReference] = [:]

    init(lua: LuaState) {
        self.lua = lua
    }

    /// Makes every form: each of `tiers`, no tier, and each combination of consents.
    func prepare(tiers: [TierDefinition]) throws(LuaError) {
        for tier in [nil] + tiers.map(Optional.some) { _ = try self.tier(tier) }
        for channels in 0..<(1 << Channel.allCases.count) {
            let consent = Dictionary(
                uniqueKeysWithValues: Channel.allCases.enumerated().map { ($1, channels & (1 << $0) != 0) })
            _ = try self.consent(consent)
        }
    }

    /// What rules see as `c.tier`: its name and points multiplier (none and 1 without a tier).
    func tier(_ tier: TierDefinition?) throws(LuaError) -> LuaReference {
        try table(.tier(tier?.name), name: "tier") {
            guard let tier else { return .map(["name": .nil, "multiplier": 1]) }
            return .map(["name": .string(tier.name), "multiplier": .number(tier.multiplier)])
        }
    }

    /// What rules see as `c.consent`: every channel, true or false.
    func consent(_ consent: [Channel: Bool]) throws(LuaError) -> LuaReference {
        var channels = 0
        for (bit, channel) in Channel.allCases.enumerated() where consent[channel] == true { channels |= 1 << bit }
        return try table(.consent(channels), name: "consent") {
            .map(Dictionary(uniqueKeysWithValues: Channel.allCases.map { (.string($0.rawValue), .bool(consent[$0] ?? false)) }))
        }
    }

    private func table(_ form: Form, name: String, _ make: () -> LuaValue) throws(LuaError) -> LuaReference {
        if let table = tables[form] { return table }
        let table = try lua.reference(to: make(), name: name)
        tables[form] = table
        return table
    }
}
