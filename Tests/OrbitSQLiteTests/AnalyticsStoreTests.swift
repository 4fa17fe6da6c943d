import Foundation
import Orbit
import OrbitSQLite
import Testing

/// The analytics queries of the SQLite store answer what the memory store answers, and survive reopening.
@Suite struct AnalyticsStoreTests {
    /// The sample commits plus a survey score.
    static func commits() throws -> [EventCommit] {
        var commits = try sampleCommits()
        let ada = try #require(commits.last { $0.customerID == "ada" }?.customer)
        commits.append(
            EventCommit(
                eventID: "survey-1", eventType: "survey", customerID: "ada", at: instant(days: 40), customer: ada,
                surveyResponse: SurveyResponse(eventID: "survey-1", customerID: "ada", at: instant(days: 40), score: 9)))
        return commits
    }

    static func sorted(_ movements: [PointsMovement]) -> [PointsMovement] {
        movements.sorted { ($0.at, $0.kind.rawValue, $0.points) < ($1.at, $1.kind.rawValue, $1.points) }
    }

    @Test func sameAnswersAsTheMemoryStore() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let memory = MemoryStore()
            try await memory.apply(try Self.commits())
            do {
                let store = try SQLiteStore(path: path)
                try await store.apply(try Self.commits())
            }
            let store = try SQLiteStore(path: path)
            let changes = try await store.segmentChanges()
            #expect(changes == (await memory.segmentChanges()))
            #expect(changes.contains(SegmentChange(customerID: "ada", segment: "new", at: instant(), entered: true)))
            #expect(changes.contains(SegmentChange(customerID: "ada", segment: "new", at: instant(days: 1), entered: false)))
            #expect(Self.sorted(try await store.pointsMovements()) == Self.sorted(await memory.pointsMovements()))
            #expect(!(try await store.pointsMovements()).isEmpty)
            #expect(try await store.surveyResponses() == [
                SurveyResponse(eventID: "survey-1", customerID: "ada", at: instant(days: 40), score: 9)
            ])
            #expect(try await store.offerPerformance(during: instant()..<instant(days: 100)).isEmpty)
        }
    }

    /// Commits as the engine makes them say what the membership was before; the store then records the change
    /// without reading it, and must end where reading it would.
    @Test func segmentChangesOfCommitsThatKnowThePreviousMembership() async throws {
        try await withTemporaryDirectory { directory in
            var before: [String: Set<String>] = [:]
            let commits = try Self.commits().map { commit in
                var commit = commit
                if let segments = commit.segments {
                    commit.previousSegments = before[commit.customerID] ?? []
                    before[commit.customerID] = segments
                }
                return commit
            }
            #expect(commits.contains { $0.previousSegments?.isEmpty == false })  // a customer leaves a segment
            let memory = MemoryStore()
            try await memory.apply(try Self.commits())
            let store = try SQLiteStore(path: databasePath(in: directory))
            try await store.apply(commits)
            #expect(try await store.segmentChanges() == (await memory.segmentChanges()))
            for id in before.keys {
                #expect(try await store.segments(customerID: id) == (await memory.segments(customerID: id)), "\(id)")
            }
        }
    }

    @Test func predictionsRoundTripAndReplaceEachOther() async throws {
        try await withTemporaryDirectory { directory in
            let path = databasePath(in: directory)
            let eur = try #require(Currency(code: "EUR"))
            let first = PredictionSet(
                calibrationEnd: instant(days: 30), horizonDays: 90,
                purchases: BGNBDParameters(r: 0.243, alpha: 4.414, a: 0.793, b: 2.426, logLikelihood: -9582.4, customers: 2),
                spend: GammaGammaParameters(p: 6.25, q: 3.74, gamma: 15.44, logLikelihood: -4055.9, customers: 1),
                currency: eur,
                customers: [
                    "ada": CustomerPrediction(
                        pAlive: 0.8125, expectedPurchases: 1.0 / 3.0, expectedOrderValue: Money(minorUnits: 3512, currency: eur),
                        predictedCLV: Money(minorUnits: 1171, currency: eur)),
                    "bob": CustomerPrediction(pAlive: 1, expectedPurchases: 0.25, expectedOrderValue: nil, predictedCLV: nil),
                ])
            do {
                let store = try SQLiteStore(path: path)
                #expect(try await store.predictions() == nil)
                try await store.savePredictions(first)
            }
            let reopened = try SQLiteStore(path: path)
            #expect(try await reopened.predictions() == first)
            var second = first
            second.spend = nil
            second.currency = nil
            second.customers = ["bob": CustomerPrediction(pAlive: 0.5, expectedPurchases: 2, expectedOrderValue: nil, predictedCLV: nil)]
            try await reopened.savePredictions(second)
            #expect(try await reopened.predictions() == second)
        }
    }
}
