/// Exact decimal arithmetic for amounts read from text: no `Double` anywhere.
enum DecimalAmount {
    static func powerOfTen(_ exponent: Int) -> Int64 {
        var value: Int64 = 1
        for _ in 0..<exponent { value *= 10 }
        return value
    }

    /// Parses a decimal number of major units (`29.33`, `0`, `1.5`, `100`) into minor units of a currency with
    /// `digits` decimals. `separator` is `.` or `,`. Throws with a message that starts after the column's label.
    static func parseDecimal(_ text: Substring, digits: Int, separator: UInt8) throws(InputProblem) -> Int64 {
        let bytes = Array(text.utf8)
        var index = 0
        let negative = bytes.first == UInt8(ascii: "-")
        if negative { index += 1 }
        var whole: Int64 = 0
        var wholeDigits = 0
        var tooLarge = false
        while index < bytes.count, let digit = digitValue(bytes[index]) {
            if whole > NDJSONEventDecoder.maximumMinorUnits { tooLarge = true } else { whole = whole * 10 + digit }
            wholeDigits += 1
            index += 1
        }
        var fraction: Int64 = 0
        var fractionDigits = 0
        var separatorSeen = false
        if index < bytes.count, bytes[index] == separator {
            separatorSeen = true
            index += 1
            while index < bytes.count, let digit = digitValue(bytes[index]) {
                if fractionDigits < digits {
                    fraction = fraction * 10 + digit
                } else if digit != 0 {
                    let code = "\(digits) decimal\(digits == 1 ? "" : "s")"
                    throw InputProblem("has more decimals than the currency's \(code), got \(quoteForMessage(text))")
                }
                fractionDigits += 1
                index += 1
            }
        }
        guard index == bytes.count, wholeDigits > 0, !separatorSeen || fractionDigits > 0 else {
            let example = separator == UInt8(ascii: ",") ? "29,33" : "29.33"
            throw InputProblem("must be a decimal amount like \(example), got \(quoteForMessage(text))")
        }
        if fractionDigits < digits { fraction *= powerOfTen(digits - min(fractionDigits, digits)) }
        let scale = powerOfTen(digits)
        let (scaled, overflow) = whole.multipliedReportingOverflow(by: scale)
        let minorUnits = scaled &+ fraction
        guard !tooLarge, !overflow, minorUnits <= NDJSONEventDecoder.maximumMinorUnits else {
            throw InputProblem(
                "is absurdly large: \(quoteForMessage(text)) (the limit is "
                    + "\(NDJSONEventDecoder.maximumMinorUnits) minor units)")
        }
        guard !negative || minorUnits == 0 else {
            throw InputProblem("must not be negative, got \(quoteForMessage(text))")
        }
        return minorUnits
    }

    /// Parses an integer number of minor units (`2933`).
    static func parseMinor(_ text: Substring) throws(InputProblem) -> Int64 {
        let bytes = Array(text.utf8)
        let negative = bytes.first == UInt8(ascii: "-")
        let digitBytes = negative ? bytes.dropFirst() : bytes[...]
        var value: Int64 = 0
        guard !digitBytes.isEmpty else {
            throw InputProblem("must be an integer number of minor units, got \(quoteForMessage(text))")
        }
        for byte in digitBytes {
            guard let digit = digitValue(byte) else {
                throw InputProblem("must be an integer number of minor units, got \(quoteForMessage(text))")
            }
            guard value <= NDJSONEventDecoder.maximumMinorUnits else {
                throw InputProblem(
                    "is absurdly large: \(quoteForMessage(text)) (the limit is "
                        + "\(NDJSONEventDecoder.maximumMinorUnits) minor units)")
            }
            value = value * 10 + digit
        }
        guard value <= NDJSONEventDecoder.maximumMinorUnits else {
            throw InputProblem(
                "is absurdly large: \(quoteForMessage(text)) (the limit is "
                    + "\(NDJSONEventDecoder.maximumMinorUnits) minor units)")
        }
        guard !negative || value == 0 else { throw InputProblem("must not be negative, got \(quoteForMessage(text))") }
        return value
    }

    static func digitValue(_ byte: UInt8) -> Int64? {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") ? Int64(byte - UInt8(ascii: "0")) : nil
    }
}

/// A positive exact decimal rate: `numerator / 10^scaleDigits`.
struct DecimalRate: Sendable, Hashable {
    let numerator: Int128
    let scaleDigits: Int

    /// At most 18 significant digits, so that conversions of amounts up to 10^12 minor units cannot overflow.
    init?(_ text: String) {
        var numerator: Int128 = 0
        var significant = 0
        var scaleDigits = 0
        var seenPoint = false
        var seenDigit = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: "."), !seenPoint {
                seenPoint = true
                continue
            }
            guard let digit = DecimalAmount.digitValue(byte) else { return nil }
            seenDigit = true
            numerator = numerator * 10 + Int128(digit)
            if numerator > 0 { significant += 1 }
            if seenPoint { scaleDigits += 1 }
            guard significant <= 18, scaleDigits <= 18 else { return nil }
        }
        guard seenDigit, numerator > 0, text.utf8.last != UInt8(ascii: ".") else { return nil }
        self.numerator = numerator
        self.scaleDigits = scaleDigits
    }

    /// `minorUnits` of a currency with `fromDigits` decimals, in minor units of one with `toDigits` decimals, rounded
    /// half to even; nil when the result is more than ``NDJSONEventDecoder/maximumMinorUnits``.
    func convert(_ minorUnits: Int64, fromDigits: Int, toDigits: Int) -> Int64? {
        var dividend = Int128(minorUnits) * numerator
        var divisor: Int128 = 1
        for _ in 0..<(scaleDigits + fromDigits) { divisor *= 10 }
        for _ in 0..<toDigits { dividend *= 10 }
        let result = Self.divideRoundingHalfEven(dividend, divisor)
        guard result <= Int128(NDJSONEventDecoder.maximumMinorUnits) else { return nil }
        return Int64(result)
    }

    /// `dividend / divisor` for a non-negative dividend and a positive divisor, rounded half to even.
    static func divideRoundingHalfEven(_ dividend: Int128, _ divisor: Int128) -> Int128 {
        let quotient = dividend / divisor
        let twiceRemainder = (dividend % divisor) * 2
        if twiceRemainder > divisor || (twiceRemainder == divisor && quotient % 2 != 0) { return quotient + 1 }
        return quotient
    }
}
