import LuaRuntime

/// What a rule sees of an event (`e`): read-only userdata whose fields are computed when a rule reads them, so an
/// event costs Lua nothing for the fields no rule reads. Every field of the event's data is a field too (the event's
/// own fields win over data fields of the same name), and a field the shop did not send is `nil`.
final class EventView {
    let event: Event

    init(_ event: Event) {
        self.event = event
    }

    /// The fields of `e` in rules. Keep `editor/` annotations and docs/rules.md in step with this list.
    static func luaType() -> LuaObjectType<EventView> {
        let type = LuaObjectType<EventView>(name: "event")
        type.field("id") { .string($0.event.id) }
        type.field("type") { .string($0.event.type) }
        type.field("customer") { .string($0.event.customerID) }
        type.field("at") { .string($0.event.at.description) }
        type.field("total") { view in view.event.total.map { .integer($0.minorUnits) } ?? data(view, "total") }
        type.field("currency") { view in view.event.total.map { .string($0.currency.code) } ?? data(view, "currency") }
        type.field("order") { view in view.event.orderID.map(LuaValue.string) ?? data(view, "order") }
        type.field("items") { view in
            guard !view.event.items.isEmpty else { return data(view, "items") }
            return .array(
                view.event.items.map { item in
                    var line: [LuaValue: LuaValue] = [
                        "sku": .string(item.sku), "qty": .integer(item.quantity), "price": .integer(item.price),
                    ]
                    if let category = item.category { line["category"] = .string(category) }
                    return .map(line)
                })
        }
        type.otherFields { view, name in data(view, name) }
        return type
    }

    private static func data(_ view: EventView, _ name: String) -> LuaValue {
        view.event.data[name]?.luaValue ?? .nil
    }
}
