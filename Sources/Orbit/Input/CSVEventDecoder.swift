/// A ``CSVMapping`` checked and resolved against a file's header: column indices, the parsed id template and rate.
struct CompiledCSVMapping: Sendable {
    /// A resolved column: its 0-based index and how messages name it (`column 4 (total)`).
    struct Field: Sendable {
        var index: Int
        var label: String
    }

    enum Source: Sendable {
        case constant(String)
        case column(Field)
    }

    enum TemplatePart: Sendable, Equatable {
        case literal(String)
        case line
        case column(Int)
    }

    let delimiter: CSVMapping.Delimiter
    let idTemplate: [TemplatePart]
    let idField: Field?
    let type: Source
    let customer: Field
    let at: Field
    let total: Field?
    let currency: Source?
    let constantCurrency: Currency?
    let order: Field?
    let dataColumns: [(name: String, field: Field)]
    let dateFormat: CSVMapping.DateFormat
    let amount: CSVMapping.AmountFormat
    let decimalSeparator: UInt8
    let conversion: (to: Currency, rate: DecimalRate)?

    /// Whether two lines of a file can never get the same id: the template is text around the line number, which
    /// then reads back from the id. Otherwise the reader remembers every id, to report one that repeats.
    var idsAreUniquePerLine: Bool {
        idField == nil && idTemplate.contains(.line) && !idTemplate.contains { if case .column = $0 { true } else { false } }
    }

    /// Checks `mapping` and resolves its column names against `header`. With a nil header (validating a mapping on
    /// its own, or a file without any line) names are checked only for needing a header.
    init(_ mapping: CSVMapping, header: [String]?) throws(InputProblem) {
        func resolve(_ column: CSVMapping.Column, role: String) throws(InputProblem) -> Field {
            switch column {
            case .position(let position):
                guard position >= 1 else { throw InputProblem("\(role): column positions start at 1") }
                return Field(index: position - 1, label: "column \(position) (\(role))")
            case .name(let name):
                guard mapping.header else {
                    throw InputProblem(
                        "\(role) refers to the column \(quoteForMessage(name)) by name, which needs \"header\": true")
                }
                guard let header else { return Field(index: Int.max, label: "column \(quoteForMessage(name))") }
                let matches = header.indices.filter { header[$0] == name }
                guard let index = matches.first else {
                    throw InputProblem(
                        "the header has no column \(quoteForMessage(name)) (for \(role)); it has "
                            + header.map { quoteForMessage($0) }.joined(separator: ", "))
                }
                guard matches.count == 1 else {
                    throw InputProblem("the header has several columns named \(quoteForMessage(name)) (for \(role))")
                }
                return Field(index: index, label: "column \(quoteForMessage(name)) (\(role))")
            }
        }

        delimiter = mapping.delimiter
        let columns = mapping.columns
        customer = try resolve(columns.customer, role: "customer")
        at = try resolve(columns.at, role: "at")
        total = try columns.total.map { (column) throws(InputProblem) in try resolve(column, role: "total") }
        order = try columns.order.map { (column) throws(InputProblem) in try resolve(column, role: "order") }

        switch (mapping.type, columns.type) {
        case (let type?, nil):
            guard !type.allSatisfy(\.isWhitespace) else { throw InputProblem("\"type\" must not be empty") }
            self.type = .constant(type)
        case (nil, let column?): self.type = .column(try resolve(column, role: "type"))
        case (nil, nil): throw InputProblem("give the event type: \"type\": \"purchase\", or a column in columns.type")
        case (.some, .some): throw InputProblem("give either \"type\" or columns.type, not both")
        }

        switch (mapping.currency, columns.currency) {
        case (let currency?, nil):
            self.currency = .constant(currency.code)
            constantCurrency = currency
        case (nil, let column?):
            self.currency = .column(try resolve(column, role: "currency"))
            constantCurrency = nil
        case (nil, nil):
            guard total == nil else {
                throw InputProblem("give the currency of the totals: \"currency\": \"EUR\", or a column in "
                    + "columns.currency")
            }
            self.currency = nil
            constantCurrency = nil
        case (.some, .some): throw InputProblem("give either \"currency\" or columns.currency, not both")
        }

        switch (mapping.amount, total) {
        case (let amount?, _): self.amount = amount
        case (nil, nil): amount = .minor
        case (nil, .some):
            throw InputProblem("say how totals are written: \"amount\": \"decimal\" (29.33) or \"minor\" (2933)")
        }
        dateFormat = mapping.dateFormat
        switch mapping.decimalSeparator {
        case ".": decimalSeparator = UInt8(ascii: ".")
        case ",":
            guard mapping.delimiter != .comma else {
                throw InputProblem("\"decimal_separator\": \",\" cannot be used with the \",\" delimiter")
            }
            decimalSeparator = UInt8(ascii: ",")
        default:
            throw InputProblem(
                "\"decimal_separator\" must be \".\" or \",\", got \(quoteForMessage(mapping.decimalSeparator))")
        }

        if let convert = mapping.convert {
            guard let rate = DecimalRate(convert.rate) else {
                throw InputProblem(
                    "convert.rate must be a positive decimal like \"0.88\" (at most 18 digits), got "
                        + quoteForMessage(convert.rate))
            }
            guard total != nil else { throw InputProblem("\"convert\" needs a total column to convert") }
            conversion = (convert.to, rate)
        } else {
            conversion = nil
        }

        var data: [(name: String, field: Field)] = []
        for (name, column) in mapping.dataColumns.sorted(by: { $0.key < $1.key }) {
            guard !name.isEmpty else { throw InputProblem("data_columns: a data key must not be empty") }
            if conversion != nil, name == "original_total" || name == "original_currency" {
                throw InputProblem("data_columns: \(quoteForMessage(name)) is where \"convert\" keeps the original")
            }
            data.append((name, try resolve(column, role: "data \(name)")))
        }
        dataColumns = data

        switch (mapping.id, columns.id) {
        case (let template?, nil):
            idField = nil
            idTemplate = try Self.parseTemplate(template, mapping: mapping, header: header)
        case (nil, let column?):
            idField = try resolve(column, role: "id")
            idTemplate = []
        case (nil, nil):
            throw InputProblem(
                "give the event ids: an \"id\" template such as \"shop-{line}\", or a column in columns.id; ids "
                    + "must be stable so that replaying the file twice applies each row once")
        case (.some, .some): throw InputProblem("give either an \"id\" template or columns.id, not both")
        }
    }

