import ArgumentParser
import Foundation
import Logging
@_spi(Benchmarks) import LuaRuntime
import Orbit

/// The checkout benchmark: the reference workload of `bench/quote_workload.lua` (50 offers, 10-line carts) written
/// as Orbit offers, quoted through the engine; the total discount of every cart must equal the plain-Lua reference.
struct QuoteBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quote",
        abstract: "Quotes/s and latency of the 50-offer reference workload; checks the discounts against plain Lua."
    )

    @Option(help: "Rule directory with the 50 offers.")
    var rules: String = "bench/quote-offers"

    @Option(help: "The plain-Lua reference workload.")
    var reference: String = "bench/quote_workload.lua"

    @Option(help: "Carts to quote.")
    var carts: Int = 200_000

    @Option(help: "Lines per cart (10 in the reference; larger carts repeat its line pattern).")
    var lines: Int = 10

    func run() async throws {
        let logger = Logger(label: "orbit.bench", factory: { _ in SwiftLogNoOpLogHandler() })
        let engine = Engine(
            rules: try RuleBook(directory: rules, logger: logger), store: MemoryStore(),
            clock: ManualClock(Instant(iso8601: "2026-06-01T10:00:00Z")!), logger: logger)
        for tier in 1...2 {
            _ = try await engine.ingest(
                Event(id: "tier-\(tier)", type: "tier", customerID: "t\(tier)", at: Instant(iso8601: "2026-05-01T00:00:00Z")!,
                      data: ["points": .integer(Int64(tier))]))
        }
        _ = try await engine.ingest(
            Event(id: "tier-0", type: "signup", customerID: "t0", at: Instant(iso8601: "2026-05-01T00:00:00Z")!))
        for tier in 0...2 {
            guard try await engine.customer("t\(tier)")?.tier == "t\(tier)" else {
                throw ValidationError("the benchmark rules must put customer t\(tier) in tier t\(tier)")
            }
        }
        let expected = lines == 10 ? try referenceDiscounts(logger: logger) : nil

        // On the engine's own executor, as a handler running on it would: the evaluation alone, no thread hop.
        let onEngine = try await Self.measure(engine, carts: carts, lines: lines)
        print("rules: \(rules), \(carts) carts of \(lines) lines, one core")
        print("  on the engine's executor:      " + onEngine.summary)
        // From another task, as a separate request handler would: each call hops to the engine's executor and back.
        var fromOutside = Measurement(count: min(carts, 20_000))
        for batch in Self.batches(fromOutside.count, lines: lines) {
            try await fromOutside.time(batch) { try await engine.quote($0) }
        }
        print("  from another task (\(fromOutside.count)):  " + fromOutside.summary)
        let checksum = onEngine.discounts.reduce(0, +)
        var mismatches = 0
        if let expected {
            for (n, discount) in onEngine.discounts.enumerated() where expected.capped[n] != discount {
                mismatches += 1
                if mismatches <= 3 { print("  cart \(n + 1): Orbit \(discount), reference \(expected.capped[n])") }
            }
        }
        print("  checksum (total discount) \(checksum)")
        if let expected {
            let belowZero = zip(expected.raw, expected.capped).filter { $0 != $1 }.count
            print("  reference checksum        \(expected.capped.reduce(0, +)), carts that differ: \(mismatches)")
            print(
                "  (plain reference \(expected.raw.reduce(0, +)): it discounts goods below zero in \(belowZero) carts; "
                    + "with the stack capped at what a category costs it gives the checksum above)")
            if mismatches > 0 { throw ExitCode.failure }
        }
    }

    /// Quotes every cart on the engine's executor (the function is isolated to it), timing each.
    private static func measure(_ engine: isolated Engine, carts: Int, lines: Int) async throws -> Measurement {
        var measurement = Measurement(count: carts)
        for batch in batches(carts, lines: lines) {
            try await measurement.time(batch) { try await engine.quote($0) }
        }
        return measurement
    }

    /// The requests for carts 1…`count`, made a batch at a time. A checkout has its cart before it asks for a quote,
    /// so carts are made outside the measured time; batches keep the memory of big runs small.
    static func batches(_ count: Int, lines: Int) -> some Sequence<[CheckoutRequest]> {
        stride(from: 1, through: count, by: 1_000).lazy.map { first in
            (first...min(count, first + 999)).map { n in CheckoutRequest(customerID: "t\(n % 3)", cart: cart(n, lines: lines)) }
        }
    }

    /// Latencies, discounts, wall and CPU time of a run of quotes; only the quoting is measured.
    struct Measurement {
        let count: Int
        var latencies: [Duration] = []
        var discounts: [Int64] = []
        private let clock = ContinuousClock()
        private var elapsed = Duration.zero
        private var cpu = 0.0

        init(count: Int) {
            self.count = count
            latencies.reserveCapacity(count)
            discounts.reserveCapacity(count)
        }

        /// Quotes each request of `batch` with `quote`, timing each, and adds the batch's wall and CPU time.
        mutating func time(
            _ batch: [CheckoutRequest], isolation: isolated (any Actor)? = #isolation,
            quote: (CheckoutRequest) async throws -> Quote
        ) async throws {
            let cpuStarted = QuoteBench.cpuSeconds()
            let started = clock.now
            for request in batch {
                let before = clock.now
                let quote = try await quote(request)
                latencies.append(clock.now - before)
                discounts.append(quote.discount)
            }
            elapsed += clock.now - started
            cpu += QuoteBench.cpuSeconds() - cpuStarted
        }

        /// `N quotes/s, p50 …, p99 …; N quotes per CPU-second`.
        var summary: String {
            let sorted = latencies.sorted()
            func micros(_ quantile: Double) -> String {
                let duration = sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
                return String(format: "%.1f", Double(duration.components.attoseconds) / 1e12 + Double(duration.components.seconds) * 1e6)
            }
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            // On a busy machine wall time includes waiting for a core; CPU time does not.
            return String(
                format: "%.0f quotes/s, p50 %@ µs, p99 %@ µs (%.0f quotes per CPU-second)", Double(count) / seconds,
                micros(0.5), micros(0.99), Double(count) / cpu)
        }
    }

    /// CPU time of the process so far (user and system), in seconds.
    static func cpuSeconds() -> Double {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ time: timeval) -> Double { Double(time.tv_sec) + Double(time.tv_usec) / 1e6 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }

    /// Cart `n` of the reference workload (`make_cart` in bench/quote_workload.lua), extended to `lines` lines.
    static func cart(_ n: Int, lines: Int) -> Cart {
        Cart(
            currency: .eur,
            lines: (1...lines).map { i in
                LineItem(
                    sku: "sku\(i)", category: "c\((i + n) % 5)", quantity: Int64(1 + (i + n) % 3),
                    price: Int64(500 + (i * 137 + n) % 3000))
            })
    }

    /// The total discount of every cart according to the plain-Lua reference, run unmetered in Orbit's Lua state.
    private func referenceDiscounts(logger: Logger) throws -> (raw: [Int64], capped: [Int64]) {
        guard let source = FileManager.default.contents(atPath: reference) else {
            throw ValidationError("cannot read the reference workload \(reference)")
        }
        var limits = LuaLimits(instructions: Int.max)
        limits.unmetered = true
        let lua = try LuaState(limits: limits, logger: logger)
        // The workload's own code, unchanged, as `w` in a chunk whose `quote(n)` gives cart n's discount; the chunk
        // quotes carts from..to.
        func range(quote: String, chunkName: String) throws -> LuaFunction {
            try lua.load(
                """
                local from, to = ...
                local w = (function()
                \(String(decoding: source, as: UTF8.self))
                end)()
                \(quote)
                local results = {}
                for n = from, to do results[#results + 1] = quote(n) end
                return results
                """, chunkName: chunkName)
        }
        let quoteRange = try range(
            quote: "local function quote(n) return w.quote(w.make_cart(n), { tier = n % 3 }) end", chunkName: reference)
        // The reference's arithmetic, except that stacked discounts on a category stop at what the category costs
        // (the reference alone would sometimes discount goods below zero, which a checkout must not do).
        let cappedRange = try range(
            quote: """
                local function quote(n)
                  local cart, tier = w.make_cart(n), n % 3
                  local sub, stacked = {}, {}
                  for _, l in ipairs(cart) do sub[l.cat] = (sub[l.cat] or 0) + l.price * l.qty end
                  local best = 0
                  for k = 1, 50 do
                    local cat, open = "c" .. (k % 5), k % 7 ~= 0
                    if open and tier >= k % 3 then
                      local s, d = sub[cat] or 0, 0
                      if k % 2 == 0 then d = s * (5 + k % 20) // 100 elseif s >= 2000 then d = k * 10 end
                      if k % 10 == 0 then best = math.max(best, d) else stacked[cat] = (stacked[cat] or 0) + d end
                    end
                  end
                  local total = 0
                  for cat, d in pairs(stacked) do total = total + math.min(d, sub[cat]) end
                  return math.max(total, best)
                end
                """, chunkName: reference + " (capped)")
        func run(_ function: LuaFunction) throws -> [Int64] {
            var results: [Int64] = []
            for from in stride(from: 1, through: carts, by: 50_000) {
                let to = min(carts, from + 49_999)
                guard case .array(let values) = try lua.call(function, .integer(Int64(from)), .integer(Int64(to))).first
                else { throw ValidationError("the reference returned no results") }
                results += values.map { $0.integerValue ?? -1 }
            }
            return results
        }
        return (try run(quoteRange), try run(cappedRange))
    }
}
