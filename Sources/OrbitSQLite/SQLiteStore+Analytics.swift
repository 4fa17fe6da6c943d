import Foundation
import GRDB
public import Orbit

extension SQLiteStore {
    /// Every ledger entry's kind, points and instant.
    public func pointsMovements() async throws -> [PointsMovement] {
        try await read("read the ledger") { db in
            // Columns by position: 171,000 ledger rows for the CDNOW master, name lookups would be most of the cost.
            try Row.fetchAll(db, sql: "SELECT kind, points, at FROM ledger").compactMap { row in
                guard let kind = PointsEntry.Kind(rawValue: try row.decode(String.self, atIndex: 0)) else { return nil }
                return PointsMovement(
                    kind: kind, points: try row.decode(Int64.self, atIndex: 1),
                    at: Instant(millisecondsSinceEpoch: try row.decode(Int64.self, atIndex: 2)))
            }
        }
    }

    /// Every segment entry and exit recorded since the `v3-analytics` migration, in the order written.
    public func segmentChanges() async throws -> [SegmentChange] {
        try await read("read segment changes") { db in
            try Row.fetchAll(db, sql: "SELECT customer_id, segment, at, entered FROM segment_changes ORDER BY seq").map {
                SegmentChange(
                    customerID: try $0.decode(String.self, atIndex: 0), segment: try $0.decode(String.self, atIndex: 1),
                    at: Instant(millisecondsSinceEpoch: try $0.decode(Int64.self, atIndex: 2)),
                    entered: try $0.decode(Bool.self, atIndex: 3))
            }
        }
    }

    /// Every survey score, by instant.
    public func surveyResponses() async throws -> [SurveyResponse] {
        try await read("read survey responses") { db in
            try Row.fetchAll(db, sql: "SELECT event_id, customer_id, at, score FROM survey_responses ORDER BY at").map {
                SurveyResponse(
                    eventID: try $0.decode(forColumn: "event_id"), customerID: try $0.decode(forColumn: "customer_id"),
                    at: Instant(millisecondsSinceEpoch: try $0.decode(forColumn: "at")),
                    score: try $0.decode(forColumn: "score"))
            }
        }
    }

    /// Empty until the checkout records offer uses (it fills this query).
    public func offerPerformance(during interval: Range<Instant>) async throws -> [OfferPerformance] {
        let rows = try await read("read orders for offer performance") { db in
            try String.fetchAll(
                db, sql: "SELECT data FROM orders WHERE at >= ? AND at < ?",
                arguments: [interval.lowerBound.millisecondsSinceEpoch, interval.upperBound.millisecondsSinceEpoch])
        }
        let decoder = JSONDecoder()
        let orders = try rows.map { row in
            do {
                return try decoder.decode(OrderRecord.self, from: Data(row.utf8))
            } catch {
                throw StoreError("cannot decode a stored order: \(Self.describe(error))")
            }
        }
        return OfferPerformance.from(orders: orders, usage: try await usage(keys: nil), during: interval)
    }

    /// Replaces the stored predictions in one transaction.
    public func savePredictions(_ predictions: PredictionSet) async throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let purchases = String(decoding: try encoder.encode(predictions.purchases), as: UTF8.self)
        let spend = try predictions.spend.map { String(decoding: try encoder.encode($0), as: UTF8.self) }
        let rows = predictions.customers.map { (Self.key($0.key), $0.value) }
        try await write("save predictions") { db in
            try db.execute(sql: "DELETE FROM customer_predictions")
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO prediction_fit (id, calibration_end, horizon_days, currency, purchases, spend)
                    VALUES (1, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    predictions.calibrationEnd.millisecondsSinceEpoch, predictions.horizonDays,
                    predictions.currency?.code, purchases, spend,
                ])
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO customer_predictions (customer_id, p_alive, expected_purchases, expected_order_value,
                        predicted_clv) VALUES (?, ?, ?, ?, ?)
                    """)
            for (key, prediction) in rows {
                try insert.execute(
                    arguments: [
                        key, prediction.pAlive, prediction.expectedPurchases,
                        prediction.expectedOrderValue?.minorUnits, prediction.predictedCLV?.minorUnits,
                    ])
            }
        }
    }

    /// The predictions of the last `orbit fit`, or nil.
    public func predictions() async throws -> PredictionSet? {
        try await read("read predictions") { db in
            guard let fit = try Row.fetchOne(db, sql: "SELECT * FROM prediction_fit WHERE id = 1") else { return nil }
            let decoder = JSONDecoder()
            let currencyCode: String? = try fit.decode(forColumn: "currency")
            let currency = currencyCode.flatMap(Currency.init(code:))
            func money(_ minorUnits: Int64?) -> Money? {
                guard let minorUnits, let currency else { return nil }
                return Money(minorUnits: minorUnits, currency: currency)
            }
            var customers: [String: CustomerPrediction] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM customer_predictions") {
                customers[try row.decode(forColumn: "customer_id")] = CustomerPrediction(
                    pAlive: try row.decode(forColumn: "p_alive"),
                    expectedPurchases: try row.decode(forColumn: "expected_purchases"),
                    expectedOrderValue: money(try row.decode(forColumn: "expected_order_value")),
                    predictedCLV: money(try row.decode(forColumn: "predicted_clv")))
            }
            let spend: String? = try fit.decode(forColumn: "spend")
            do {
                return PredictionSet(
                    calibrationEnd: Instant(millisecondsSinceEpoch: try fit.decode(forColumn: "calibration_end")),
                    horizonDays: try fit.decode(forColumn: "horizon_days"),
                    purchases: try decoder.decode(
                        BGNBDParameters.self, from: Data((try fit.decode(String.self, forColumn: "purchases")).utf8)),
                    spend: try spend.map { try decoder.decode(GammaGammaParameters.self, from: Data($0.utf8)) },
                    currency: currency, customers: customers)
            } catch {
                throw StoreError("cannot decode the stored model parameters: \(Self.describe(error))")
            }
        }
    }
}
