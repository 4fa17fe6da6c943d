public import Foundation

extension CheckoutRequest {
    /// Reads a checkout request from JSON:
    /// `{"customer":"anna","currency":"EUR","lines":[{"sku":"A1","category":"shoes","qty":2,"price":4999}],
    /// "coupons":["WELCOME5"],"points":500,"referral_code":"REF-…"}`. `customer` may be left out when `customerID`
    /// is given; amounts are minor units.
    ///
    /// - Throws: ``CheckoutError/invalidRequest(_:)`` naming the field that is wrong and why.
    public init(json: Data, customerID: String? = nil) throws(CheckoutError) {
        let file: CheckoutFile
        do {
            file = try JSONDecoder().decode(CheckoutFile.self, from: json)
        } catch let error as DecodingError {
            throw .invalidRequest(Self.describe(error))
        } catch {
            throw .invalidRequest("\(error)")
        }
        guard let customer = customerID ?? file.customer, !customer.isEmpty else {
            throw .invalidRequest("'customer' is missing: whose cart is it?")
        }
        guard let currency = Currency(code: file.currency) else {
            throw .invalidRequest("'currency': unknown currency '\(file.currency)'")
        }
        self.init(
            customerID: customer,
            cart: Cart(
                currency: currency,
                lines: file.lines.map { LineItem(sku: $0.sku, category: $0.category, quantity: $0.qty, price: $0.price) }),
            coupons: file.coupons ?? [], points: file.points ?? 0, referralCode: file.referralCode)
    }

    private struct CheckoutFile: Decodable {
        struct Line: Decodable {
            var sku: String
            var category: String?
            var qty: Int64
            var price: Int64
        }

        var customer: String?
        var currency: String
        var lines: [Line]
        var coupons: [String]?
        var points: Int64?
        var referralCode: String?

        enum CodingKeys: String, CodingKey {
            case customer, currency, lines, coupons, points, referralCode = "referral_code"
        }
    }

    /// `lines[1].qty: expected a whole number` rather than Foundation's description.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
                .trimmingCharacters(in: CharacterSet(charactersIn: "."))
        }
        switch error {
        case .keyNotFound(let key, let context):
            let parent = path(context.codingPath)
            return "'\(parent.isEmpty ? "" : parent + ".")\(key.stringValue)' is missing"
        case .typeMismatch(let type, let context), .valueNotFound(let type, let context):
            let expected = type == Int64.self ? "a whole number" : type == String.self ? "text" : "\(type)"
            return "'\(path(context.codingPath))': expected \(expected)"
        case .dataCorrupted(let context):
            return context.codingPath.isEmpty
                ? "not valid JSON" : "'\(path(context.codingPath))': \(context.debugDescription)"
        @unknown default:
            return "\(error)"
        }
    }
}
