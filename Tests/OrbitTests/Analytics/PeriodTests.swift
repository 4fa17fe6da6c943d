import Testing

@testable import Orbit

/// Calendar periods in UTC: starts, ends, labels, ranges cut to the report's.
@Suite struct PeriodTests {
    @Test("weeks start on Monday and carry ISO week numbers; months and quarters roll over years")
    func calendar() {
        // 2026-01-01 is a Thursday: its week starts Monday 2025-12-29 and is ISO week 1 of 2026.
        #expect(PeriodLength.week.start(of: at("2026-01-01T15:00:00Z")) == at("2025-12-29"))
        #expect(PeriodLength.week.label(of: at("2025-12-29")) == "2026-W01")
        // 2026 has 53 ISO weeks (it starts on a Thursday): the week of 2027-01-01 is 2026-W53.
        #expect(PeriodLength.week.label(of: PeriodLength.week.start(of: at("2027-01-01"))) == "2026-W53")
        #expect(PeriodLength.quarter.start(of: at("2026-05-17T08:00:00Z")) == at("2026-04-01"))
        #expect(PeriodLength.quarter.label(of: at("2026-04-01")) == "2026-Q2")
        #expect(PeriodLength.quarter.next(after: at("2026-10-01")) == at("2027-01-01"))
        #expect(PeriodLength.month.next(after: at("2026-12-01")) == at("2027-01-01"))
        #expect(PeriodLength.month.label(of: at("2026-03-01")) == "2026-03")
        #expect(PeriodLength.day.label(of: at("2026-03-09T23:59:59Z")) == "2026-03-09")
    }

    @Test("periods cover the range, the first and last cut to it; no length means one period")
    func ranges() {
        let periods = ReportPeriod.periods(from: at("2026-01-15"), to: at("2026-03-10"), length: .month)
        #expect(periods.map(\.label) == ["2026-01", "2026-02", "2026-03"])
        #expect(periods.map(\.start) == [at("2026-01-15"), at("2026-02-01"), at("2026-03-01")])
        #expect(periods.map(\.end) == [at("2026-02-01"), at("2026-03-01"), at("2026-03-10")])
        let whole = ReportPeriod.periods(from: at("2026-01-15"), to: at("2026-03-10"), length: nil)
        #expect(whole.count == 1 && whole[0].start == at("2026-01-15") && whole[0].end == at("2026-03-10"))
        #expect(ReportPeriod.periods(from: at("2026-03-10"), to: at("2026-03-10"), length: .day).isEmpty)
    }
}
