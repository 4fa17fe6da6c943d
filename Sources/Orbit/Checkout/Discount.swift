/// Which cart lines a discount looks at: by category and/or SKU. An empty filter matches every line.
public struct LineFilter: Hashable, Sendable, CustomStringConvertible {
    public var categories: [String] = []
    public var skus: [String] = []

    public init(categories: [String] = [], skus: [String] = []) {
        self.categories = categories
        self.skus = skus
    }

    func matches(_ line: LineItem) -> Bool {
        if !categories.isEmpty {
            guard let category = line.category, categories.contains(category) else { return false }
        }
        return skus.isEmpty || skus.contains(line.sku)
    }

    /// `category shoes`, `sku A1 or B2`, `every line`.
    public var description: String {
        var parts: [String] = []
        if !categories.isEmpty { parts.append("category \(categories.joined(separator: " or "))") }
        if !skus.isEmpty { parts.append("sku \(skus.joined(separator: " or "))") }
        return parts.isEmpty ? "every line" : parts.joined(separator: " and ")
    }
}

/// What an offer takes off a cart, as the rules describe it (`percent_off(20, { category = "shoes" })`). The host
/// computes the amounts, so every offer rounds the same way.
public indirect enum DiscountRule: Hashable, Sendable {
    /// `percent_off(p, filter)`: p % (hundredths of a percent here) of the matched lines' total, rounded down to the
    /// minor unit, when that total reaches `minimum`.
    case percentOff(hundredths: Int64, filter: LineFilter, minimum: Int64)
    /// `amount_off(amount, filter)`: a fixed amount off the matched lines (never more than their total), when their
    /// total reaches `minimum`.
    case amountOff(Int64, filter: LineFilter, minimum: Int64)
    /// `buy_x_get_y{ buy = 2, get = 1 }`: of every buy+get matched units, the `get` cheapest are `percent` off.
    case buyXGetY(buy: Int64, get: Int64, hundredths: Int64, filter: LineFilter)
    /// `free_item{ sku = "TOTE" }`: up to `quantity` matched units free (the cheapest first).
    case freeItem(filter: LineFilter, quantity: Int64)
    /// `points_multiplier(2, filter)`: points earned on the matched share of the order × factor (thousandths).
    case pointsMultiplier(thousandths: Int64, filter: LineFilter)
    /// `best_of{ … }`: the one that saves most (threshold ladders: 5 € from 50 €, 15 € from 100 €).
    case bestOf([DiscountRule])
}

/// What a set of discount rules gives on one cart.
struct DiscountOutcome {
    /// Amount off each line, in line order.
    var lineAmounts: [Int64]
    /// Extra points: multiplier (thousandths above 1) and the share of the order it covers.
    var multipliers: [(thousandths: Int64, filter: LineFilter)] = []
    /// Why nothing came off, when nothing did.
    var shortfall: String?

    var total: Int64 { lineAmounts.reduce(0, +) }
    var isEmpty: Bool { total == 0 && multipliers.isEmpty }
}

/// Computes discounts over a cart. Rounding rule (documented in docs/checkout.md): a percentage is taken of the
/// matched lines' total and rounded down to the minor unit; an amount is spread over the matched lines in proportion
/// to their totals, and the minor units left by rounding go to the lines with the largest remainders (earlier lines
/// first on ties), so the line amounts always add up exactly to the offer's discount.
struct DiscountCalculator {
    let cart: Cart
    let lineTotals: [Int64]

    init(cart: Cart) {
        self.cart = cart
        lineTotals = cart.lineTotals
    }

    func outcome(of rules: [DiscountRule]) -> DiscountOutcome {
        var result = DiscountOutcome(lineAmounts: Array(repeating: 0, count: lineTotals.count))
        var shortfalls: [String] = []
        for rule in rules {
            let single = outcome(of: rule)
            for index in result.lineAmounts.indices { result.lineAmounts[index] += single.lineAmounts[index] }
            result.multipliers += single.multipliers
            if let reason = single.shortfall { shortfalls.append(reason) }
        }
        // Never more off a line than the line costs.
        for index in result.lineAmounts.indices {
            result.lineAmounts[index] = min(result.lineAmounts[index], lineTotals[index])
        }
        if result.isEmpty { result.shortfall = shortfalls.first ?? "nothing to take off this cart" }
        return result
    }

    private func empty(_ reason: String) -> DiscountOutcome {
        DiscountOutcome(lineAmounts: Array(repeating: 0, count: lineTotals.count), shortfall: reason)
    }