    /// Splits `shop-{line}-{3}-{order_no}` into parts.
    private static func parseTemplate(
        _ template: String, mapping: CSVMapping, header: [String]?
    ) throws(InputProblem) -> [TemplatePart] {
        var parts: [TemplatePart] = []
        var rest = template[...]
        while let open = rest.firstIndex(of: "{") {
            if open > rest.startIndex { parts.append(.literal(String(rest[..<open]))) }
            guard let close = rest[open...].firstIndex(of: "}") else {
                throw InputProblem("the id template \(quoteForMessage(template)) has a '{' without '}'")
            }
            let name = String(rest[rest.index(after: open)..<close])
            if name == "line" {
                parts.append(.line)
            } else if let position = Int(name) {
                guard position >= 1 else { throw InputProblem("the id template's {\(name)}: columns start at 1") }
                parts.append(.column(position - 1))
            } else {
                guard mapping.header else {
                    throw InputProblem(
                        "the id template's {\(name)} names a column, which needs \"header\": true "
                            + "(use {line} or a column position like {1})")
                }
                if let header {
                    guard let index = header.firstIndex(of: name) else {
                        throw InputProblem("the id template's {\(name)}: the header has no such column")
                    }
                    parts.append(.column(index))
                } else {
                    parts.append(.column(Int.max))
                }
            }
            rest = rest[rest.index(after: close)...]
        }
        if !rest.isEmpty { parts.append(.literal(String(rest))) }
        guard !parts.isEmpty else { throw InputProblem("the id template must not be empty") }
        return parts
    }

