import Foundation
import Testing

/// `orbit fit` and `orbit report` through the real binary, on a history small enough to check by hand.
@Suite("orbit report")
struct ReportCommandTests {
    static let rules = """
        earn "points-per-euro" { on = "purchase", points = function(e, c) return e.total // 100 end }
        segment "buyer" { when = function(c) return c.order_count >= 1 end }
        on "visit" (function(e, c) set("seen_p_alive", c.p_alive or "not fitted") end)
        """

    /// c1 buys Jan 10 (100.00) and Feb 10 (50.00); c2 Jan 20 (30.00); c3 Mar 5 (20.00). Survey scores: c3 10, c2 3.
    static let events = """
        {"id":"1","type":"purchase","customer":"c1","at":"2026-01-10T10:00:00Z","total":10000,"currency":"EUR"}
        {"id":"2","type":"purchase","customer":"c2","at":"2026-01-20T10:00:00Z","total":3000,"currency":"EUR"}
        {"id":"3","type":"purchase","customer":"c1","at":"2026-02-10T10:00:00Z","total":5000,"currency":"EUR"}
        {"id":"4","type":"purchase","customer":"c3","at":"2026-03-05T10:00:00Z","total":2000,"currency":"EUR"}
        {"id":"5","type":"survey","customer":"c3","at":"2026-03-06T10:00:00Z","score":10}
        {"id":"6","type":"survey","customer":"c2","at":"2026-03-07T10:00:00Z","score":3}

        """

    /// A database with the history replayed, in `directory`.
    static func database(in directory: TemporaryDirectory) throws -> String {
        let rules = directory.path("rules")
        try FileManager.default.createDirectory(atPath: rules, withIntermediateDirectories: true)
        try Self.rules.write(toFile: rules + "/rules.lua", atomically: true, encoding: .utf8)
        try Self.events.write(toFile: directory.path("events.ndjson"), atomically: true, encoding: .utf8)
        let db = directory.path("orbit.db")
        let replay = try OrbitBinary.run(["replay", "--rules", rules, "--db", db, directory.path("events.ndjson")])
        #expect(replay.status == 0, "\(replay.errors)")
        return db
    }

