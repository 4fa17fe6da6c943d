/// A shopping cart as the checkout sees it: a currency and lines. Quotes never change it.
public struct Cart: Hashable, Sendable, Codable {
    public var currency: Currency
    public var lines: [LineItem]

    public init(currency: Currency, lines: [LineItem]) {
        self.currency = currency
        self.lines = lines
    }

    /// The largest quantity and unit price a line may have: far beyond any real cart, small enough that no sum of
    /// line totals can overflow.
    public static let maximumQuantity: Int64 = 1_000_000
    public static let maximumUnitPrice: Int64 = 1_000_000_000_00
    public static let maximumLines = 10_000

    /// Checks what a checkout must refuse before it evaluates anything: no lines, too many, empty SKUs, quantities
    /// below 1, negative or absurd prices.
    public func validate() throws(CheckoutError) {
        guard !lines.isEmpty else { throw CheckoutError.invalidCart("the cart has no lines") }
        guard lines.count <= Self.maximumLines else {
            throw CheckoutError.invalidCart("the cart has \(lines.count) lines; at most \(Self.maximumLines)")
        }
        for (index, line) in lines.enumerated() {
            func label() -> String { "line \(index + 1) (\(line.sku.isEmpty ? "no sku" : "sku \(line.sku)"))" }
            guard !line.sku.isEmpty else { throw CheckoutError.invalidCart("\(label()): sku must not be empty") }
            guard line.quantity >= 1, line.quantity <= Self.maximumQuantity else {
                throw CheckoutError.invalidCart(
                    "\(label()): qty must be a whole number from 1 to \(Self.maximumQuantity), got \(line.quantity)")
            }
            guard line.price >= 0, line.price <= Self.maximumUnitPrice else {
                throw CheckoutError.invalidCart(
                    "\(label()): price must be minor units from 0 to \(Self.maximumUnitPrice), got \(line.price)")
            }
        }
    }

    /// Line totals (unit price × quantity), in line order.
    var lineTotals: [Int64] { lines.map { $0.price * $0.quantity } }

    /// A canonical text of the cart.
    var fingerprint: String {
        var text = currency.code
        for line in lines {
            text += "|\(line.sku)\u{1F}\(line.category ?? "")\u{1F}\(line.quantity)\u{1F}\(line.price)"
        }
        return text
    }
}

/// Why a checkout call was refused. Nothing was changed.
public enum CheckoutError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The cart is malformed (no lines, negative quantity or price, …).
    case invalidCart(String)
    /// The cart's currency is not the customer's or the programme's.
    case currencyMismatch(String)
    /// A coupon given to `commit` cannot be used (unknown, expired, used up, someone else's).
    case couponRejected(code: String, reason: String)
    /// The same order id was committed before with a different cart.
    case orderConflict(String)
    /// The order or refund does not exist or does not fit (more than was bought).
    case invalidRefund(String)
    /// The price the caller expected is not the price the rules give now (an offer's budget or cap ran out).
    case priceChanged(expected: Money, actual: Money)
    /// A customer is unknown where one must exist, or the request is malformed.
    case invalidRequest(String)

    public var description: String {
        switch self {
        case .invalidCart(let message): "invalid cart: \(message)"
        case .currencyMismatch(let message): "currency mismatch: \(message)"
        case .couponRejected(let code, let reason): "coupon \(code): \(reason)"
        case .orderConflict(let message): "order conflict: \(message)"
        case .invalidRefund(let message): "invalid refund: \(message)"
        case .priceChanged(let expected, let actual):
            "price changed: expected a total of \(expected), the rules now give \(actual); nothing was committed"
        case .invalidRequest(let message): "invalid request: \(message)"
        }
    }
}
