import ArgumentParser
import Foundation
import Logging
import Orbit

/// `orbit bench report`: the analytics over a purchase history replayed into a memory store (not timed): the report
/// (all metrics per month and over the whole range, cohorts, series), the BG/NBD fit, and the full forecast.
struct ReportBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "report",
        abstract: "Time the retention report and the BG/NBD and Gamma-Gamma fits over an event file."
    )

    @Option(help: "CSV column mapping (JSON) for CSV or text input.") var mapping: String?
    @Option(help: "Repetitions of each measurement (the best run counts).") var repetitions: Int = 3
    @Argument(help: "Event file (e.g. the CDNOW master).") var file: String

    func run() async throws {
        let logger = Logger(label: "orbit.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let store = MemoryStore()
        let engine = Engine(
            rules: try RuleBook(sources: [], logger: logger), store: store,
            clock: ManualClock(Instant(millisecondsSinceEpoch: 0)), logger: logger)
        var batch: [Event] = []
        for (_, result) in try EventReader(path: file, format: try EventFormat.detect(path: file, mappingPath: mapping)) {
            if case .success(let event) = result { batch.append(event) }
            if batch.count == 5_000 {
                _ = try await engine.ingest(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        _ = try await engine.ingest(batch)
        let customers = await store.allCustomers()
        let orders = customers.reduce(0) { $0 + $1.orderCount }
        print("\(customers.count) customers, \(orders) orders from \(file)")

        for length in [PeriodLength.month, .day] {
            let seconds = try await best {
                _ = try await RetentionReport.build(from: store, request: ReportRequest(period: length))
            }
            print(String(format: "report by %@ (all metrics, whole range, cohorts, series): %.3f s", length.rawValue, seconds))
        }
        guard let end = customers.compactMap(\.lastOrderAt).max() else { return }
        let history = try PurchaseHistory(customers, calibrationEnd: end)
        var fitted: BGNBDParameters?
        let fit = try await best { fitted = try BGNBD.fit(history.entries.map(\.purchases)) }
        if let fitted {
            print(String(format: "BG/NBD fit over %d customers: %.3f s (r %.4f, α %.4f, a %.4f, b %.4f)",
                         fitted.customers, fit, fitted.r, fitted.alpha, fitted.a, fitted.b))
        }
        let forecast = try await best { _ = try Forecast.run(customers, calibrationEnd: end, horizonDays: 365) }
        print(String(format: "orbit fit's computation (both models, predictions for every customer): %.3f s", forecast))
    }

    private func best(_ body: () async throws -> Void) async throws -> Double {
        var best = Double.infinity
        for _ in 0..<max(1, repetitions) {
            let start = ContinuousClock.now
            try await body()
            let elapsed = start.duration(to: .now)
            best = min(best, Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18)
        }
        return best
    }
}
