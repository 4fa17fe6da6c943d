/// Decodes one line of Orbit's native NDJSON into an ``Event``. See ``EventReader`` for the format.
enum NDJSONEventDecoder {
    /// The largest amount accepted, in minor units: ten billion euros is not a retail order.
    static let maximumMinorUnits: Int64 = 1_000_000_000_000
    /// The largest quantity accepted on one line item.
    static let maximumQuantity: Int64 = 1_000_000

    /// The types whose events carry a total and a currency.
    static func needsTotal(_ type: String) -> Bool { type == "purchase" || type == "refund" }

    /// Decodes one line (without its newline).
    static func decode(line: UnsafeBufferPointer<UInt8>) throws(InputProblem) -> Event {
        var parser = JSONParser(line)
        let document: JSONValue
        do {
            document = try parser.parseDocument()
        } catch {
            throw InputProblem("malformed JSON at column \(error.offset + 1): \(error.message)")
        }
        guard case .object(var fields) = document else {
            throw InputProblem("an event must be a JSON object, got \(document.quotedForMessage)")
        }
        let id = try requiredText("id", fields.removeValue(forKey: "id"))
        let type = try requiredText("type", fields.removeValue(forKey: "type"))
        let customerID = try requiredText("customer", fields.removeValue(forKey: "customer"))
        let atText = try requiredText("at", fields.removeValue(forKey: "at"))
        guard let at = Instant(iso8601: atText) else {
            throw InputProblem(
                "field 'at' must be ISO 8601 with a zone, e.g. 2026-11-20T10:15:00Z, got \(quoteForMessage(atText))")
        }

        let totalValue = fields.removeValue(forKey: "total").flatMap { $0 == .null ? nil : $0 }
        let currencyValue = fields.removeValue(forKey: "currency").flatMap { $0 == .null ? nil : $0 }
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
                fields["currency"] = .string(try currency(currencyValue).code)
            }
        }

        var orderID: String?
        if let value = fields.removeValue(forKey: "order"), value != .null {
            orderID = try requiredText("order", value)
        }
        var items: [LineItem] = []
        if let value = fields.removeValue(forKey: "items"), value != .null {
            guard case .array(let elements) = value else {
                throw InputProblem("field 'items' must be an array, got \(value.quotedForMessage)")
            }
            items.reserveCapacity(elements.count)
            for (position, element) in elements.enumerated() {
                items.append(try lineItem(element, path: "items[\(position)]"))
            }
        }
        return Event(
            id: id, type: type, customerID: customerID, at: at, total: total, orderID: orderID, items: items,
            data: fields)
    }

    /// A required non-blank string.
    static func requiredText(_ name: String, _ value: JSONValue?) throws(InputProblem) -> String {
        guard let value else { throw InputProblem("missing field '\(name)'") }
        guard case .string(let text) = value else {
            throw InputProblem("field '\(name)' must be a string, got \(value.quotedForMessage)")
        }
        guard !text.allSatisfy(\.isWhitespace) else { throw InputProblem("field '\(name)' must not be empty") }
        return text
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

    static func lineItem(_ value: JSONValue, path: String) throws(InputProblem) -> LineItem {
        guard case .object(var fields) = value else {
            throw InputProblem("field '\(path)' must be an object, got \(value.quotedForMessage)")
        }
        let sku = try requiredText("\(path).sku", fields.removeValue(forKey: "sku"))
        var category: String?
        if let value = fields.removeValue(forKey: "category"), value != .null {
            category = try requiredText("\(path).category", value)
        }
        var quantity: Int64 = 1
        if let value = fields.removeValue(forKey: "qty"), value != .null {
            guard case .integer(let number) = value, number > 0 else {
                throw InputProblem(
                    "field '\(path).qty' must be an integer greater than 0, got \(value.quotedForMessage)")
            }
            guard number <= maximumQuantity else {
                throw InputProblem("field '\(path).qty' is absurdly large: \(number) (the limit is \(maximumQuantity))")
            }
            quantity = number
        }
        guard let priceValue = fields.removeValue(forKey: "price") else {
            throw InputProblem("missing field '\(path).price'")
        }
        let price = try amount("\(path).price", priceValue)
        if let unknown = fields.keys.sorted().first {
            throw InputProblem("unknown field '\(path).\(unknown)' (a line item has sku, category, qty and price)")
        }
        return LineItem(sku: sku, category: category, quantity: quantity, price: price)
    }
}
