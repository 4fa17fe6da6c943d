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
    var multipliers: [PointsMultiplier] = []
    /// Why nothing came off, when nothing did.
    var shortfall: Shortfall?

    var total: Int64 { lineAmounts.reduce(0, +) }
    var isEmpty: Bool { total == 0 && multipliers.isEmpty }
}

/// Extra points on the share of an order a filter matches: factor in thousandths (2000 doubles).
struct PointsMultiplier: Sendable {
    var thousandths: Int64
    var filter: LineFilter
}

/// The lines a filter matches in one cart: how many, their total, and which (their indices, in line order, when
/// iterated).
struct MatchedLines: Sequence {
    var count: Int
    var total: Int64
    /// Which lines, as bits for the first 64 lines (no allocation for the usual cart) and a list beyond.
    private var bits: UInt64 = 0
    private var beyond: [Int] = []

    init(count: Int = 0, total: Int64 = 0) {
        self.count = count
        self.total = total
    }

    mutating func insert(_ line: Int) {
        if line < 64 { bits |= 1 << UInt64(line) } else { beyond.append(line) }
    }

    func contains(_ line: Int) -> Bool {
        line < 64 ? bits & (1 << UInt64(line)) != 0 : beyond.contains(line)
    }

    func makeIterator() -> Iterator { Iterator(bits: bits, beyond: beyond.makeIterator()) }

    /// The matched lines' indices: the set bits, lowest first, then the lines beyond 64.
    struct Iterator: IteratorProtocol {
        var bits: UInt64
        var beyond: IndexingIterator<[Int]>

        mutating func next() -> Int? {
            guard bits != 0 else { return beyond.next() }
            let line = bits.trailingZeroBitCount
            bits &= bits - 1
            return line
        }
    }
}

/// A single percent or amount off a filter: what most declared offers are, computed from the filter's matched total
/// alone (no line arrays) until the offer wins and its lines are needed.
struct DiscountPlan {
    enum Kind {
        case percent(hundredths: Int64)
        case amount(Int64)
    }

    let kind: Kind
    let filter: LineFilter
    let minimum: Int64

    init?(_ rule: DiscountRule) {
        switch rule {
        case .percentOff(let hundredths, let filter, let minimum): (kind, self.filter, self.minimum) = (.percent(hundredths: hundredths), filter, minimum)
        case .amountOff(let amount, let filter, let minimum): (kind, self.filter, self.minimum) = (.amount(amount), filter, minimum)
        default: return nil
        }
    }

    /// The discount on `matched`; nil when no line matches or their total is below the minimum.
    func discount(matched: MatchedLines) -> Int64? {
        guard matched.count > 0, matched.total >= minimum else { return nil }
        switch kind {
        case .percent(let hundredths): return matched.total * hundredths / 10_000
        case .amount(let amount): return min(amount, matched.total)
        }
    }

    /// Why `matched` gets no discount, when ``discount(matched:)`` is nil.
    func shortfall(matched: MatchedLines, currency: Currency) -> Shortfall {
        if matched.count == 0 { return .noMatch(filter) }
        return .below(
            minimum: Money(minorUnits: minimum, currency: currency), has: Money(minorUnits: matched.total, currency: currency),
            filter)
    }
}

/// Computes discounts over a cart. Rounding rule (docs/checkout.md): a percentage is taken of the matched lines'
/// total and rounded down to the minor unit; an amount is spread over the matched lines in proportion to their
/// totals, and the minor units left by rounding go to the lines with the largest remainders (earlier lines first on
/// ties), so the line amounts always add up exactly to the offer's discount.
struct DiscountCalculator {
    let cart: Cart
    let lineTotals: [Int64]
    /// The lines of each interned filter slot, computed on first use.
    private var slots: [MatchedLines?]

    init(cart: Cart, filterSlots: Int = 0) {
        self.cart = cart
        lineTotals = cart.lineTotals
        slots = Array(repeating: nil, count: filterSlots)
    }

    /// The lines `filter` (interned as `slot`) matches.
    mutating func matched(_ filter: LineFilter, slot: Int) -> MatchedLines {
        if let known = slots[slot] { return known }
        let result = matched(filter)
        slots[slot] = result
        return result
    }

    /// The lines of a filter slot already worked out by ``matched(_:slot:)``.
    func matched(slot: Int) -> MatchedLines { slots[slot]! }

    func matched(_ filter: LineFilter) -> MatchedLines {
        var result = MatchedLines()
        for index in cart.lines.indices where filter.matches(cart.lines[index]) {
            result.count += 1
            result.total += lineTotals[index]
            result.insert(index)
        }
        return result
    }

    func outcome(of rules: [DiscountRule]) -> DiscountOutcome {
        var result = DiscountOutcome(lineAmounts: Array(repeating: 0, count: lineTotals.count))
        var shortfalls: [Shortfall] = []
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
        if result.isEmpty { result.shortfall = shortfalls.first ?? .text("nothing to take off this cart") }
        return result
    }

    private func empty(_ reason: Shortfall?) -> DiscountOutcome {
        DiscountOutcome(lineAmounts: Array(repeating: 0, count: lineTotals.count), shortfall: reason)
    }

    private func money(_ amount: Int64) -> Money { Money(minorUnits: amount, currency: cart.currency) }

