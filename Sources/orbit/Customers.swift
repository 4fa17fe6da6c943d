import ArgumentParser
import Foundation
import Orbit
import OrbitSQLite

/// `orbit customer`: what Orbit holds on a person, and erasing it.
struct CustomerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customer",
        abstract: "Export or forget what Orbit holds on a customer.",
        subcommands: [Export.self, Forget.self]
    )

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print everything Orbit holds on a customer, as JSON (for access requests).")

        @Option(help: "SQLite database file.") var db: String = "orbit.db"
        @Argument(help: "Customer id.") var id: String

        func run() async throws {
            let store = try SQLiteStore(path: db)
            guard let customer = try await store.customer(id) else { throw unknown(id) }
            let export = CustomerExport(
                customer: customer, ledger: try await store.ledger(customerID: id),
                messages: try await store.messages(customerID: id),
                segments: try await store.segments(customerID: id).sorted())
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            print(String(decoding: try encoder.encode(export), as: UTF8.self))
        }
    }

    struct Forget: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Erase a customer's personal data; keep anonymised ledger and order totals for budgets and metrics.")

        @Option(help: "SQLite database file.") var db: String = "orbit.db"
        @Argument(help: "Customer id.") var id: String

        func run() async throws {
            let store = try SQLiteStore(path: db)
            guard try await store.forget(customerID: id) else { throw unknown(id) }
            print("forgot customer '\(id)': attributes, tags, consent, referral data and message contents erased")
        }
    }
}

/// Everything about one customer, as `orbit customer export` prints it.
struct CustomerExport: Encodable {
    var customer: Customer
    var ledger: [PointsEntry]
    var messages: [OutboxMessage]
    var segments: [String]
}

private func unknown(_ id: String) -> ValidationError {
    ValidationError("no customer '\(id)' in the database")
}
