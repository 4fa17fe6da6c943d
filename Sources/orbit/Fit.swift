import ArgumentParser
import Foundation
import Orbit
import OrbitSQLite

/// `orbit fit`: fits the purchase (BG/NBD) and spend (Gamma-Gamma) models on the store's order history and stores
/// the predictions that rules read as `c.p_alive`, `c.expected_purchases`, `c.expected_order_value`,
/// `c.predicted_clv`.
struct Fit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fit BG/NBD and Gamma-Gamma on the order history and store per-customer predictions.",
        discussion: "The models and their definitions are in docs/analytics.md."
    )

    @Option(help: "SQLite database file.") var db: String = "orbit.db"

    @Option(help: "Days after the calibration end that expected purchases and CLV cover.")
    var horizonDays: Int = 365

    @Option(help: "End of the calibration period (a date, orders on it count); default: the day of the last order.")
    var at: String?

    @Flag(help: "Print the parameters as JSON.") var json = false

    func validate() throws {
        guard horizonDays > 0 else { throw ValidationError("--horizon-days must be positive") }
        if let at, Instant(iso8601: at) == nil { throw ValidationError("--at: not a date like 1997-09-30: '\(at)'") }
    }

    func run() async throws {
        let store = try SQLiteStore(path: db)
        let customers = try await store.allCustomers()
        guard let lastOrder = customers.compactMap(\.lastOrderAt).max() else {
            throw ValidationError("no orders in \(db): nothing to fit")
        }
        let end = at.flatMap { Instant(iso8601: $0) } ?? lastOrder
        let predictions: PredictionSet
        do {
            predictions = try Forecast.run(customers, calibrationEnd: end, horizonDays: horizonDays)
        } catch {
            throw ValidationError("\(error)")
        }
        try await store.savePredictions(predictions)
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            var summary = predictions
            summary.customers = [:]
            print(String(decoding: try encoder.encode(summary), as: UTF8.self))
            return
        }
        let model = predictions.purchases
        print("fitted on \(model.customers) customers, calibration end \(end), horizon \(horizonDays) days")
        print(String(format: "BG/NBD       r %.4f  α %.4f  a %.4f  b %.4f  (log-likelihood %.2f)",
                     model.r, model.alpha, model.a, model.b, model.logLikelihood))
        if let spend = predictions.spend {
            print(String(format: "Gamma-Gamma  p %.4f  q %.4f  γ %.4f  (%d customers with repeat orders)",
                         spend.p, spend.q, spend.gamma, spend.customers))
        } else {
            print("Gamma-Gamma  not fitted: fewer than two customers with repeat orders of some value")
        }
        print("stored predictions for \(predictions.customers.count) customers in \(db)")
    }
}
