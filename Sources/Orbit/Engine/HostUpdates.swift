/// What the host itself derives from an event before rules run: orders and refunds, sign-up profile, consent.
/// Rules see the result; they never change these.
enum HostUpdates {
    static func apply(_ event: Event, to customer: inout Customer) throws(EventRejection) {
        switch event.type {
        case "purchase": try recordPurchase(event, on: &customer)
        case "refund": try recordRefund(event, on: &customer)
        case "signup", "profile", "consent": try updateProfile(from: event, on: &customer)
        default: break
        }
    }

    private static func recordPurchase(_ event: Event, on customer: inout Customer) throws(EventRejection) {
        guard let total = event.total else { throw EventRejection("a purchase needs 'total' and 'currency'") }
        try checkCurrency(total, of: customer)
        let orderID = event.orderID ?? event.id
        guard !customer.orders.contains(where: { $0.orderID == orderID }) else {
            throw EventRejection("order '\(orderID)' of customer '\(customer.id)' was already recorded")
        }
        customer.orders.append(OrderSummary(orderID: orderID, at: event.at, total: total))
    }

    private static func recordRefund(_ event: Event, on customer: inout Customer) throws(EventRejection) {
        guard let amount = event.total else { throw EventRejection("a refund needs 'total' and 'currency'") }
        guard let orderID = event.orderID else { throw EventRejection("a refund needs 'order', the order it refunds") }
        guard let index = customer.orders.firstIndex(where: { $0.orderID == orderID }) else {
            throw EventRejection("refund of unknown order '\(orderID)' of customer '\(customer.id)'")
        }
        try checkCurrency(amount, of: customer)
        let remaining = customer.orders[index].total
        guard amount.minorUnits <= remaining.minorUnits else {
            throw EventRejection("refund of \(amount) is more than what is left of order '\(orderID)' (\(remaining))")
        }
        customer.orders[index].total.minorUnits -= amount.minorUnits
    }

    private static func checkCurrency(_ amount: Money, of customer: Customer) throws(EventRejection) {
        if let currency = customer.orders.first?.total.currency, currency != amount.currency {
            throw EventRejection(
                "amount in \(amount.currency) but customer '\(customer.id)' has orders in \(currency)")
        }
    }

    /// `consent` (`{"email": true}`), `attributes` (an object), `referral_code`, `referred_by`.
    private static func updateProfile(from event: Event, on customer: inout Customer) throws(EventRejection) {
        if let consent = event.data["consent"] {
            guard case .object(let channels) = consent else {
                throw EventRejection("'consent' must be an object like {\"email\": true}")
            }
            for (name, value) in channels {
                guard let channel = Channel(rawValue: name), case .bool(let granted) = value else {
                    throw EventRejection("'consent.\(name)': channels are email, push, sms, whatsapp, each true or false")
                }
                customer.consent[channel] = granted
            }
        }
        if let attributes = event.data["attributes"] {
            guard case .object(let fields) = attributes else { throw EventRejection("'attributes' must be an object") }
            for (key, value) in fields { customer.attributes[key] = value == .null ? nil : value }
        }
        if case .string(let code)? = event.data["referral_code"] { customer.referralCode = code }
        if case .string(let referrer)? = event.data["referred_by"] {
            guard referrer != customer.id else { throw EventRejection("a customer cannot refer themselves") }
            if customer.referrer == nil { customer.referrer = referrer }
        }
    }
}
