/// A JSON syntax error at a byte offset of the parsed text.
struct JSONSyntaxError: Error {
    var offset: Int
    var message: String
}

/// A small strict JSON parser (RFC 8259) over UTF-8 bytes, producing ``JSONValue``s. It is what NDJSON decoding uses:
/// several times faster than `JSONDecoder` for one small object per line, and it can say where the text is wrong.
/// Integers that fit in `Int64` stay integers; other numbers become `Double`. Duplicate object keys are errors.
struct JSONParser {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0
    private var depth = 0

    /// How deeply arrays and objects may nest.
    static let maximumDepth = 64

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// Parses one whole document: a value with nothing but whitespace after it.
    mutating func parseDocument() throws(JSONSyntaxError) -> JSONValue {
        let value = try parseValue()
        try finish()
        return value
    }

    private var current: UInt8? { index < bytes.count ? bytes[index] : nil }

    private func failure(_ message: String) -> JSONSyntaxError {
        JSONSyntaxError(offset: index, message: message)
    }

    private func describeCurrent() -> String {
        guard let byte = current else { return "end of line" }
        switch byte {
        case 0x21...0x7E: return "'\(Character(Unicode.Scalar(byte)))'"
        case 0x80...: return "non-ASCII character"
        default: return "byte 0x\(String(byte, radix: 16, uppercase: true))"
        }
    }

    private mutating func skipWhitespace() {
        while index < bytes.count {
            switch bytes[index] {
            case 0x20, 0x09, 0x0A, 0x0D: index += 1
            default: return
            }
        }
    }

    mutating func parseValue() throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        guard let byte = current else { throw failure("unexpected end of line, expected a value") }
        switch byte {
        case UInt8(ascii: "{"): return .object(try parseObject())
        case UInt8(ascii: "["): return .array(try parseArray())
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try literal("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try literal("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try literal("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw failure("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func literal(_ word: StaticString) throws(JSONSyntaxError) {
        let start = index
        let count = word.utf8CodeUnitCount
        guard bytes.count - index >= count else {
            throw JSONSyntaxError(offset: start, message: "unexpected \(describeCurrent()), expected a value")
        }
        for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] {
            throw JSONSyntaxError(offset: start, message: "unexpected \(describeCurrent()), expected a value")
        }
        index += count
    }

    private mutating func enter() throws(JSONSyntaxError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw failure("nested more than \(Self.maximumDepth) levels deep") }
    }

    /// Where ``nextKey(_:)`` is in an object.
    struct ObjectCursor {
        fileprivate var lastKey: String?
    }

    /// Whether the next value (after whitespace) is an object.
    mutating func nextIsObject() -> Bool {
        skipWhitespace()
        return current == UInt8(ascii: "{")
    }

    /// Whether the next value (after whitespace) is an array.
    mutating func nextIsArray() -> Bool {
        skipWhitespace()
        return current == UInt8(ascii: "[")
    }

    /// Consumes the `{` of an object; ``nextKey(_:)`` then reads its keys. The next value must be an object.
    mutating func beginObject() throws(JSONSyntaxError) -> ObjectCursor {
        skipWhitespace()
        guard current == UInt8(ascii: "{") else { throw failure("expected an object, found \(describeCurrent())") }
        try enter()
        index += 1
        return ObjectCursor()
    }

    /// The next key of the object and its offset, with its `:` consumed so that the value comes next; nil once the
    /// closing `}` is consumed.
    mutating func nextKey(_ cursor: inout ObjectCursor) throws(JSONSyntaxError) -> (key: String, offset: Int)? {
        skipWhitespace()
        if let lastKey = cursor.lastKey {
            switch current {
            case UInt8(ascii: ","):
                index += 1
                skipWhitespace()
            case UInt8(ascii: "}"):
                index += 1
                depth -= 1
                return nil
            default:
                throw failure("expected ',' or '}' after the value of '\(lastKey)', found \(describeCurrent())")
            }
        } else if current == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return nil
        }
        guard current == UInt8(ascii: "\"") else {
            throw failure("expected a field name in double quotes, found \(describeCurrent())")
        }
        let offset = index
        let key = try parseString()
        skipWhitespace()
        guard current == UInt8(ascii: ":") else {
            throw failure("expected ':' after the field name \"\(key)\", found \(describeCurrent())")
        }
        index += 1
        cursor.lastKey = key
        return (key, offset)
    }

