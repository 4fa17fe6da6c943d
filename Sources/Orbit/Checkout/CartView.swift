import LuaRuntime

/// What a rule sees of a cart (`cart` in `discount = function(cart, c) … end` and `eligible = function(c, cart)`):
/// read-only userdata whose fields are computed when read.
final class CartView {
    let cart: Cart
    let lineTotals: [Int64]

    init(cart: Cart) {
        self.cart = cart
        lineTotals = cart.lineTotals
    }

    /// The fields and methods of `cart` in rules. Keep `editor/` annotations and docs/rules.md in step with this list.
    static func luaType() -> LuaObjectType<CartView> {
        let type = LuaObjectType<CartView>(name: "cart")
        type.field("currency") { .string($0.cart.currency.code) }
        type.field("subtotal") { .integer($0.lineTotals.reduce(0, +)) }
        type.field("item_count") { .integer($0.cart.lines.reduce(0) { $0 + $1.quantity }) }
        type.field("lines") { view in
            .array(
                view.cart.lines.enumerated().map { index, line in
                    var fields: [LuaValue: LuaValue] = [
                        "sku": .string(line.sku), "qty": .integer(line.quantity), "price": .integer(line.price),
                        "total": .integer(view.lineTotals[index]),
                    ]
                    if let category = line.category { fields["category"] = .string(category) }
                    return .map(fields)
                })
        }
        type.method("subtotal") { view, stack in
            let filter = try filter(stack, "subtotal")
            stack.push(view.cart.lines.indices.filter { filter.matches(view.cart.lines[$0]) }.reduce(0) { $0 + view.lineTotals[$1] })
        }
        type.method("count") { view, stack in
            let filter = try filter(stack, "count")
            stack.push(view.cart.lines.filter(filter.matches).reduce(0) { $0 + $1.quantity })
        }
        type.method("has") { view, stack in
            let filter = try filter(stack, "has")
            stack.push(.bool(view.cart.lines.contains(where: filter.matches)))
        }
        return type
    }

    /// `{ category = "shoes" }`, `{ sku = { "A1", "B2" } }`, or nothing for every line.
    private static func filter(_ stack: borrowing LuaStack, _ method: String) throws -> LineFilter {
        if stack.isNil(at: 1) { return LineFilter() }
        let problem = "{ category = ... } or { sku = ... } expected"
        guard case .map(let fields) = try stack.value(at: 1) else {
            throw LuaArgumentError(function: method, position: 1, problem: problem)
        }
        func names(_ value: LuaValue?) throws -> [String] {
            switch value {
            case nil: return []
            case .string(let name)?: return [name]
            case .array(let items)?: return items.compactMap(\.stringValue)
            default: throw LuaArgumentError(function: method, position: 1, problem: problem)
            }
        }
        for key in fields.keys where key != "category" && key != "sku" {
            throw LuaArgumentError(function: method, position: 1, problem: "unknown filter field \(key); \(problem)")
        }
        return LineFilter(categories: try names(fields["category"]), skus: try names(fields["sku"]))
    }
}
