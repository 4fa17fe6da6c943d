import Foundation
import LuaRuntime

/// Who belongs to a campaign or its holdout group: customers with a tag, an attribute value, or in a bucket of a
/// `c:bucket` experiment (the same deterministic assignment rules see).
public enum CustomerGroup: Hashable, Sendable, CustomStringConvertible {
    case tag(String)
    case attribute(key: String, value: String)
    case bucket(experiment: String, name: String, weights: [String: Int64])

    /// `tag:NAME`, `attribute:KEY=VALUE` or `bucket:EXPERIMENT:NAME:control=10,variant=90`.
    ///
    /// - Throws: ``AnalyticsError`` showing the accepted forms.
    public init(parsing text: String) throws(AnalyticsError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let forms = "tag:NAME, attribute:KEY=VALUE or bucket:EXPERIMENT:NAME:control=10,variant=90"
        guard parts.count == 2, !parts[1].isEmpty else { throw AnalyticsError("group '\(text)': expected \(forms)") }
        switch parts[0] {
        case "tag":
            self = .tag(parts[1])
        case "attribute":
            let pair = parts[1].split(separator: "=", maxSplits: 1).map(String.init)
            guard pair.count == 2, !pair[0].isEmpty else { throw AnalyticsError("group '\(text)': expected \(forms)") }
            self = .attribute(key: pair[0], value: pair[1])
        case "bucket":
            let fields = parts[1].split(separator: ":", omittingEmptySubsequences: false).map(String.init)
            var weights: [String: Int64] = [:]
            for item in fields.count == 3 ? fields[2].split(separator: ",") : [] {
                let pair = item.split(separator: "=").map(String.init)
                guard pair.count == 2, let weight = Int64(pair[1]), weight >= 0 else { weights = [:]; break }
                weights[pair[0]] = weight
            }
            guard fields.count == 3, !fields[0].isEmpty, !weights.isEmpty, weights[fields[1]] != nil else {
                throw AnalyticsError("group '\(text)': expected \(forms), the bucket among the weights")
            }
            self = .bucket(experiment: fields[0], name: fields[1], weights: weights)
        default:
            throw AnalyticsError("group '\(text)': expected \(forms)")
        }
    }

    public var description: String {
        switch self {
        case .tag(let name): "tag:\(name)"
        case .attribute(let key, let value): "attribute:\(key)=\(value)"
        case .bucket(let experiment, let name, let weights):
            "bucket:\(experiment):\(name):" + weights.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
                .joined(separator: ",")
        }
    }

    /// Whether `customer` belongs to the group.
    func contains(_ customer: Customer) throws(AnalyticsError) -> Bool {
        switch self {
        case .tag(let name):
            return customer.tags.contains(name)
        case .attribute(let key, let value):
            switch customer.attributes[key] {
            case .string(let text)?: return text == value
            case let other?: return other.description == value
            case nil: return false
            }
        case .bucket(let experiment, let name, let weights):
            let table = LuaValue.map(Dictionary(uniqueKeysWithValues: weights.map { (.string($0.key), .integer($0.value)) }))
            do {
                return try Bucketing.bucket(customerID: customer.id, experiment: experiment, weights: table) == name
            } catch {
                throw AnalyticsError("group \(description): \(error)")
            }
        }
    }
}

/// A campaign against its holdout group over a range: revenue per customer in each, the difference (incremental
/// revenue per customer) with a 95 % confidence interval, and the ROI when the campaign's cost is known.
public struct CampaignComparison: Hashable, Sendable, Codable {
    public var campaign: String
    public var holdout: String
    public var campaignCustomers: Int
    public var holdoutCustomers: Int
    public var campaignRevenuePerCustomer: Money
    public var holdoutRevenuePerCustomer: Money
    public var incrementalRevenuePerCustomer: Money
    /// Welch's normal-approximation interval, diff ± 1.96 · √(s²ᶜ/nᶜ + s²ₕ/nₕ); nil with fewer than two customers
    /// in a group.
    public var confidenceLow: Money?
    public var confidenceHigh: Money?
    /// incremental revenue per customer × campaign customers.
    public var incrementalRevenue: Money
    public var cost: Money?
    /// (incremental revenue − cost) / cost × 100.
    public var returnOnInvestment: Double?

    /// Compares the groups over `[from, to)`. Customers who signed up on or after `to` are in neither group;
    /// a customer in both groups is an error.
    ///
    /// - Throws: ``AnalyticsError`` when a group is empty or the groups overlap.
    public static func compare(
        _ campaign: CustomerGroup, against holdout: CustomerGroup, customers: [Customer], from: Instant, to: Instant,
        currency: Currency, cost: Money? = nil
    ) throws(AnalyticsError) -> CampaignComparison {
        var treated: [Double] = []
        var control: [Double] = []
        for customer in customers where customer.signedUpAt < to {
            let inCampaign = try campaign.contains(customer)
            let inHoldout = try holdout.contains(customer)
            if inCampaign, inHoldout {
                throw AnalyticsError("customer '\(customer.id)' is in both \(campaign) and \(holdout)")
            }
            guard inCampaign || inHoldout else { continue }
            let revenue = customer.orders.reduce(Int64(0)) { sum, order in
                order.at >= from && order.at < to ? sum + order.total.minorUnits : sum
            }
            if inCampaign { treated.append(Double(revenue)) } else { control.append(Double(revenue)) }
        }
        guard !treated.isEmpty else { throw AnalyticsError("no customer is in the campaign group \(campaign)") }
        guard !control.isEmpty else { throw AnalyticsError("no customer is in the holdout group \(holdout)") }
        let (treatedMean, treatedVariance) = meanAndVariance(treated)
        let (controlMean, controlVariance) = meanAndVariance(control)
        let difference = treatedMean - controlMean
        func money(_ value: Double) -> Money { Money.estimate(value, currency: currency) ?? .zero(currency) }
        var low: Money?
        var high: Money?
        if let treatedVariance, let controlVariance {
            let margin = 1.959964 * (treatedVariance / Double(treated.count) + controlVariance / Double(control.count))
                .squareRoot()
            low = money(difference - margin)
            high = money(difference + margin)
        }
        let incremental = money(difference * Double(treated.count))
        var roi: Double?
        if let cost, cost.minorUnits > 0 {
            roi = RetentionMetrics.rounded(Double(incremental.minorUnits - cost.minorUnits) * 100 / Double(cost.minorUnits))
        }
        return CampaignComparison(
            campaign: campaign.description, holdout: holdout.description, campaignCustomers: treated.count,
            holdoutCustomers: control.count, campaignRevenuePerCustomer: money(treatedMean),
            holdoutRevenuePerCustomer: money(controlMean), incrementalRevenuePerCustomer: money(difference),
            confidenceLow: low, confidenceHigh: high, incrementalRevenue: incremental, cost: cost,
            returnOnInvestment: roi)
    }

    /// The mean and the sample variance (nil below two values).
    private static func meanAndVariance(_ values: [Double]) -> (Double, Double?) {
        let mean = values.reduce(0, +) / Double(values.count)
        guard values.count > 1 else { return (mean, nil) }
        let squares = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) }
        return (mean, squares / Double(values.count - 1))
    }
}
