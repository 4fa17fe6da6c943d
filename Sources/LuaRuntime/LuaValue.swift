import Foundation

/// A Lua value that exists independently of any Lua state: what crosses the boundary by copy.
///
/// Lua integers stay ``integer`` and floats stay ``number``; a table whose keys are exactly `1...n` is an ``array``,
/// any other table a ``map`` (an empty table is an empty map). Functions and userdata are not values here: functions
/// cross as ``LuaFunction`` references and host objects as userdata of a ``LuaObjectType``.
public enum LuaValue: Sendable, Hashable {
    case `nil`
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([LuaValue])
    case map([LuaValue: LuaValue])

    /// Lua's name for the type of this value, as `type()` returns it.
    public var typeName: String {
        switch self {
        case .nil: "nil"
        case .bool: "boolean"
        case .integer, .number: "number"
        case .string: "string"
        case .array, .map: "table"
        }
    }

    /// Lua truthiness: everything but `nil` and `false` is true.
    public var isTruthy: Bool {
        switch self {
        case .nil, .bool(false): false
        default: true
        }
    }

    /// The integer this value holds, also for floats with an exact integer value (Lua's conversion rules).
    public var integerValue: Int64? {
        switch self {
        case .integer(let value): value
        case .number(let value): Int64(exactly: value)
        default: nil
        }
    }

    /// The number this value holds, integer or float.
    public var numberValue: Double? {
        switch self {
        case .integer(let value): Double(value)
        case .number(let value): value
        default: nil
        }
    }

    /// The string this value holds.
    public var stringValue: String? {
        if case .string(let value) = self { value } else { nil }
    }

    /// Looks up a field of a map (or an index of an array), as `t[key]` would without metamethods.
    public subscript(key: LuaValue) -> LuaValue {
        switch self {
        case .map(let fields):
            return fields[key] ?? .nil
        case .array(let items):
            guard let index = key.integerValue, index >= 1, index <= items.count else { return .nil }
            return items[Int(index) - 1]
        default:
            return .nil
        }
    }
}

extension LuaValue: ExpressibleByNilLiteral {
    public init(nilLiteral: ()) { self = .nil }
}

extension LuaValue: ExpressibleByBooleanLiteral {
    public init(booleanLiteral value: Bool) { self = .bool(value) }
}

extension LuaValue: ExpressibleByIntegerLiteral {
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension LuaValue: ExpressibleByFloatLiteral {
    public init(floatLiteral value: Double) { self = .number(value) }
}

extension LuaValue: ExpressibleByStringLiteral {
    public init(stringLiteral value: String) { self = .string(value) }
}

extension LuaValue: ExpressibleByArrayLiteral {
    public init(arrayLiteral elements: LuaValue...) { self = .array(elements) }
}

extension LuaValue: ExpressibleByDictionaryLiteral {
    public init(dictionaryLiteral elements: (LuaValue, LuaValue)...) {
        self = .map(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension LuaValue: CustomStringConvertible {
    /// The value as Lua source: `nil`, `true`, `42`, `0.5`, `"text"`, `{1, 2}`, `{a = 1, ["b c"] = 2}`.
    /// Map keys are sorted, so the rendering is deterministic.
    public var description: String {
        var output = ""
        render(into: &output)
        return output
    }

    private func render(into output: inout String) {
        switch self {
        case .nil: output += "nil"
        case .bool(let value): output += value ? "true" : "false"
        case .integer(let value): output += String(value)
        case .number(let value): output += Self.render(float: value)
        case .string(let value): output += Self.quoted(value)
        case .array(let items):
            output += "{"
            for (offset, item) in items.enumerated() {
                if offset > 0 { output += ", " }
                item.render(into: &output)
            }
            output += "}"
        case .map(let fields):
            output += "{"
            for (offset, key) in fields.keys.sorted(by: Self.keyOrder).enumerated() {
                if offset > 0 { output += ", " }
                if case .string(let name) = key, Self.isIdentifier(name) {
                    output += name
                } else {
                    output += "["
                    key.render(into: &output)
                    output += "]"
                }
                output += " = "
                fields[key, default: .nil].render(into: &output)
            }
            output += "}"
        }
    }

    /// Floats render exactly like Lua's `tostring`: `%.14g`, with `.0` added when that looks like an integer.
    private static func render(float value: Double) -> String {
        let text = String(format: "%.14g", value)
        return text.contains(where: { ".eEni".contains($0) }) ? text : text + ".0"
    }

    private static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F: output += "\\\(scalar.value)"
            default: output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }

    private static let reservedWords: Set<String> = [
        "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in", "local", "nil",
        "not", "or", "repeat", "return", "then", "true", "until", "while",
    ]

    private static func isIdentifier(_ name: String) -> Bool {
        guard let first = name.utf8.first, first == UInt8(ascii: "_") || isLetter(first) else { return false }
        return name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || isLetter($0) || ($0 >= 48 && $0 <= 57) }
            && !reservedWords.contains(name)
    }

    private static func isLetter(_ byte: UInt8) -> Bool {
        (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122)
    }

    /// Numbers first (by value), then strings (by bytes), then everything else by rendering.
    private static func keyOrder(_ left: LuaValue, _ right: LuaValue) -> Bool {
        switch (left.numberValue, right.numberValue) {
        case (let l?, let r?): return l < r
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): break
        }
        switch (left, right) {
        case (.string(let l), .string(let r)): return Array(l.utf8).lexicographicallyPrecedes(r.utf8)
        case (.string, _): return true
        case (_, .string): return false
        default: return left.description < right.description
        }
    }
}
