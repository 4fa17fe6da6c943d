/// A plain-text table with a header row, left-aligned first column and right-aligned numbers.
struct TextTable {
    var header: [String]
    var rows: [[String]] = []

    init(_ header: [String]) { self.header = header }

    mutating func add(_ row: [String]) { rows.append(row) }

    var text: String {
        let all = [header] + rows
        let widths = header.indices.map { column in all.map { $0.indices.contains(column) ? $0[column].count : 0 }.max() ?? 0 }
        return all.map { row in
            row.enumerated().map { column, cell in
                let padding = String(repeating: " ", count: widths[column] - cell.count)
                return column == 0 ? cell + padding : padding + cell
            }.joined(separator: "  ")
        }.joined(separator: "\n")
    }
}

/// How reports write numbers.
enum ReportFormat {
    /// `1234.50` (no currency: the report states it once).
    static func amount(_ money: Money?) -> String {
        guard let money else { return "–" }
        let text = money.description
        return String(text.dropLast(money.currency.code.count + 1))
    }

    static func number(_ value: Double?, decimals: Int = 2) -> String {
        guard let value else { return "–" }
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        let text = "\(rounded)"
        guard let dot = text.firstIndex(of: "."), decimals > 0 else { return "\(Int64(rounded))" }
        let fraction = text[text.index(after: dot)...]
        return text[..<dot] + "." + fraction.prefix(decimals) + String(repeating: "0", count: max(0, decimals - fraction.count))
    }
}
