/// Small inline SVG charts for the HTML report: no scripts, no external resources.
enum SVGChart {
    static let palette = ["#2563eb", "#dc2626", "#16a34a", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563"]
    static let width = 900.0
    static let height = 300.0
    private static let left = 64.0
    private static let right = 150.0
    private static let top = 20.0
    private static let bottom = 56.0

    /// One named series of values, one per label.
    struct Series {
        var name: String
        var values: [Double]
    }

    /// A line chart of `series` over `labels`, y from 0.
    static func lines(id: String, title: String, labels: [String], series: [Series], yLabel: String) -> String {
        guard !labels.isEmpty, !series.isEmpty else { return empty(id: id, title: title, message: "no data") }
        let maximum = niceCeiling(series.flatMap(\.values).max() ?? 0)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        func x(_ index: Int) -> Double {
            labels.count == 1 ? left + plotWidth / 2 : left + plotWidth * Double(index) / Double(labels.count - 1)
        }
        func y(_ value: Double) -> Double { top + plotHeight * (1 - value / maximum) }
        var body = axes(labels: labels, maximum: maximum, x: x, yLabel: yLabel)
        for (number, line) in series.enumerated() {
            let color = palette[number % palette.count]
            let points = line.values.enumerated().map { "\(format(x($0.offset))),\(format(y($0.element)))" }
            body += "<polyline class=\"series\" fill=\"none\" stroke=\"\(color)\" stroke-width=\"2.5\" "
                + "points=\"\(points.joined(separator: " "))\"><title>\(escape(line.name))</title></polyline>"
            // Markers (with their hover titles) only while they stay apart.
            for (index, value) in line.values.enumerated() where labels.count <= 60 {
                body += "<circle cx=\"\(format(x(index)))\" cy=\"\(format(y(value)))\" r=\"3\" fill=\"\(color)\">"
                    + "<title>\(escape(line.name)) \(escape(labels[index])): \(ReportFormat.number(value))</title></circle>"
            }
            let legendY = top + 8 + Double(number) * 20
            body += "<rect x=\"\(format(width - right + 16))\" y=\"\(format(legendY - 9))\" width=\"12\" height=\"12\" "
                + "fill=\"\(color)\"/><text x=\"\(format(width - right + 34))\" y=\"\(format(legendY + 1))\" "
                + "class=\"legend\">\(escape(line.name))</text>"
        }
        return frame(id: id, title: title, body: body)
    }

    /// Vertical bars, one group per label, one bar per series.
    static func bars(id: String, title: String, labels: [String], series: [Series], yLabel: String) -> String {
        guard !labels.isEmpty, !series.isEmpty else { return empty(id: id, title: title, message: "no data") }
        let maximum = niceCeiling(series.flatMap(\.values).max() ?? 0)
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom
        let slot = plotWidth / Double(labels.count)
        let barWidth = max(1, slot * 0.8 / Double(series.count))
        func x(_ index: Int) -> Double { left + slot * (Double(index) + 0.5) }
        var body = axes(labels: labels, maximum: maximum, x: x, yLabel: yLabel)
        for (number, bars) in series.enumerated() {
            let color = palette[number % palette.count]
            for (index, value) in bars.values.enumerated() {
                let barHeight = plotHeight * value / maximum
                let barX = x(index) - slot * 0.4 + Double(number) * barWidth
                body += "<rect class=\"bar\" x=\"\(format(barX))\" y=\"\(format(top + plotHeight - barHeight))\" "
                    + "width=\"\(format(barWidth))\" height=\"\(format(barHeight))\" fill=\"\(color)\">"
                    + "<title>\(escape(bars.name)) \(escape(labels[index])): \(ReportFormat.number(value))</title></rect>"
            }
            let legendY = top + 8 + Double(number) * 20
            body += "<rect x=\"\(format(width - right + 16))\" y=\"\(format(legendY - 9))\" width=\"12\" height=\"12\" "
                + "fill=\"\(color)\"/><text x=\"\(format(width - right + 34))\" y=\"\(format(legendY + 1))\" "
                + "class=\"legend\">\(escape(bars.name))</text>"
        }
        return frame(id: id, title: title, body: body)
    }

    /// A heatmap: one row per `rows` label, one cell per column, shaded by value (0…`maximum`); nil cells blank.
    static func heatmap(id: String, title: String, rows: [String], columns: [String], values: [[Double?]],
                        maximum: Double) -> String {
        guard !rows.isEmpty, !columns.isEmpty else { return empty(id: id, title: title, message: "no cohorts") }
        let labelWidth = 120.0
        let cellWidth = min(48, (width - labelWidth - 16) / Double(columns.count))
        let cellHeight = 26.0
        let chartHeight = 40 + cellHeight * Double(rows.count)
        var body = ""
        for (column, label) in columns.enumerated() {
            body += "<text class=\"tick\" x=\"\(format(labelWidth + cellWidth * (Double(column) + 0.5)))\" y=\"24\" "
                + "text-anchor=\"middle\">\(escape(label))</text>"
        }
        for (row, label) in rows.enumerated() {
            let rowY = 32 + cellHeight * Double(row)
            body += "<text class=\"tick\" x=\"\(format(labelWidth - 8))\" y=\"\(format(rowY + cellHeight / 2 + 4))\" "
                + "text-anchor=\"end\">\(escape(label))</text>"
            for (column, value) in values[row].enumerated() {
                guard let value else { continue }
                let share = maximum > 0 ? min(1, value / maximum) : 0
                let cellX = labelWidth + cellWidth * Double(column)
                body += "<rect class=\"cell\" x=\"\(format(cellX))\" y=\"\(format(rowY))\" width=\"\(format(cellWidth - 1))\" "
                    + "height=\"\(format(cellHeight - 1))\" fill=\"\(shade(share))\"><title>\(escape(label)) "
                    + "\(escape(columns[column])): \(ReportFormat.number(value)) %</title></rect>"
                if cellWidth >= 30 {
                    body += "<text class=\"cell-label\" x=\"\(format(cellX + cellWidth / 2))\" "
                        + "y=\"\(format(rowY + cellHeight / 2 + 4))\" text-anchor=\"middle\" "
                        + "fill=\"\(share > 0.55 ? "#fff" : "#111")\">\(ReportFormat.number(value, decimals: value < 10 ? 1 : 0))</text>"
                }
            }
        }
        return frame(id: id, title: title, body: body, height: chartHeight)
    }

    /// A chart frame saying there is nothing to show.
    static func empty(id: String, title: String, message: String) -> String {
        frame(
            id: id, title: title,
            body: "<text class=\"empty\" x=\"\(format(width / 2))\" y=\"50\" text-anchor=\"middle\">\(escape(message))</text>",
            height: 90)
    }

    // MARK: Parts

    private static func frame(id: String, title: String, body: String, height: Double = height) -> String {
        "<svg id=\"\(id)\" class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 \(format(width)) "
            + "\(format(height))\" width=\"\(format(width))\" height=\"\(format(height))\" role=\"img\" "
            + "aria-label=\"\(escape(title))\"><title>\(escape(title))</title>\(body)</svg>"
    }

    private static func axes(labels: [String], maximum: Double, x: (Int) -> Double, yLabel: String) -> String {
        let plotHeight = height - top - bottom
        var body = ""
        for tick in 0...4 {
            let value = maximum * Double(tick) / 4
            let tickY = top + plotHeight * (1 - Double(tick) / 4)
            body += "<line class=\"grid\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" y1=\"\(format(tickY))\" "
                + "y2=\"\(format(tickY))\"/><text class=\"tick\" x=\"\(format(left - 6))\" y=\"\(format(tickY + 4))\" "
                + "text-anchor=\"end\">\(ReportFormat.number(value, decimals: value < 10 && maximum < 10 ? 1 : 0))</text>"
        }
        // As many labels as fit side by side (about 6.5 px per character at 11 px).
        let longest = Double(labels.map(\.count).max() ?? 1)
        let fitting = max(2, Int((width - left - right) / (longest * 6.5 + 16)))
        let every = max(1, Int((Double(labels.count) / Double(fitting)).rounded(.up)))
        for (index, label) in labels.enumerated() where index % every == 0 {
            body += "<text class=\"tick\" x=\"\(format(x(index)))\" y=\"\(format(height - bottom + 18))\" "
                + "text-anchor=\"middle\">\(escape(label))</text>"
        }
        body += "<text class=\"axis-label\" x=\"14\" y=\"\(format(top + plotHeight / 2))\" text-anchor=\"middle\" "
            + "transform=\"rotate(-90 14 \(format(top + plotHeight / 2)))\">\(escape(yLabel))</text>"
        body += "<line class=\"axis\" x1=\"\(format(left))\" x2=\"\(format(width - right))\" "
            + "y1=\"\(format(top + plotHeight))\" y2=\"\(format(top + plotHeight))\"/>"
        return body
    }

    /// The smallest of 1, 2, 2.5, 5 × 10ⁿ at or above `value` (1 for 0).
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        var magnitude = 1.0
        while magnitude * 10 <= value { magnitude *= 10 }
        while magnitude > value { magnitude /= 10 }
        for step in [1.0, 2, 2.5, 5, 10] where step * magnitude >= value { return step * magnitude }
        return 10 * magnitude
    }

    /// White to deep blue.
    private static func shade(_ share: Double) -> String {
        let from = (239.0, 246.0, 255.0)
        let to = (30.0, 64.0, 175.0)
        func channel(_ a: Double, _ b: Double) -> String {
            let value = Int((a + (b - a) * share).rounded())
            let hex = String(value, radix: 16)
            return hex.count == 1 ? "0" + hex : hex
        }
        return "#" + channel(from.0, to.0) + channel(from.1, to.1) + channel(from.2, to.2)
    }

    static func format(_ value: Double) -> String { ReportFormat.number(value, decimals: 1) }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
