extension RetentionReport {
    /// The report as terminal tables.
    public var text: String {
        var sections: [String] = []
        let period = periodLength.map { "by \($0.rawValue)" } ?? "one period"
        sections.append(
            """
            Retention report \(PeriodLength.day.label(of: from)) to \(PeriodLength.day.label(of: to)) (exclusive), \
            \(period), amounts in \(currency.code)
            A customer at a date: ordered in the \(settings.activeWindowDays) days before it. \
            1000 points cost \
            \(ReportFormat.amount(Money(minorUnits: settings.cost(ofPoints: 1000), currency: currency))).
            """)
        var metrics = TextTable(Self.metricsHeader)
        for row in metricsRows { metrics.add(row) }
        sections.append("Metrics\n" + metrics.text)

        let width = cohorts.cohorts.map(\.retention.count).max() ?? 0
        var cohortTable = TextTable(["cohort", "customers"] + (0..<width).map { "m\($0)" })
        for cohort in cohorts.cohorts {
            cohortTable.add(
                [cohort.month, "\(cohort.customers)"] + cohort.retention.map { ReportFormat.number($0, decimals: 1) })
        }
        sections.append("Cohorts: % of customers ordering, by months since their first order\n" + cohortTable.text)

        var liability = TextTable(["period", "issued", "redeemed", "expired", "outstanding", "value"])
        for row in pointsLiability {
            liability.add([
                row.period, "\(row.issued)", "\(row.redeemed)", "\(row.expired)", "\(row.outstanding)",
                ReportFormat.amount(row.value),
            ])
        }
        sections.append("Points liability\n" + liability.text)

        let names = segmentSizes.sizes.keys.sorted()
        if names.isEmpty {
            sections.append("Segment sizes\nno segment changes recorded")
        } else {
            var segments = TextTable(["period"] + names)
            for (index, label) in segmentSizes.periods.enumerated() {
                segments.add([label] + names.map { "\(segmentSizes.sizes[$0]?[index] ?? 0)" })
            }
            sections.append("Segment sizes at period end\n" + segments.text)
        }

        if offers.isEmpty {
            sections.append("Offers\nno offers yet")
        } else {
            var table = TextTable(["offer", "uses", "discount cost", "budget", "budget left"])
            for offer in offers {
                table.add([
                    offer.offer, "\(offer.uses)", ReportFormat.amount(offer.discountCost),
                    ReportFormat.amount(offer.budget), ReportFormat.amount(offer.budgetLeft),
                ])
            }
            sections.append("Offers\n" + table.text)
        }

        if let campaign {
            let interval = campaign.confidenceLow.map { low in
                "95 % CI \(ReportFormat.amount(low)) to \(ReportFormat.amount(campaign.confidenceHigh))"
            } ?? "no confidence interval (a group has fewer than two customers)"
            sections.append(
                """
                Campaign \(campaign.campaign) (\(campaign.campaignCustomers) customers) against holdout \
                \(campaign.holdout) (\(campaign.holdoutCustomers))
                revenue per customer \(ReportFormat.amount(campaign.campaignRevenuePerCustomer)) vs \
                \(ReportFormat.amount(campaign.holdoutRevenuePerCustomer)): incremental \
                \(ReportFormat.amount(campaign.incrementalRevenuePerCustomer)) per customer, \(interval); \
                total \(ReportFormat.amount(campaign.incrementalRevenue))\
                \(campaign.returnOnInvestment.map { ", ROI \(ReportFormat.number($0)) %" } ?? "")
                """)
        }

        if let predictions {
            let model = predictions.purchases
            var lines = [
                "Predictions (fit at \(predictions.calibrationEnd), horizon \(predictions.horizonDays) days, "
                    + "\(predictions.customers) customers)",
                "BG/NBD r \(ReportFormat.number(model.r, decimals: 4)), α \(ReportFormat.number(model.alpha, decimals: 4)), "
                    + "a \(ReportFormat.number(model.a, decimals: 4)), b \(ReportFormat.number(model.b, decimals: 4))",
                "mean P(alive) \(ReportFormat.number(predictions.meanPAlive)), expected purchases "
                    + "\(ReportFormat.number(predictions.expectedPurchases)), predicted CLV "
                    + "\(ReportFormat.amount(predictions.predictedCLV))",
            ]
            if let spend = predictions.spend {
                lines.insert(
                    "Gamma-Gamma p \(ReportFormat.number(spend.p, decimals: 4)), q \(ReportFormat.number(spend.q, decimals: 4)), "
                        + "γ \(ReportFormat.number(spend.gamma, decimals: 4))", at: 2)
            }
            sections.append(lines.joined(separator: "\n"))
        } else {
            sections.append("Predictions\nnot fitted yet (run `orbit fit`)")
        }
        return sections.joined(separator: "\n\n") + "\n"
    }

    /// The columns of the metrics table (text and HTML).
    static let metricsHeader = [
        "period", "S", "E", "N", "CRR %", "churn %", "buyers", "repeat %", "orders", "frequency", "revenue", "AOV",
        "hist. CLV", "points issued", "cost / active", "NPS",
    ]

    /// The metrics table's rows: each period, then the whole range as `total`.
    var metricsRows: [[String]] {
        (periods + [total]).enumerated().map { index, row in
            [
                index == periods.count ? "total" : row.period.label, "\(row.customersAtStart)", "\(row.customersAtEnd)",
                "\(row.newCustomers)", ReportFormat.number(row.retentionRate), ReportFormat.number(row.churnRate),
                "\(row.buyers)", ReportFormat.number(row.repeatPurchaseRate), "\(row.orders)",
                ReportFormat.number(row.purchaseFrequency), ReportFormat.amount(row.revenue),
                ReportFormat.amount(row.averageOrderValue), ReportFormat.amount(row.historicalCLV),
                "\(row.pointsIssued)", ReportFormat.amount(row.retentionCostPerActiveCustomer),
                row.netPromoterScore.map { ReportFormat.number($0, decimals: 0) } ?? "–",
            ]
        }
    }
}
