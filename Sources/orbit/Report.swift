import ArgumentParser
import Foundation
import Orbit
import OrbitSQLite

/// `orbit report`: retention metrics, cohorts, segment sizes, points liability, offers and predictions, as
/// terminal tables, JSON or a self-contained HTML page.
struct Report: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Report retention metrics, cohorts and predictions: tables, JSON or an HTML page with charts.",
        discussion: "Definitions of every metric are in docs/analytics.md."
    )

    @Option(help: "SQLite database file.") var db: String = "orbit.db"
    @Option(help: "Start of the range (inclusive), e.g. 1997-01-01; default: the day of the first order.")
    var from: String?
    @Option(help: "End of the range (exclusive); default: the day after the last order.")
    var to: String?
    @Option(help: "Break the range into periods: day, week, month or quarter; default: one period.")
    var period: String?
    @Option(help: "A customer at a date = ordered within this many days before it.")
    var activeWindowDays: Int = 365
    @Option(help: "What one point costs, in major units (default: one minor unit, e.g. 0.01).")
    var pointValue: String?
    @Option(help: "Campaign group: tag:NAME, attribute:KEY=VALUE or bucket:EXPERIMENT:NAME:a=50,b=50.")
    var campaign: String?
    @Option(help: "Its holdout group, in the same forms.") var holdout: String?
    @Option(help: "What the campaign cost, in major units (for its ROI).") var campaignCost: String?
    @Flag(help: "Print the report as JSON.") var json = false
    @Option(help: "Also write the report as a self-contained HTML page with charts to this file.")
    var html: String?

    func validate() throws {
        for (flag, value) in [("--from", from), ("--to", to)] {
            if let value, Instant(iso8601: value) == nil {
                throw ValidationError("\(flag): not a date like 1997-01-01: '\(value)'")
            }
        }
        if let period, PeriodLength(rawValue: period) == nil {
            throw ValidationError("--period: day, week, month or quarter, got '\(period)'")
        }
        guard (campaign == nil) == (holdout == nil) else {
            throw ValidationError("--campaign and --holdout go together")
        }
    }

    func run() async throws {
        var request = ReportRequest(
            from: from.flatMap { Instant(iso8601: $0) }, to: to.flatMap { Instant(iso8601: $0) },
            period: period.flatMap(PeriodLength.init(rawValue:)))
        request.activeWindowDays = activeWindowDays
        request.pointValue = pointValue
        let report: RetentionReport
        do {
            if let campaign, let holdout {
                request.campaign = (
                    try CustomerGroup(parsing: campaign), try CustomerGroup(parsing: holdout), campaignCost
                )
            }
            report = try await RetentionReport.build(from: try SQLiteStore(path: db), request: request)
        } catch let error as AnalyticsError {
            throw ValidationError(error.message)
        }
        if let html {
            try Data(report.html.utf8).write(to: URL(fileURLWithPath: html))
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
        } else {
            print(report.text, terminator: "")
            if let html { print("\nwrote \(html)") }
        }
    }
}