    private func matched(_ filter: LineFilter) -> (indices: [Int], total: Int64) {
        var indices: [Int] = []
        var total: Int64 = 0
        for (index, line) in cart.lines.enumerated() where filter.matches(line) {
            indices.append(index)
            total += lineTotals[index]
        }
        return (indices, total)
    }

    private func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: cart.currency) }

    func outcome(of rule: DiscountRule) -> DiscountOutcome {
        switch rule {
        case .percentOff(let hundredths, let filter, let minimum):
            let (indices, total) = matched(filter)
            if let reason = unmet(indices, total, minimum, filter) { return empty(reason) }
            return spread(total * hundredths / 10_000, over: indices)
        case .amountOff(let amount, let filter, let minimum):
            let (indices, total) = matched(filter)
            if let reason = unmet(indices, total, minimum, filter) { return empty(reason) }
            return spread(min(amount, total), over: indices)
        case .buyXGetY(let buy, let get, let hundredths, let filter):
            let units = unitPrices(filter)
            let groups = Int64(units.count) / (buy + get)
            guard groups > 0 else {
                return empty("needs \(buy + get) items of \(filter), the cart has \(units.count)")
            }
            return discountCheapest(units, count: groups * get, hundredths: hundredths)
        case .freeItem(let filter, let quantity):
            let units = unitPrices(filter)
            guard !units.isEmpty else { return empty("no line matches \(filter)") }
            return discountCheapest(units, count: quantity, hundredths: 10_000)
        case .pointsMultiplier(let thousandths, let filter):
            guard !matched(filter).indices.isEmpty else { return empty("no line matches \(filter)") }
            var result = empty("")
            result.shortfall = nil
            result.multipliers = [(thousandths, filter)]
            return result
        case .bestOf(let options):
            var best: DiscountOutcome?
            for option in options {
                let candidate = outcome(of: option)
                if best == nil || candidate.total > best!.total { best = candidate }
            }
            return best ?? empty("no option")
        }
    }

    private func unmet(_ indices: [Int], _ total: Int64, _ minimum: Int64, _ filter: LineFilter) -> String? {
        if indices.isEmpty { return "no line matches \(filter)" }
        if total < minimum {
            let scope = filter == LineFilter() ? "in the cart" : "of \(filter)"
            return "needs \(money(minimum)) \(scope), the cart has \(money(total))"
        }
        return nil
    }

    /// Every matched unit as (line index, unit price), cheapest first (earlier lines first on ties).
    private func unitPrices(_ filter: LineFilter) -> [(line: Int, price: Int64)] {
        var units: [(line: Int, price: Int64)] = []
        for (index, line) in cart.lines.enumerated() where filter.matches(line) {
            units.append(contentsOf: repeatElement((line: index, price: line.price), count: Int(min(line.quantity, 10_000))))
        }
        return units.sorted { $0.price < $1.price || ($0.price == $1.price && $0.line < $1.line) }
    }

    private func discountCheapest(_ units: [(line: Int, price: Int64)], count: Int64, hundredths: Int64)
        -> DiscountOutcome
    {
        var result = empty("")
        result.shortfall = nil
        for unit in units.prefix(Int(count)) {
            result.lineAmounts[unit.line] += unit.price * hundredths / 10_000
        }
        return result
    }

    /// Spreads `amount` over the lines at `indices` in proportion to their totals (largest remainder).
    func spread(_ amount: Int64, over indices: [Int]) -> DiscountOutcome {
        var result = empty("")
        result.shortfall = nil
        result.lineAmounts = Self.spread(amount, weights: lineTotals, over: indices)
        return result
    }

    /// `amount` split over `indices` in proportion to `weights`, summing exactly to `amount`.
    static func spread(_ amount: Int64, weights: [Int64], over indices: [Int]) -> [Int64] {
        var amounts = Array(repeating: Int64(0), count: weights.count)
        let total = indices.reduce(Int64(0)) { $0 + weights[$1] }
        guard amount > 0, !indices.isEmpty else { return amounts }
        guard total > 0 else {
            amounts[indices[0]] = amount
            return amounts
        }
        var remainders: [(index: Int, remainder: Int64)] = []
        var given: Int64 = 0
        for index in indices {
            let product = amount.multipliedFullWidth(by: weights[index])
            let (quotient, rest) = total.dividingFullWidth(product)
            amounts[index] = quotient
            given += quotient
            remainders.append((index, rest))
        }
        remainders.sort { $0.remainder > $1.remainder || ($0.remainder == $1.remainder && $0.index < $1.index) }
        for entry in remainders.prefix(Int(amount - given)) { amounts[entry.index] += 1 }
        return amounts
    }
}