    /// Consumes the `[` of an array; ``nextElement(_:)`` then says whether an element follows.
    mutating func beginArray() throws(JSONSyntaxError) -> ArrayCursor {
        skipWhitespace()
        guard current == UInt8(ascii: "[") else { throw failure("expected an array, found \(describeCurrent())") }
        try enter()
        index += 1
        return ArrayCursor()
    }

    /// Where ``nextElement(_:)`` is in an array.
    struct ArrayCursor {
        fileprivate var first = true
    }

    /// True when another element follows (the caller then parses it); false once the closing `]` is consumed.
    mutating func nextElement(_ cursor: inout ArrayCursor) throws(JSONSyntaxError) -> Bool {
        skipWhitespace()
        if cursor.first {
            cursor.first = false
        } else {
            guard current != UInt8(ascii: ",") else {
                index += 1
                return true
            }
            guard current == UInt8(ascii: "]") else {
                throw failure("expected ',' or ']' in an array, found \(describeCurrent())")
            }
        }
        guard current == UInt8(ascii: "]") else { return true }
        index += 1
        depth -= 1
        return false
    }

    /// Checks that only whitespace is left.
    mutating func finish() throws(JSONSyntaxError) {
        skipWhitespace()
        guard index == bytes.count else {
            throw failure("unexpected \(describeCurrent()) after the end of the JSON value")
        }
    }

    private mutating func parseObject() throws(JSONSyntaxError) -> [String: JSONValue] {
        var cursor = try beginObject()
        var fields: [String: JSONValue] = [:]
        while let (key, offset) = try nextKey(&cursor) {
            if fields.updateValue(try parseValue(), forKey: key) != nil {
                throw JSONSyntaxError(offset: offset, message: "duplicate field '\(key)'")
            }
        }
        return fields
    }

