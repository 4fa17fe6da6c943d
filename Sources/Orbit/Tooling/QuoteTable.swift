/// A quote as a readable table: the priced lines, the offers applied, every offer not applied with its reason, and
/// the totals (`orbit quote --explain`, the REPL's `.quote`).
public struct QuoteTable {
    let quote: Quote

    /// A table of `quote`.
    public init(_ quote: Quote) { self.quote = quote }

    /// The table, one line per row, ending with a newline.
    public var text: String {
        var out = "Quote for \(quote.customerID) at \(quote.at) (\(quote.currency))\n"
        out += row(["#", "sku", "qty", "price", "total", "discount", "net"]) + "\n"
        for line in quote.lines {
            out += row([
                "\(line.line)", line.sku, "\(line.qty)", amount(line.price), amount(line.total), amount(line.discount),
                amount(line.net),
            ]) + "\n"
        }
        out += "Applied:\n"
        if quote.applied.isEmpty { out += "  (none)\n" }
        for offer in quote.applied {
            var extras: [String] = []
            if let coupon = offer.coupon { extras.append("coupon \(coupon)") }
            if offer.extraPoints > 0 { extras.append("+\(offer.extraPoints) points") }
            if let note = offer.note { extras.append(note) }
            out += "  \(pad(offer.offer, 24)) -\(amount(offer.discount))"
            out += extras.isEmpty ? "\n" : "  (\(extras.joined(separator: "; ")))\n"
        }
        out += "Not applied:\n"
        if quote.notApplied.isEmpty && quote.rejectedCoupons.isEmpty { out += "  (none)\n" }
        for rejection in quote.notApplied { out += "  \(pad(rejection.offer, 24)) \(rejection.detail)\n" }
        for coupon in quote.rejectedCoupons { out += "  \(pad("coupon " + coupon.code, 24)) \(coupon.detail)\n" }
        out += "Subtotal \(amount(quote.subtotal))  discount \(amount(quote.discount))  total \(amount(quote.total))"
        if quote.pointsToRedeem > 0 {
            out += "  paid with \(quote.pointsToRedeem) points \(amount(quote.pointsValue))"
        }
        out += "  due \(Money(minorUnits: quote.totalDue, currency: quote.currency))"
        out += "  points to earn \(quote.pointsToEarn)\n"
        return out
    }

    private func amount(_ minorUnits: Int64) -> String {
        let text = Money(minorUnits: minorUnits, currency: quote.currency).description
        return String(text.dropLast(quote.currency.code.count + 1))
    }

    private func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    private func row(_ cells: [String]) -> String {
        let widths = [3, 12, 5, 10, 10, 10, 10]
        return zip(cells, widths).enumerated().map { index, pair in
            let (cell, width) = pair
            let padding = String(repeating: " ", count: max(0, width - cell.count))
            return index == 1 ? cell + padding : padding + cell
        }.joined(separator: " ")
    }
}
