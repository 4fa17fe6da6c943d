import LuaRuntime
import Testing

@testable import Orbit

/// Campaign against holdout: means, Welch's interval and ROI by hand; how groups are named and checked.
@Suite struct CampaignComparisonTests {
    static func customer(_ id: String, tag: String, cents: Int64) -> Customer {
        var customer = Customer(id: id, signedUpAt: at("2026-01-01"))
        customer.tags = [tag]
        customer.orders = [
            OrderSummary(orderID: "\(id)-old", at: at("2025-12-01"), total: Money(minorUnits: 99_999, currency: .eur)),
            OrderSummary(orderID: "\(id)-new", at: at("2026-02-01"), total: Money(minorUnits: cents, currency: .eur)),
        ]
        return customer
    }

    @Test("incremental revenue per customer with a 95 % interval and the ROI against the cost")
    func comparison() throws {
        // In the range: campaign 10, 20, 30 EUR (mean 20, sample variance 100 EUR²); holdout 5, 15 (mean 10, 50).
        // In cents: difference 1000; se = √(1,000,000/3 + 500,000/2) = √583,333.3 = 763.76;
        // margin = 1.959964 × 763.76 = 1496.95 → [−496.95, 2496.95] → −4.97 to 24.97 EUR.
        // Incremental revenue 10.00 × 3 customers = 30.00; cost 10.00 → ROI (30 − 10) / 10 = 200 %.
        // Orders before the range (999.99 each) do not count; an untagged customer is in neither group.
        let customers = [
            Self.customer("a", tag: "winback", cents: 1000), Self.customer("b", tag: "winback", cents: 2000),
            Self.customer("c", tag: "winback", cents: 3000), Self.customer("d", tag: "holdout", cents: 500),
            Self.customer("e", tag: "holdout", cents: 1500), Self.customer("f", tag: "other", cents: 100_000),
        ]
        let result = try CampaignComparison.compare(
            .tag("winback"), against: .tag("holdout"), customers: customers, from: at("2026-01-01"),
            to: at("2026-03-01"), currency: .eur, cost: Money(minorUnits: 1000, currency: .eur))
        #expect(result.campaignCustomers == 3 && result.holdoutCustomers == 2)
        #expect(result.campaignRevenuePerCustomer.minorUnits == 2000)
        #expect(result.holdoutRevenuePerCustomer.minorUnits == 1000)
        #expect(result.incrementalRevenuePerCustomer.minorUnits == 1000)
        #expect(result.confidenceLow?.minorUnits == -497 && result.confidenceHigh?.minorUnits == 2497)
        #expect(result.incrementalRevenue.minorUnits == 3000)
        #expect(result.returnOnInvestment == 200)

        #expect(throws: AnalyticsError("no customer is in the holdout group tag:nobody")) {
            try CampaignComparison.compare(
                .tag("winback"), against: .tag("nobody"), customers: customers, from: at("2026-01-01"),
                to: at("2026-03-01"), currency: .eur)
        }
        #expect(throws: AnalyticsError("customer 'a' is in both tag:winback and attribute:x=1")) {
            var overlapping = customers
            overlapping[0].attributes["x"] = .integer(1)
            return try CampaignComparison.compare(
                .tag("winback"), against: .attribute(key: "x", value: "1"), customers: overlapping,
                from: at("2026-01-01"), to: at("2026-03-01"), currency: .eur)
        }
    }

    @Test("groups by tag, attribute or bucket; the bucket is the one rules get from c:bucket")
    func groups() throws {
        #expect(try CustomerGroup(parsing: "tag:winback") == .tag("winback"))
        #expect(try CustomerGroup(parsing: "attribute:group=holdout") == .attribute(key: "group", value: "holdout"))
        let bucket = try CustomerGroup(parsing: "bucket:winback-2026:control:control=10,variant=90")
        #expect(bucket == .bucket(experiment: "winback-2026", name: "control", weights: ["control": 10, "variant": 90]))
        #expect(bucket.description == "bucket:winback-2026:control:control=10,variant=90")
        for bad in ["winback", "tag:", "attribute:group", "bucket:x:control", "bucket:x:c:a=1", "segment:vip"] {
            #expect(throws: AnalyticsError.self) { try CustomerGroup(parsing: bad) }
        }
        let weights: [String: Int64] = ["control": 10, "variant": 90]
        let variant = CustomerGroup.bucket(experiment: "winback-2026", name: "variant", weights: weights)
        var inControl = 0
        for index in 0..<1000 {
            let customer = Customer(id: "c-\(index)", signedUpAt: at("2026-01-01"))
            let expected = try Bucketing.bucket(
                customerID: customer.id, experiment: "winback-2026", weights: .map(["control": 10, "variant": 90]))
            #expect(try bucket.contains(customer) == (expected == "control"))
            #expect(try variant.contains(customer) == (expected == "variant"))
            if expected == "control" { inControl += 1 }
        }
        #expect(inControl > 50 && inControl < 150)
    }
}