    private mutating func parseArray() throws(JSONSyntaxError) -> [JSONValue] {
        var cursor = try beginArray()
        var items: [JSONValue] = []
        while try nextElement(&cursor) {
            items.append(try parseValue())
        }
        return items
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = index
        index += 1
        let contentStart = index
        var ascii = true
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "\"") {
                let content = UnsafeBufferPointer(rebasing: bytes[contentStart..<index])
                index += 1
                if ascii { return String(decoding: content, as: UTF8.self) }
                guard let text = String(validating: content, as: UTF8.self) else {
                    throw JSONSyntaxError(offset: start, message: "invalid UTF-8 in a string")
                }
                return text
            }
            if byte == UInt8(ascii: "\\") { return try parseEscapedString(start: start, contentStart: contentStart) }
            if byte < 0x20 { throw failure("unescaped control character in a string") }
            if byte >= 0x80 { ascii = false }
            index += 1
        }
        throw JSONSyntaxError(offset: start, message: "unterminated string")
    }

    /// The slow path of ``parseString()``, from the first backslash on.
    private mutating func parseEscapedString(start: Int, contentStart: Int) throws(JSONSyntaxError) -> String {
        var buffer = Array(UnsafeBufferPointer(rebasing: bytes[contentStart..<index]))
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "\""):
                index += 1
                guard let text = String(validating: buffer, as: UTF8.self) else {
                    throw JSONSyntaxError(offset: start, message: "invalid UTF-8 in a string")
                }
                return text
            case UInt8(ascii: "\\"):
                index += 1
                guard let escape = current else { break }
                index += 1
                switch escape {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): buffer.append(escape)
                case UInt8(ascii: "b"): buffer.append(0x08)
                case UInt8(ascii: "f"): buffer.append(0x0C)
                case UInt8(ascii: "n"): buffer.append(0x0A)
                case UInt8(ascii: "r"): buffer.append(0x0D)
                case UInt8(ascii: "t"): buffer.append(0x09)
                case UInt8(ascii: "u"):
                    let scalar = try parseUnicodeEscape()
                    buffer.append(contentsOf: String(Character(scalar)).utf8)
                default:
                    index -= 2
                    throw failure("invalid escape '\\\(Character(Unicode.Scalar(escape)))' in a string")
                }
            default:
                if byte < 0x20 { throw failure("unescaped control character in a string") }
                buffer.append(byte)
                index += 1
            }
        }
        throw JSONSyntaxError(offset: start, message: "unterminated string")
    }

    /// After `\u`: four hex digits, and a second `\uXXXX` for a surrogate pair.
    private mutating func parseUnicodeEscape() throws(JSONSyntaxError) -> Unicode.Scalar {
        let escapeStart = index - 2
        let first = try hexQuad()
        if (0xD800...0xDBFF).contains(first) {
            guard bytes.count - index >= 2, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u")
            else { throw JSONSyntaxError(offset: escapeStart, message: "unpaired surrogate in a \\u escape") }
            index += 2
            let second = try hexQuad()
            guard (0xDC00...0xDFFF).contains(second),
                let scalar = Unicode.Scalar(0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00))
            else { throw JSONSyntaxError(offset: escapeStart, message: "unpaired surrogate in a \\u escape") }
            return scalar
        }
        guard let scalar = Unicode.Scalar(first) else {
            throw JSONSyntaxError(offset: escapeStart, message: "unpaired surrogate in a \\u escape")
        }
        return scalar
    }

    private mutating func hexQuad() throws(JSONSyntaxError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = current else { throw failure("expected four hex digits after \\u") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw failure("expected four hex digits after \\u")
            }
            value = value << 4 | UInt32(digit)
            index += 1
        }
        return value
    }

    private static func isDigit(_ byte: UInt8?) -> Bool {
        guard let byte else { return false }
        return byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        let negative = current == UInt8(ascii: "-")
        if negative { index += 1 }
        guard Self.isDigit(current) else { throw failure("expected a digit after '-'") }
        var magnitude: UInt64 = 0
        var overflow = false
        if current == UInt8(ascii: "0") {
            index += 1
            if Self.isDigit(current) { throw failure("numbers must not have leading zeros") }
        } else {
            while let byte = current, Self.isDigit(byte) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = sum
                index += 1
            }
        }
        var isInteger = true
        if current == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard Self.isDigit(current) else { throw failure("expected a digit after the decimal point") }
            while Self.isDigit(current) { index += 1 }
        }
        if current == UInt8(ascii: "e") || current == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if current == UInt8(ascii: "+") || current == UInt8(ascii: "-") { index += 1 }
            guard Self.isDigit(current) else { throw failure("expected a digit in the exponent") }
            while Self.isDigit(current) { index += 1 }
        }
        if isInteger, !overflow {
            if !negative, magnitude <= UInt64(Int64.max) { return .integer(Int64(magnitude)) }
            if negative, magnitude <= UInt64(Int64.max) + 1 {
                return .integer(Int64(truncatingIfNeeded: 0 &- magnitude))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
        guard let number = Double(text), number.isFinite else {
            throw JSONSyntaxError(offset: start, message: "number out of range: \(text)")
        }
        return .number(number)
    }
}

extension JSONValue {
    /// The value as an error message quotes it: strings in JSON quotes (shortened), numbers as written, containers by
    /// kind. `"49.99"`, `49.99`, `null`, `an array`.
    var quotedForMessage: String {
        switch self {
        case .null: return "null"
        case .bool(let flag): return flag ? "true" : "false"
        case .integer(let number): return String(number)
        case .number(let number): return String(number)
        case .string(let text): return quoteForMessage(text)
        case .array: return "an array"
        case .object: return "an object"
        }
    }
}

/// `text` in double quotes with quotes, backslashes and control characters escaped, cut after 60 characters.
func quoteForMessage(_ text: some StringProtocol) -> String {
    var result = "\""
    for (offset, character) in text.enumerated() {
        if offset == 60 {
            result += "…"
            break
        }
        switch character {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\r": result += "\\r"
        case "\t": result += "\\t"
        default: result.append(character)
        }
    }
    return result + "\""
}
