import Logging
import Testing

@testable import Orbit

/// What the engine records for analytics (survey scores, segment history), and predictions reaching rules.
@Suite struct AnalyticsEngineTests {
    @Test("survey scores are recorded for NPS; a score outside 0–10 rejects the event; segment changes are kept")
    func recording() async throws {
        let fixture = try EngineFixture([
            "rules/segments.lua": """
                segment "buyer" { when = function(c) return c.order_count >= 1 end }
                segment "big" { when = function(c) return c.lifetime_spend >= 10000 end }
                """
        ])
        let survey = { (id: String, customer: String, time: String, score: JSONValue) in
            Event(id: id, type: "survey", customerID: customer, at: at(time), data: ["score": score])
        }
        let outcomes = try await fixture.engine.ingest([
            purchase("p-1", "c-1", "2026-01-02T10:00:00Z", cents: 5000),
            survey("s-1", "c-1", "2026-01-03T10:00:00Z", .integer(9)),
            survey("s-2", "c-1", "2026-01-04T10:00:00Z", .integer(11)),
            survey("s-3", "c-1", "2026-01-05T10:00:00Z", .string("great")),
            Event(id: "s-4", type: "survey", customerID: "c-2", at: at("2026-01-05T11:00:00Z")),
            purchase("p-2", "c-1", "2026-01-06T10:00:00Z", cents: 6000),
        ])
        #expect(outcomes.map(\.status) == [
            .applied, .applied, .rejected(reason: "a survey's 'score' must be a whole number from 0 to 10, got 11"),
            .rejected(reason: "a survey's 'score' must be a whole number from 0 to 10, got \"great\""), .applied, .applied,
        ])
        #expect(await fixture.store.surveyResponses() == [
            SurveyResponse(eventID: "s-1", customerID: "c-1", at: at("2026-01-03T10:00:00Z"), score: 9)
        ])
        #expect(await fixture.store.segmentChanges() == [
            SegmentChange(customerID: "c-1", segment: "buyer", at: at("2026-01-02T10:00:00Z"), entered: true),
            SegmentChange(customerID: "c-1", segment: "big", at: at("2026-01-06T10:00:00Z"), entered: true),
        ])
        #expect(await fixture.store.pointsMovements().isEmpty)
        #expect(await fixture.store.offerPerformance(during: at("2026-01-01")..<at("2027-01-01")).isEmpty)
    }

    @Test("after a fit, rules read c.p_alive, c.expected_purchases, c.expected_order_value and c.predicted_clv")
    func predictionsInRules() async throws {
        let rules = [
            "rules/churn.lua": """
                segment "likely-lost" { when = function(c) return c.p_alive ~= nil and c.p_alive < 0.5 end }
                on "visit" (function(e, c)
                  if c.p_alive == nil then tag("not-fitted") return end
                  set("p_alive", c.p_alive)
                  set("expected_purchases", c.expected_purchases)
                  set("expected_order_value", c.expected_order_value)
                  set("predicted_clv", c.predicted_clv)
                end)
                """
        ]
        let fixture = try EngineFixture(rules)
        // c-1 buys weekly for ten weeks, then stops; c-2 buys throughout; c-3 once.
        var events: [Event] = []
        for week in 0..<10 {
            var event = purchase("a-\(week)", "c-1", "2026-01-05T10:00:00Z", cents: 2000)
            event.at = event.at.adding(days: 7 * week)
            events.append(event)
        }
        for month in 1...9 {
            events.append(purchase("b-\(month)", "c-2", "2026-0\(month)-15T10:00:00Z", cents: 3000 + Int64(month) * 100))
        }
        events.append(purchase("c-0", "c-3", "2026-02-01T10:00:00Z", cents: 1500))
        events.sort { $0.at < $1.at }
        for event in events { #expect(try await fixture.engine.ingest(event).status == .applied) }
        let before = try await fixture.engine.ingest(
            Event(id: "v-0", type: "visit", customerID: "c-1", at: at("2026-09-30T10:00:00Z")))
        #expect(before.effects.map(\.kind) == ["tag"])

        let predictions = try Forecast.run(
            await fixture.store.allCustomers(), calibrationEnd: at("2026-09-30"), horizonDays: 90)
        await fixture.store.savePredictions(predictions)
        // A new engine over the same store loads the predictions.
        let logger = Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() })
        let book = try RuleBook(sources: rules.map { ($0.key, $0.value) }, logger: logger)
        let engine = Engine(rules: book, store: fixture.store, clock: fixture.clock, logger: logger)
        for (index, id) in ["c-1", "c-2"].enumerated() {
            let outcome = try await engine.ingest(
                Event(id: "v-\(index + 1)", type: "visit", customerID: id, at: at("2026-10-01T10:00:00Z")))
            #expect(outcome.status == .applied)
            let customer = try #require(try await engine.customer(id))
            let prediction = try #require(predictions.customers[id])
            #expect(customer.attributes["p_alive"] == .number(prediction.pAlive))
            #expect(customer.attributes["expected_purchases"] == .number(prediction.expectedPurchases))
            let value = try #require(prediction.expectedOrderValue?.minorUnits)
            #expect(customer.attributes["expected_order_value"] == .integer(value))
            #expect(customer.attributes["predicted_clv"] == .integer(try #require(prediction.predictedCLV?.minorUnits)))
        }
        // c-1 stopped after a steady weekly rhythm: likely lost; c-2 still buys: likely alive.
        let c1 = try #require(predictions.customers["c-1"])
        let c2 = try #require(predictions.customers["c-2"])
        #expect(c1.pAlive < 0.5 && c2.pAlive > 0.5)
        #expect(try await engine.members(of: "likely-lost", at: at("2026-10-01T10:00:00Z")) == ["c-1"])
    }
}
