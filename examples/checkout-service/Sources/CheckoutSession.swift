import Orbit

/// One customer's visit, scripted: sign up, fill a cart (a quote on every change), place the order (refused first
/// with a stale total, then committed; retried with the same order id), try a used coupon, return one item.
struct CheckoutSession {
    let engine: Engine
    let clock: ManualClock

    private let customer = "anna"
    private let shoes = LineItem(sku: "RUN-42", category: "shoes", quantity: 1, price: 8995)
    private let bottle = LineItem(sku: "BOTTLE-75", category: "outdoor", quantity: 1, price: 1990)
    private let socks = LineItem(sku: "SOCK-01", category: "socks", quantity: 2, price: 995)

    func run() async throws {
        print("Checkout session at \(clock.now()) (2026-03-28 11:00 in Berlin)\n")

        // The shop forwards its own events; a signup earns the welcome points.
        _ = try await engine.ingest(Event(id: "signup-anna", type: "signup", customerID: customer, at: clock.now()))
        print("1. anna signs up: balance \(try await balance()) points\n")

        // Quote on every cart change: quotes change nothing, so call them as often as the cart page needs.
        var cart = Cart(currency: .eur, lines: [shoes, bottle])
        let first = try await engine.quote(request(cart))
        print("2. Cart: shoes and a bottle, coupon WELCOME10, pay 400 points → quote")
        Describe.quote(first)

        cart.lines.append(socks)
        let second = try await engine.quote(request(cart))
        print("3. Two pairs of socks added → quote again")
        Describe.quote(second)

        // Commit with the total the customer saw: a page still showing the first quote is refused, nothing changes.
        print("4. Place order-1001 with the total of the first quote (\(first.amountDue))")
        try await placeOrder("order-1001", request(cart), expectedTotal: first.totalDue)
        print("5. Place order-1001 with the total on screen (\(second.amountDue))")
        try await placeOrder("order-1001", request(cart), expectedTotal: second.totalDue)
        print("   balance now \(try await balance()) points\n")

        // A retry with the same order id (a timeout, a double click) returns the first receipt and applies nothing.
        print("6. Place order-1001 again (a retry)")
        try await placeOrder("order-1001", request(cart), expectedTotal: second.totalDue)
        print("   balance still \(try await balance()) points\n")

        print("7. Place order-1002 with WELCOME10 again")
        try await placeOrder("order-1002", request(Cart(currency: .eur, lines: [shoes])), expectedTotal: nil)

        // The bottle comes back. The refund id is the return's id in the shop: the same id again changes nothing.
        print("8. The bottle comes back: refund return-5001 of line 2")
        let refund = try await engine.refund(
            orderID: "order-1001", refundID: "return-5001", lines: [RefundLine(line: 2, qty: 1)])
        Describe.refund(refund)
        let again = try await engine.refund(
            orderID: "order-1001", refundID: "return-5001", lines: [RefundLine(line: 2, qty: 1)])
        print("   the same refund id again: new \(again.isNew), \(Describe.money(again.money, again.currency)) as before")
        print("   balance now \(try await balance()) points\n")
    }

    private func request(_ cart: Cart) -> CheckoutRequest {
        CheckoutRequest(customerID: customer, cart: cart, coupons: ["WELCOME10"], points: 400)
    }

    /// Commits an order and shows the receipt, or what the checkout page would tell the customer when it is refused.
    private func placeOrder(_ orderID: String, _ request: CheckoutRequest, expectedTotal: Int64?) async throws {
        do {
            let receipt = try await engine.commit(orderID: orderID, request, expectedTotal: expectedTotal)
            Describe.receipt(receipt)
        } catch let error as CheckoutError {
            switch error {
            case .priceChanged(let expected, let actual):
                print("   refused: price changed from \(expected) to \(actual); show the new quote and ask again\n")
            case .couponRejected(let code, let reason):
                print("   refused: coupon \(code): \(reason); remove it from the cart and quote again\n")
            case .invalidCart, .currencyMismatch, .orderConflict, .invalidRefund, .invalidRequest:
                // Bugs in the caller, not the customer's doing: let them fail loudly.
                throw error
            }
        }
    }

    private func balance() async throws -> Int64 {
        try await engine.customer(customer)?.pointsBalance ?? 0
    }
}
