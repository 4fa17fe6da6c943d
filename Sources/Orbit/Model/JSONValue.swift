import LuaRuntime

/// A JSON value: customer attributes and event data are free-form. Numbers keep the integer/float distinction.
public enum JSONValue: Hashable, Sendable, Codable, CustomStringConvertible {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    /// Objects are written with their keys in order, so that the same value always gives the same text.
    public func encode(to encoder: any Encoder) throws {
        if case .object(let fields) = self {
            try AnyCodingKey.encodeSorted(fields, in: encoder)
            return
        }
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object: preconditionFailure("objects are encoded above")
        }
    }

    /// The value as Lua sees it (`null` is `nil`).
    var luaValue: LuaValue {
        switch self {
        case .null: .nil
        case .bool(let value): .bool(value)
        case .integer(let value): .integer(value)
        case .number(let value): .number(value)
        case .string(let value): .string(value)
        case .array(let items): .array(items.map(\.luaValue))
        case .object(let fields): .map(Dictionary(uniqueKeysWithValues: fields.map { (.string($0.key), $0.value.luaValue) }))
        }
    }

    /// A Lua value as JSON; nil when it has no JSON form (a table with non-string keys that is not an array, or a
    /// number that is not finite: JSON has no NaN or infinity).
    init?(_ value: LuaValue) {
        switch value {
        case .nil: self = .null
        case .bool(let flag): self = .bool(flag)
        case .integer(let number): self = .integer(number)
        case .number(let number):
            guard number.isFinite else { return nil }
            self = .number(number)
        case .string(let text): self = .string(text)
        case .array(let items):
            var converted: [JSONValue] = []
            for item in items {
                guard let json = JSONValue(item) else { return nil }
                converted.append(json)
            }
            self = .array(converted)
        case .map(let fields):
            var converted: [String: JSONValue] = [:]
            for (key, item) in fields {
                guard case .string(let name) = key, let json = JSONValue(item) else { return nil }
                converted[name] = json
            }
            self = .object(converted)
        }
    }

    public var description: String { luaValue.description }
}

/// A coding key for any name: to list the keys an object actually has, and to write a dictionary's keys in order.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }

    /// Encodes `dictionary` as an object with its keys in order (a dictionary's own encoding follows its hash order,
    /// which changes from one process to the next).
    static func encodeSorted<Value: Encodable>(_ dictionary: [String: Value], in encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        for key in dictionary.keys.sorted() {
            try container.encode(dictionary[key]!, forKey: AnyCodingKey(stringValue: key))
        }
    }
}
