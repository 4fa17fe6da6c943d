import Testing

@testable import Orbit

@Suite("Notifications")
struct NotificationTests {
    @Test("publishing starts when the stream is first read; later reads return the same stream")
    func startsOnFirstRead() async throws {
        let fixture = try EngineFixture(["rules/points.lua": EngineTests.points])
        _ = try await fixture.engine.ingest(purchase("e-1", "c-1", "2026-01-02T10:00:00Z", cents: 2000))
        var iterator = fixture.engine.notifications.makeAsyncIterator()
        _ = try await fixture.engine.ingest(purchase("e-2", "c-1", "2026-01-03T10:00:00Z", cents: 3000))
        #expect(await iterator.next() == .pointsAwarded(customerID: "c-1", points: 30, rule: "points-per-euro"))
        _ = try await fixture.engine.ingest(purchase("e-3", "c-1", "2026-01-04T10:00:00Z", cents: 1000))
        var again = fixture.engine.notifications.makeAsyncIterator()
        #expect(await again.next() == .pointsAwarded(customerID: "c-1", points: 10, rule: "points-per-euro"))
    }
}
