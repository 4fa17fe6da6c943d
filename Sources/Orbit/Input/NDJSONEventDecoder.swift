/// Decodes one line of Orbit's native NDJSON into an ``Event``. See ``EventReader`` for the format.
enum NDJSONEventDecoder {
    /// The largest amount accepted, in minor units: ten billion euros is not a retail order.
    static let maximumMinorUnits: Int64 = 1_000_000_000_000
    /// The largest quantity accepted on one line item.
    static let maximumQuantity: Int64 = 1_000_000

    /// The types whose events carry a total and a currency.
    static func needsTotal(_ type: String) -> Bool { type == "purchase" || type == "refund" }

    /// The raw values of an event's known fields, gathered while the line is parsed and validated after, so that a
    /// syntax error anywhere on the line is reported before any other problem.
    private struct Slots {
        var id, type, customer, at, total, currency, order: JSONValue?
        /// Nil when absent; `.failure` keeps a non-array value for the error message.
        var items: Result<[ItemSlots], Unexpected>?
        var data: [String: JSONValue] = [:]
    }

    private struct Unexpected: Error {
        var value: JSONValue
    }

    /// The raw values of a line item's fields.
    private struct ItemSlots {
        var sku, category, qty, price: JSONValue?
        var unknownKey: String?
        /// Set when the element is not an object.
        var notObject: JSONValue?
    }

    private static func store(
        _ slot: inout JSONValue?, _ value: JSONValue, key: String, offset: Int
    ) throws(JSONSyntaxError) {
        guard slot == nil else { throw JSONSyntaxError(offset: offset, message: "duplicate field '\(key)'") }
        slot = value
    }

    /// Parses the line into slots without looking at what the values mean.
    private static func parseSlots(_ parser: inout JSONParser) throws(JSONSyntaxError) -> Result<Slots, Unexpected> {
        guard parser.nextIsObject() else { return .failure(Unexpected(value: try parser.parseDocument())) }
        var slots = Slots()
        var cursor = try parser.beginObject()
        while let (key, offset) = try parser.nextKey(&cursor) {
            switch key {
            case "id": try store(&slots.id, parser.parseValue(), key: key, offset: offset)
            case "type": try store(&slots.type, parser.parseValue(), key: key, offset: offset)
            case "customer": try store(&slots.customer, parser.parseValue(), key: key, offset: offset)
            case "at": try store(&slots.at, parser.parseValue(), key: key, offset: offset)
            case "total": try store(&slots.total, parser.parseValue(), key: key, offset: offset)
            case "currency": try store(&slots.currency, parser.parseValue(), key: key, offset: offset)
            case "order": try store(&slots.order, parser.parseValue(), key: key, offset: offset)
            case "items":
                guard slots.items == nil else {
                    throw JSONSyntaxError(offset: offset, message: "duplicate field 'items'")
                }
                slots.items = try parseItems(&parser)
            default:
                if slots.data.updateValue(try parser.parseValue(), forKey: key) != nil {
                    throw JSONSyntaxError(offset: offset, message: "duplicate field '\(key)'")
                }
            }
        }
        try parser.finish()
        return .success(slots)
    }

    private static func parseItems(
        _ parser: inout JSONParser
    ) throws(JSONSyntaxError) -> Result<[ItemSlots], Unexpected> {
        guard parser.nextIsArray() else { return .failure(Unexpected(value: try parser.parseValue())) }
        var items: [ItemSlots] = []
        var elements = try parser.beginArray()
        while try parser.nextElement(&elements) {
            var item = ItemSlots()
            guard parser.nextIsObject() else {
                item.notObject = try parser.parseValue()
                items.append(item)
                continue
            }
            var cursor = try parser.beginObject()
            while let (key, offset) = try parser.nextKey(&cursor) {
                switch key {
                case "sku": try store(&item.sku, parser.parseValue(), key: key, offset: offset)
                case "category": try store(&item.category, parser.parseValue(), key: key, offset: offset)
                case "qty": try store(&item.qty, parser.parseValue(), key: key, offset: offset)
                case "price": try store(&item.price, parser.parseValue(), key: key, offset: offset)
                default:
                    _ = try parser.parseValue()
                    if item.unknownKey == nil { item.unknownKey = key }
                }
            }
            items.append(item)
        }
        return .success(items)
    }

