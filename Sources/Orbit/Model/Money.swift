/// An ISO 4217 currency: its code and how many minor units a major unit has.
public struct Currency: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The three-letter code, e.g. `EUR`.
    public let code: String
    /// Digits after the decimal point: 2 for EUR (cents), 0 for JPY.
    public let minorUnitDigits: Int

    /// The currency with `code`, or nil when Orbit does not know it.
    public init?(code: String) {
        guard let digits = Self.known[code] else { return nil }
        self.code = code
        self.minorUnitDigits = digits
    }

    public var description: String { code }

    public static let eur = Currency(validCode: "EUR")
    public static let usd = Currency(validCode: "USD")

    private init(validCode: String) {
        code = validCode
        minorUnitDigits = Self.known[validCode] ?? 2
    }

    public init(from decoder: any Decoder) throws {
        let code = try decoder.singleValueContainer().decode(String.self)
        guard let currency = Currency(code: code) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown currency '\(code)'"))
        }
        self = currency
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }

    /// The currencies a shop is likely to sell in, with their minor-unit digits (ISO 4217).
    static let known: [String: Int] = [
        "EUR": 2, "USD": 2, "GBP": 2, "CHF": 2, "JPY": 0, "SEK": 2, "NOK": 2, "DKK": 2, "PLN": 2, "CZK": 2,
        "HUF": 2, "RON": 2, "BGN": 2, "ISK": 0, "TRY": 2, "CAD": 2, "AUD": 2, "NZD": 2, "MXN": 2, "BRL": 2,
        "ARS": 2, "CLP": 0, "COP": 2, "CNY": 2, "HKD": 2, "SGD": 2, "KRW": 0, "INR": 2, "IDR": 2, "THB": 2,
        "MYR": 2, "PHP": 2, "VND": 0, "ZAR": 2, "AED": 2, "SAR": 2, "ILS": 2, "EGP": 2, "UAH": 2, "KWD": 3,
        "BHD": 3, "TND": 3,
    ]
}

/// An amount of money: integer minor units (cents) and a currency. Never a floating-point number.
public struct Money: Hashable, Sendable, CustomStringConvertible, Codable {
    /// The amount in minor units (4999 EUR cents = 49.99 EUR).
    public var minorUnits: Int64
    /// The currency of the amount.
    public var currency: Currency

    /// Creates an amount from minor units.
    public init(minorUnits: Int64, currency: Currency) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    /// Zero in `currency`.
    public static func zero(_ currency: Currency) -> Money { Money(minorUnits: 0, currency: currency) }

    /// `49.99 EUR`.
    public var description: String {
        let digits = currency.minorUnitDigits
        guard digits > 0 else { return "\(minorUnits) \(currency.code)" }
        var scale: Int64 = 1
        for _ in 0..<digits { scale *= 10 }
        let sign = minorUnits < 0 ? "-" : ""
        let magnitude = minorUnits.magnitude
        let fraction = String(magnitude % UInt64(scale))
        let padded = String(repeating: "0", count: max(0, digits - fraction.count)) + fraction
        return "\(sign)\(magnitude / UInt64(scale)).\(padded) \(currency.code)"
    }
}
