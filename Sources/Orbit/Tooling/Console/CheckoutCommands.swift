import Foundation

/// `.quote CART_JSON`: prices a cart with a fresh engine over the console's store at the console's now. A quote
/// changes nothing, so the engine reads the store itself: caps used, budgets spent, issued coupons, referral codes.
extension RuleConsole {
    static let checkoutCommands: [ConsoleCommand] = [
        ConsoleCommand(
            name: "quote", arguments: "CART_JSON",
            summary: "price a cart: lines, offers applied, why every other offer did not apply; commits nothing"
        ) { console, json in
            guard !json.isEmpty else {
                throw ConsoleError(
                    #"usage: .quote {"customer": "anna", "currency": "EUR", "lines": [{"sku": "RUN-42", "#
                        + #""category": "shoes", "qty": 1, "price": 12999}], "coupons": [], "points": 0}"#)
            }
            return try await console.quote(json)
        }
    ]

    func quote(_ json: String) async throws -> String {
        let request = try CheckoutRequest(json: Data(json.utf8))
        let engine = Engine(
            rules: try sources.book(logger: logger), store: store, clock: ManualClock(now), logger: logger)
        let table = QuoteTable(try await engine.quote(request, at: now)).text
        return table + "(a quote: nothing committed)"
    }
}
