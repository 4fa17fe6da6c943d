extension RetentionReport {
    /// The report as one self-contained HTML page: inline CSS and SVG charts, no scripts, nothing fetched. Charts
    /// carry stable ids: `chart-retention`, `chart-crr`, `chart-cohorts`, `chart-segments`, `chart-points`,
    /// `chart-offers` and, once fitted, `chart-palive`.
    public var html: String {
        let e = SVGChart.escape
        let title = "Orbit retention report \(PeriodLength.day.label(of: from)) to \(PeriodLength.day.label(of: to))"
        var cards: [(String, String)] = [
            ("Customers at end", "\(total.customersAtEnd)"),
            ("New customers", "\(total.newCustomers)"),
            ("Revenue", "\(ReportFormat.amount(total.revenue)) \(currency.code)"),
            retentionCard,
            ("Repeat-purchase rate", total.repeatPurchaseRate.map { "\(ReportFormat.number($0, decimals: 1)) %" } ?? "–"),
            ("Average order value", ReportFormat.amount(total.averageOrderValue)),
            ("Historical CLV", ReportFormat.amount(total.historicalCLV)),
            ("NPS", total.netPromoterScore.map { ReportFormat.number($0, decimals: 0) } ?? "–"),
        ]
        if let predictions { cards.append(("Mean P(alive)", ReportFormat.number(predictions.meanPAlive))) }
        let cardHTML = cards.map { "<div class=\"card\"><div class=\"value\">\(e($0.1))</div><div class=\"label\">\(e($0.0))</div></div>" }
            .joined()

        var sections: [String] = []
        let months = cohorts.retentionCurve.indices.map { "m\($0)" }
        sections.append(section(
            "Retention curve", "Customers ordering in each month since their first order, all cohorts together.",
            SVGChart.lines(
                id: "chart-retention", title: "Retention curve", labels: months,
                series: [SVGChart.Series(name: "retained %", values: cohorts.retentionCurve)], yLabel: "% of customers")))
        let crr = periods.map { $0.retentionRate ?? 0 }
        sections.append(section(
            "Customer retention rate by period", "CRR = (E − N) / S × 100; churn = 100 − CRR.",
            SVGChart.bars(
                id: "chart-crr", title: "Customer retention rate", labels: periods.map(\.period.label),
                series: [SVGChart.Series(name: "CRR %", values: crr),
                         SVGChart.Series(name: "repeat %", values: periods.map { $0.repeatPurchaseRate ?? 0 })],
                yLabel: "%")))
        let width = cohorts.cohorts.map(\.retention.count).max() ?? 0
        let laterMaximum = cohorts.cohorts.flatMap { $0.retention.dropFirst() }.max() ?? 100
        sections.append(section(
            "Cohorts", "Monthly acquisition cohorts: % of the cohort ordering, by months since the first order "
                + "(shaded against the highest value after month 0).",
            SVGChart.heatmap(
                id: "chart-cohorts", title: "Cohort retention heatmap",
                rows: cohorts.cohorts.map { "\($0.month) (\($0.customers))" }, columns: (0..<width).map { "m\($0)" },
                values: cohorts.cohorts.map { cohort in (0..<width).map { cohort.retention.indices.contains($0) ? cohort.retention[$0] : nil } },
                maximum: max(1, laterMaximum))))
        let segmentNames = segmentSizes.sizes.keys.sorted()
        sections.append(section(
            "Segment sizes over time", "Members at the end of each period, from recorded entries and exits.",
            segmentNames.isEmpty
                ? SVGChart.empty(id: "chart-segments", title: "Segment sizes", message: "no segment changes recorded")
                : SVGChart.lines(
                    id: "chart-segments", title: "Segment sizes", labels: segmentSizes.periods,
                    series: segmentNames.map { SVGChart.Series(name: $0, values: (segmentSizes.sizes[$0] ?? []).map(Double.init)) },
                    yLabel: "customers")))
        sections.append(section(
            "Points liability", "Points issued − redeemed − expired, outstanding at each period's end.",
            SVGChart.lines(
                id: "chart-points", title: "Points liability", labels: pointsLiability.map(\.period),
                series: [
                    SVGChart.Series(name: "outstanding", values: pointsLiability.map { Double($0.outstanding) }),
                    SVGChart.Series(name: "issued", values: pointsLiability.map { Double($0.issued) }),
                    SVGChart.Series(name: "redeemed", values: pointsLiability.map { Double($0.redeemed) }),
                    SVGChart.Series(name: "expired", values: pointsLiability.map { Double($0.expired) }),
                ], yLabel: "points")))
        sections.append(section(
            "Offer performance", "Uses and discount cost per offer, with what is left of its budget.",
            offers.isEmpty
                ? SVGChart.empty(id: "chart-offers", title: "Offer performance", message: "no offers yet")
                : SVGChart.bars(
                    id: "chart-offers", title: "Offer performance", labels: offers.map(\.offer),
                    series: [
                        SVGChart.Series(name: "discount cost", values: offers.map { major($0.discountCost) }),
                        SVGChart.Series(name: "budget left", values: offers.map { $0.budgetLeft.map(major) ?? 0 }),
                    ], yLabel: currency.code) + offerTable))
        if let predictions {
            sections.append(section(
                "Predicted churn", "Customers by BG/NBD probability of being alive at \(predictions.calibrationEnd); "
                    + "expected purchases and CLV over the next \(predictions.horizonDays) days.",
                SVGChart.bars(
                    id: "chart-palive", title: "P(alive)", labels: (0..<10).map { "\($0 * 10)–\($0 * 10 + 10) %" },
                    series: [SVGChart.Series(name: "customers", values: predictions.pAliveHistogram.map(Double.init))],
                    yLabel: "customers")))
        }
        sections.append(section("Metrics", "Definitions in docs/analytics.md.", metricsTable))

        return """
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>\(e(title))</title>
            <style>
            body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: #111827; margin: 0;
                   background: #f8fafc; }
            header { background: #1e3a8a; color: #fff; padding: 20px 32px; }
            header h1 { margin: 0 0 4px; font-size: 22px; }
            main { padding: 16px 32px 40px; max-width: 1100px; }
            .cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 8px 0 16px; }
            .card { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 10px 14px; min-width: 120px; }
            .card .value { font-size: 20px; font-weight: 600; color: #1e3a8a; }
            .card .label { color: #6b7280; font-size: 12px; }
            section { background: #fff; border: 1px solid #e5e7eb; border-radius: 8px; padding: 12px 16px;
                      margin: 16px 0; overflow-x: auto; }
            section h2 { font-size: 16px; margin: 0 0 2px; }
            section p { color: #6b7280; margin: 0 0 8px; }
            .chart .grid { stroke: #e5e7eb; } .chart .axis { stroke: #9ca3af; }
            .chart .tick, .chart .legend { font-size: 11px; fill: #374151; } .chart .cell-label { font-size: 11px; }
            .chart .axis-label { font-size: 12px; fill: #6b7280; } .chart .empty { font-size: 16px; fill: #6b7280; }
            table { border-collapse: collapse; font-size: 12px; }
            th, td { padding: 3px 8px; text-align: right; border-bottom: 1px solid #f1f5f9; white-space: nowrap; }
            th:first-child, td:first-child { text-align: left; }
            th { color: #374151; background: #f8fafc; }
            </style></head>
            <body><header><h1>\(e(title))</h1><div>\(e(periodLength.map { "by \($0.rawValue)" } ?? "one period")), \
            amounts in \(e(currency.code)); a customer at a date = ordered in the \(settings.activeWindowDays) days \
            before it</div></header>
            <main><div class="cards">\(cardHTML)</div>
            \(sections.joined(separator: "\n"))
            </main></body></html>

            """
    }

    /// The whole range's CRR, or the last period's when nobody was a customer at the range's start.
    private var retentionCard: (String, String) {
        if let rate = total.retentionRate { return ("Retention rate", "\(ReportFormat.number(rate, decimals: 1)) %") }
        guard let last = periods.last, let rate = last.retentionRate else { return ("Retention rate", "–") }
        return ("Retention rate \(last.period.label)", "\(ReportFormat.number(rate, decimals: 1)) %")
    }

    private func section(_ title: String, _ note: String, _ content: String) -> String {
        "<section><h2>\(SVGChart.escape(title))</h2><p>\(SVGChart.escape(note))</p>\(content)</section>"
    }

    private func major(_ money: Money) -> Double {
        Double(money.minorUnits) / Double(DecimalAmount.powerOfTen(money.currency.minorUnitDigits))
    }

    private var offerTable: String {
        table(
            ["offer", "uses", "discount cost", "budget", "budget left"],
            offers.map {
                [$0.offer, "\($0.uses)", ReportFormat.amount($0.discountCost), ReportFormat.amount($0.budget),
                 ReportFormat.amount($0.budgetLeft)]
            })
    }

    private var metricsTable: String { table(Self.metricsHeader, metricsRows) }

    private func table(_ header: [String], _ rows: [[String]]) -> String {
        let e = SVGChart.escape
        return "<table><tr>" + header.map { "<th>\(e($0))</th>" }.joined() + "</tr>"
            + rows.map { "<tr>" + $0.map { "<td>\(e($0))</td>" }.joined() + "</tr>" }.joined() + "</table>"
    }
}
