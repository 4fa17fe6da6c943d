import Foundation

/// How the columns of a shop's CSV export become events, so that the export replays without code. A mapping is a
/// JSON file; this one reads the CDNOW master file (`examples/loyalty/data/cdnow.mapping.json`):
///
/// ```json
/// {
///     "delimiter": "whitespace",
///     "header": true,
///     "columns": {"customer": "customer_id", "at": "date", "total": "dollar_value"},
///     "data_columns": {"cds": "number_of_cds"},
///     "type": "purchase",
///     "currency": "USD",
///     "date_format": "yyyyMMdd",
///     "amount": "decimal",
///     "id": "cdnow-{line}",
///     "convert": {"to": "EUR", "rate": "0.88"}
/// }
/// ```
///
/// Fields (unknown fields are errors, so a typo does not go unnoticed; `comment` is free text and ignored):
///
/// - `delimiter`: `","` (the default), `";"`, `"\t"` (or `"tab"`), or `"whitespace"` (runs of spaces and tabs, leading
///   and trailing ones ignored, no quoting). With `,`, `;` and tab, a field may be in double quotes, with `""` for a
///   quote inside; one record is one line. Values are trimmed of surrounding spaces.
/// - `header`: whether the first non-blank line names the columns (default false). Needed to refer to columns by name.
/// - `columns`: where the event fields are. Each is a 1-based column position (`4`) or a header name (`"total"`).
///   `customer` and `at` are required; `total`, `currency`, `type`, `order` and `id` are optional.
/// - `data_columns`: more columns, by event data key, into ``Event/data``. Canonical integers (`12`, `-3`, not `007`)
///   become integers, other decimal numbers become numbers, anything else stays a string; empty values are left out.
/// - `type`: the event type for every row (`"purchase"`), unless `columns.type` names a column for it. One is required.
/// - `currency`: the ISO 4217 code of the amounts (`"USD"`), unless `columns.currency` names a column. Required when
///   there is a total column. Codes in a column are trimmed and upper-cased.
/// - `date_format`: how `at` is written: `iso8601` (the default; with a zone, or a bare date), `yyyyMMdd`
///   (`19970101`) or `yyyy-MM-dd` (`1997-01-01`). Bare dates mean midnight UTC.
/// - `amount`: how `total` is written, required with a total column: `minor` (integer minor units, `2933`) or
///   `decimal` (`29.33`, `0`, `1.5`, `100`; parsed exactly, never through floating point; more decimals than the
///   currency has are an error unless they are zeros).
/// - `decimal_separator`: `"."` (the default) or `","` for `decimal` amounts (`29,33`; not with the `,` delimiter).
/// - `id`: the event id template. `{line}` is the 1-based line number in the file, `{N}` the value of column N and
///   `{name}` the value of the column with that header name; any other text is copied. Ids must be unique and stable,
///   so that replaying the same file twice applies each row once: `{line}` guarantees uniqueness within one file as
///   long as the file is only ever appended to; the reader reports a repeated id as an error. Alternatively
///   `columns.id` takes ids from a column. One of the two is required.
/// - `convert`: `{"to": "EUR", "rate": "0.88"}` converts every total to another currency at a fixed rate (a string,
///   so it stays an exact decimal): the amount in minor units of the target currency is rounded half to even, in
///   integer arithmetic. This is a fixed historical rate chosen by whoever wrote the mapping, not a market rate of
///   the event's date. The original amount is kept in the event data as `original_total` (minor units) and
///   `original_currency`.
///
/// Rows of type `purchase` or `refund` need a total; amounts must not be negative and at most 10^12 minor units.
public struct CSVMapping: Codable, Sendable, Hashable {
    /// What separates fields.
    public enum Delimiter: String, Codable, Sendable, Hashable {
        case comma = ","
        case semicolon = ";"
        case tab = "\t"
        /// Runs of spaces and tabs; no quoting.
        case whitespace

