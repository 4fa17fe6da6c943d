import Foundation
import Orbit

/// The session's printed log: short, readable lines for quotes, receipts, refunds and notifications.
enum Describe {
    static func money(_ minorUnits: Int64, _ currency: Currency) -> String {
        Money(minorUnits: minorUnits, currency: currency).description
    }

    /// `text` right-aligned in `width` characters.
    private static func right(_ text: String, _ width: Int) -> String {
        String(repeating: " ", count: max(0, width - text.count)) + text
    }

    static func quote(_ quote: Quote) {
        let currency = quote.currency
        for line in quote.lines {
            let sku = line.sku.padding(toLength: 10, withPad: " ", startingAt: 0)
            let columns = [
                right("\(line.qty) × \(money(line.price, currency))", 15), right("−\(money(line.discount, currency))", 12),
                right("= \(money(line.net, currency))", 13),
            ]
            print("   line \(line.line) \(sku)\(columns.joined(separator: " "))")
        }
        for offer in quote.applied {
            let coupon = offer.coupon.map { " with \($0)" } ?? ""
            let shares = offer.lines.map { "line \($0.line) −\(money($0.amount, currency))" }.joined(separator: ", ")
            let extra = offer.extraPoints > 0 ? "+\(offer.extraPoints) points" : ""
            let amount = offer.discount > 0 ? "−\(money(offer.discount, currency)) (\(shares))" : ""
            print("   applied \(offer.offer)\(coupon): \([amount, extra].filter { !$0.isEmpty }.joined(separator: ", "))")
        }
        for rejection in quote.notApplied {
            print("   not applied \(rejection.offer) [\(rejection.reason.rawValue)]: \(rejection.detail)")
        }
        print("   subtotal \(money(quote.subtotal, currency)), discount \(money(quote.discount, currency)), total \(money(quote.total, currency))")
        print("   pay \(quote.pointsToRedeem) points (\(money(quote.pointsValue, currency))), due \(quote.amountDue), earn \(quote.pointsToEarn) points\n")
    }

    static func receipt(_ receipt: OrderReceipt) {
        let state = receipt.isNew ? "committed" : "already committed, the first receipt again"
        print("   \(receipt.orderID) \(state): due \(receipt.quote.amountDue), offers \(receipt.quote.applied.map(\.offer).joined(separator: ", ")), earned \(receipt.pointsEarned) points, paid \(receipt.pointsRedeemed) points")
    }

    static func refund(_ refund: RefundRecord) {
        let currency = refund.currency
        print("   refunded \(money(refund.amount, currency)) net: \(money(refund.money, currency)) in money, \(refund.pointsReturned) paid points given back, \(refund.pointsReversed) earned points taken back")
        let restored = refund.restoredOffers.isEmpty ? "none (the order is not fully refunded)" : refund.restoredOffers.joined(separator: ", ")
        print("   offer uses restored: \(restored)")
    }

    static func notification(_ notification: EngineNotification) -> String {
        switch notification {
        case .pointsAwarded(let customer, let points, let rule): "\(customer): +\(points) points (\(rule ?? "host"))"
        case .pointsSpent(let customer, let points, let rule): "\(customer): −\(points) points (\(rule ?? "host"))"
        case .pointsExpired(let customer, let points): "\(customer): \(points) points expired"
        case .tierChanged(let customer, let from, let to): "\(customer): tier \(from ?? "none") → \(to ?? "none")"
        case .segmentEntered(let customer, let segment): "\(customer): entered segment \(segment)"
        case .segmentLeft(let customer, let segment): "\(customer): left segment \(segment)"
        case .messageQueued(let message): "\(message.customerID): \(message.channel) message \(message.template) queued"
        }
    }
}
