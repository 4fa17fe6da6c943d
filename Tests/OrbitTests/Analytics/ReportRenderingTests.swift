import Testing

@testable import Orbit

/// The report built from a store and rendered as text and HTML: every section, the empty states, offers, a campaign.
@Suite struct ReportRenderingTests {
    static func store() async throws -> MemoryStore {
        let fixture = try EngineFixture([
            "rules/rules.lua": """
                earn "points" { on = "purchase", points = function(e, c) return e.total // 100 end }
                segment "buyer" { when = function(c) return c.order_count >= 1 end }
                on "purchase" (function(e, c) if c.id == "a" or c.id == "b" then tag("mailed") else tag("holdout") end end)
                """
        ])
        let events = [
            purchase("1", "a", "2026-01-05T10:00:00Z", cents: 4000), purchase("2", "b", "2026-01-06T10:00:00Z", cents: 2000),
            purchase("3", "c", "2026-01-07T10:00:00Z", cents: 1000), purchase("4", "d", "2026-01-08T10:00:00Z", cents: 3000),
            purchase("5", "a", "2026-02-05T10:00:00Z", cents: 5000),
            Event(id: "6", type: "survey", customerID: "a", at: at("2026-02-06T10:00:00Z"), data: ["score": .integer(10)]),
        ]
        for outcome in try await fixture.engine.ingest(events) { #expect(outcome.status == .applied) }
        return fixture.store
    }

    @Test("text: metrics, cohorts, liability, segments, the campaign, empty offers and no fit yet")
    func text() async throws {
        var request = ReportRequest(period: .month)
        request.campaign = (.tag("mailed"), .tag("holdout"), "5.00")
        request.pointValue = "0.02"
        let report = try await RetentionReport.build(from: try await Self.store(), request: request)
        let text = report.text
        #expect(text.hasPrefix("Retention report 2026-01-05 to 2026-02-06 (exclusive), by month, amounts in EUR\n"))
        #expect(text.contains("1000 points cost 20.00."))
        #expect(text.contains("Offers\nno offers yet"))
        #expect(text.contains("Predictions\nnot fitted yet (run `orbit fit`)"))
        // Campaign a, b: 90.00 and 20.00 in the range → mean 55.00; holdout c, d: 10.00, 30.00 → 20.00.
        // Incremental 35.00 per customer, 70.00 in all; ROI (70 − 5) / 5 = 1300 %.
        #expect(text.contains("Campaign tag:mailed (2 customers) against holdout tag:holdout (2)"))
        #expect(text.contains("revenue per customer 55.00 vs 20.00: incremental 35.00 per customer"))
        #expect(text.contains("total 70.00, ROI 1300.00 %"))
        #expect(text.contains("Segment sizes at period end\nperiod   buyer\n2026-01      4\n2026-02      4"))
        #expect(text.contains("Cohorts: % of customers ordering, by months since their first order"))
    }

    @Test("HTML: self-contained, every chart by id, offers as bars and a table, escaped names")
    func html() async throws {
        var report = try await RetentionReport.build(from: try await Self.store(), request: ReportRequest(period: .week))
        let empty = report.html
        #expect(empty.contains("<svg id=\"chart-offers\"") && empty.contains("no offers yet"))
        #expect(!empty.contains("chart-palive"), "no fit, no P(alive) chart")
        report.offers = [
            OfferPerformance(
                offer: "black <week>", uses: 12, discountCost: Money(minorUnits: 12_000, currency: .eur),
                budget: Money(minorUnits: 100_000, currency: .eur), budgetLeft: Money(minorUnits: 88_000, currency: .eur))
        ]
        let page = report.html
        for id in ["chart-retention", "chart-crr", "chart-cohorts", "chart-segments", "chart-points", "chart-offers"] {
            #expect(page.contains("<svg id=\"\(id)\""))
        }
        #expect(page.contains("<td>black &lt;week&gt;</td><td>12</td><td>120.00</td><td>1000.00</td><td>880.00</td>"))
        #expect(page.contains("<rect class=\"bar\"") && !page.contains("no offers yet"))
        #expect(!page.contains("<script") && !page.contains("<link") && !page.contains("<img"))
        #expect(report.text.contains("black <week>    12         120.00  1000.00       880.00"))
    }

    @Test("errors: an empty store, an empty range, a bad point value")
    func errors() async throws {
        await #expect(throws: AnalyticsError("the store has no orders yet: nothing to report")) {
            try await RetentionReport.build(from: MemoryStore(), request: ReportRequest())
        }
        let store = try await Self.store()
        await #expect(throws: AnalyticsError.self) {
            try await RetentionReport.build(from: store, request: ReportRequest(from: at("2026-03-01"), to: at("2026-02-01")))
        }
        var request = ReportRequest()
        request.pointValue = "-1"
        await #expect(throws: AnalyticsError("the point value must not be negative, got \"-1\"")) {
            try await RetentionReport.build(from: store, request: request)
        }
    }
}