        public init(from decoder: any Decoder) throws {
            let text = try decoder.singleValueContainer().decode(String.self)
            if text == "tab" {
                self = .tab
            } else if let delimiter = Delimiter(rawValue: text) {
                self = delimiter
            } else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription:
                            "must be \",\", \";\", \"\\t\" or \"whitespace\", got \(quoteForMessage(text))"))
            }
        }

        var byte: UInt8? {
            switch self {
            case .comma: UInt8(ascii: ",")
            case .semicolon: UInt8(ascii: ";")
            case .tab: UInt8(ascii: "\t")
            case .whitespace: nil
            }
        }
    }

    /// A column: by 1-based position, or by header name.
    public enum Column: Codable, Sendable, Hashable, CustomStringConvertible {
        case position(Int)
        case name(String)

        public init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let position = try? container.decode(Int.self) {
                guard position >= 1 else {
                    throw DecodingError.dataCorrupted(
                        .init(codingPath: decoder.codingPath, debugDescription: "column positions start at 1"))
                }
                self = .position(position)
            } else if let name = try? container.decode(String.self), !name.isEmpty {
                self = .name(name)
            } else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath,
                        debugDescription: "a column is a 1-based position (a number) or a header name (a string)"))
            }
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .position(let position): try container.encode(position)
            case .name(let name): try container.encode(name)
            }
        }

        /// `column 4` or `column "total"`.
        public var description: String {
            switch self {
            case .position(let position): "column \(position)"
            case .name(let name): "column \(quoteForMessage(name))"
            }
        }
    }

    /// Where the event fields are.
    public struct Columns: Codable, Sendable, Hashable {
        public var customer: Column
        public var at: Column
        public var total: Column?
        public var currency: Column?
        public var type: Column?
        public var order: Column?
        public var id: Column?

        /// Creates a column assignment.
        public init(
            customer: Column, at: Column, total: Column? = nil, currency: Column? = nil, type: Column? = nil,
            order: Column? = nil, id: Column? = nil
        ) {
            self.customer = customer
            self.at = at
            self.total = total
            self.currency = currency
            self.type = type
            self.order = order
            self.id = id
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case customer, at, total, currency, type, order, id
        }

        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            customer = try container.decode(Column.self, forKey: .customer)
            at = try container.decode(Column.self, forKey: .at)
            total = try container.decodeIfPresent(Column.self, forKey: .total)
            currency = try container.decodeIfPresent(Column.self, forKey: .currency)
            type = try container.decodeIfPresent(Column.self, forKey: .type)
            order = try container.decodeIfPresent(Column.self, forKey: .order)
            id = try container.decodeIfPresent(Column.self, forKey: .id)
        }
    }

    /// How dates are written.
    public enum DateFormat: String, Codable, Sendable, Hashable {
        /// ISO 8601 with a zone, or a bare date (midnight UTC).
        case iso8601
        /// `19970101`, midnight UTC.
        case compact = "yyyyMMdd"
        /// `1997-01-01`, midnight UTC.
        case dashed = "yyyy-MM-dd"
    }

    /// How amounts are written.
    public enum AmountFormat: String, Codable, Sendable, Hashable {
        /// Integer minor units: `2933`.
        case minor
        /// A decimal number of major units: `29.33`.
        case decimal
    }

    /// A conversion to another currency at a fixed decimal rate.
    public struct Conversion: Codable, Sendable, Hashable {
        /// The target currency.
        public var to: Currency
        /// Units of `to` per unit of the source currency, as an exact decimal string (`"0.88"`).
        public var rate: String

        /// Creates a conversion.
        public init(to: Currency, rate: String) {
            self.to = to
            self.rate = rate
        }

        private enum CodingKeys: String, CodingKey, CaseIterable {
            case to, rate
        }

        public init(from decoder: any Decoder) throws {
            try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
            let container = try decoder.container(keyedBy: CodingKeys.self)
            to = try container.decode(Currency.self, forKey: .to)
            guard let rate = try? container.decode(String.self, forKey: .rate) else {
                throw DecodingError.dataCorrupted(
                    .init(
                        codingPath: decoder.codingPath + [CodingKeys.rate],
                        debugDescription: "the rate must be a string like \"0.88\", so that it stays an exact decimal"))
            }
            self.rate = rate
        }
    }

    public var delimiter: Delimiter
    public var header: Bool
    public var columns: Columns
    public var dataColumns: [String: Column]
    /// The constant event type, when `columns.type` is not given.
    public var type: String?
    /// The constant currency, when `columns.currency` is not given.
    public var currency: Currency?
    public var dateFormat: DateFormat
    public var amount: AmountFormat?
    /// `.` or `,`.
    public var decimalSeparator: String
    /// The id template, when `columns.id` is not given.
    public var id: String?
    public var convert: Conversion?

    /// Creates a mapping; ``EventReader`` validates it (as does ``load(path:)``).
    public init(
        delimiter: Delimiter = .comma, header: Bool = false, columns: Columns, dataColumns: [String: Column] = [:],
        type: String? = nil, currency: Currency? = nil, dateFormat: DateFormat = .iso8601,
        amount: AmountFormat? = nil, decimalSeparator: String = ".", id: String? = nil, convert: Conversion? = nil
    ) {
        self.delimiter = delimiter
        self.header = header
        self.columns = columns
        self.dataColumns = dataColumns
        self.type = type
        self.currency = currency
        self.dateFormat = dateFormat
        self.amount = amount
        self.decimalSeparator = decimalSeparator
        self.id = id
        self.convert = convert
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case delimiter, header, columns, type, currency, amount, id, convert, comment
        case dataColumns = "data_columns"
        case dateFormat = "date_format"
        case decimalSeparator = "decimal_separator"
    }

    public init(from decoder: any Decoder) throws {
        try rejectUnknownKeys(decoder, known: CodingKeys.allCases.map(\.rawValue))
        let container = try decoder.container(keyedBy: CodingKeys.self)
        delimiter = try container.decodeIfPresent(Delimiter.self, forKey: .delimiter) ?? .comma
        header = try container.decodeIfPresent(Bool.self, forKey: .header) ?? false
        columns = try container.decode(Columns.self, forKey: .columns)
        dataColumns = try container.decodeIfPresent([String: Column].self, forKey: .dataColumns) ?? [:]
        type = try container.decodeIfPresent(String.self, forKey: .type)
        currency = try container.decodeIfPresent(Currency.self, forKey: .currency)
        dateFormat = try container.decodeIfPresent(DateFormat.self, forKey: .dateFormat) ?? .iso8601
        amount = try container.decodeIfPresent(AmountFormat.self, forKey: .amount)
        decimalSeparator = try container.decodeIfPresent(String.self, forKey: .decimalSeparator) ?? "."
        id = try container.decodeIfPresent(String.self, forKey: .id)
        convert = try container.decodeIfPresent(Conversion.self, forKey: .convert)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(delimiter == .whitespace ? "whitespace" : delimiter.rawValue, forKey: .delimiter)
        try container.encode(header, forKey: .header)
        try container.encode(columns, forKey: .columns)
        if !dataColumns.isEmpty { try container.encode(dataColumns, forKey: .dataColumns) }
        try container.encodeIfPresent(type, forKey: .type)
        try container.encodeIfPresent(currency, forKey: .currency)
        try container.encode(dateFormat, forKey: .dateFormat)
        try container.encodeIfPresent(amount, forKey: .amount)
        if decimalSeparator != "." { try container.encode(decimalSeparator, forKey: .decimalSeparator) }
        try container.encodeIfPresent(id, forKey: .id)
        try container.encodeIfPresent(convert, forKey: .convert)
    }

    /// Reads and validates the mapping in the JSON file at `path`.
    ///
    /// - Throws: ``EventInputError`` naming `path` when the file cannot be read, is not valid JSON, or describes an
    ///   invalid mapping.
    public static func load(path: String) throws(EventInputError) -> CSVMapping {
        let bytes = try readFile(path)
        return try decode(bytes, file: path)
    }

    /// Decodes and validates a mapping from JSON text; `file` names it in errors.
    public static func decode(json: String, file: String = "<mapping>") throws(EventInputError) -> CSVMapping {
        try decode(Array(json.utf8), file: file)
    }

    private static func decode(_ bytes: [UInt8], file: String) throws(EventInputError) -> CSVMapping {
        let mapping: CSVMapping
        do {
            mapping = try JSONDecoder().decode(CSVMapping.self, from: Data(bytes))
        } catch let error as DecodingError {
            throw EventInputError(file: file, line: nil, message: "invalid column mapping: \(describe(error))")
        } catch {
            throw EventInputError(file: file, line: nil, message: "invalid column mapping: \(error)")
        }
        do {
            _ = try CompiledCSVMapping(mapping, header: nil)
        } catch {
            throw EventInputError(file: file, line: nil, message: "invalid column mapping: \(error.message)")
        }
        return mapping
    }

    private static func describe(_ error: DecodingError) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return "missing field '\(path(context.codingPath + [key]))'"
        case .valueNotFound(_, let context):
            return "field '\(path(context.codingPath))' must not be null"
        case .typeMismatch(let type, let context):
            let expected =
                type == String.self ? "a string" : type == Bool.self ? "true or false" : "\(type)".lowercased()
            return "field '\(path(context.codingPath))' must be \(expected)"
        case .dataCorrupted(let context):
            if context.codingPath.isEmpty {
                return "not valid JSON"
                    + ((context.underlyingError as? NSError).map { ": \($0.localizedDescription)" } ?? "")
            }
            return "field '\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}

/// Throws when the object being decoded has a key not in `known`: a typo in a mapping must not pass silently.
private func rejectUnknownKeys(_ decoder: any Decoder, known: [String]) throws {
    let container = try decoder.container(keyedBy: AnyCodingKey.self)
    if let unknown = container.allKeys.map(\.stringValue).filter({ !known.contains($0) }).sorted().first {
        throw DecodingError.dataCorrupted(
            .init(
                codingPath: decoder.codingPath + [AnyCodingKey(stringValue: unknown)],
                debugDescription: "unknown field (known: \(known.filter { $0 != "comment" }.joined(separator: ", ")))"))
    }
}

/// The bytes of the file at `path`, or an error that says why not.
func readFile(_ path: String) throws(EventInputError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
        throw EventInputError(file: path, line: nil, message: "no such file")
    }
    guard !isDirectory.boolValue else { throw EventInputError(file: path, line: nil, message: "is a directory") }
    guard let data = FileManager.default.contents(atPath: path) else {
        throw EventInputError(file: path, line: nil, message: "cannot read the file (permissions?)")
    }
    return [UInt8](data)
}