    func outcome(of rule: DiscountRule) -> DiscountOutcome {
        switch rule {
        case .percentOff, .amountOff:
            let plan = DiscountPlan(rule)!
            let lines = matched(plan.filter)
            guard let amount = plan.discount(matched: lines) else {
                return empty(plan.shortfall(matched: lines, currency: cart.currency))
            }
            return DiscountOutcome(lineAmounts: spread(amount, over: lines))
        case .buyXGetY(let buy, let get, let hundredths, let filter):
            let units = matchedUnits(filter)
            let count = units.reduce(Int64(0)) { $0 + $1.quantity }
            let groups = count / (buy + get)
            guard groups > 0 else { return empty(.text("needs \(buy + get) items of \(filter), the cart has \(count)")) }
            return discountCheapest(units, count: groups * get, hundredths: hundredths)
        case .freeItem(let filter, let quantity):
            let units = matchedUnits(filter)
            guard !units.isEmpty else { return empty(.noMatch(filter)) }
            return discountCheapest(units, count: quantity, hundredths: 10_000)
        case .pointsMultiplier(let thousandths, let filter):
            guard matched(filter).count > 0 else { return empty(.noMatch(filter)) }
            var result = empty(nil)
            result.multipliers = [PointsMultiplier(thousandths: thousandths, filter: filter)]
            return result
        case .bestOf(let options):
            var best: DiscountOutcome?
            for option in options {
                let candidate = outcome(of: option)
                if best == nil || candidate.total > best!.total { best = candidate }
            }
            return best ?? empty(.text("no option"))
        }
    }

    /// The matched lines as (line index, unit price, quantity), cheapest first (earlier lines first on ties).
    private func matchedUnits(_ filter: LineFilter) -> [(line: Int, price: Int64, quantity: Int64)] {
        cart.lines.indices.filter { filter.matches(cart.lines[$0]) }
            .map { (line: $0, price: cart.lines[$0].price, quantity: cart.lines[$0].quantity) }
            .sorted { $0.price < $1.price || ($0.price == $1.price && $0.line < $1.line) }
    }

    /// `hundredths` of the price of the `count` cheapest units off.
    private func discountCheapest(_ units: [(line: Int, price: Int64, quantity: Int64)], count: Int64, hundredths: Int64)
        -> DiscountOutcome
    {
        var result = empty(nil)
        var left = count
        for unit in units where left > 0 {
            let taken = min(left, unit.quantity)
            result.lineAmounts[unit.line] += unit.price * taken * hundredths / 10_000
            left -= taken
        }
        return result
    }

    /// `amount` spread over `lines`, in proportion to their totals.
    func spread(_ amount: Int64, over lines: MatchedLines) -> [Int64] {
        var amounts = Array(repeating: Int64(0), count: lineTotals.count)
        amounts.withUnsafeMutableBufferPointer { spread(amount, over: lines, into: $0) }
        return amounts
    }

    /// `amount` spread over `lines`, in proportion to their totals, written to `amounts` (one per line, zero-filled).
    func spread(_ amount: Int64, over lines: MatchedLines, into amounts: UnsafeMutableBufferPointer<Int64>) {
        Self.spread(amount, weights: lineTotals, over: lines, into: amounts)
    }

    /// `amount` split over the lines whose weight is 0 or more, in proportion to the weights, summing exactly to
    /// `amount` (largest remainder; earlier lines first on ties).
    static func spread(_ amount: Int64, weights: [Int64]) -> [Int64] {
        var amounts = Array(repeating: Int64(0), count: weights.count)
        amounts.withUnsafeMutableBufferPointer { spread(amount, weights: weights, into: $0) }
        return amounts
    }

    /// ``spread(_:weights:)``, written to `amounts` (one per weight, zero-filled).
    static func spread(_ amount: Int64, weights: [Int64], into amounts: UnsafeMutableBufferPointer<Int64>) {
        spread(amount, weights: weights, over: weights.indices.lazy.filter { weights[$0] >= 0 }, into: amounts)
    }

    /// amount × weight ÷ total, rounded down, and the remainder; in 64 bits unless the product needs more.
    private static func share(of amount: Int64, weight: Int64, total: Int64) -> (quotient: Int64, remainder: Int64) {
        let (product, overflow) = amount.multipliedReportingOverflow(by: weight)
        if !overflow { return (product / total, product % total) }
        return total.dividingFullWidth(amount.multipliedFullWidth(by: weight))
    }

    /// `amount` split over `lines` (indices into `weights`, in order), in proportion to their weights, summing exactly
    /// to `amount`, written to `amounts` (one per weight, zero-filled): each line gets its share rounded down, and the
    /// minor units left go one each to the lines with the largest remainders (earlier lines first on ties).
    static func spread(
        _ amount: Int64, weights: [Int64], over lines: some Sequence<Int>, into amounts: UnsafeMutableBufferPointer<Int64>
    ) {
        guard amount > 0 else { return }
        var total: Int64 = 0
        var first: Int?
        for index in lines {
            total += max(0, weights[index])
            if first == nil { first = index }
        }
        guard let first else { return }
        guard total > 0 else {
            amounts[first] = amount
            return
        }
        withUnsafeTemporaryAllocation(of: (remainder: Int64, line: Int).self, capacity: weights.count) { remainders in
            var count = 0
            var given: Int64 = 0
            for index in lines {
                let (quotient, remainder) = Self.share(of: amount, weight: max(0, weights[index]), total: total)
                amounts[index] = quotient
                given += quotient
                remainders.initializeElement(at: count, to: (remainder, index))
                count += 1
            }
            let left = Int(amount - given)
            guard left > 0 else { return }
            var ranked = UnsafeMutableBufferPointer(rebasing: remainders[..<count])
            if left == 1 {
                // The usual case on small carts: one unit left, for the first of the largest remainders.
                amounts[ranked.max { $0.remainder < $1.remainder }!.line] += 1
                return
            }
            ranked.sort { $0.remainder > $1.remainder || ($0.remainder == $1.remainder && $0.line < $1.line) }
            for rank in 0..<min(left, count) { amounts[ranked[rank].line] += 1 }
        }
    }
}