    /// Decodes one record's fields (line `line` of the file).
    func decode(_ fields: [String], line: Int) throws(InputProblem) -> Event {
        func value(_ field: Field) throws(InputProblem) -> Substring {
            guard field.index < fields.count else {
                throw InputProblem("\(field.label) is missing: the line has \(fields.count) columns")
            }
            return trimmed(fields[field.index])
        }
        func required(_ field: Field) throws(InputProblem) -> Substring {
            let text = try value(field)
            guard !text.isEmpty else { throw InputProblem("\(field.label) is empty") }
            return text
        }

        let id: String
        if let idField {
            id = String(try required(idField))
        } else {
            var text = ""
            for part in idTemplate {
                switch part {
                case .literal(let literal): text += literal
                case .line: text += String(line)
                case .column(let index):
                    guard index < fields.count else {
                        throw InputProblem("column \(index + 1) (in the id template) is missing: the line has "
                            + "\(fields.count) columns")
                    }
                    text += trimmed(fields[index])
                }
            }
            id = text
        }
        guard !id.isEmpty else { throw InputProblem("the event id is empty") }

        let type: String
        switch self.type {
        case .constant(let constant): type = constant
        case .column(let field): type = String(try required(field))
        }
        let customerID = String(try required(customer))
        let atText = try required(at)
        guard let instant = parseDate(atText) else {
            let expected =
                switch dateFormat {
                case .iso8601: "ISO 8601 with a zone, e.g. 2026-11-20T10:15:00Z"
                case .compact: "a date yyyyMMdd, e.g. 20261120"
                case .dashed: "a date yyyy-MM-dd, e.g. 2026-11-20"
                }
            throw InputProblem("\(at.label) must be \(expected), got \(quoteForMessage(atText))")
        }

        // Grown in place, not rehashed (created at its size: reserving on an empty dictionary allocated it twice).
        var data = [String: JSONValue](minimumCapacity: dataColumns.count + (conversion == nil ? 0 : 2))
        var money: Money?
        let totalText = try total.map { (field) throws(InputProblem) in try value(field) } ?? ""
        if let total, !totalText.isEmpty {
            let currency: Currency
            if let constantCurrency {
                currency = constantCurrency
            } else if case .column(let field) = self.currency {
                let code = try required(field).uppercased()
                guard let known = Currency(code: code) else {
                    throw InputProblem("\(field.label): unknown currency \(quoteForMessage(code))")
                }
                currency = known
            } else {
                throw InputProblem("the mapping gives no currency")  // excluded by init
            }
            let minorUnits: Int64
            do {
                minorUnits =
                    switch amount {
                    case .decimal:
                        try DecimalAmount.parseDecimal(
                            totalText, digits: currency.minorUnitDigits, separator: decimalSeparator)
                    case .minor: try DecimalAmount.parseMinor(totalText)
                    }
            } catch {
                throw InputProblem("\(total.label) \(error.message)")
            }
            money = Money(minorUnits: minorUnits, currency: currency)
            if let conversion, conversion.to != currency {
                let target = conversion.to
                guard
                    let converted = conversion.rate.convert(
                        minorUnits, fromDigits: currency.minorUnitDigits, toDigits: target.minorUnitDigits)
                else {
                    throw InputProblem("\(total.label) is absurdly large once converted to \(target.code)")
                }
                data["original_total"] = .integer(minorUnits)
                data["original_currency"] = .string(currency.code)
                money = Money(minorUnits: converted, currency: target)
            }
        } else if NDJSONEventDecoder.needsTotal(type) {
            if let total { throw InputProblem("\(total.label) is empty (required for a \(type))") }
            throw InputProblem("a \(type) needs a total, and the mapping has no total column")
        }

        var orderID: String?
        if let order {
            let text = try value(order)
            if !text.isEmpty { orderID = String(text) }
        }
        for (name, field) in dataColumns {
            let text = try value(field)
            if !text.isEmpty { data[name] = Self.dataValue(text) }
        }
        return Event(
            id: id, type: type, customerID: customerID, at: instant, total: money, orderID: orderID, data: data)
    }

