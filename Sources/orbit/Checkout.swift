import ArgumentParser
import Foundation
import Logging
import Orbit
import OrbitSQLite

/// Where checkout commands find the rules and the state, and what time it is.
struct CheckoutOptions: ParsableArguments {
    @Option(help: "Directory of rule files (*.lua).")
    var rules: String

    @OptionGroup var storage: StoreOptions

    @Option(help: "The engine's time, ISO 8601 with a zone (default: now). For walkthroughs and tests.")
    var at: String?

    @OptionGroup var limits: LimitOptions

    func engine() throws -> Engine {
        let logger = Logger.toStandardError(label: "orbit.checkout")
        let book: RuleBook
        do {
            book = try RuleBook(directory: rules, limits: limits.limits, logger: logger)
        } catch {
            throw CheckoutFailure("\(error)")
        }
        let store = try storage.store()
        let clock: any EngineClock
        if let at {
            guard let instant = Instant(iso8601: at) else {
                throw CheckoutFailure("--at: '\(at)' is not an ISO 8601 instant with a zone")
            }
            clock = ManualClock(instant)
        } else {
            clock = SystemClock()
        }
        return Engine(rules: book, store: store, clock: clock, logger: logger)
    }
}

/// The cart a checkout command prices or commits, and how to show the result.
struct CartOptions: ParsableArguments {
    @Option(help: "Customer id (overrides the cart's \"customer\").")
    var customer: String?

    @Option(name: .customLong("coupon"), help: "A coupon code the customer typed (repeatable; added to the cart's).")
    var coupons: [String] = []

    @Flag(help: "Also print a readable table (on standard error, so standard output stays JSON).")
    var explain = false

    func request(from path: String) throws -> CheckoutRequest {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw CheckoutFailure("\(path): cannot be read")
        }
        do {
            var request = try CheckoutRequest(json: data, customerID: customer)
            request.coupons += coupons
            return request
        } catch {
            throw CheckoutFailure("\(path): \(error)")
        }
    }
}

/// A checkout command failed: the message goes to standard error and the exit status is 1.
struct CheckoutFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Prints `value` as pretty JSON with sorted keys on standard output.
func printJSON(_ value: some Encodable) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    print(String(decoding: try encoder.encode(value), as: UTF8.self))
}

/// Runs a checkout command, turning its failures into a message and exit status 1.
func runCheckout(_ body: () async throws -> Void) async throws {
    do {
        try await body()
    } catch let error as ExitCode {
        throw error
    } catch {
        FileHandle.standardError.write(Data("error: \(error)\n".utf8))
        throw ExitCode.failure
    }
}

/// `orbit quote`: prices a cart. Changes nothing.
struct QuoteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Price a cart: discounts per line and per offer, points, and why every other offer did not apply.",
        discussion: """
            CART is JSON: {"customer":"anna","currency":"EUR","lines":[{"sku":"A1","category":"shoes","qty":2,\
            "price":4999}],"coupons":["WELCOME5"],"points":500}. Amounts are minor units (cents). Nothing is changed.
            """)

    @OptionGroup var options: CheckoutOptions
    @OptionGroup var cartOptions: CartOptions
    @Argument(help: "Cart JSON file.") var cart: String

    func run() async throws {
        try await runCheckout {
            let engine = try options.engine()
            let quote = try await engine.quote(try cartOptions.request(from: cart))
            try printJSON(quote)
            if cartOptions.explain { FileHandle.standardError.write(Data(QuoteTable(quote).text.utf8)) }
        }
    }
}

/// `orbit commit`: commits an order.
struct CommitCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "commit",
        abstract: "Commit an order: consume offers, caps, budgets, coupons and points, record the order.",
        discussion: """
            The same --order again prints the first result and changes nothing; with a different cart it fails. \
            With --expect-total the commit fails (changing nothing) when the rules now give another total due.
            """)

    @OptionGroup var options: CheckoutOptions
    @OptionGroup var cartOptions: CartOptions
    @Option(help: "Order id (the idempotency key).") var order: String
    @Option(help: "The total due (minor units) the customer was shown.") var expectTotal: Int64?
    @Argument(help: "Cart JSON file.") var cart: String

    func run() async throws {
        try await runCheckout {
            let engine = try options.engine()
            let receipt = try await engine.commit(
                orderID: order, try cartOptions.request(from: cart), expectedTotal: expectTotal)
            try printJSON(receipt)
            if cartOptions.explain { FileHandle.standardError.write(Data(QuoteTable(receipt.quote).text.utf8)) }
        }
    }
}

/// `orbit refund`: refunds an order, fully or some lines.
struct RefundCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "refund",
        abstract: "Refund an order, fully or some lines: points taken back and given back, offers restored.",
        discussion: "The same --refund id again prints the first result and changes nothing.")

    @OptionGroup var options: CheckoutOptions
    @Option(help: "Order id.") var order: String
    @Option(help: "Refund id (the idempotency key).") var refund: String
    @Option(name: .customLong("line"), help: "LINE:QTY to refund (1-based line), repeatable; default: everything left.")
    var lines: [String] = []

    func run() async throws {
        try await runCheckout {
            let refundLines = try lines.map { text -> RefundLine in
                let parts = text.split(separator: ":")
                guard parts.count == 2, let line = Int(parts[0]), let qty = Int64(parts[1]) else {
                    throw CheckoutFailure("--line \(text): expected LINE:QTY, e.g. 2:1")
                }
                return RefundLine(line: line, qty: qty)
            }
            let engine = try options.engine()
            let record = try await engine.refund(
                orderID: order, refundID: refund, lines: refundLines.isEmpty ? nil : refundLines)
            try printJSON(record)
        }
    }
}
