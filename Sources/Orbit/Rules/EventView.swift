import LuaRuntime

/// What a rule sees of an event (`e`): read-only userdata whose fields are computed when a rule reads them, so an
/// event costs Lua nothing for the fields no rule reads. Every field of the event's data is a field too (the event's
/// own fields win over data fields of the same name), and a field the shop did not send is `nil`. A field that holds
/// a list or an object (`e.items`) is a read-only table, made on its first read and the same on every later read.
final class EventView {
    let event: Event
    private unowned let lua: LuaState
    /// The tables made for list and object fields, by field name.
    private var tables: [String: LuaReference] = [:]

    init(_ event: Event, lua: LuaState) {
        self.event = event
        self.lua = lua
    }

    /// The fields of `e` in rules. Keep `editor/` annotations and docs/rules.md in step with this list.
    static func luaType() -> LuaObjectType<EventView> {
        let type = LuaObjectType<EventView>(name: "event")
        type.field("id") { .string($0.event.id) }
        type.field("type") { .string($0.event.type) }
        type.field("customer") { .string($0.event.customerID) }
        type.field("at") { .string($0.event.at.description) }
        type.field("total", pushing: { view, stack in
            try view.push(view.event.total.map { .integer($0.minorUnits) }, orData: "total", on: &stack)
        })
        type.field("currency", pushing: { view, stack in
            try view.push(view.event.total.map { .string($0.currency.code) }, orData: "currency", on: &stack)
        })
        type.field("order", pushing: { view, stack in
            try view.push(view.event.orderID.map(LuaValue.string), orData: "order", on: &stack)
        })
        type.field("items", pushing: { view, stack in
            try view.push(view.event.items.isEmpty ? nil : view.items, orData: "items", on: &stack)
        })
        type.otherFields { view, name, stack in try view.push(nil, orData: name, on: &stack) }
        return type
    }

    /// The order lines as rules read them.
    private var items: LuaValue {
        .array(
            event.items.map { item in
                var line: [LuaValue: LuaValue] = [
                    "sku": .string(item.sku), "qty": .integer(item.quantity), "price": .integer(item.price),
                ]
                if let category = item.category { line["category"] = .string(category) }
                return .map(line)
            })
    }

    /// Pushes the field `name`: `value` when the event has it, or else the data field of that name (nil when none).
    private func push(_ value: @autoclosure () -> LuaValue?, orData name: String, on stack: inout LuaStack) throws {
        if let table = tables[name] { return stack.push(table) }
        let value = value() ?? event.data[name]?.luaValue ?? .nil
        switch value {
        case .array, .map:
            let table = try lua.reference(to: value, name: "event.\(name)")
            tables[name] = table
            stack.push(table)
        default:
            stack.push(value)
        }
    }
}