    private func parseDate(_ text: Substring) -> Instant? {
        let bytes = Array(text.utf8)
        func number(_ range: Range<Int>) -> Int64? {
            var value: Int64 = 0
            for index in range {
                guard let digit = DecimalAmount.digitValue(bytes[index]) else { return nil }
                value = value * 10 + digit
            }
            return value
        }
        let parts: (year: Int64?, month: Int64?, day: Int64?)
        switch dateFormat {
        case .iso8601:
            return Instant(iso8601: String(text))
        case .compact:
            guard bytes.count == 8 else { return nil }
            parts = (number(0..<4), number(4..<6), number(6..<8))
        case .dashed:
            guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
            parts = (number(0..<4), number(5..<7), number(8..<10))
        }
        guard let year = parts.year, let month = parts.month, let day = parts.day, (1...12).contains(month),
            day >= 1, day <= CivilDate.daysIn(month: month, year: year)
        else { return nil }
        return Instant(
            millisecondsSinceEpoch: CivilDate.days(year: year, month: month, day: day) * Instant.millisecondsPerDay)
    }

    /// A data column's value: a canonical integer stays an integer, another decimal number becomes a number.
    static func dataValue(_ text: Substring) -> JSONValue {
        let bytes = text.utf8
        let digits = bytes.first == UInt8(ascii: "-") ? bytes.dropFirst() : bytes[...]
        if !digits.isEmpty, digits.allSatisfy({ DecimalAmount.digitValue($0) != nil }),
            digits.first != UInt8(ascii: "0") || digits.count == 1, let integer = Int64(text)
        {
            return .integer(integer)
        }
        if let first = digits.first, DecimalAmount.digitValue(first) != nil,
            digits.allSatisfy({ DecimalAmount.digitValue($0) != nil || $0 == UInt8(ascii: ".") }),
            digits.filter({ $0 == UInt8(ascii: ".") }).count == 1, digits.last != UInt8(ascii: "."),
            let number = Double(text)
        {
            return .number(number)
        }
        return .string(String(text))
    }
}

/// `text` without leading and trailing spaces and tabs.
func trimmed(_ text: String) -> Substring {
    // Over the UTF-8 bytes: by Character, every step worked out a grapheme's bounds (a tenth of a replay's decoding).
    let bytes = text.utf8
    func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
    var start = bytes.startIndex
    var end = bytes.endIndex
    while start < end, isBlank(bytes[start]) { start = bytes.index(after: start) }
    while start < end, isBlank(bytes[bytes.index(before: end)]) { end = bytes.index(before: end) }
    return text[start..<end]
}

/// Splits CSV records into fields.
enum CSVSplitter {
    /// The fields of one record (one line, without its newline).
    static func split(
        _ line: UnsafeBufferPointer<UInt8>, delimiter: CSVMapping.Delimiter
    ) throws(InputProblem) -> [String] {
        var fields: [String] = []
        let count = line.count
        guard let separator = delimiter.byte else {
            var index = 0
            while index < count {
                while index < count, line[index] == 0x20 || line[index] == 0x09 { index += 1 }
                guard index < count else { break }
                let start = index
                while index < count, line[index] != 0x20, line[index] != 0x09 { index += 1 }
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[start..<index]), as: UTF8.self))
            }
            return fields
        }
        var index = 0
        while true {
            var quoteStart = index
            while quoteStart < count, line[quoteStart] == 0x20 { quoteStart += 1 }
            if quoteStart < count, line[quoteStart] == UInt8(ascii: "\"") {
                index = quoteStart + 1
                var buffer: [UInt8] = []
                while true {
                    guard index < count else {
                        throw InputProblem("field \(fields.count + 1) has an opening quote without a closing one")
                    }
                    let byte = line[index]
                    if byte == UInt8(ascii: "\"") {
                        if index + 1 < count, line[index + 1] == UInt8(ascii: "\"") {
                            buffer.append(byte)
                            index += 2
                        } else {
                            index += 1
                            break
                        }
                    } else {
                        buffer.append(byte)
                        index += 1
                    }
                }
                while index < count, line[index] == 0x20 { index += 1 }
                guard index == count || line[index] == separator else {
                    throw InputProblem(
                        "field \(fields.count + 1) has text after its closing quote (write a quote inside a quoted "
                            + "field as \"\")")
                }
                fields.append(String(decoding: buffer, as: UTF8.self))
            } else {
                let start = index
                while index < count, line[index] != separator { index += 1 }
                fields.append(String(decoding: UnsafeBufferPointer(rebasing: line[start..<index]), as: UTF8.self))
            }
            if index == count { return fields }
            index += 1
        }
    }
}