    /// Decodes one line (without its newline).
    static func decode(line: UnsafeBufferPointer<UInt8>) throws(InputProblem) -> Event {
        var parser = JSONParser(line)
        let parsed: Result<Slots, Unexpected>
        do {
            parsed = try parseSlots(&parser)
        } catch {
            throw InputProblem("malformed JSON at column \(error.offset + 1): \(error.message)")
        }
        let slots: Slots
        switch parsed {
        case .success(let value): slots = value
        case .failure(let unexpected):
            throw InputProblem("an event must be a JSON object, got \(unexpected.value.quotedForMessage)")
        }
        var data = slots.data
        let id = try requiredText("id", slots.id)
        let type = try requiredText("type", slots.type)
        let customerID = try requiredText("customer", slots.customer)
        let atText = try requiredText("at", slots.at)
        guard let at = Instant(iso8601: atText) else {
            throw InputProblem(
                "field 'at' must be ISO 8601 with a zone, e.g. 2026-11-20T10:15:00Z, got \(quoteForMessage(atText))")
        }

        let totalValue = slots.total == .null ? nil : slots.total
        let currencyValue = slots.currency == .null ? nil : slots.currency
        var total: Money?
        if let totalValue {
            let minorUnits = try amount("total", totalValue)
            guard let currencyValue else {
                let reason = needsTotal(type) ? "required for a \(type)" : "required with 'total'"
                throw InputProblem("missing field 'currency' (\(reason))")
            }
            total = Money(minorUnits: minorUnits, currency: try currency(currencyValue))
        } else {
            if needsTotal(type) { throw InputProblem("missing field 'total' (required for a \(type))") }
            if let currencyValue {
                // A currency without an amount (a visit in a given shop, say): validated, kept as event data.
                data["currency"] = .string(try currency(currencyValue).code)
            }
        }

        var orderID: String?
        if let value = slots.order, value != .null {
            orderID = try requiredText("order", value)
        }
        var items: [LineItem] = []
        switch slots.items {
        case nil: break
        case .failure(let unexpected):
            if unexpected.value != .null {
                throw InputProblem("field 'items' must be an array, got \(unexpected.value.quotedForMessage)")
            }
        case .success(let elements):
            items.reserveCapacity(elements.count)
            for (position, element) in elements.enumerated() {
                items.append(try lineItem(element, path: "items[\(position)]"))
            }
        }
        return Event(
            id: id, type: type, customerID: customerID, at: at, total: total, orderID: orderID, items: items,
            data: data)
    }

    /// A required non-blank string.
    static func requiredText(_ name: String, _ value: JSONValue?) throws(InputProblem) -> String {
        guard let value else { throw InputProblem("missing field '\(name)'") }
        guard case .string(let text) = value else {
            throw InputProblem("field '\(name)' must be a string, got \(value.quotedForMessage)")
        }
        guard !isBlank(text) else { throw InputProblem("field '\(name)' must not be empty") }
        return text
    }

    /// Whether `text` is empty or only whitespace (ASCII fast path: most values start with a visible character).
    static func isBlank(_ text: String) -> Bool {
        if let first = text.utf8.first, first > 0x20, first < 0x7F { return false }
        return text.allSatisfy(\.isWhitespace)
    }

    /// A non-negative, non-absurd integer amount of minor units.
    static func amount(_ name: String, _ value: JSONValue) throws(InputProblem) -> Int64 {
        guard case .integer(let minorUnits) = value else {
            throw InputProblem(
                "field '\(name)' must be an integer number of minor units, got \(value.quotedForMessage)")
        }
        guard minorUnits >= 0 else { throw InputProblem("field '\(name)' must not be negative, got \(minorUnits)") }
        guard minorUnits <= maximumMinorUnits else {
            throw InputProblem(
                "field '\(name)' is absurdly large: \(minorUnits) minor units (the limit is \(maximumMinorUnits))")
        }
        return minorUnits
    }

    static func currency(_ value: JSONValue) throws(InputProblem) -> Currency {
        guard case .string(let code) = value else {
            throw InputProblem("field 'currency' must be an ISO 4217 code like \"EUR\", got \(value.quotedForMessage)")
        }
        guard let currency = Currency(code: code) else {
            let hint = code.uppercased() != code && Currency(code: code.uppercased()) != nil
                ? " (codes are upper case: \(code.uppercased()))" : ""
            throw InputProblem("unknown currency \(quoteForMessage(code)) in field 'currency'\(hint)")
        }
        return currency
    }

    private static func lineItem(_ slots: ItemSlots, path: String) throws(InputProblem) -> LineItem {
        if let value = slots.notObject {
            throw InputProblem("field '\(path)' must be an object, got \(value.quotedForMessage)")
        }
        let sku = try requiredText("\(path).sku", slots.sku)
        var category: String?
        if let value = slots.category, value != .null {
            category = try requiredText("\(path).category", value)
        }
        var quantity: Int64 = 1
        if let value = slots.qty, value != .null {
            guard case .integer(let number) = value, number > 0 else {
                throw InputProblem(
                    "field '\(path).qty' must be an integer greater than 0, got \(value.quotedForMessage)")
            }
            guard number <= maximumQuantity else {
                throw InputProblem("field '\(path).qty' is absurdly large: \(number) (the limit is \(maximumQuantity))")
            }
            quantity = number
        }
        guard let priceValue = slots.price else { throw InputProblem("missing field '\(path).price'") }
        let price = try amount("\(path).price", priceValue)
        if let unknown = slots.unknownKey {
            throw InputProblem("unknown field '\(path).\(unknown)' (a line item has sku, category, qty and price)")
        }
        return LineItem(sku: sku, category: category, quantity: quantity, price: price)
    }
}