    @Test("--json: metrics per month, cohorts, points liability, segments, offers and the fit, as worked out by hand")
    func json() throws {
        let directory = try TemporaryDirectory()
        let db = try Self.database(in: directory)
        let fit = try OrbitBinary.run(["fit", "--db", db, "--horizon-days", "90"])
        #expect(fit.status == 0, "\(fit.errors)")
        #expect(fit.output.contains("fitted on 3 customers, calibration end 2026-03-05T10:00:00Z, horizon 90 days"))
        #expect(fit.output.contains("Gamma-Gamma  not fitted"))

        let html = directory.path("report.html")
        let result = try OrbitBinary.run([
            "report", "--db", db, "--from", "2026-01-01", "--to", "2026-04-01", "--period", "month",
            "--active-window-days", "30", "--json", "--html", html,
        ])
        #expect(result.status == 0, "\(result.errors)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(result.output.utf8)) as? [String: Any])
        let periods = try #require(report["periods"] as? [[String: Any]])
        try #require(periods.count == 3)
        // Customers (an order in the 30 days before): Jan 1 none; Feb 1 c1, c2; Mar 1 c1; Apr 1 c3.
        #expect(periods.map { $0["customersAtStart"] as? Int } == [0, 2, 1])
        #expect(periods.map { $0["customersAtEnd"] as? Int } == [2, 1, 1])
        #expect(periods.map { $0["newCustomers"] as? Int } == [2, 0, 1])
        // CRR: Jan undefined (S = 0); Feb (1 − 0)/2 = 50 %; Mar (1 − 1)/1 = 0 %.
        #expect(periods[0]["retentionRate"] == nil)
        #expect(periods[1]["retentionRate"] as? Double == 50 && periods[2]["churnRate"] as? Double == 100)
        // Feb: one buyer, c1, with an earlier order → repeat rate 100 %; AOV 50.00.
        #expect(periods[1]["repeatPurchaseRate"] as? Double == 100)
        #expect((periods[1]["averageOrderValue"] as? [String: Any])?["minorUnits"] as? Int == 5000)
        // NPS in March: c3 promoter, c2 detractor → 0.
        #expect(periods[2]["netPromoterScore"] as? Double == 0 && periods[2]["surveyResponses"] as? Int == 2)
        // Points: 1 per euro → 130, 50, 20; outstanding 130, 180, 200.
        let points = try #require(report["pointsLiability"] as? [[String: Any]])
        #expect(points.map { $0["issued"] as? Int } == [130, 50, 20])
        #expect(points.map { $0["outstanding"] as? Int } == [130, 180, 200])
        // Cohorts: Jan (c1, c2): 100 %, 50 % (c1 in Feb), 0 %; Mar (c3): 100 %.
        let cohorts = try #require((report["cohorts"] as? [String: Any])?["cohorts"] as? [[String: Any]])
        #expect(cohorts.map { $0["month"] as? String } == ["2026-01", "2026-03"])
        #expect(cohorts[0]["retention"] as? [Double] == [100, 50, 0])
        // Segment "buyer": c1, c2 in Jan; c3 joins in Mar.
        let segments = try #require(report["segmentSizes"] as? [String: Any])
        #expect((segments["sizes"] as? [String: [Int]])?["buyer"] == [2, 2, 3])
        #expect((report["offers"] as? [Any])?.isEmpty == true)
        let predictions = try #require(report["predictions"] as? [String: Any])
        #expect(predictions["customers"] as? Int == 3 && predictions["horizonDays"] as? Int == 90)
        // The page holds every chart.
        let page = try String(contentsOfFile: html, encoding: .utf8)
        for id in ["chart-retention", "chart-crr", "chart-cohorts", "chart-segments", "chart-points", "chart-offers", "chart-palive"] {
            #expect(page.contains("<svg id=\"\(id)\""), "missing \(id)")
        }
        #expect(page.contains("no offers yet") && !page.contains("<script") && !page.contains("http://www.w3.org/2000/svg\" href"))

        // A later replay's rules read the stored prediction (c3: one purchase, so P(alive) = 1 in BG/NBD).
        try #"{"id":"7","type":"visit","customer":"c3","at":"2026-03-10T10:00:00Z"}"#
            .write(toFile: directory.path("visit.ndjson"), atomically: true, encoding: .utf8)
        let replay = try OrbitBinary.run(["replay", "--rules", directory.path("rules"), "--db", db, directory.path("visit.ndjson")])
        #expect(replay.status == 0, "\(replay.errors)")
        let export = try OrbitBinary.run(["customer", "export", "c3", "--db", db])
        #expect(export.output.contains("\"seen_p_alive\" : 1"), "\(export.output)")
    }

    @Test("terminal tables; clear errors for an empty store and bad options")
    func tablesAndErrors() throws {
        let directory = try TemporaryDirectory()
        let db = try Self.database(in: directory)
        let text = try OrbitBinary.run(["report", "--db", db, "--period", "quarter"])
        #expect(text.status == 0)
        #expect(text.output.contains("Retention report 2026-01-10 to 2026-03-06 (exclusive), by quarter, amounts in EUR"))
        #expect(text.output.contains("no offers yet") && text.output.contains("not fitted yet (run `orbit fit`)"))

        let empty = try OrbitBinary.run(["report", "--db", directory.path("empty.db")])
        #expect(empty.status != 0 && empty.errors.contains("the store has no orders yet: nothing to report"))
        let badPeriod = try OrbitBinary.run(["report", "--db", db, "--period", "year"])
        #expect(badPeriod.errors.contains("--period: day, week, month or quarter, got 'year'"))
        let badGroup = try OrbitBinary.run(["report", "--db", db, "--campaign", "vip", "--holdout", "tag:h"])
        #expect(badGroup.errors.contains("group 'vip': expected tag:NAME"))
        let emptyFit = try OrbitBinary.run(["fit", "--db", directory.path("empty.db")])
        #expect(emptyFit.status != 0 && emptyFit.errors.contains("nothing to fit"))
    }
}
